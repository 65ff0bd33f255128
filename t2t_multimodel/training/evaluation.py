"""Evaluation on the dev split from teacher-forced logits.

The metrics a problem names in `eval_metrics()` that teacher-forced logits
determine are computed here, summed over the batches before dividing:

* `accuracy`: the argmax is right, over non-pad target tokens;
* `accuracy_top5`: the target is among the 5 highest logits;
* `accuracy_per_sequence`: every non-pad token of the sequence is right;
* `neg_log_perplexity`: minus the mean cross entropy per token (no label
  smoothing).

`loss` (the model's training loss, token-weighted) is always reported. The
other names (`approx_bleu_score`, `rouge_*`, `edit_distance`, ...) need
decoded outputs; they are listed once as "computed by t2t-decoder".

With the hparam `eval_decode_samples` > 0, each evaluation also decodes that
many dev examples for real (greedy, through the same `ServingModule` the
export uses) and adds the problem's `decode_metrics()` (BLEU, chrF, WER,
bracket F1, top-1/top-5, ...) under `decode_<name>`: `DecodeEvaluator`.
"""

import numpy as np

from t2t_multimodel.data import batching
from t2t_multimodel.metrics import Metrics
from t2t_multimodel.training import steps

COMPUTABLE = (Metrics.ACC, Metrics.ACC_TOP5, Metrics.ACC_PER_SEQ,
              Metrics.NEG_LOG_PERPLEXITY)


def split_metric_names(names):
    """(computable here, left to the decoder), each in the given order."""
    names = list(dict.fromkeys(names or []))
    return ([n for n in names if n in COMPUTABLE],
            [n for n in names if n not in COMPUTABLE])


def metrics_from_sums(sums, names):
    """The metric values of summed `token_statistics` (+ `loss_sum`)."""
    tokens = max(sums.get("tokens", 0.0), 1.0)
    values = {"loss": sums.get("loss_sum", 0.0) / tokens}
    formulas = {
        Metrics.ACC: lambda: sums["correct"] / tokens,
        Metrics.ACC_TOP5: lambda: sums["correct_top5"] / tokens,
        Metrics.ACC_PER_SEQ: lambda: sums["correct_sequences"] / max(sums["sequences"], 1.0),
        Metrics.NEG_LOG_PERPLEXITY: lambda: -sums["neg_log_likelihood"] / tokens,
    }
    for name in names:
        values[name] = formulas[name]()
    return {k: float(v) for k, v in values.items()}


class Evaluator:
    """Evaluates a model on a problem's dev split.

    Args:
        model: a built `T2TModel`.
        dataset_fn: callable returning the (finite) dev `tf.data.Dataset`.
        metric_names: list of str. The problem's `eval_metrics()`.
        log_fn: callable taking one str.

    Example:

    ```python
    evaluator = Evaluator(model, lambda: problem.dataset("eval", data_dir, hparams),
                          problem.eval_metrics())
    evaluator.evaluate(eval_steps=20)  # {"loss": ..., "accuracy": ..., ...}
    ```
    """

    def __init__(self, model, dataset_fn, metric_names, log_fn=print, decode_evaluator=None):
        self.model = model
        self.dataset_fn = dataset_fn
        self.log_fn = log_fn
        self.decode_evaluator = decode_evaluator
        self.names, self.by_decoder = split_metric_names(metric_names)
        if self.by_decoder and decode_evaluator is None:
            log_fn(f"Eval metrics computed by t2t-decoder, not here: "
                   f"{', '.join(self.by_decoder)}")
        self._dataset = None
        self._step = None
        self.last_batches = 0

    def tracing_count(self):
        """How often the eval step was traced (0 before the first evaluation)."""
        return self._step.experimental_get_tracing_count() if self._step else 0

    def evaluate(self, eval_steps, decode=True):
        """Metrics over `eval_steps` batches (all of the dev split if <= 0).

        With `decode=False` the decode evaluator (if any) is skipped. The
        number of batches read is left in `last_batches`.
        """
        if self._dataset is None:
            self._dataset = batching.without_autotune(self.dataset_fn())
            self._step = steps.make_eval_step(self.model, self._dataset.element_spec)
        dataset = self._dataset.take(eval_steps) if eval_steps > 0 else self._dataset
        sums = {}
        batches = 0
        for features in dataset:
            for key, value in self._step(features).items():
                sums[key] = sums.get(key, 0.0) + np.float64(value.numpy())
            batches += 1
        self.last_batches = batches
        values = metrics_from_sums(sums, self.names)
        if decode and self.decode_evaluator is not None:
            values.update(self.decode_evaluator.evaluate())
        return values


class DecodeEvaluator:
    """Scores real decodes of dev examples with the problem's `decode_metrics()`.

    A problem with a decode constraint (`Problem.decode_constraint`, e.g.
    parsing's well-formed trees) is decoded twice, as `t2t-decoder` does: the
    metrics of the constrained decodes come as `decode_<metric>_constrained`.

    Args:
        model: the trained `T2TModel` (a mixture's whole model).
        problem: the `Problem` to decode.
        problem_key: str or None. The problem's name in a mixture's model.
        data_dir: str. Where the dev shards are.
        num_samples: int. Dev examples decoded per evaluation (the first ones,
            so every evaluation scores the same examples).
        beam_size: int. 1 decodes greedily.

    Example:

    ```python
    DecodeEvaluator(model, problem, None, data_dir, 64).evaluate()  # {"decode_bleu": 3.1, ...}
    ```
    """

    def __init__(self, model, problem, problem_key, data_dir, num_samples, beam_size=1):
        self.model = model
        self.problem = problem
        self.problem_key = problem_key
        self.data_dir = data_dir
        self.num_samples = int(num_samples)
        self.beam_size = int(beam_size)
        self._modules = None
        self._pairs = None

    def evaluate(self):
        """`{"decode_<metric>": value}` over the first `num_samples` dev examples."""
        from t2t_multimodel.decoding import decoder

        dhp = decoder.decode_hparams(f"beam_size={self.beam_size},num_samples={self.num_samples}")
        if self._modules is None:
            plain = decoder.problem_serving_module(
                self.model, self.problem, self.problem_key, self.data_dir, dhp,
                constrained=False)
            self._modules = {"": plain}
            if decoder.has_decode_constraint(self.problem, plain):
                self._modules[decoder.CONSTRAINED] = decoder.problem_serving_module(
                    self.model, self.problem, self.problem_key, self.data_dir, dhp,
                    constrained=True)
            self._pairs = decoder.dev_examples(self.problem, self.data_dir, self.num_samples)
        inputs, references = self._pairs
        out = {}
        for suffix, module in self._modules.items():
            values, _ = decoder.decode_metrics(self.problem, module, inputs, references, dhp)
            out.update({f"decode_{name}{suffix}": value for name, value in values.items()})
        return out
