"""What a finished cell leaves: its eval curves, final metrics and result JSON.

The trainer writes every evaluation to TensorBoard events under
`<run>/eval` (tags `<metric>` for one problem, `<problem>/<metric>` for a
mixture). A resumed run returns only its own session's evaluations, so the
curves and final numbers are read back from the events, across sessions.
"""

import glob
import itertools
import json
import os

from t2t_multimodel.data import shards

# Decode metrics where lower is better; every other one is higher-better.
LOWER_IS_BETTER = ("word_error_rate", "malformed_tree_rate")

RESULT_FILE = "result.json"


def read_eval_events(run_dir):
    """{step: {tag: value}} of every evaluation in `run_dir/eval`.

    A step evaluated twice (an interrupted run resumed from an earlier
    checkpoint) keeps the later session's values; a file torn by a kill
    gives the records before the tear.
    """
    import tensorflow as tf

    steps = {}
    for path in sorted(glob.glob(os.path.join(run_dir, "eval", "events.out.tfevents.*")),
                       key=os.path.getmtime):
        try:
            for record in tf.data.TFRecordDataset(path):
                event = tf.compat.v1.Event.FromString(record.numpy())
                for value in event.summary.value:
                    number = (float(tf.make_ndarray(value.tensor)) if value.HasField("tensor")
                              else float(value.simple_value))
                    steps.setdefault(int(event.step), {})[value.tag] = number
        except tf.errors.DataLossError:
            pass  # the torn last record of a killed session: keep what precedes it
    return steps


def active_seconds(run_dir, max_gap=600.0):
    """Seconds a run spent training and evaluating, over all its sessions.

    The sum of the gaps between consecutive train/eval events (their wall
    clocks) that are shorter than `max_gap`: a longer gap is the run being
    stopped and resumed later. The step builds before each session's first
    logged step are not counted.
    """
    import tensorflow as tf

    times = []
    for path in glob.glob(os.path.join(run_dir, "*", "events.out.tfevents.*")):
        try:
            for record in tf.data.TFRecordDataset(path):
                times.append(tf.compat.v1.Event.FromString(record.numpy()).wall_time)
        except tf.errors.DataLossError:
            pass
    times.sort()
    return sum(b - a for a, b in itertools.pairwise(times) if b - a < max_gap)


def per_problem(flat, problems):
    """{problem: {metric: value}} of one evaluation's flat tags."""
    if len(problems) == 1:
        return {problems[0]: {k: v for k, v in flat.items() if "/" not in k}}
    out = {p: {} for p in problems}
    for tag, value in flat.items():
        problem, _, metric = tag.partition("/")
        if problem in out:
            out[problem][metric] = value
    return out


def curves(events, problems):
    """{problem: {metric: [[step, value], ...]}} sorted by step."""
    out = {p: {} for p in problems}
    for step in sorted(events):
        for problem, values in per_problem(events[step], problems).items():
            for metric, value in values.items():
                out[problem].setdefault(metric, []).append([step, value])
    return out


def final_metrics(events, problems):
    """(step, {problem: {metric: value}}) of the latest evaluation, or (None, {})."""
    if not events:
        return None, {}
    step = max(events)
    return step, per_problem(events[step], problems)


def primary_metric(problem, metrics=None):
    """(`decode_<name>`, lower_is_better) of a problem's real metric: the
    first of its `decode_metrics()` (BLEU, WER, bracket F1, top-1, ...); its
    constrained decodes' value (`decode_<name>_constrained`, parsing's
    well-formed trees) when `metrics`, the problem's eval values, hold one."""
    name = problem.decode_metrics()[0]
    key = f"decode_{name}"
    if metrics and f"{key}_constrained" in metrics:
        key += "_constrained"
    return key, name in LOWER_IS_BETTER


def write_json(path, value):
    """Writes `value` as JSON atomically: a reader sees the old file or the whole new one."""
    shards.write_text_atomically(path, json.dumps(value, indent=1, sort_keys=True))


def read_json(path):
    """The JSON in `path`, or None when it is absent or unreadable (rerun the cell)."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
