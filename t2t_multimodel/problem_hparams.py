"""`ProblemHParams`: what a problem tells a model about its features.

Kept apart from the model's `HParams` (as in T2T): a problem says which
modality each feature has, its vocabulary size and the space ids; a model says
its sizes. T2T problems mutate these in `hparams(defaults, model_hparams)`:

```python
def hparams(self, defaults, model_hparams):
    defaults.modality = {"inputs": "symbol", "targets": "symbol"}
    defaults.vocab_size = {"inputs": 258, "targets": 258}
```
"""

import json


class ProblemHParams:
    """Problem-side hyperparameters (a plain attribute bag that serializes).

    Args:
        modality: dict. Feature name -> modality name ("symbol", "image", ...).
        vocab_size: dict. Feature name -> vocabulary size (or class count).
        vocab_name: dict. Feature name -> the vocabulary's identity (e.g. its
            file name); the MultiModel shares a modality net between problems
            only when the names match (absent: when the sizes match).
        input_space_id: int. Space id of the inputs.
        target_space_id: int. Space id of the targets: the command token.
        loss_multiplier: float. Scales this problem's loss in a mixture.
        stop_at_eos: bool. Whether decoding stops at EOS.
        **extra: further JSON-serializable attributes problems may add.
    """

    def __init__(self, modality=None, vocab_size=None, input_space_id=0,
                 target_space_id=0, loss_multiplier=1.0, stop_at_eos=True,
                 vocab_name=None, **extra):
        self.modality = dict(modality or {})
        self.vocab_size = dict(vocab_size or {})
        self.vocab_name = dict(vocab_name or {})
        self.input_space_id = int(input_space_id)
        self.target_space_id = int(target_space_id)
        self.loss_multiplier = float(loss_multiplier)
        self.stop_at_eos = bool(stop_at_eos)
        for key, value in extra.items():
            setattr(self, key, value)

    def to_dict(self):
        return json.loads(json.dumps(self.__dict__))

    @classmethod
    def from_dict(cls, values):
        return cls(**values)

    def __repr__(self):
        return f"ProblemHParams({self.to_dict()})"
