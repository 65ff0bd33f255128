"""translate_*_wmt: datagen from WMT's files (plain, SGML, archives) in --tmp_dir."""

import io
import os
import tarfile

import pytest
import tensorflow as tf

from t2t_multimodel import problem, registry
from t2t_multimodel.data import shards
from t2t_multimodel.errors import DataError

EN = ["Resumption of the session", "I declare resumed the session.", "Thank you.",
      "Please rise, then, for this minute's silence."]
DE = ["Wiederaufnahme der Sitzungsperiode", "Ich erkläre die Sitzung für wiederaufgenommen.",
      "Vielen Dank.", "Ich bitte Sie, sich zu einer Schweigeminute zu erheben."]
NC_EN = ["The price of gold rose.", "Markets fell sharply."]
NC_DE = ["Der Goldpreis stieg.", "Die Märkte fielen stark."]


def _sgm(kind, lang, segments):
    lines = [f'<{kind}set setid="newstest" srclang="any" trglang="{lang}">',
             '<doc sysid="ref" docid="1" genre="news" origlang="en">', "<p>"]
    lines += [f'<seg id="{i}">{s}</seg>' for i, s in enumerate(segments, 1)]
    return "\n".join(lines + ["</p>", "</doc>", f"</{kind}set>", ""])


def _add(tar, name, text):
    data = text.encode("utf-8")
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


@pytest.fixture(scope="module")
def wmt_tmp_dir(tmp_path_factory):
    """europarl as plain files, news-commentary in its .tgz, dev and test as SGML."""
    tmp = tmp_path_factory.mktemp("wmt")
    os.makedirs(tmp / "training")
    for lang, lines in (("en", EN), ("de", DE)):
        (tmp / "training" / f"europarl-v7.de-en.{lang}").write_text("\n".join(lines) + "\n")
    with tarfile.open(tmp / "training-parallel-nc-v12.tgz", "w:gz") as tar:
        for lang, lines in (("en", NC_EN), ("de", NC_DE)):
            _add(tar, f"training/news-commentary-v12.de-en.{lang}", "\n".join(lines) + "\n")
    with tarfile.open(tmp / "dev.tgz", "w:gz") as tar:
        _add(tar, "dev/newstest2013-src.en.sgm", _sgm("src", "en", ["Fish &amp; chips."]))
        _add(tar, "dev/newstest2013-ref.de.sgm", _sgm("ref", "de", ["Fisch &amp; Pommes."]))
        _add(tar, "dev/newstest2013-src.de.sgm", _sgm("src", "de", ["Fisch &amp; Pommes."]))
        _add(tar, "dev/newstest2013-ref.en.sgm", _sgm("ref", "en", ["Fish &amp; chips."]))
    os.makedirs(tmp / "test-full")
    for kind, lang, text in (("src", "en", "&quot;Yes&quot;, he said."),
                             ("ref", "de", "&#8222;Ja&#8220;, sagte er."),
                             ("src", "de", "&#8222;Ja&#8220;, sagte er."),
                             ("ref", "en", "&quot;Yes&quot;, he said.")):
        (tmp / "test-full" / f"newstest2014-deen-{kind}.{lang}.sgm").write_text(
            _sgm(kind, lang, [text]))
    return str(tmp)


def _read(data_dir, name, split):
    files = shards.find_shards(data_dir, name, split)
    pairs = []
    for record in tf.data.TFRecordDataset(files):
        example = tf.train.Example.FromString(record.numpy())
        feature = example.features.feature
        pairs.append((feature["inputs"].bytes_list.value[0].decode(),
                      feature["targets"].bytes_list.value[0].decode()))
    return pairs


@pytest.fixture(scope="module")
def generated(wmt_tmp_dir, tmp_path_factory):
    data_dir = str(tmp_path_factory.mktemp("data"))
    for name in ("translate_ende_wmt", "translate_deen_wmt"):
        p = registry.problem(name)
        p.approx_vocab_size = 300  # An instance attribute: the tiny corpus supports no more.
        p.num_train_shards = 1
        p.generate_data(data_dir, wmt_tmp_dir)
    return data_dir, p


