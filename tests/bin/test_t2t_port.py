"""User problems written for T2T, with only their imports changed, run end to end.

The user directory holds three modules as a T2T user would have written them:
a problem that generates its samples, one that reads a text file from
data_dir, and an hparams set built from `registry.hparams("transformer_tiny")()`.
Each goes through t2t-datagen, t2t-trainer, t2t-decoder and t2t-exporter with
--t2t_usr_dir and no edit to this package.
"""

import json
import textwrap

import pytest
from cli import run_binary, run_standalone

NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

USR_INIT = """
from . import my_problems
from . import my_hparams
"""

# As in T2T, except `from tensor2tensor.data_generators import problem` etc.
# became `from t2t_multimodel import problem`.
USR_PROBLEMS = '''
import os

from t2t_multimodel import metrics
from t2t_multimodel import problem
from t2t_multimodel import registry
from t2t_multimodel import text_encoder
from t2t_multimodel import text_problems

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@registry.register_problem
class DigitsToWords(text_problems.Text2TextProblem):
  """Spell out digit strings: "3 0 7" -> "three zero seven"."""

  @property
  def approx_vocab_size(self):
    return 2**9

  @property
  def is_generate_per_split(self):
    return False

  @property
  def dataset_splits(self):
    return [{"split": problem.DatasetSplit.TRAIN, "shards": 4},
            {"split": problem.DatasetSplit.EVAL, "shards": 1}]

  def generate_samples(self, data_dir, tmp_dir, dataset_split):
    del data_dir, tmp_dir, dataset_split
    for n in range(3000):
      digits = str(n * 7919 % 100000)
      yield {"inputs": " ".join(digits),
             "targets": " ".join(WORDS[int(d)] for d in digits)}

  def eval_metrics(self):
    return [metrics.Metrics.ACC, metrics.Metrics.ACC_PER_SEQ]


@registry.register_problem
class ReadPairsFromFile(text_problems.Text2TextProblem):
  """Reads tab-separated pairs from data_dir/pairs.tsv, character level."""

  @property
  def vocab_type(self):
    return text_problems.VocabType.CHARACTER

  @property
  def is_generate_per_split(self):
    return False

  @property
  def dataset_splits(self):
    return [{"split": problem.DatasetSplit.TRAIN, "shards": 2},
            {"split": problem.DatasetSplit.EVAL, "shards": 1}]

  def generate_samples(self, data_dir, tmp_dir, dataset_split):
    return text_problems.text2text_txt_tab_iterator(os.path.join(data_dir, "pairs.tsv"))

  @property
  def input_space_id(self):
    return problem.SpaceID.EN_CHR

  @property
  def target_space_id(self):
    return problem.SpaceID.EN_CHR

  def check_ids(self):
    assert text_encoder.PAD_ID == 0 and text_encoder.EOS_ID == 1
'''

USR_HPARAMS = '''
from t2t_multimodel import registry


@registry.register_hparams
def my_very_own_hparams():
  hparams = registry.hparams("transformer_tiny")()
  hparams.hidden_size = 64
  hparams.filter_size = 128
  hparams.num_heads = 2
  hparams.add_hparam("my_new_knob", 3)
  return hparams
'''


@pytest.fixture(scope="module")
def usr(tmp_path_factory):
    root = tmp_path_factory.mktemp("port")
    pkg = root / "my_t2t_usr"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(USR_INIT)
    (pkg / "my_problems.py").write_text(textwrap.dedent(USR_PROBLEMS))
    (pkg / "my_hparams.py").write_text(textwrap.dedent(USR_HPARAMS))
    data = root / "data"
    data.mkdir()
    # Real text: each line's English word and its letters reversed.
    words = ("the quick brown fox jumps over a lazy dog while seven wizards quietly "
             "pack boxes with five dozen liquor jugs").split()
    lines = [f"{w}\t{w[::-1]}" for w in words for _ in range(20)]
    (data / "pairs.tsv").write_text("\n".join(lines) + "\n")
    return {"root": root, "pkg": str(pkg), "data": str(data)}


