"""Parsing problems: the PTB `.mrg` loader, the link-grammar silver stand-in, vocabularies."""

import contextlib
import io
import os
import shutil

import pytest

from t2t_multimodel import registry
from t2t_multimodel.data import ptb_trees, shards, system_packages
from t2t_multimodel.errors import DataError
from t2t_multimodel.metrics import decode
from t2t_multimodel.problems import parsing

# A section's file in the LDC layout: multi-line trees, traces, function tags.
MRG = """\
( (S
    (NP-SBJ-1 (DT The) (NN board) )
    (VP (VBD agreed)
      (S (NP-SBJ (-NONE- *-1) )
        (VP (TO to)
          (VP (VB meet)
            (NP-TMP (NNP {day}) )))))
    (. .) ))
( (S
    (NP-SBJ (PRP It) )
    (VP (VBD rained) )
    (. .) ))
"""


def write_treebank(root, sections=range(0, 25)):
    wsj = os.path.join(root, "treebank_3", "parsed", "mrg", "wsj")
    for section in sections:
        os.makedirs(os.path.join(wsj, f"{section:02d}"))
        path = os.path.join(wsj, f"{section:02d}", f"wsj_{section:02d}01.mrg")
        with open(path, "w") as f:
            f.write(MRG.replace("{day}", f"Day{section:02d}"))
    return wsj


def test_ptb_reads_the_standard_split(tmp_path):
    write_treebank(str(tmp_path))
    problem = registry.problem("parsing_english_ptb")
    samples = {split: list(problem.generate_samples(None, str(tmp_path), split))
               for split in ("train", "eval", "test")}
    assert [len(samples[s]) for s in ("train", "eval", "test")] == [40, 2, 2]
    days = {s: {x["inputs"].split()[-2] for x in samples[s][::2]} for s in samples}
    assert days["train"] == {f"Day{n:02d}" for n in range(2, 22)}
    assert days["eval"] == {"Day22"} and days["test"] == {"Day23"}
    assert samples["eval"] == [
        {"inputs": "The board agreed to meet Day22 .",
         "targets": "S NP XX XX /NP VP XX S VP XX VP XX NP XX /NP /VP /VP /S /VP XX /S"},
        {"inputs": "It rained .", "targets": "S NP XX /NP VP XX /VP XX /S"}]


def test_ptb_missing_treebank_says_where_to_put_it(tmp_path):
    problem = registry.problem("parsing_english_ptb")
    with pytest.raises(DataError) as error:
        problem.generate_data(str(tmp_path / "data"), str(tmp_path / "tmp"))
    message = str(error.value)
    expected = os.path.join(str(tmp_path / "tmp"), "treebank_3/parsed/mrg/wsj/02/wsj_0200.mrg")
    assert expected in message and "LDC99T42" in message
    assert message.endswith(f"Received: tmp_dir={tmp_path / 'tmp'}")
    write_treebank(str(tmp_path / "tmp"), sections=range(2, 22))  # no 22 and 23
    with pytest.raises(DataError, match="section 22 not found"):
        list(problem.generate_samples(None, str(tmp_path / "tmp"), "eval"))


def test_ptb_treebank_dir_attribute_and_data(tmp_path):
    wsj = write_treebank(str(tmp_path / "ldc"))

    class MyPtb(parsing.ParsingEnglishPtb):
        treebank_dir = wsj

    problem = MyPtb()
    data_dir = str(tmp_path / "data")
    problem.generate_data(data_dir, None)
    assert len(shards.find_shards(data_dir, problem.dataset_filename(), "test")) == 1
    encoders = problem.get_feature_encoders(data_dir)
    target = "S NP XX /NP VP XX /VP XX /S"
    assert encoders["targets"].decode(encoders["targets"].encode(target)) == target
    assert encoders["inputs"].decode(encoders["inputs"].encode("It rained .")) == "It rained ."
    # Inputs are words (one id per word, the i-th XX's word); unseen ones are <unk>.
    ids = encoders["inputs"].encode("It rained zyzzyvas .")
    assert len(ids) == 4 and encoders["inputs"].decode(ids[2:3]) == parsing.UNKNOWN_WORD
    hparams = problem.get_hparams(data_dir=data_dir)
    assert hparams.vocab_size["targets"] == 2 + len(ptb_trees.target_tokens())
    assert hparams.vocab_name["targets"] == parsing.TARGET_VOCAB_NAME
    assert problem.decode_metrics() == ["bracket_f1", "malformed_tree_rate"]
    assert set(problem.decode_metrics()) <= set(decode.names())
    (flat,) = problem.baseline_outputs(["It rained ."]).values()
    assert flat == ["S XX XX XX /S"]


def test_ptb_corrupt_file_is_a_data_error(tmp_path):
    wsj = write_treebank(str(tmp_path))
    with open(os.path.join(wsj, "02", "wsj_0201.mrg"), "a") as f:
        f.write("( (S (NP (NN dog) )\n")
    with pytest.raises(DataError, match="wsj_0201.mrg is not a Penn Treebank .mrg file"):
        list(registry.problem("parsing_english_ptb").generate_samples(None, str(tmp_path),
                                                                      "train"))


SENTENCES = [
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
    "The committee approved the plan after a long debate.",
    "A small boy ran across the street to his mother.",
    "They had lived in the old house for many years.",
    "The doctor told her to rest for a week.",
    "Most of the farmers planted corn in the spring.",
    "The train arrived at the station late in the evening.",
]


class SmallSilver(parsing.ParsingEnglishSilver):
    train_size, dev_size, test_size = 10, 2, 2


