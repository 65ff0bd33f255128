"""Decoding lines, files, stdin and a sample of the dev split (`t2t-decoder`).

Everything goes through `ServingModule`, the same in-graph path the exported
SavedModel uses: raw text in, decoded text out.
"""

import os
import sys
import time

from t2t_multimodel.data.shards import write_text_atomically
from t2t_multimodel.decoding import baselines
from t2t_multimodel.errors import DataError
from t2t_multimodel.export.serving_module import ServingModule
from t2t_multimodel.hparams_lib import HParams
from t2t_multimodel.metrics import decode as decode_metric_lib

# The suffix of a metric of decodes under the problem's `decode_constraint`.
CONSTRAINED = "_constrained"


def decode_hparams(overrides=""):
    """T2T-style decode hparams: `--decode_hparams="beam_size=4,alpha=0.6"`.

    `num_samples`: how many dev examples `t2t-decoder` decodes (0: all).
    `baselines`: also score the trivial baselines (`decoding/baselines.py`)
    on the same examples.
    `constrained`: decode under the problem's `decode_constraint` (parsing:
    well-formed trees only). Without it, `t2t-decoder` reports the dev
    metrics of both decodes for such problems (`<metric>_constrained`).
    """
    return HParams(beam_size=4, alpha=0.6, extra_length=50, max_decode_length=0,
                   batch_size=32, num_samples=100, baselines=True,
                   constrained=False).parse(overrides)


def serving_module(run, dhp, constrained=None):
    """The `ServingModule` of a `LoadedRun` with `dhp` as its defaults.

    `constrained` (default `dhp.constrained`): apply the problem's
    `decode_constraint`, if it has one.
    """
    return problem_serving_module(run.model, run.problem, run.problem_key,
                                  run.config.data_dir, dhp, constrained)


def problem_serving_module(model, problem, problem_key, data_dir, dhp, constrained=None):
    """The `ServingModule` of `problem` (named `problem_key` in a mixture's model)."""
    encoders = problem.get_feature_encoders(data_dir)
    if constrained is None:
        constrained = dhp.constrained
    return ServingModule(model, problem.serving_inputs, encoders["inputs"],
                         encoders["targets"], problem.get_hparams().target_space_id,
                         beam_size=dhp.beam_size, alpha=dhp.alpha,
                         extra_length=dhp.extra_length, problem=problem_key,
                         constraint=problem.decode_constraint(encoders) if constrained else None)


def has_decode_constraint(problem, module):
    """Whether `problem` has a decode constraint, asked with `module`'s own
    encoders (loading the problem's encoders again would cost a vocabulary read)."""
    return problem.decode_constraint({"inputs": module.input_encoder,
                                      "targets": module.target_encoder}) is not None


def decode_lines(module, lines, dhp, with_top_k=False):
    """Decodes `lines` in batches; returns `(outputs, scores)` lists, in order.

    With `with_top_k`, returns `(outputs, scores, top_k)`: a class problem's
    5 best labels per line (None for sequence problems).
    """
    import tensorflow as tf

    outputs, scores, top_k = [], [], []
    for start in range(0, len(lines), dhp.batch_size):
        batch = lines[start:start + dhp.batch_size]
        result = module.decode(tf.constant(batch, tf.string), tf.constant(dhp.beam_size),
                               tf.constant(dhp.alpha, tf.float32),
                               tf.constant(dhp.max_decode_length))
        outputs += [o.decode("utf-8", errors="replace") for o in result["outputs"].numpy()]
        scores += [float(s) for s in result["scores"].numpy()]
        if "top_k" in result:
            top_k += [[t.decode("utf-8", errors="replace") for t in row]
                      for row in result["top_k"].numpy()]
    if with_top_k:
        return outputs, scores, (top_k or None)
    return outputs, scores


def decode_from_file(module, input_path, output_path, dhp):
    """One output line per input line, same order; written atomically."""
    if not os.path.exists(input_path):
        raise DataError(f"--decode_from_file does not exist. Received: "
                        f"decode_from_file={input_path}")
    with open(input_path, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f]
    outputs, _ = decode_lines(module, lines, dhp)
    write_text_atomically(output_path, "".join(o + "\n" for o in outputs))
    return outputs


