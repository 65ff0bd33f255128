"""Text problems: datagen (atomic, idempotent), vocabularies, in-graph pipeline."""

import itertools
import os

import pytest
import tensorflow as tf

from t2t_multimodel import problem, registry, text_encoder, text_problems
from t2t_multimodel.data import shards
from t2t_multimodel.errors import DataError
from t2t_multimodel.problem import default_model_hparams

# 10 subjects x 20 predicates = 200 short English/German pairs.
SUBJECTS = [("The man", "Der Mann"), ("The woman", "Die Frau"), ("The child", "Das Kind"),
            ("My father", "Mein Vater"), ("My mother", "Meine Mutter"),
            ("The teacher", "Der Lehrer"), ("The doctor", "Der Arzt"),
            ("Our neighbour", "Unser Nachbar"), ("The old dog", "Der alte Hund"),
            ("Anna", "Anna")]
PREDICATES = [
    ("reads a book.", "liest ein Buch."),
    ("drinks coffee in the morning.", "trinkt morgens Kaffee."),
    ("is very tired today.", "ist heute sehr müde."),
    ("lives in Munich.", "wohnt in München."),
    ("likes green apples.", "mag grüne Äpfel."),
    ("sleeps on the sofa.", "schläft auf dem Sofa."),
    ("opens the window.", "öffnet das Fenster."),
    ("writes a long letter.", "schreibt einen langen Brief."),
    ("buys fresh bread.", "kauft frisches Brot."),
    ("plays in the garden.", "spielt im Garten."),
    ("waits for the train.", "wartet auf den Zug."),
    ("eats soup with bread.", "isst Suppe mit Brot."),
    ("walks to the station.", "geht zum Bahnhof."),
    ("has a small car.", "hat ein kleines Auto."),
    ("sings a song.", "singt ein Lied."),
    ("cooks dinner for us.", "kocht das Abendessen für uns."),
    ("is not at home.", "ist nicht zu Hause."),
    ("laughs loudly.", "lacht laut."),
    ("cleans the kitchen.", "putzt die Küche."),
    ("speaks German well.", "spricht gut Deutsch."),
]
PAIRS = [(f"{en} {pen}", f"{de} {pde}")
         for (en, de), (pen, pde) in itertools.product(SUBJECTS, PREDICATES)]
NUM_TRAIN_SHARDS = 3


def _make_problem(name, vocab_type, crash_after=None, calls=None, **props):
    class TinyEnde(text_problems.Text2TextProblem):
        is_generate_per_split = False
        approx_vocab_size = 384  # This corpus supports up to about 400.
        dataset_splits = [{"split": problem.DatasetSplit.TRAIN, "shards": NUM_TRAIN_SHARDS},
                          {"split": problem.DatasetSplit.EVAL, "shards": 1}]

        def generate_samples(self, data_dir, tmp_dir, dataset_split):
            if calls is not None:
                calls.append(dataset_split)
            for i, (en, de) in enumerate(PAIRS):
                if crash_after is not None and i == crash_after:
                    raise RuntimeError("source download failed")
                yield {"inputs": en, "targets": de}

    TinyEnde.vocab_type = vocab_type
    for key, value in props.items():
        setattr(TinyEnde, key, value)
    registry.register_problem(name)(TinyEnde)
    return TinyEnde()


@pytest.fixture
def names():
    registered = []
    yield registered
    for name in registered:
        registry.Registries.problems.unregister(name)


def _problem(names, suffix, vocab_type, **kwargs):
    name = f"tiny_ende_test_{suffix}"
    names.append(name)
    return _make_problem(name, vocab_type, **kwargs)


def _decoded_pairs(p, data_dir, mode="train"):
    hparams = default_model_hparams()
    hparams.batch_size = 512
    encoder = p.get_feature_encoders(data_dir)["targets"]
    pairs = []
    for batch in p.dataset(mode, data_dir, hparams, repeat=False, shuffle_files=False):
        assert batch["inputs"].dtype == tf.int32 and batch["targets"].dtype == tf.int32
        assert batch["target_space_id"].dtype == tf.int32
        inputs = encoder.decode_tf(batch["inputs"]).numpy().tolist()
        targets = encoder.decode_tf(batch["targets"]).numpy().tolist()
        pairs += [(a.decode(), b.decode()) for a, b in zip(inputs, targets, strict=True)]
    return pairs