def test_ende_reads_plain_archived_and_sgml_files(generated):
    data_dir, _ = generated
    train = _read(data_dir, "translate_ende_wmt", "train")
    assert sorted(train) == sorted(zip(EN + NC_EN, DE + NC_DE, strict=True))
    assert _read(data_dir, "translate_ende_wmt", "eval") == [("Fish & chips.", "Fisch & Pommes.")]
    assert _read(data_dir, "translate_ende_wmt", "test") == [('"Yes", he said.',
                                                              "„Ja“, sagte er.")]


def test_deen_is_reversed_and_shares_the_vocabulary(generated):
    data_dir, deen = generated
    train = _read(data_dir, "translate_deen_wmt", "train")
    assert sorted(train) == sorted(zip(DE + NC_DE, EN + NC_EN, strict=True))
    ende = registry.problem("translate_ende_wmt")
    ende.approx_vocab_size = 300
    assert deen.vocab_filename == ende.vocab_filename == "vocab.translate_ende_wmt.300.subwords"
    vocabs = [f for f in os.listdir(data_dir) if f.startswith("vocab.")]
    assert vocabs == ["vocab.translate_ende_wmt.300.subwords"]
    encoder = deen.get_feature_encoders(data_dir)["inputs"]
    assert encoder.decode(encoder.encode(DE[3])) == DE[3]


def test_space_ids_and_decode_metrics():
    ids = problem.SpaceID
    expected = {"translate_ende_wmt": (ids.EN_TOK, ids.DE_TOK),
                "translate_deen_wmt": (ids.DE_TOK, ids.EN_TOK),
                "translate_enfr_wmt": (ids.EN_TOK, ids.FR_TOK),
                "translate_fren_wmt": (ids.FR_TOK, ids.EN_TOK)}
    for name, spaces in expected.items():
        p = registry.problem(name)
        assert (p.input_space_id, p.target_space_id) == spaces
        assert p.decode_metrics() == ["bleu", "chrf"]
    assert (registry.problem("translate_fren_wmt").vocab_filename ==
            registry.problem("translate_enfr_wmt").vocab_filename)


def test_missing_data_names_every_file_archive_and_url(tmp_path):
    with pytest.raises(DataError) as info:
        registry.problem("translate_fren_wmt").generate_data(str(tmp_path / "data"),
                                                             str(tmp_path / "tmp"))
    message = str(info.value)
    assert "\n" not in message
    assert f"into {tmp_path / 'tmp'}" in message
    for expected in ("europarl-v7.fr-en.fr + europarl-v7.fr-en.en",
                     "training-parallel-europarl-v7.tgz",
                     "giga-fren.release2.fixed.fr", "http://www.statmt.org/wmt10/training-giga-fren.tar",
                     "undoc.2000.fr-en.fr", "newstest2013-src.fr.sgm + newstest2013-ref.en.sgm",
                     "newstest2014-fren-src.fr.sgm + newstest2014-fren-ref.en.sgm",
                     "http://www.statmt.org/wmt14/test-full.tgz"):
        assert expected in message
    assert message.endswith(f"Received: tmp_dir={tmp_path / 'tmp'}")
    assert not os.listdir(tmp_path / "data")  # nothing half-written


def test_missing_test_set_alone_is_named(wmt_tmp_dir, tmp_path):
    import shutil

    tmp = tmp_path / "tmp"
    shutil.copytree(wmt_tmp_dir, tmp, ignore=shutil.ignore_patterns("test-full"))
    p = registry.problem("translate_ende_wmt")
    p.num_train_shards = 1
    with pytest.raises(DataError, match=r"test: newstest2014-deen-src.en.sgm") as info:
        p.generate_data(str(tmp_path / "data"), str(tmp))
    assert "train:" not in str(info.value) and "dev:" not in str(info.value)
