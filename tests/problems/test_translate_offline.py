"""translate_*_offline: real-format sources, hash splits, one vocabulary, learning."""

import itertools
import os
import random

import pytest
import tensorflow as tf
from data.translation_fixtures import DING_LINES, LO_DIR, write_deb_root

from t2t_multimodel import problem, registry
from t2t_multimodel.data import shards
from t2t_multimodel.problems import translate_offline

NAMES = ["translate_ende_offline", "translate_deen_offline", "translate_enfr_offline",
         "translate_fren_offline"]
SUBJECTS = [("The man", "Der Mann"), ("The woman", "Die Frau"), ("The child", "Das Kind"),
            ("My father", "Mein Vater"), ("My mother", "Meine Mutter"),
            ("The teacher", "Der Lehrer"), ("The doctor", "Der Arzt"),
            ("Our neighbour", "Unser Nachbar"), ("The old dog", "Der alte Hund"),
            ("Anna", "Anna")]
PREDICATES = [("reads a book.", "liest ein Buch."), ("drinks coffee.", "trinkt Kaffee."),
              ("is very tired.", "ist sehr müde."), ("lives in Munich.", "wohnt in München."),
              ("likes green apples.", "mag grüne Äpfel."), ("sleeps on the sofa.",
                                                             "schläft auf dem Sofa."),
              ("opens the window.", "öffnet das Fenster."), ("buys fresh bread.",
                                                             "kauft frisches Brot."),
              ("plays in the garden.", "spielt im Garten."), ("sings a song.",
                                                              "singt ein Lied."),
              ("waits for the train.", "wartet auf den Zug."), ("laughs loudly.",
                                                                "lacht laut.")]
# 120 more Ding lines: "<German> :: <English>" sentence entries.
GRID = [f"{sd} {pd} :: {se} {pe}" for (se, sd), (pe, pd) in itertools.product(SUBJECTS,
                                                                             PREDICATES)]


@pytest.fixture
def deb_root(tmp_path, monkeypatch):
    root = write_deb_root(str(tmp_path / "root"))
    monkeypatch.setenv("T2T_DEB_ROOT", root)
    return root


def test_sources_read_ding_libreoffice_and_asterisk(deb_root, tmp_path):
    de = translate_offline.ende_sources(str(tmp_path / "tmp"), min_ui_words=3)
    assert ("Beethoven was a pupil of Haydn.", "Beethoven war ein Schüler von Haydn.") in de["ding"]
    assert not any("/" in d for _, d in de["ding"])  # alternatives dropped
    assert len(de["libreoffice"]) == 24  # placeholders, markup and short messages dropped
    assert ("Insert the selected table", "die ausgewählte Tabelle Einfügen") in de["libreoffice"]
    fr = translate_offline.enfr_sources(str(tmp_path / "tmp"), min_ui_words=3)
    assert sorted(fr["asterisk"]) == [("Agent logged in.", "Agent connecté."),
                                      ("This conference is locked.",
                                       "Cette conférence est verrouillée.")]
    assert ("Copy the current cell", "la actuelle cellule Copier") in fr["libreoffice"]


def test_hash_split_is_disjoint_deterministic_and_keeps_translations_together():
    rng = random.Random(0)
    pairs = [(f"Sentence number {i}.", f"Satz Nummer {i}.") for i in range(3000)]
    pairs += [("sentence number 7", "Satz Nr. 7"), ("Sentence number 7.", "Satz Nummer 7.")]
    splits = translate_offline.split_pairs(pairs, dev_percent=5, test_percent=5)
    shuffled = pairs[:]
    rng.shuffle(shuffled)
    assert translate_offline.split_pairs(shuffled, 5, 5) == splits
    keys = {name: {translate_offline.split_key(en) for en, _ in split}
            for name, split in splits.items()}
    assert not keys["train"] & keys["eval"] and not keys["train"] & keys["test"]
    assert not keys["eval"] & keys["test"]
    assert sum(len(s) for s in splits.values()) == 3001  # one exact duplicate removed
    assert 100 < len(splits["eval"]) < 200 and 100 < len(splits["test"]) < 200
    home = [name for name, split in splits.items() if ("sentence number 7", "Satz Nr. 7") in split]
    assert ("Sentence number 7.", "Satz Nummer 7.") in splits[home[0]]


def test_dev_drops_pairs_whose_translation_is_in_train():
    pairs = [(f"Sentence {i}.", "Derselbe Satz.") for i in range(200)]
    splits = translate_offline.split_pairs(pairs, dev_percent=10, test_percent=10)
    assert splits["train"] and not splits["eval"] and not splits["test"]


def _read(data_dir, name, split):
    files = shards.find_shards(data_dir, name, split)
    return [(e.features.feature["inputs"].bytes_list.value[0].decode(),
             e.features.feature["targets"].bytes_list.value[0].decode())
            for e in map(tf.train.Example.FromString,
                         (r.numpy() for r in tf.data.TFRecordDataset(files)))]


