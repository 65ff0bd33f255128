"""Algorithmic problems: T2T's names and tasks, generated deterministically.

Symbols are written as space-separated tokens ("1 0 1 1"), so the binaries
and the SavedModel read and write plain lines. Token ids match T2T's: symbol
`s` has id `s + 2` (0 is padding, 1 is EOS); the addition problems add a
`+` separator token after the digits (T2T used the out-of-vocabulary id
`base + 2` there, a known bug).

Differences from T2T, on purpose:
    * Every split is generated from a fixed seed, so two datagen runs write
      identical files.
    * The dev split holds `dev_size` (1,000) examples of length
      `dev_min_length`..`dev_length` that never occur in the train split, so
      eval measures held-out accuracy at the trained lengths. T2T's dev split
      used length 400 to test length generalization; a model trained on
      length 40 fails that by design of its position encoding.
"""

import os

import numpy as np

from t2t_multimodel import metrics, problem, registry, text_encoder
from t2t_multimodel.data import shards


class AlgorithmicProblem(problem.Problem):
    """Base: subclasses define `num_symbols` and `generator`.

    `generator(rng, max_length, min_length, nbr_cases)` yields
    `{"inputs": [symbol ints], "targets": [symbol ints]}`.
    """

    seed = 1234

    @property
    def num_symbols(self):
        raise NotImplementedError

    @property
    def extra_tokens(self):
        """Tokens after the symbols, e.g. the addition separator."""
        return []

    def generator(self, rng, max_length, min_length, nbr_cases):
        raise NotImplementedError

    @property
    def train_length(self):
        return 40

    @property
    def dev_length(self):
        return self.train_length

    @property
    def dev_min_length(self):
        return min(10, self.dev_length)

    @property
    def train_size(self):
        return 100000

    @property
    def dev_size(self):
        return 1000

    @property
    def num_shards(self):
        return 10

    @property
    def input_space_id(self):
        return problem.SpaceID.DIGIT_0

    @property
    def target_space_id(self):
        return problem.SpaceID.DIGIT_1

    def vocab_list(self):
        return [str(s) for s in range(self.num_symbols)] + list(self.extra_tokens)

    def feature_encoders(self, data_dir):
        encoder = text_encoder.TokenTextEncoder(None, vocab_list=self.vocab_list())
        return {"inputs": encoder, "targets": encoder}

    def hparams(self, defaults, model_hparams):
        vocab_size = self.get_feature_encoders()["targets"].vocab_size
        defaults.modality = {"inputs": "symbol", "targets": "symbol"}
        defaults.vocab_size = {"inputs": vocab_size, "targets": vocab_size}

    def eval_metrics(self):
        return [metrics.Metrics.ACC, metrics.Metrics.ACC_PER_SEQ,
                metrics.Metrics.NEG_LOG_PERPLEXITY]

    def _to_text(self, symbols):
        tokens = self.vocab_list()
        return " ".join(tokens[s] for s in symbols)

    def _texts(self, cases):
        for case in cases:
            yield {"inputs": self._to_text(case["inputs"]),
                   "targets": self._to_text(case["targets"])}

    def generate_data(self, data_dir, tmp_dir=None, task_id=-1):
        os.makedirs(data_dir, exist_ok=True)
        name = self.dataset_filename()
        train_paths = shards.shard_paths(data_dir, name, "train", self.num_shards)
        dev_paths = shards.shard_paths(data_dir, name, "eval", 1)
        if not all(os.path.exists(p) for p in train_paths):
            rng = np.random.RandomState(self.seed)
            cases = self.generator(rng, self.train_length, 1, self.train_size)
            shards.write_shards(self._texts(cases), train_paths, label=f"{name} train")
        if not all(os.path.exists(p) for p in dev_paths):
            shards.write_shards(self._texts(self._held_out_cases(data_dir)), dev_paths,
                                label=f"{name} dev")

    def _held_out_cases(self, data_dir):
        """Dev cases whose inputs never occur in the train split."""
        rng = np.random.RandomState(self.seed)
        seen = {self._to_text(c["inputs"])
                for c in self.generator(rng, self.train_length, 1, self.train_size)}
        rng = np.random.RandomState(self.seed + 1)
        found, attempts = 0, 0
        while found < self.dev_size:
            attempts += 1
            if attempts > 100 * self.dev_size:
                raise RuntimeError(f"{self.name}: cannot find {self.dev_size} held-out cases")
            for case in self.generator(rng, self.dev_length, self.dev_min_length, 1):
                text = self._to_text(case["inputs"])
                if text not in seen:
                    seen.add(text)
                    found += 1
                    yield case


def _lengths(rng, max_length, min_length):
    return rng.randint(min_length, max_length + 1)


