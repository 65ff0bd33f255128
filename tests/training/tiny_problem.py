"""A tiny problem and hparams set, as a `--t2t_usr_dir` package, for trainer tests.

`write_usr_dir(parent)` writes the package `trainer_test_usr` (problem
`trainer_test_identity`: copy 2-6 decimal digits; hparams set
`trainer_test_tiny`: a 1-layer Transformer of width 32), so in-process tests
and subprocess CLI tests register exactly the same things.
"""

import os
import textwrap

PACKAGE = "trainer_test_usr"
PROBLEM = "trainer_test_identity"
HPARAMS_SET = "trainer_test_tiny"
MODEL = "transformer"

SOURCE = '''
"""Test-only problem and hparams set for the trainer tests."""

from t2t_multimodel import registry
from t2t_multimodel.problems import algorithmic


@registry.register_problem
class TrainerTestIdentity(algorithmic.AlgorithmicIdentityDecimal40):
    """Copy 1-6 decimal digits; 4,000 train and 200 dev examples."""

    @property
    def train_length(self):
        return 6

    @property
    def dev_min_length(self):
        return 2

    @property
    def train_size(self):
        return 4000

    @property
    def dev_size(self):
        return 200

    @property
    def num_shards(self):
        return 2


@registry.register_hparams
def trainer_test_tiny():
    hparams = registry.hparams("transformer_tiny")()
    hparams.hidden_size = 32
    hparams.filter_size = 64
    hparams.num_heads = 4
    hparams.num_hidden_layers = 1
    hparams.batch_size = 256
    hparams.max_length = 16
    hparams.learning_rate = 0.01
    hparams.learning_rate_warmup_steps = 50
    hparams.dropout = 0.0
    hparams.attention_dropout = 0.0
    hparams.relu_dropout = 0.0
    return hparams
'''


def write_usr_dir(parent):
    """Writes the package under `parent`; returns its path."""
    path = os.path.join(parent, PACKAGE)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "__init__.py"), "w", encoding="utf-8") as f:
        f.write(textwrap.dedent(SOURCE))
    return path