def test_four_directions_share_one_vocabulary_of_three_languages(deb_root, tmp_path):
    data_dir, tmp_dir = str(tmp_path / "data"), str(tmp_path / "tmp")
    problems = [registry.problem(name) for name in NAMES]
    for p in problems:
        p.num_train_shards = 1
        p.generate_data(data_dir, tmp_dir)
    assert [f for f in os.listdir(data_dir) if f.startswith("vocab.")] == [
        "vocab.translate_offline.4096.subwords"]
    names = {p.get_hparams(data_dir=data_dir).vocab_name["inputs"] for p in problems}
    names |= {p.get_hparams(data_dir=data_dir).vocab_name["targets"] for p in problems}
    assert names == {"vocab.translate_offline.4096.subwords"}
    ids = problem.SpaceID
    spaces = [(p.get_hparams(data_dir=data_dir).input_space_id,
               p.get_hparams(data_dir=data_dir).target_space_id) for p in problems]
    assert spaces == [(ids.EN_TOK, ids.DE_TOK), (ids.DE_TOK, ids.EN_TOK),
                      (ids.EN_TOK, ids.FR_TOK), (ids.FR_TOK, ids.EN_TOK)]
    assert all(p.decode_metrics() == ["bleu", "chrf"] for p in problems)
    encoder = problems[0].get_feature_encoders(data_dir)["inputs"]
    # German and French text fed the vocabulary: their letters are pieces of their own,
    # while a letter of neither language falls back to its two UTF-8 bytes.
    assert [len(encoder.encode(c)) for c in ("ä", "é", "ø")] == [1, 1, 2]
    ende = _read(data_dir, "translate_ende_offline", "train")
    deen = _read(data_dir, "translate_deen_offline", "train")
    assert deen == [(de, en) for en, de in ende]
    assert ("He gives me the book.", "Er gibt mir das Buch.") in ende + _read(
        data_dir, "translate_ende_offline", "eval") + _read(data_dir, "translate_ende_offline",
                                                            "test")


def test_an_empty_catalog_directory_is_a_clear_error(deb_root, tmp_path):
    import shutil

    from t2t_multimodel.errors import DataError

    shutil.rmtree(os.path.join(deb_root, LO_DIR.format("fr")))
    os.makedirs(os.path.join(deb_root, LO_DIR.format("fr")))  # the package, but no catalogs
    with pytest.raises(DataError, match="no .mo catalogs"):
        translate_offline.enfr_sources(str(tmp_path / "tmp"), 3)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny Transformer trained on translate_ende_offline over a fixture corpus."""
    from t2t_multimodel.training import trainer

    base = tmp_path_factory.mktemp("e2e")
    root = write_deb_root(str(base / "root"), ding_lines=DING_LINES + GRID)
    old = os.environ.get("T2T_DEB_ROOT")
    os.environ["T2T_DEB_ROOT"] = root
    try:
        data_dir, output_dir = str(base / "data"), str(base / "out")
        p = registry.problem("translate_ende_offline")
        p.num_train_shards, p.dev_percent, p.test_percent = 1, 15, 5
        p.generate_data(data_dir, str(base / "tmp"))
        result = trainer.train(
            p, "transformer", "transformer_tiny", data_dir, output_dir,
            hparams_overrides="hidden_size=64,filter_size=128,learning_rate=0.01,"
                              "learning_rate_warmup_steps=50,batch_size=512,dropout=0.0,"
                              "attention_dropout=0.0,relu_dropout=0.0,label_smoothing=0.0",
            train_steps=100, eval_steps=0, save_checkpoints_steps=100,
            local_eval_frequency=0, log_fn=lambda line: None, log_step_count_steps=25)
    finally:
        if old is None:
            del os.environ["T2T_DEB_ROOT"]
        else:
            os.environ["T2T_DEB_ROOT"] = old
    return data_dir, output_dir, result


def test_a_tiny_transformer_learns_to_translate_beyond_copying(trained):
    from t2t_multimodel.decoding import decoder, loading
    from t2t_multimodel.metrics import decode as decode_metrics

    data_dir, output_dir, result = trained
    history = [loss for _, loss, _ in result["train_history"]]
    assert history[-1] < 0.5 * history[0]
    dev = _read(data_dir, "translate_ende_offline", "eval")
    assert len(dev) >= 10
    run = loading.load_run(output_dir)
    dhp = decoder.decode_hparams("beam_size=1")
    outputs, _ = decoder.decode_lines(decoder.serving_module(run, dhp), [en for en, _ in dev],
                                      dhp)
    references = [de for _, de in dev]
    model = decode_metrics.compute(["bleu", "chrf"], outputs, references)
    copy = decode_metrics.compute(["bleu", "chrf"], [en for en, _ in dev], references)
    assert model["bleu"] > copy["bleu"] + 20 and model["chrf"] > copy["chrf"] + 20, (model, copy)