def test_generating_problem_end_to_end(usr):
    root, pkg, data = usr["root"], usr["pkg"], usr["data"]
    out = str(root / "train_digits")
    run_binary("datagen", f"--t2t_usr_dir={pkg}", "--problem=digits_to_words",
               f"--data_dir={data}")
    names = sorted(p.name for p in (root / "data").iterdir())
    assert "digits_to_words-train-00000-of-00004" in names
    assert "digits_to_words-dev-00000-of-00001" in names
    run_binary("trainer", f"--t2t_usr_dir={pkg}", "--problem=digits_to_words",
               "--model=transformer", "--hparams_set=my_very_own_hparams",
               "--hparams=batch_size=1024,learning_rate=0.003,learning_rate_warmup_steps=50,"
               "max_length=64,dropout=0.0", f"--data_dir={data}",
               f"--output_dir={out}", "--train_steps=300", "--eval_steps=5",
               "--save_checkpoints_steps=300", "--local_eval_frequency=300")
    config = json.loads((root / "train_digits" / "hparams.json").read_text())
    assert config["hparams"]["my_new_knob"] == 3 and config["problems"] == ["digits_to_words"]
    (root / "in.txt").write_text("1 2 3\n9 0\n4 4 4 4\n")
    # The decoder needs only --output_dir: the run records the usr dir.
    run_binary("decoder", f"--output_dir={out}", f"--decode_from_file={root / 'in.txt'}",
               f"--decode_to_file={root / 'out.txt'}", "--decode_hparams=beam_size=2")
    outputs = (root / "out.txt").read_text().splitlines()
    assert len(outputs) == 3
    # 300 steps learn the word spelling: most output words are right.
    expected = [[NUMBER_WORDS[int(d)] for d in line.split()]
                for line in ["1 2 3", "9 0", "4 4 4 4"]]
    right = sum(a == b for o, e in zip(outputs, expected, strict=True)
                for a, b in zip(o.split(), e, strict=False))
    assert right >= 6, outputs
    run_binary("exporter", f"--output_dir={out}")
    stdout = run_standalone(
        f"m = tf.saved_model.load({str(root / 'train_digits' / 'export')!r})\n"
        "r = m.signatures['serving_default'](inputs=tf.constant(['1 2 3', '9 0', '4 4 4 4']))\n"
        "print('|'.join(o.decode() for o in r['outputs'].numpy()))\n", cwd=str(root))
    assert stdout.strip().split("|") == outputs


def test_file_reading_problem_generates_trains_and_exports(usr):
    root, pkg, data = usr["root"], usr["pkg"], usr["data"]
    out = str(root / "train_pairs")
    run_binary("datagen", f"--t2t_usr_dir={pkg}", "--problem=read_pairs_from_file",
               f"--data_dir={data}")
    assert (root / "data" / "read_pairs_from_file-train-00001-of-00002").exists()
    result = run_binary("trainer", f"--t2t_usr_dir={pkg}", "--problem=read_pairs_from_file",
                        "--model=transformer", "--hparams_set=my_very_own_hparams",
                        "--hparams=batch_size=512", f"--data_dir={data}",
                        f"--output_dir={out}", "--train_steps=20", "--eval_steps=2",
                        "--save_checkpoints_steps=20", "--local_eval_frequency=20")
    assert result.returncode == 0
    run_binary("exporter", f"--output_dir={out}")
    stdout = run_standalone(
        f"m = tf.saved_model.load({str(root / 'train_pairs' / 'export')!r})\n"
        "r = m.signatures['decode'](inputs=tf.constant(['fox', 'jugs']), beam_size=tf.constant(2),"
        " alpha=tf.constant(0.6), max_decode_length=tf.constant(8))\n"
        "print(r['outputs'].shape[0], r['scores'].shape[0])\n", cwd=str(root))
    assert stdout.split() == ["2", "2"]


def test_missing_data_file_is_one_clear_line(usr):
    result = run_binary("datagen", f"--t2t_usr_dir={usr['pkg']}",
                        "--problem=read_pairs_from_file",
                        f"--data_dir={usr['root'] / 'empty_data'}", check=False)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "pairs.tsv" in result.stderr.strip().splitlines()[-1]
