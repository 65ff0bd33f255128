import numpy as np
import pytest
import tensorflow as tf

from t2t_multimodel.data import ptb_trees
from t2t_multimodel.decoding.beam_search import beam_search
from t2t_multimodel.decoding.greedy import greedy_search
from t2t_multimodel.decoding.tree_constraint import TreeConstraint
from t2t_multimodel.encoders.token_text_encoder import TokenTextEncoder
from t2t_multimodel.metrics import parse_f1

ENCODER = TokenTextEncoder(None, vocab_list=ptb_trees.target_tokens())
VOCABULARY = ENCODER.decode_list(range(ENCODER.vocab_size))
CONSTRAINT = TreeConstraint(VOCABULARY)


def _allowed_after(prefix_tokens, words):
    ids = ENCODER.encode(" ".join(prefix_tokens))
    prefix = tf.constant([ids + [0] * (40 - len(ids))], tf.int32)
    inputs = tf.constant([[5] * words + [1]], tf.int32)
    allowed = CONSTRAINT(prefix, len(prefix_tokens), inputs)[0].numpy()
    return {VOCABULARY[i] for i in np.flatnonzero(allowed)}


def test_each_step_of_a_tree():
    labels = {t for t in VOCABULARY[2:] if t != "XX" and not t.startswith("/")}
    assert _allowed_after([], 2) == labels                       # a phrase first
    assert _allowed_after(["S"], 2) == labels | {"XX"}           # no /S before a word
    assert _allowed_after(["S", "NP", "XX"], 2) == labels | {"XX", "/NP"}
    # One word left: /NP or more words or phrases, never /S or /VP.
    assert "/VP" not in _allowed_after(["S", "NP", "XX"], 2)
    # Both words covered: only closing, innermost first, then the root, then EOS.
    assert _allowed_after(["S", "NP", "XX", "/NP", "VP", "XX"], 2) == {"/VP"}
    assert _allowed_after(["S", "NP", "XX", "/NP", "VP", "XX", "/VP"], 2) == {"/S"}
    assert _allowed_after(["S", "NP", "XX", "/NP", "VP", "XX", "/VP", "/S"], 2) == {"<EOS>"}


def test_no_words_can_only_end():
    assert _allowed_after([], 0) == {"<EOS>"}


class RandomModel:
    """Logits that ignore the input: pseudo-random per (example, position), EOS favoured."""

    def encode(self, features):
        return {"inputs": features["inputs"]}

    def initial_cache(self, encoded, max_length):
        return {"seen": tf.zeros_like(encoded["inputs"][:, :1])}

    def step(self, ids, index, cache, encoded):
        batch = tf.shape(ids)[0]
        noise = tf.random.stateless_normal([batch, len(VOCABULARY)], seed=[index, 7]) * 3.0
        rows = tf.cast(tf.range(batch)[:, None], tf.float32)
        logits = noise + tf.sin(rows * 1.7 + tf.cast(tf.range(len(VOCABULARY)), tf.float32))
        return logits + 4.0 * tf.one_hot(tf.fill([batch], 1), len(VOCABULARY)), cache


@pytest.mark.parametrize("search", ["greedy", "beam"])
def test_constrained_decodes_are_well_formed_trees_over_the_words(search):
    words = np.arange(1, 13)
    inputs = np.zeros([len(words), 13], np.int32)
    for row, n in enumerate(words):
        inputs[row, :n] = 5
        inputs[row, n] = 1
    features = {"inputs": tf.constant(inputs)}
    max_length = 13 * 6
    if search == "greedy":
        ids, _ = greedy_search(RandomModel(), features, max_length, constraint=CONSTRAINT)
        plain, _ = greedy_search(RandomModel(), features, max_length)
    else:
        ids, _ = beam_search(RandomModel(), features, 3, 0.6, max_length, constraint=CONSTRAINT)
        plain, _ = beam_search(RandomModel(), features, 3, 0.6, max_length)
    trees = [ENCODER.decode(row, strip_extraneous=True) for row in ids.numpy()]
    references = [" ".join(["S"] + ["XX"] * n + ["/S"]) for n in words]
    assert parse_f1.bracket_scores(trees, references)["malformed"] == 0, trees
    # Unconstrained, the same logits end at once (EOS is favoured): malformed.
    untrees = [ENCODER.decode(row, strip_extraneous=True) for row in plain.numpy()]
    assert parse_f1.bracket_scores(untrees, references)["malformed"] == len(words)


def test_vocabulary_without_the_word_token_is_refused():
    with pytest.raises(ValueError, match="no word token 'XX'"):
        TreeConstraint(["<pad>", "<EOS>", "S", "/S"])


def test_summary_table_judges_constrained_metrics_like_the_plain_ones():
    from t2t_multimodel.decoding.decoder import summary_table

    table = summary_table({"parsing": {
        "bracket_f1_constrained": 26.6, "baseline_bracket_f1_constrained": 21.3,
        "malformed_tree_rate_constrained": 0.0, "baseline_malformed_tree_rate_constrained": 0.0}})
    assert "| parsing | bracket_f1_constrained | 26.6 | 21.3 | yes |" in table
    assert "| parsing | malformed_tree_rate_constrained | 0 | 0 |  |" in table
