"""The record of a training run in `--output_dir`: `hparams.json`.

It holds what the decoder and exporter need to rebuild the model from
`--output_dir` alone: the model name, the problem name(s), the data
directory (where the vocabulary lives), the resolved model hparams, each
problem's `ProblemHParams` and the user directory to import.
"""

import json
import os

from t2t_multimodel.data.shards import write_text_atomically
from t2t_multimodel.errors import DataError
from t2t_multimodel.hparams_lib import HParams

FILENAME = "hparams.json"


class RunConfig:
    """What a training run was: model, problems, data and hyperparameters.

    Args:
        model: str. Registered model name.
        problems: list of str. Registered problem names (one, or a mixture's).
        hparams_set: str. The hparams set the run started from.
        hparams: `HParams`. The resolved model hparams (overrides applied).
        data_dir: str. Where the problems' data and vocabularies are.
        problem_hparams: dict. Problem name -> `ProblemHParams.to_dict()`.
        t2t_usr_dir: str or None. User directory imported by the run.
    """

    def __init__(self, model, problems, hparams_set, hparams, data_dir,
                 problem_hparams=None, t2t_usr_dir=None):
        self.model = model
        self.problems = list(problems)
        self.hparams_set = hparams_set
        self.hparams = hparams
        self.data_dir = data_dir
        self.problem_hparams = dict(problem_hparams or {})
        self.t2t_usr_dir = t2t_usr_dir

    def to_dict(self):
        return {
            "model": self.model,
            "problems": self.problems,
            "hparams_set": self.hparams_set,
            "hparams": self.hparams.values(),
            "data_dir": os.path.abspath(self.data_dir) if self.data_dir else None,
            "problem_hparams": self.problem_hparams,
            "t2t_usr_dir": (os.path.abspath(self.t2t_usr_dir)
                            if self.t2t_usr_dir else None),
        }

    def save(self, output_dir):
        os.makedirs(output_dir, exist_ok=True)
        write_text_atomically(os.path.join(output_dir, FILENAME),
                              json.dumps(self.to_dict(), indent=2, sort_keys=True))

    @classmethod
    def load(cls, output_dir):
        path = os.path.join(output_dir, FILENAME)
        if not os.path.exists(path):
            raise DataError(
                f"{output_dir} is not a training run ({FILENAME} is missing): pass the "
                f"--output_dir that t2t-trainer wrote. Received: output_dir={output_dir}")
        with open(path, encoding="utf-8") as f:
            values = json.load(f)
        values["hparams"] = HParams(**values["hparams"])
        return cls(**values)

    @classmethod
    def exists(cls, output_dir):
        return os.path.exists(os.path.join(output_dir, FILENAME))