@pytest.fixture(scope="module")
def silver(tmp_path_factory):
    """(problem, data_dir, tmp_dir, stderr of datagen) of a 14-sentence silver set."""
    if shutil.which("link-parser") is None:
        pytest.skip("link-parser missing: apt-get install link-grammar")
    # Ineligible: too short, brackets, a duplicate.
    brown = SENTENCES + ["Too short here.", "The dog (a terrier) barked at the mailman.",
                         SENTENCES[0]]
    root = tmp_path_factory.mktemp("silver")
    data_dir, tmp_dir = str(root / "data"), str(root / "tmp")
    problem, stderr = SmallSilver(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stderr(stderr):
        patch.setattr(system_packages, "brown_sentences", lambda tmp_dir: brown)
        problem.generate_data(data_dir, tmp_dir)
    return problem, data_dir, tmp_dir, stderr.getvalue()


def test_silver_problem_splits_caches_and_says_silver(silver, monkeypatch):
    problem, data_dir, tmp_dir, stderr = silver
    assert "SILVER" in stderr
    splits = {s: list(problem.generate_samples(data_dir, tmp_dir, s))
              for s in ("train", "eval", "test")}
    assert [len(splits[s]) for s in ("train", "eval", "test")] == [10, 2, 2]
    inputs = [x["inputs"] for s in splits.values() for x in s]
    assert len(set(inputs)) == 14  # disjoint splits, no duplicate
    for sample in (x for s in splits.values() for x in s):
        tree = ptb_trees.parse_linearized(sample["targets"])
        assert ptb_trees.labelled_spans(tree)[1] == len(sample["inputs"].split())
        assert "".join(sample["inputs"].split()) in {"".join(s.split()) for s in SENTENCES}
    # The cache is reused: no Brown corpus and no link-parser needed, same rows.
    monkeypatch.setattr(system_packages, "require_binary", pytest.fail)
    monkeypatch.setattr(system_packages, "brown_sentences", pytest.fail)
    assert list(SmallSilver().generate_samples(data_dir, tmp_dir, "eval")) == splits["eval"]
    encoders = problem.get_feature_encoders(data_dir)
    ids = encoders["targets"].encode(splits["eval"][0]["targets"])
    assert encoders["targets"].decode(ids) == splits["eval"][0]["targets"]


def test_silver_trains_with_its_two_vocabularies(silver, tmp_path):
    from t2t_multimodel.training import trainer

    _, data_dir, _, _ = silver
    # A fresh instance: the trainer seeds TF first, which frees encoders loaded before.
    result = trainer.train(
        SmallSilver(), "transformer", "transformer_tiny", data_dir, str(tmp_path / "run"),
        hparams_overrides=("hidden_size=32,filter_size=64,num_heads=2,num_hidden_layers=1,"
                           "batch_size=512,learning_rate=0.01,learning_rate_warmup_steps=10,"
                           "dropout=0.0,attention_dropout=0.0,relu_dropout=0.0"),
        train_steps=60, eval_steps=1, save_checkpoints_steps=60, local_eval_frequency=0,
        log_fn=lambda line: None, log_step_count_steps=10)
    losses = [loss for _, loss, _ in result["train_history"]]
    assert losses[-1] < 0.6 * losses[0]


def test_silver_constrained_decodes_and_exports_well_formed_trees(silver, tmp_path):
    import tensorflow as tf

    from t2t_multimodel.decoding import decoder
    from t2t_multimodel.metrics import parse_f1
    from t2t_multimodel.training import trainer

    problem, data_dir, tmp_dir, _ = silver
    # Barely trained (20 steps): the constraint, not the model, makes the trees.
    result = trainer.train(
        SmallSilver(), "transformer", "transformer_tiny", data_dir, str(tmp_path / "run"),
        hparams_overrides="hidden_size=32,filter_size=64,num_heads=2,num_hidden_layers=1",
        train_steps=20, eval_steps=0, save_checkpoints_steps=20, local_eval_frequency=0,
        log_fn=lambda line: None)
    samples = list(problem.generate_samples(data_dir, tmp_dir, "eval"))
    inputs, references = [s["inputs"] for s in samples], [s["targets"] for s in samples]
    dhp = decoder.decode_hparams("beam_size=1,batch_size=2")
    module = decoder.problem_serving_module(result["model"], SmallSilver(), None, data_dir, dhp,
                                            constrained=True)
    outputs, _ = decoder.decode_lines(module, inputs, dhp)
    assert parse_f1.bracket_scores(outputs, references)["malformed"] == 0, outputs
    # The constraint is part of the exported graph.
    export_dir = str(tmp_path / "export")
    tf.saved_model.save(module, export_dir, signatures=module.signatures())
    served = tf.saved_model.load(export_dir).signatures["serving_default"]
    exported = [o.decode() for o in served(inputs=tf.constant(inputs))["outputs"].numpy()]
    assert exported == outputs

    # The trainer's eval decodes score both, as t2t-decoder does; the
    # experiments' report then reads the constrained F1 as parsing's metric.
    from t2t_multimodel.experiments import results
    from t2t_multimodel.training import evaluation

    values = evaluation.DecodeEvaluator(result["model"], SmallSilver(), None, data_dir,
                                        len(inputs)).evaluate()
    assert values["decode_malformed_tree_rate_constrained"] == 0, values
    assert set(values) == {"decode_bracket_f1", "decode_malformed_tree_rate",
                           "decode_bracket_f1_constrained",
                           "decode_malformed_tree_rate_constrained"}
    assert results.primary_metric(SmallSilver(), values) == ("decode_bracket_f1_constrained",
                                                             False)
    assert results.primary_metric(SmallSilver()) == ("decode_bracket_f1", False)