def decode_interactive(module, dhp, stdin=None, stdout=None):
    """Reads lines from stdin and prints each decode until end of input."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    for line in stdin:
        line = line.rstrip("\n")
        if not line:
            continue
        outputs, scores = decode_lines(module, [line], dhp)
        print(f"{outputs[0]}\t{scores[0]:.4f}", file=stdout, flush=True)


def dev_examples(problem, data_dir, num_samples):
    """`(serving inputs, references)` of the first `num_samples` dev examples
    (all of them when `num_samples` <= 0)."""
    examples = problem.decode_examples("eval", data_dir)
    if num_samples > 0:
        examples = examples.take(num_samples)
    inputs, references = [], []
    for example in examples:
        serving_input, reference = problem.dev_pair(example)
        inputs.append(serving_input)
        references.append(reference)
    return inputs, references


def decode_metrics(problem, module, inputs, references, dhp):
    """Decodes `inputs` and scores them: `(metrics dict, outputs)`."""
    names = problem.decode_metrics()
    outputs, _, top_k = decode_lines(module, inputs, dhp, with_top_k=True)
    return decode_metric_lib.compute(names, outputs, references, top_k=top_k), outputs


def format_metrics(values):
    return ", ".join(f"{k} {v:.4f}" if abs(v) < 1.5 else f"{k} {v:.2f}"
                     for k, v in values.items())


def decode_dev(run, module, dhp, log_fn=print):
    """Decodes `dhp.num_samples` dev examples (all: 0) and reports the problem's
    decode metrics, beside the best trivial baseline's (`baseline_<metric>`)
    when `dhp.baselines`; returns them as a dict."""
    inputs, references = dev_examples(run.problem, run.config.data_dir, dhp.num_samples)
    start = time.time()
    values, outputs = decode_metrics(run.problem, module, inputs, references, dhp)
    if module.constraint is None and has_decode_constraint(run.problem, module):
        constrained, _ = decode_metrics(run.problem, serving_module(run, dhp, True), inputs,
                                        references, dhp)
        values.update({f"{name}{CONSTRAINED}": value for name, value in constrained.items()})
    elapsed = time.time() - start
    for i in range(min(3, len(inputs))):
        shown = inputs[i] if isinstance(inputs[i], str) else f"<{len(inputs[i])} bytes>"
        log_fn(f"input: {shown}\noutput: {outputs[i]}\nreference: {references[i]}")
    for name, signature in decode_metric_lib.signatures(
            values, max(len(r) if isinstance(r, list) else 1 for r in references or [""])
    ).items():
        log_fn(f"{name} signature: {signature}")
    log_fn(f"{run.problem.name} dev, {len(inputs)} examples decoded (beam_size="
           f"{dhp.beam_size}, {elapsed:.1f}s): {format_metrics(values)}")
    if dhp.baselines and inputs:
        by_baseline = baselines.baseline_metrics(run.problem, run.config.data_dir, inputs,
                                                 references)
        for metric, value in list(values.items()):
            plain = metric.removesuffix(CONSTRAINED)
            name, base = baselines.best_baseline(plain, by_baseline)
            verdict = {True: ": beaten", False: ": NOT beaten", None: ""}[
                baselines.beats(plain, value, base)]
            log_fn(f"  {metric}: model {format_metrics({'': value}).strip()}, best trivial "
                   f"baseline ({name}) {format_metrics({'': base}).strip()}{verdict}")
            values[f"baseline_{metric}"] = base
    return values


def summary_table(results):
    """A Markdown table of `{problem: decode_dev values}`: model vs best trivial baseline."""
    rows = ["| problem | metric | model | best trivial baseline | beaten |",
            "|---|---|---:|---:|---|"]
    for problem, values in results.items():
        for metric, value in values.items():
            if metric.startswith("baseline_"):
                continue
            base = values.get(f"baseline_{metric}")
            shown = "" if base is None else f"{base:.4g}"
            verdict = "" if base is None else {True: "yes", False: "no", None: ""}[
                baselines.beats(metric.removesuffix(CONSTRAINED), value, base)]
            rows.append(f"| {problem} | {metric} | {value:.4g} | {shown} | {verdict} |")
    return "\n".join(rows)