@pytest.mark.parametrize("vocab_type", [text_problems.VocabType.SUBWORD,
                                        text_problems.VocabType.CHARACTER])
def test_generate_data_and_dataset_round_trip(vocab_type, names, tmp_path):
    calls = []
    p = _problem(names, vocab_type, vocab_type, calls=calls)
    data_dir = str(tmp_path / "data")
    p.generate_data(data_dir, str(tmp_path / "tmp"))
    expected = shards.shard_paths(data_dir, p.name, "train", NUM_TRAIN_SHARDS) + \
        shards.shard_paths(data_dir, p.name, "eval", 1)
    files = sorted(os.listdir(data_dir))
    vocab = [f"vocab.{p.name}.384.subwords"] if vocab_type == "subwords" else []
    assert files == sorted([os.path.basename(f) for f in expected] + vocab)
    assert calls == ["train"]  # One stream spread over all splits.

    # Re-running skips everything.
    mtimes = {f: os.path.getmtime(os.path.join(data_dir, f)) for f in files}
    p.generate_data(data_dir, str(tmp_path / "tmp"))
    assert calls == ["train"]
    assert {f: os.path.getmtime(os.path.join(data_dir, f)) for f in files} == mtimes

    # Round-robin: the dev shard holds every 4th sample.
    train = [pair for i, pair in enumerate(PAIRS) if i % 4 != 3]
    dev = [pair for i, pair in enumerate(PAIRS) if i % 4 == 3]
    assert sorted(_decoded_pairs(p, data_dir)) == sorted(train)
    assert sorted(_decoded_pairs(p, data_dir, "eval")) == sorted(dev)
    hp = p.get_hparams(data_dir=data_dir)
    assert hp.modality == {"inputs": "symbol", "targets": "symbol"} and hp.stop_at_eos
    if vocab_type == "subwords":
        assert hp.vocab_size["targets"] == hp.vocab_size["inputs"] == 384
        assert hp.loss_multiplier == 1.0
    else:
        assert hp.vocab_size == {"inputs": 258, "targets": 258} and hp.loss_multiplier == 2.0
    assert text_problems.metrics.Metrics.APPROX_BLEU in p.eval_metrics()


def test_crash_mid_generation_leaves_no_shard(names, tmp_path):
    p = _problem(names, "crash", text_problems.VocabType.SUBWORD, crash_after=50)
    data_dir = str(tmp_path / "data")
    with pytest.raises(RuntimeError, match="source download failed"):
        p.generate_data(data_dir, None)
    for split in ("train", "eval"):
        assert shards.find_shards(data_dir, p.name, split) == []
    assert os.listdir(data_dir) == []
    with pytest.raises(DataError, match=f"vocab.{p.name}.384.subwords not found: run t2t-datagen"):
        p.feature_encoders(data_dir)


def test_per_split_generation_and_skipping(names, tmp_path):
    calls = []
    p = _problem(names, "per_split", text_problems.VocabType.CHARACTER, calls=calls,
                 is_generate_per_split=True)
    data_dir = str(tmp_path)
    p.generate_data(data_dir, None)
    assert calls == ["train", "eval"]
    os.remove(shards.shard_paths(data_dir, p.name, "eval", 1)[0])
    p.generate_data(data_dir, None)
    assert calls == ["train", "eval", "eval"]
    assert len(shards.find_shards(data_dir, p.name, "train")) == NUM_TRAIN_SHARDS


def test_token_vocab_is_user_provided(names, tmp_path):
    p = _problem(names, "tokens", text_problems.VocabType.TOKEN, oov_token="<UNK>")
    data_dir = str(tmp_path)
    assert p.vocab_filename == f"vocab.{p.name}.tokens"
    with pytest.raises(DataError, match="TOKEN problems read a vocabulary you provide"):
        p.generate_data(data_dir, None)
    words = sorted({w for pair in PAIRS[:100] for text in pair for w in text.split()})
    text_encoder.TokenTextEncoder(None, vocab_list=words + ["<UNK>"]).store_to_file(
        os.path.join(data_dir, p.vocab_filename))
    p.generate_data(data_dir, None)
    encoder = p.get_feature_encoders(data_dir)["inputs"]
    assert encoder.decode(encoder.encode(PAIRS[0][0])) == PAIRS[0][0]
    assert "<UNK>" in encoder.decode(encoder.encode(PAIRS[199][0]))