@registry.register_problem
class AlgorithmicIdentityBinary40(AlgorithmicProblem):
    """Copy a binary string: "1 0 1" -> "1 0 1"."""

    @property
    def num_symbols(self):
        return 2

    def generator(self, rng, max_length, min_length, nbr_cases):
        for _ in range(nbr_cases):
            inputs = list(rng.randint(self.num_symbols, size=_lengths(rng, max_length,
                                                                      min_length)))
            yield {"inputs": inputs, "targets": inputs}


@registry.register_problem
class AlgorithmicIdentityDecimal40(AlgorithmicIdentityBinary40):
    """Copy a decimal string."""

    @property
    def num_symbols(self):
        return 10


@registry.register_problem
class AlgorithmicReverseBinary40(AlgorithmicProblem):
    """Reverse a binary string: "1 1 0" -> "0 1 1"."""

    @property
    def num_symbols(self):
        return 2

    def generator(self, rng, max_length, min_length, nbr_cases):
        for _ in range(nbr_cases):
            inputs = list(rng.randint(self.num_symbols, size=_lengths(rng, max_length,
                                                                      min_length)))
            yield {"inputs": inputs, "targets": inputs[::-1]}


@registry.register_problem
class AlgorithmicReverseDecimal40(AlgorithmicReverseBinary40):
    """Reverse a decimal string."""

    @property
    def num_symbols(self):
        return 10


@registry.register_problem
class AlgorithmicReverseBinary40Test(AlgorithmicReverseBinary40):
    """T2T's small reverse problem: length 1-10, one train and one dev shard.

    T2T used 1,000 / 100 examples; we generate 10,000 train examples so that a
    model sees most of the 2,046 distinct strings, and dev holds 100 of
    length 10 that are not in train (there are 1,024 such strings).
    """

    @property
    def train_length(self):
        return 10

    @property
    def train_size(self):
        return 10000

    @property
    def dev_size(self):
        return 100

    @property
    def num_shards(self):
        return 1


@registry.register_problem
class AlgorithmicShiftDecimal40(AlgorithmicProblem):
    """Add 10 to every symbol of a string over 0..9: "3 7" -> "13 17"."""

    shift = 10

    @property
    def num_symbols(self):
        return 20

    def generator(self, rng, max_length, min_length, nbr_cases):
        for _ in range(nbr_cases):
            inputs = list(rng.randint(self.num_symbols - self.shift,
                                      size=_lengths(rng, max_length, min_length)))
            yield {"inputs": inputs, "targets": [s + self.shift for s in inputs]}


def _random_number_lower_endian(rng, length, base):
    if length == 1:
        return [rng.randint(base)]
    prefix = [rng.randint(base) for _ in range(length - 1)]
    return prefix + [rng.randint(base - 1) + 1]  # the most significant digit is not 0


def _number_to_lower_endian(n, base):
    digits = [n % base]
    while n >= base:
        n //= base
        digits.append(n % base)
    return digits


def _lower_endian_to_number(digits, base):
    return sum(d * base ** i for i, d in enumerate(digits))


@registry.register_problem
class AlgorithmicAdditionBinary40(AlgorithmicProblem):
    """Add two little-endian binary numbers: "1 1 + 1" (3 + 1) -> "0 0 1" (4)."""

    @property
    def num_symbols(self):
        return 2

    @property
    def extra_tokens(self):
        return ["+"]

    def generator(self, rng, max_length, min_length, nbr_cases):
        base, plus = self.num_symbols, self.num_symbols
        for _ in range(nbr_cases):
            total = max(3, _lengths(rng, max_length, max(min_length, 3)))
            l1 = rng.randint(1, total - 1)
            n1 = _random_number_lower_endian(rng, l1, base)
            n2 = _random_number_lower_endian(rng, total - 1 - l1, base)
            result = _lower_endian_to_number(n1, base) + _lower_endian_to_number(n2, base)
            yield {"inputs": n1 + [plus] + n2,
                   "targets": _number_to_lower_endian(result, base)}


@registry.register_problem
class AlgorithmicAdditionDecimal40(AlgorithmicAdditionBinary40):
    """Add two little-endian decimal numbers."""

    @property
    def num_symbols(self):
        return 10


@registry.register_problem
class AlgorithmicSortProblem(AlgorithmicProblem):
    """Sort distinct symbols: "7 2 9" -> "2 7 9" (T2T: train length 10, dev 20)."""

    @property
    def num_symbols(self):
        return max(self.train_length, self.dev_length)

    @property
    def train_length(self):
        return 10

    @property
    def dev_length(self):
        return 20

    @property
    def dev_min_length(self):
        return 5

    def generator(self, rng, max_length, min_length, nbr_cases):
        for _ in range(nbr_cases):
            length = _lengths(rng, max_length, min_length)
            inputs = list(rng.choice(self.num_symbols, size=length, replace=False))
            yield {"inputs": inputs, "targets": sorted(inputs)}

    def eval_metrics(self):
        return super().eval_metrics() + [metrics.Metrics.EDIT_DISTANCE]
