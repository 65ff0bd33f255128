"""Text encoders: Python and in-graph paths agree, round-trip, and export."""

import json
import os
import subprocess
import sys
import sysconfig
import textwrap

import pytest
import tensorflow as tf

from t2t_multimodel import text_encoder
from t2t_multimodel.errors import DataError

SUBJECTS = ["The cat", "A small dog", "My old teacher", "Our neighbour", "The young woman",
            "Every student", "The tired driver", "A clever fox"]
VERBS = ["reads", "sees", "likes", "finds", "paints", "buys", "loses", "carries"]
OBJECTS = ["a red book", "the green house", "three apples", "the broken clock",
           "a warm coat", "the long letter"]
CORPUS = [f"{s} {v} {o}." for s in SUBJECTS for v in VERBS for o in OBJECTS]
TEXTS = ["The cat reads a red book.", "", "  two  spaces and a tab\there ",
         "Grüße aus München, ça va? 日本語 🙂", "unseen words: zebra quixotic"]


@pytest.fixture(scope="module")
def subword():
    return text_encoder.SubwordTextEncoder.build_from_generator(
        iter(CORPUS), 400, reserved_tokens=text_encoder.RESERVED_TOKENS + ["<mask>"])


def _encoders(subword):
    return {
        "byte": (text_encoder.ByteTextEncoder(), TEXTS),
        "subword": (subword, TEXTS),
        "token": (text_encoder.TokenTextEncoder(None, vocab_list=["0", "1", "a", "b"]),
                  ["1 0 1 1", "", "a b 0", "b"]),
        "ints": (text_encoder.TextEncoder(), ["1 0 3", "", "42 7"]),
    }


def _padded(ids_rows):
    """Rows + EOS, then PAD and junk after the EOS that decode_tf must ignore."""
    width = max(len(r) for r in ids_rows) + 3
    rows = [r + [text_encoder.EOS_ID] + [5] + [text_encoder.PAD_ID] * (width - len(r) - 2)
            for r in ids_rows]
    return tf.constant(rows, tf.int32)


def test_reserved_constants():
    assert text_encoder.RESERVED_TOKENS == ["<pad>", "<EOS>"]
    assert (text_encoder.PAD_ID, text_encoder.EOS_ID, text_encoder.NUM_RESERVED_TOKENS) == (0, 1, 2)


@pytest.mark.parametrize("kind", ["byte", "subword", "token", "ints"])
def test_python_and_graph_agree_and_round_trip(kind, subword):
    encoder, texts = _encoders(subword)[kind]
    python_ids = [encoder.encode(t) for t in texts]
    assert all(text_encoder.PAD_ID not in ids and text_encoder.EOS_ID not in ids
               for ids in python_ids)
    batch = encoder.encode_tf(tf.constant(texts))
    assert isinstance(batch, tf.RaggedTensor) and batch.dtype == tf.int32
    assert batch.to_list() == python_ids
    for text, ids in zip(texts, python_ids, strict=True):
        scalar = encoder.encode_tf(tf.constant(text))
        assert scalar.shape.rank == 1 and scalar.dtype == tf.int32
        assert scalar.numpy().tolist() == ids
        assert encoder.decode(ids) == text
        assert encoder.decode(ids + [text_encoder.EOS_ID], strip_extraneous=True) == text
    decoded = encoder.decode_tf(_padded(python_ids)).numpy().tolist()
    assert decoded == [t.encode("utf-8") for t in texts]
    assert encoder.decode_tf(batch).numpy().tolist() == decoded  # ragged input
    assert encoder.decode_tf(tf.constant(python_ids[0] + [1, 0])).numpy() == decoded[0]


def test_encode_tf_in_tf_data(subword):
    for encoder, texts in _encoders(subword).values():
        ds = tf.data.Dataset.from_tensor_slices(texts).map(encoder.encode_tf)
        assert [x.tolist() for x in ds.as_numpy_iterator()] == [encoder.encode(t) for t in texts]