def test_text2class_and_text2self(names, tmp_path):
    class TinySentiment(text_problems.Text2ClassProblem):
        is_generate_per_split = False
        vocab_type = text_problems.VocabType.CHARACTER
        num_classes = 2
        dataset_splits = [{"split": problem.DatasetSplit.TRAIN, "shards": 2},
                          {"split": problem.DatasetSplit.EVAL, "shards": 1}]

        def class_labels(self, data_dir):
            return ["neg", "pos"]

        def generate_samples(self, data_dir, tmp_dir, dataset_split):
            for i, (en, _) in enumerate(PAIRS):
                yield {"inputs": en, "label": i % 2}

    class TinyLm(text_problems.Text2SelfProblem):
        is_generate_per_split = False
        approx_vocab_size = 400
        dataset_splits = TinySentiment.dataset_splits

        def generate_samples(self, data_dir, tmp_dir, dataset_split):
            for _, de in PAIRS:
                yield {"targets": de}

    names.extend(["tiny_sentiment_test", "tiny_lm_test"])
    registry.register_problem("tiny_sentiment_test")(TinySentiment)
    registry.register_problem("tiny_lm_test")(TinyLm)
    hparams = default_model_hparams()

    cls = TinySentiment()
    cls.generate_data(str(tmp_path / "cls"), None)
    batch = next(iter(cls.dataset("train", str(tmp_path / "cls"), hparams, repeat=False)))
    assert batch["targets"].dtype == tf.int32 and batch["targets"].shape[1] == 1
    labels = cls.get_feature_encoders()["targets"].decode_tf(batch["targets"]).numpy()
    assert set(labels.tolist()) <= {b"neg", b"pos"}
    hp = cls.get_hparams()
    assert hp.modality == {"inputs": "symbol", "targets": "class_label"}
    assert hp.vocab_size == {"inputs": 258, "targets": 2}

    lm = TinyLm()
    lm.generate_data(str(tmp_path / "lm"), None)
    assert set(lm.example_reading_spec()) == {"targets"} and not lm.has_inputs
    batch = next(iter(lm.dataset("train", str(tmp_path / "lm"), hparams, repeat=False)))
    assert "inputs" not in batch
    texts = lm.get_feature_encoders()["targets"].decode_tf(batch["targets"]).numpy().tolist()
    assert {t.decode() for t in texts} <= {de for _, de in PAIRS}
    assert lm.get_hparams().modality == {"targets": "symbol"}


def test_bad_samples_and_iterators(names, tmp_path):
    p = _problem(names, "bad", text_problems.VocabType.CHARACTER)
    type(p).generate_samples = lambda self, d, t, s: iter([{"inputs": "a", "targets": 3}])
    with pytest.raises(DataError, match="Received: targets=3"):
        p.generate_data(str(tmp_path / "bad"), None)

    src, tgt, tab, lab = (tmp_path / n for n in ("src.txt", "tgt.txt", "pairs.tsv", "lab.txt"))
    src.write_text("a b\nc d\n")
    tgt.write_text("x\ny\n")
    tab.write_text("a\tx\nno tab here\nc\ty\n")
    lab.write_text("pos\nneg\n")
    assert list(text_problems.text2text_txt_iterator(str(src), str(tgt))) == [
        {"inputs": "a b", "targets": "x"}, {"inputs": "c d", "targets": "y"}]
    assert list(text_problems.text2text_txt_tab_iterator(str(tab))) == [
        {"inputs": "a", "targets": "x"}, {"inputs": "c", "targets": "y"}]
    assert [s["label"] for s in text_problems.text2class_txt_iterator(
        str(src), str(lab), class_strs=["neg", "pos"])] == [1, 0]
    assert list(text_problems.text2self_txt_iterator(str(tgt))) == [
        {"targets": "x"}, {"targets": "y"}]
    tgt.write_text("x\n")
    with pytest.raises(DataError, match="different numbers of lines"):
        list(text_problems.text2text_txt_iterator(str(src), str(tgt)))
    with pytest.raises(DataError, match="must be ints"):
        list(text_problems.text2class_txt_iterator(str(src), str(lab)))
