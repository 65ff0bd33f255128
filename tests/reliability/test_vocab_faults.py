"""A vocabulary file deleted after datagen: t2t-trainer and t2t-decoder print one line naming it."""

import os
import re
import subprocess
import sys
import textwrap

import pytest
from cli import BIN

from t2t_multimodel import registry, usr_dir
from t2t_multimodel.training import trainer

PROBLEM = "vocab_fault_test_ende"
SOURCE = '''
from t2t_multimodel import problem, registry, text_problems

WORDS = "the a cat dog sees likes house tree red small big runs".split()


@registry.register_problem
class VocabFaultTestEnde(text_problems.Text2TextProblem):
    """Tiny word pairs with a learned subword vocabulary."""

    is_generate_per_split = False
    approx_vocab_size = 300  # SentencePiece: 256 byte pieces + this corpus
    dataset_splits = [{"split": problem.DatasetSplit.TRAIN, "shards": 1},
                      {"split": problem.DatasetSplit.EVAL, "shards": 1}]

    def generate_samples(self, data_dir, tmp_dir, dataset_split):
        for i, a in enumerate(WORDS):
            for b in WORDS[i:]:
                yield {"inputs": f"{a} {b}", "targets": f"{b} {a}"}
'''
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
# TF's C++ runtime prints these before Python runs; TF_CPP_MIN_LOG_LEVEL can't stop them.
RUNTIME_NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog|"
                           r"[IWE]\d{4} \d\d:\d\d:\d\d)")


@pytest.fixture(scope="module")
def run_without_vocab(tmp_path_factory):
    """(usr dir, data_dir, output_dir, vocab path) of a 2-step run whose vocab was deleted."""
    usr = tmp_path_factory.mktemp("vocab_usr") / "vocab_fault_usr"
    usr.mkdir()
    (usr / "__init__.py").write_text(textwrap.dedent(SOURCE))
    usr_dir.import_usr_dir(str(usr))
    data_dir = str(tmp_path_factory.mktemp("vocab_data"))
    p = registry.problem(PROBLEM)
    p.generate_data(data_dir, None)
    output_dir = str(tmp_path_factory.mktemp("vocab_run") / "out")
    trainer.train(PROBLEM, "transformer", "transformer_tiny", data_dir, output_dir,
                  hparams_overrides="hidden_size=16,filter_size=32,num_hidden_layers=1",
                  train_steps=2, eval_steps=0, save_checkpoints_steps=2,
                  local_eval_frequency=0, t2t_usr_dir=str(usr), log_fn=lambda line: None)
    vocab = os.path.join(data_dir, p.vocab_filename)
    os.remove(vocab)
    return str(usr), data_dir, output_dir, vocab


def test_missing_vocab_is_one_line_naming_the_file(run_without_vocab):
    usr, data_dir, output_dir, vocab = run_without_vocab
    commands = {
        "trainer": [f"--problem={PROBLEM}", "--model=transformer",
                    "--hparams_set=transformer_tiny",
                    "--hparams=hidden_size=16,filter_size=32,num_hidden_layers=1",
                    f"--data_dir={data_dir}", f"--output_dir={output_dir}", "--train_steps=4",
                    "--eval_steps=0", f"--t2t_usr_dir={usr}"],
        "decoder": [f"--output_dir={output_dir}", f"--t2t_usr_dir={usr}"],
    }
    procs = {name: subprocess.Popen([sys.executable, "-m", BIN[name], *args], env=ENV,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name, args in commands.items()}
    for name, proc in procs.items():
        try:
            _, stderr = proc.communicate(timeout=180)
        finally:
            proc.kill()
        lines = [line for line in stderr.splitlines()
                 if line.strip() and not RUNTIME_NOISE.match(line)]
        assert proc.returncode == 1, (name, stderr[-3000:])
        assert "Traceback" not in stderr, stderr
        assert len(lines) == 1, (name, lines)
        assert lines[0].startswith(f"Error: vocabulary {vocab} not found: run t2t-datagen "
                                   f"--problem={PROBLEM} --data_dir={data_dir}"), (name, lines)
    assert not os.path.exists(os.path.join(output_dir, "ckpt-4.index"))