def test_byte_encoder_non_ascii():
    encoder = text_encoder.ByteTextEncoder()
    text = "Grüße 日本 🙂"
    assert encoder.vocab_size == 258
    assert encoder.encode(text) == [b + 2 for b in text.encode("utf-8")]
    assert encoder.decode_tf([encoder.encode(text)]).numpy()[0] == text.encode("utf-8")
    assert encoder.decode([0, 1]) == "<pad><EOS>"
    assert encoder.decode_list([106, 1]) == [b"h", b"<EOS>"]


def test_text_encoder_ints():
    encoder = text_encoder.TextEncoder()
    assert encoder.encode("1 0 3") == [3, 2, 5]
    assert encoder.decode([3, 2, 5, 1]) == "1 0 3 <EOS>"
    assert encoder.decode_tf(tf.constant([[3, 0, 4, 1, 7], [5, 0, 0, 0, 0]])).numpy().tolist() == [
        b"1 2", b"3"]
    with pytest.raises(NotImplementedError, match="Received: encoder=TextEncoder"):
        _ = encoder.vocab_size


def test_token_encoder(tmp_path):
    encoder = text_encoder.TokenTextEncoder(None, vocab_list=["0", "1", "<EOS>"])
    assert encoder.vocab_size == 4 and encoder.encode("1 0 1") == [3, 2, 3]
    assert encoder.decode([3, 9]) == "1 ID_9"
    assert encoder.decode_tf(tf.constant([[3, 9, 1]])).numpy().tolist() == [b"1 ID_9"]
    with pytest.raises(DataError, match=r"Received: unknown=\['x'\]"):
        encoder.encode("1 x")
    with pytest.raises(tf.errors.InvalidArgumentError, match="not in the vocabulary"):
        encoder.encode_tf(tf.constant(["1 x 0"]))

    path = str(tmp_path / "vocab.tokens")
    unk = text_encoder.TokenTextEncoder(None, vocab_list=["a", "b", "<UNK>"], reverse=True,
                                        replace_oov="<UNK>")
    unk.store_to_file(path)
    loaded = text_encoder.TokenTextEncoder(path, reverse=True, replace_oov="<UNK>")
    assert open(path).read().splitlines() == ["<pad>", "<EOS>", "a", "b", "<UNK>"]
    assert loaded.encode("a b zz") == [4, 3, 2] == loaded.encode_tf("a b zz").numpy().tolist()
    assert loaded.decode([4, 3, 2]) == "a b <UNK>"
    assert loaded.decode_tf([[4, 3, 2, 1, 0]]).numpy().tolist() == [b"a b <UNK>"]

    bad = tmp_path / "bad.tokens"
    bad.write_text("a\nb\n")
    with pytest.raises(DataError, match="must start with the reserved tokens"):
        text_encoder.TokenTextEncoder(str(bad))
    with pytest.raises(DataError, match="Received: replace_oov='<UNK>'"):
        text_encoder.TokenTextEncoder(None, vocab_list=["a"], replace_oov="<UNK>")
    with pytest.raises(DataError, match="not found"):
        text_encoder.TokenTextEncoder(str(tmp_path / "missing"))


def test_class_label_encoder(tmp_path):
    encoder = text_encoder.ClassLabelEncoder(["neg", "pos"])
    assert encoder.vocab_size == 2 and encoder.encode("pos") == 1
    assert encoder.decode([1]) == "pos" and encoder.decode_list([0, 1]) == ["neg", "pos"]
    assert encoder.encode_tf("pos").numpy().tolist() == [1]
    assert encoder.encode_tf(["pos", "neg"]).to_list() == [[1], [0]]
    assert encoder.decode_tf(tf.constant([[1], [0]])).numpy().tolist() == [b"pos", b"neg"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="unknown class labels"):
        encoder.encode_tf(["meh"])
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\nc\n")
    assert text_encoder.ClassLabelEncoder(class_labels_fname=str(labels)).decode(2) == "c"
    with pytest.raises(DataError, match="Received: class_labels=None"):
        text_encoder.ClassLabelEncoder()


