"""Metrics of real decodes against references, by name.

The trainer's teacher-forced numbers (`training/evaluation.py`) say how well
the model predicts the next token given the right prefix; these say how good
its actual outputs are, as the paper and WMT report them. A problem lists the
names in `decode_metrics()`; `t2t-decoder` and the trainer's eval call
`compute(names, outputs, references)`.

Built in:

* `bleu`, `chrf`: corpus BLEU and chrF of sacrebleu (default tokenizer
  `13a`, one reference per output, or several: pass a list of lists);
  `signatures()` gives the sacrebleu signature to print beside them.
* `word_error_rate`: jiwer's corpus WER (word edits over reference words) on
  lower-cased text with punctuation removed, so "Hello, world." and "hello
  world" are the same words. An empty reference set is an error.
* `accuracy`: the output equals the reference label (classification).
* `accuracy_top5`: the reference is among the top 5 outputs (`top_k`).
* `accuracy_per_sequence`: the whole output string equals the reference.

Register another with `register_decode_metric(name)` on a function
`(outputs, references) -> float` (`metrics/parse_f1.py` adds the parsing
ones).
"""

import re

from t2t_multimodel.errors import T2TError, did_you_mean

_METRICS = {}


def register_decode_metric(name):
    """Decorator: registers `fn(outputs, references) -> float` under `name`."""
    def decorator(fn):
        if name in _METRICS and _METRICS[name] is not fn:
            raise T2TError(f"decode metric {name} is already registered. Received: name={name}")
        _METRICS[name] = fn
        return fn
    return decorator


def names():
    """The registered decode metric names, sorted."""
    _import_builtin_extensions()
    return sorted(_METRICS)


def _import_builtin_extensions():
    # Metric modules that register themselves; imported lazily so that
    # importing this module stays cheap.
    import importlib

    try:
        importlib.import_module("t2t_multimodel.metrics.parse_f1")
    except ModuleNotFoundError as e:
        if e.name != "t2t_multimodel.metrics.parse_f1":
            raise


def _first_reference(references):
    return [r[0] if isinstance(r, (list, tuple)) else r for r in references]


def _reference_streams(references):
    """sacrebleu's layout: one list per reference position, padded with None."""
    lists = [list(r) if isinstance(r, (list, tuple)) else [r] for r in references]
    depth = max((len(r) for r in lists), default=1)
    return [[r[i] if i < len(r) else None for r in lists] for i in range(depth)]


@register_decode_metric("bleu")
def bleu(outputs, references):
    import sacrebleu

    return float(sacrebleu.corpus_bleu(list(outputs), _reference_streams(references)).score)


@register_decode_metric("chrf")
def chrf(outputs, references):
    import sacrebleu

    return float(sacrebleu.corpus_chrf(list(outputs), _reference_streams(references)).score)


def _words(text):
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


@register_decode_metric("word_error_rate")
def word_error_rate(outputs, references):
    import jiwer

    refs = [_words(r) for r in _first_reference(references)]
    hyps = [_words(o) for o in outputs]
    if not any(refs):
        raise T2TError("word_error_rate needs references with words. "
                       f"Received: {len(refs)} empty references")
    # jiwer refuses empty reference strings: such pairs only add insertions.
    kept = [(r, h) for r, h in zip(refs, hyps, strict=True) if r]
    insertions = sum(len(h.split()) for r, h in zip(refs, hyps, strict=True) if not r)
    out = jiwer.process_words([r for r, _ in kept], [h for _, h in kept])
    errors = out.substitutions + out.deletions + out.insertions + insertions
    return errors / sum(len(r.split()) for r, _ in kept)


@register_decode_metric("accuracy")
def accuracy(outputs, references):
    refs = _first_reference(references)
    return sum(o.strip() == r.strip() for o, r in zip(outputs, refs, strict=True)) / max(
        1, len(refs))


register_decode_metric("accuracy_per_sequence")(accuracy)


def accuracy_top5(top_k, references):
    refs = _first_reference(references)
    hits = sum(r.strip() in [t.strip() for t in row[:5]]
               for row, r in zip(top_k, refs, strict=True))
    return hits / max(1, len(refs))


def signatures(metric_names, num_refs=1):
    """name -> sacrebleu signature string for the sacrebleu metrics in `metric_names`."""
    from sacrebleu.metrics import BLEU, CHRF

    result = {}
    for name, metric in (("bleu", BLEU), ("chrf", CHRF)):
        if name in metric_names:
            scorer = metric()
            scorer.corpus_score(["a"], [["a"]] * num_refs)  # the signature needs nrefs
            result[name] = str(scorer.get_signature())
    return result


def compute(metric_names, outputs, references, top_k=None):
    """`{name: value}` for each of `metric_names` on decoded `outputs`.

    Args:
        metric_names: list of str. Registered names (see `names()`).
        outputs: list of str. One decode per example.
        references: list of str, or of lists of str (several references).
        top_k: list of lists of str, or None. The k best outputs per example,
            needed by `accuracy_top5`.

    Returns:
        dict of float, in the order of `metric_names`.
    """
    if len(outputs) != len(references):
        raise T2TError(f"{len(outputs)} outputs for {len(references)} references. "
                       f"Received: len(outputs)={len(outputs)}")
    _import_builtin_extensions()
    values = {}
    for name in metric_names:
        if name == "accuracy_top5":
            if top_k is None:
                raise T2TError("accuracy_top5 needs the top 5 outputs per example. "
                               "Received: top_k=None")
            values[name] = accuracy_top5(top_k, references)
            continue
        if name not in _METRICS:
            hint = did_you_mean(name, names() + ["accuracy_top5"])
            raise T2TError(f"unknown decode metric {name}: {hint}Received: metric={name!r}")
        values[name] = float(_METRICS[name](outputs, references))
    return values
