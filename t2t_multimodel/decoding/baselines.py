"""Trivial baselines: what a problem's decode metrics give without a model.

A metric means little without the score of doing nothing clever, so
`t2t-decoder` prints, beside the model's numbers on the dev examples, the
same metrics for:

* `empty output`: an empty string for every example (WER 1.0, BLEU 0);
* `copy the input`: the input text itself (text inputs only: translation
  between related languages shares names, numbers and punctuation);
* `majority target`: the most frequent target of the training split for
  every example (the majority class of a classification problem; its top 5
  are the 5 most frequent classes);
* whatever the problem adds with `baseline_outputs(inputs)` (a parsing
  problem: the flat tree over the input's words).

`best_baseline` picks the strongest, which is what the model must beat.
"""

import collections

from t2t_multimodel.metrics import decode as decode_metric_lib

LOWER_IS_BETTER = {"word_error_rate", "malformed_tree_rate"}
# Diagnostics, not scores: a flat tree is never malformed, so the rate of
# malformed trees says how often the model's are; bracket F1 judges.
NO_VERDICT = {"malformed_tree_rate"}
MAX_TRAIN_EXAMPLES = 20000


def majority_targets(problem, data_dir, k=5):
    """The `k` most frequent training references of `problem`, most frequent first."""
    counts = collections.Counter()
    examples = problem.decode_examples("train", data_dir).take(MAX_TRAIN_EXAMPLES)
    for example in examples:
        _, reference = problem.dev_pair(example)
        counts[reference[0] if isinstance(reference, list) else reference] += 1
    return [target for target, _ in counts.most_common(k)]


def baseline_outputs(problem, data_dir, inputs):
    """`{baseline name: (outputs, top_k or None)}` for the dev `inputs`."""
    n = len(inputs)
    top = majority_targets(problem, data_dir)
    result = {"empty output": ([""] * n, [[""]] * n)}
    if top:
        result["majority target"] = ([top[0]] * n, [top] * n)
    if n and all(isinstance(x, str) for x in inputs):
        result["copy the input"] = (list(inputs), [[x] for x in inputs])
    extra = getattr(problem, "baseline_outputs", None)
    if extra is not None:
        for name, outputs in extra(inputs).items():
            result[name] = (list(outputs), [[o] for o in outputs])
    return result


def baseline_metrics(problem, data_dir, inputs, references):
    """`{baseline name: {metric: value}}` of every trivial baseline."""
    names = problem.decode_metrics()
    return {name: decode_metric_lib.compute(names, outputs, references, top_k=top_k)
            for name, (outputs, top_k) in baseline_outputs(problem, data_dir, inputs).items()}


def best_baseline(metric, by_baseline):
    """`(baseline name, value)` of the strongest baseline on `metric`."""
    pick = min if metric in LOWER_IS_BETTER else max
    name = pick(by_baseline, key=lambda b: by_baseline[b][metric])
    return name, by_baseline[name][metric]


def beats(metric, value, baseline_value):
    """Whether the model's `value` is better than the baseline's (None: no verdict)."""
    if metric in NO_VERDICT:
        return None
    if metric in LOWER_IS_BETTER:
        return value < baseline_value
    return value > baseline_value