def test_subword_vocab_file_reserved_tokens_and_sizes(subword, tmp_path):
    assert 300 < subword.vocab_size <= 400  # This small corpus supports about 320.
    assert subword.decode_list([0, 1, 2, 3]) == ["<pad>", "<EOS>", "<unk>", "<mask>"]
    ids = subword.encode("The cat <mask> sees.")
    assert 3 in ids
    path = str(tmp_path / "vocab.x.400.subwords")
    subword.store_to_file(path)
    assert [p for p in os.listdir(tmp_path)] == ["vocab.x.400.subwords"]
    loaded = text_encoder.SubwordTextEncoder(path)
    assert loaded.encode(TEXTS[3]) == subword.encode(TEXTS[3])
    assert loaded.encode_tf(TEXTS[3]).numpy().tolist() == subword.encode(TEXTS[3])

    clamped = text_encoder.SubwordTextEncoder.build_from_generator(iter(CORPUS[:20]), 2**14)
    assert 259 < clamped.vocab_size < 400
    assert clamped.decode(clamped.encode(TEXTS[3])) == TEXTS[3]
    with pytest.raises(DataError, match="Received: target_size=50"):
        text_encoder.SubwordTextEncoder.build_from_generator(iter(CORPUS), 50)
    with pytest.raises(ValueError, match="must start with"):
        text_encoder.SubwordTextEncoder.build_from_generator(iter(CORPUS), 400,
                                                             reserved_tokens=["x"])

    (tmp_path / "t2t.subwords").write_text("'a_'\n'b_'\n")
    with pytest.raises(DataError, match="not a SentencePiece model"):
        text_encoder.SubwordTextEncoder(str(tmp_path / "t2t.subwords"))
    with pytest.raises(DataError, match="no vocabulary"):
        text_encoder.SubwordTextEncoder().encode("a")


_LOADER = textwrap.dedent("""
    import json, sys
    sys.path.append(SITE)
    try:
        import t2t_multimodel
        sys.exit("t2t_multimodel must not be importable here")
    except ImportError:
        pass
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the SentencePiece ops)
    loaded = tf.saved_model.load(PATH)
    texts = tf.constant(TEXTS)
    served = loaded.signatures["serving_default"](texts=texts)
    out = {k: [x.decode("utf-8") for x in v.numpy().tolist()] for k, v in served.items()}
    out["subword_ids"] = loaded.subword.tokenize(texts).to_list()
    out["subword_detok"] = [x.decode() for x in loaded.subword.detokenize(
        loaded.subword.tokenize(texts).to_tensor()).numpy().tolist()]
    assert "t2t_multimodel" not in sys.modules
    print(json.dumps(out))
""")


def test_saved_model_round_trip_without_the_package(subword, tmp_path):
    encoders = {name: enc for name, (enc, _) in _encoders(subword).items()
                if name in ("byte", "subword")}
    encoders["token"] = text_encoder.TokenTextEncoder(None, vocab_list=TEXTS[0][:-1].split(),
                                                      replace_oov="cat")

    class Export(tf.Module):
        def __init__(self):
            super().__init__()
            self.byte, self.subword, self.token = (encoders["byte"], encoders["subword"],
                                                   encoders["token"])

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
        def serve(self, texts):
            return {name: enc.decode_tf(enc.encode_tf(texts).to_tensor())
                    for name, enc in [("byte", self.byte), ("subword", self.subword),
                                      ("token", self.token)]}

    export = Export()
    path = str(tmp_path / "saved")
    tf.saved_model.save(export, path, signatures={"serving_default": export.serve})
    code = (f"SITE = {sysconfig.get_paths()['purelib']!r}\nPATH = {path!r}\n"
            f"TEXTS = {TEXTS!r}\n" + _LOADER)
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    # -I: no cwd/env on sys.path; -S: no site-packages processing, so the
    # editable install's import hook is absent; tensorflow comes from SITE.
    result = subprocess.run([sys.executable, "-I", "-S", "-c", code], cwd=workdir,
                            capture_output=True, text=True, timeout=120,
                            env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": os.environ["PATH"]})
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["byte"] == TEXTS and out["subword"] == TEXTS == out["subword_detok"]
    assert out["subword_ids"] == [subword.encode(t) for t in TEXTS]
    token = encoders["token"]
    assert out["token"] == [token.decode(token.encode(t)) for t in TEXTS]
