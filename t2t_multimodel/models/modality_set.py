"""`ModalitySet`: one modality net per (modality, vocabulary), shared by problems."""

import re

from t2t_multimodel import registry
from t2t_multimodel.errors import T2TError

# Looked up in the registry directly: `registry.modality()` would import every
# problem, and a model must not depend on them.
_MODALITIES = registry.Registries.modalities


class ModalitySet:
    """The modality layers of a model's problems, one per modality and size.

    The paper's point: problems of one modality share its net ("one net per
    modality, not per task"). Two problems get the same instance when they
    name the same modality with the same vocabulary: the same
    `ProblemHParams.vocab_name` (e.g. the vocabulary file) where the problems
    set one, else the same vocabulary size (T2T named modality scopes by size
    alone, `symbol_modality_<vocab>_<hidden>`, so two different vocabularies
    of one size shared an embedding; `vocab_name` prevents that). A symbol
    vocabulary used for both inputs and targets shares one embedding table
    when `shared_embedding_and_softmax_weights` is set, as in the Transformer.

    Args:
        hparams: `HParams` of the model.
        problem_hparams_by_name: dict. Problem name (or None) -> `ProblemHParams`.
        dtype: the model's dtype policy, passed to every modality.

    Example:

    ```python
    modalities = ModalitySet(hparams, {"a": php_a, "b": php_b})
    modalities.input("a").bottom(ids)      # [B, S, H]
    modalities.target("b").top(body_out)   # logits
    ```
    """

    def __init__(self, hparams, problem_hparams_by_name, dtype=None):
        self.hparams = hparams
        self.layers = {}
        self._inputs = {}
        self._targets = {}
        share = hparams.get("shared_embedding_and_softmax_weights", False)
        target_keys = set()
        for php in problem_hparams_by_name.values():
            if "targets" in php.modality:
                target_keys.add(self._key(php, "targets"))
        for name, php in problem_hparams_by_name.items():
            for feature, table in (("inputs", self._inputs), ("targets", self._targets)):
                if feature not in php.modality:
                    continue
                key = self._key(php, feature)
                if feature == "inputs" and not (share and key in target_keys):
                    key = key + ("inputs",)
                if key not in self.layers:
                    self.layers[key] = self._create(php, feature, key, dtype)
                table[name] = self.layers[key]

    @staticmethod
    def _key(php, feature):
        vocab_name = getattr(php, "vocab_name", {}).get(feature)
        key = (php.modality[feature], php.vocab_size.get(feature))
        return key + (vocab_name,) if vocab_name else key

    def _create(self, php, feature, key, dtype):
        modality_name = php.modality[feature]
        vocab = php.vocab_size.get(feature)
        vocab_name = key[2] if len(key) > 2 and key[2] != "inputs" else None
        if vocab_name:  # a layer name: letters, digits and underscores only
            vocab_name = re.sub(r"\W+", "_", str(vocab_name)).strip("_")
        layer_name = "_".join(str(part) for part in (modality_name, vocab, vocab_name, "modality")
                              if part is not None)
        if key[-1] == "inputs":
            layer_name = "inputs_" + layer_name
        role = "targets" if key[-1] != "inputs" else "inputs"
        return _MODALITIES[modality_name].from_hparams(
            self.hparams, vocab, feature=role, dtype=dtype, name=layer_name)

    def _lookup(self, table, problem, feature):
        if problem in table:
            return table[problem]
        if None in table:  # a single-problem model serves any name
            return table[None]
        if problem is None and table:
            return next(iter(table.values()))
        raise T2TError(f"no {feature} modality for problem {problem}; the model has "
                       f"{', '.join(str(p) for p in table)}. Received: problem={problem}")

    def input(self, problem=None):
        """The inputs modality of `problem` (None: the first problem's)."""
        return self._lookup(self._inputs, problem, "inputs")

    def target(self, problem=None):
        """The targets modality of `problem` (None: the first problem's)."""
        return self._lookup(self._targets, problem, "targets")
