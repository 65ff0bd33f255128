"""Silver trees from link-parser: leaves mapped back to the sentence, output pairing."""

import shutil

import pytest

from t2t_multimodel.data import link_grammar, ptb_trees

LINK_PARSER = shutil.which("link-parser")
needs_link_parser = pytest.mark.skipif(
    LINK_PARSER is None, reason="link-parser missing: apt-get install link-grammar")

# What `link-parser en` prints with !constituents=1 !graphics=0 !verbosity=0 !echo=1.
OUTPUT = """\
constituents set to 1
echo set to 1
He stood there watching.
(S (NP he)
   (VP stood.v-d
       (NP there.#their watching.g))
   .)

Mr. Smith saw Atlanta's recent outcome.
(S (NP Mr..x Smith{!})
   (VP saw.v-d
       (NP (NP Atlanta.l 's.p)
           recent.a {outcome}))
   .)

Bye.
"""


def test_align_leaves_recovers_the_sentence_tokens():
    leaves = ["mr..x", "Kennedy{!}", "'s.p", "there.#their", "U.S.{!}", "{outcome}", "n't", "."]
    sentence = "Mr. Kennedy's there U.S. outcome n't."
    assert link_grammar.align_leaves(leaves, sentence) == [
        "Mr.", "Kennedy", "'s", "there", "U.S.", "outcome", "n't", "."]
    assert link_grammar.align_leaves(["he", "ran"], "He ran away") is None  # words left over
    assert link_grammar.align_leaves(["she"], "He") is None


def test_read_output_pairs_echoes_with_trees():
    sentences = ["He stood there watching.", "No tree for this one.",
                 "Mr. Smith saw Atlanta's recent outcome."]
    first, missing, last = link_grammar.read_output(OUTPUT, sentences)
    assert missing is None
    tokens, tree = first
    assert tokens == ["He", "stood", "there", "watching", "."]
    assert ptb_trees.linearize(tree) == "S NP XX /NP VP XX NP XX XX /NP /VP XX /S"
    assert ptb_trees.words(tree) == tokens
    tokens, tree = last
    assert tokens == ["Mr.", "Smith", "saw", "Atlanta", "'s", "recent", "outcome", "."]
    assert ptb_trees.linearize(tree) == (
        "S NP XX XX /NP VP XX NP NP XX XX /NP XX XX /NP /VP XX /S")


def test_parseable():
    assert link_grammar.parseable("The dog barked.")
    assert not link_grammar.parseable("The dog (a terrier) barked.")
    assert not link_grammar.parseable("!verbosity=3")


@needs_link_parser
def test_link_parser_gives_silver_trees_for_real_sentences():
    sentences = [
        "The jury said it did find that many of the election laws are outmoded.",
        "He stood there watching until it had gone from his sight.",
        "Only a relative handful of such reports was received.",
        "The clouds bulged downward and burst suddenly into a great black funnel.",
        "Another week passed, and the missionaries were enjoying the voyage.",
        "She didn't know what to say to him.",
        "Mr. Brown's house is on the corner of Main Street.",
        "We shall never forget how kind you were.",
        "The new law will take effect in January.",
        "Why don't you come with us tomorrow?",
    ]
    results = link_grammar.parse_sentences(LINK_PARSER, sentences, num_processes=2,
                                           chunk_size=5)
    assert len(results) == len(sentences)
    parsed = [(s, r) for s, r in zip(sentences, results, strict=True) if r is not None]
    assert len(parsed) >= 8
    for sentence, (tokens, tree) in parsed:
        assert "".join(tokens) == "".join(sentence.split())
        assert ptb_trees.words(tree) == tokens
        text = ptb_trees.linearize(tree)
        assert text.split().count("XX") == len(tokens)
        spans, _ = ptb_trees.labelled_spans(ptb_trees.parse_linearized(text))
        assert {label for label, _, _ in spans} <= set(ptb_trees.PHRASE_LABELS)
        assert "NP" in text
