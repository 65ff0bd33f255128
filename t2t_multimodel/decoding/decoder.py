"""Decoding lines, files, stdin and a sample of the dev split (`t2t-decoder`).

Everything goes through `ServingModule`, the same in-graph path the exported
SavedModel uses: raw text in, decoded text out.
"""

import os
import sys
import time

from t2t_multimodel.data.shards import write_text_atomically
from t2t_multimodel.errors import DataError
from t2t_multimodel.export.serving_module import ServingModule
from t2t_multimodel.hparams_lib import HParams


def decode_hparams(overrides=""):
    """T2T-style decode hparams: `--decode_hparams="beam_size=4,alpha=0.6"`."""
    return HParams(beam_size=4, alpha=0.6, extra_length=50, max_decode_length=0,
                   batch_size=32, num_samples=100).parse(overrides)


def serving_module(run, dhp):
    """The `ServingModule` of a `LoadedRun` with `dhp` as its defaults."""
    return ServingModule(run.model, run.encoders["inputs"], run.encoders["targets"],
                         run.problem.get_hparams().target_space_id,
                         beam_size=dhp.beam_size, alpha=dhp.alpha,
                         extra_length=dhp.extra_length, problem=run.problem_key)


def decode_lines(module, lines, dhp):
    """Decodes `lines` in batches; returns `(outputs, scores)` lists, in order."""
    import tensorflow as tf

    outputs, scores = [], []
    for start in range(0, len(lines), dhp.batch_size):
        batch = lines[start:start + dhp.batch_size]
        result = module.decode(tf.constant(batch, tf.string), tf.constant(dhp.beam_size),
                               tf.constant(dhp.alpha, tf.float32),
                               tf.constant(dhp.max_decode_length))
        outputs += [o.decode("utf-8", errors="replace") for o in result["outputs"].numpy()]
        scores += [float(s) for s in result["scores"].numpy()]
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


def decode_dev(run, module, dhp, log_fn=print):
    """Decodes `dhp.num_samples` dev examples; returns whole-sequence accuracy."""
    examples = run.problem.decode_examples("eval", run.config.data_dir)
    inputs, targets = [], []
    targets_are_classes = False
    for example in examples.take(dhp.num_samples):
        if "image/encoded" in example:  # an image problem: the file bytes are the input
            inputs.append(example["image/encoded"].numpy())
            label = int(example["image/class/label"].numpy().reshape(-1)[0])
            targets.append(run.encoders["targets"].decode([label]))
            targets_are_classes = True
        else:
            inputs.append(example["inputs"].numpy().decode("utf-8"))
            target = example["targets"]
            if target.dtype.is_integer:  # a Text2ClassProblem's label id
                targets.append(run.encoders["targets"].decode(
                    [int(target.numpy().reshape(-1)[0])]))
                targets_are_classes = True
            else:
                targets.append(target.numpy().decode("utf-8"))
    start = time.time()
    outputs, _ = decode_lines(module, inputs, dhp)
    elapsed = time.time() - start
    correct = sum(o.strip() == t.strip() for o, t in zip(outputs, targets, strict=True))
    for i in range(min(3, len(inputs))):
        shown = inputs[i] if isinstance(inputs[i], str) else f"<{len(inputs[i])} bytes>"
        log_fn(f"input: {shown}\noutput: {outputs[i]}\ntarget: {targets[i]}")
    accuracy = correct / max(1, len(inputs))
    if targets_are_classes:
        log_fn(f"{run.problem.name} dev: {correct}/{len(inputs)} right "
               f"(accuracy {accuracy:.4f}), {elapsed:.1f}s")
    else:
        log_fn(f"{run.problem.name} dev: {correct}/{len(inputs)} exact "
               f"(accuracy_per_sequence {accuracy:.4f}), beam_size={dhp.beam_size}, "
               f"{elapsed:.1f}s")
    return accuracy
