"""Where a train step or a decode spends its time: TF op types by self time, in this process.

Runs the step of one `train_contender.py` contender (`--contender`), or a
cached greedy decode of `decode_speed.py`'s model (`--decode=transformer` or
`multimodel`, batch 8, length 64), under the TF profiler and prints, per op
type, the self time per step (summed over TF's threads, so it can exceed the
wall time) and the number of calls. The figures behind the README's "What
the profiles show".

    python bench/profile_ops.py --contender=ours_transformer
    python bench/profile_ops.py --contender=keras_hub
    python bench/profile_ops.py --decode=multimodel
"""

import argparse
import collections
import glob
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402


def op_self_times(fn, calls):
    """`{op type: (self microseconds, occurrences)}` over `calls` calls of `fn`."""
    import tensorflow as tf

    # TF's own converter from the profiler's XSpace to its op-stats table.
    from tensorflow.python.profiler.internal import _pywrap_profiler_plugin as plugin

    directory = tempfile.mkdtemp()
    tf.profiler.experimental.start(directory)
    for _ in range(calls):
        fn()
    tf.profiler.experimental.stop()
    path = glob.glob(os.path.join(directory, "**", "*.xplane.pb"), recursive=True)[0]
    data, _ = plugin.xspace_to_tools_data([path], "framework_op_stats", {})
    table = json.loads(data)
    table = table[0] if isinstance(table, list) else table
    labels = [c["label"] if isinstance(c, dict) else c for c in table["cols"]]
    kind, count = labels.index("Operation Type"), labels.index("#Occurrences")
    self_time = labels.index("Total self-time (us)")
    totals = collections.defaultdict(lambda: [0.0, 0])
    for row in table["rows"]:
        values = [c["v"] if isinstance(c, dict) else c for c in row["c"]]
        totals[values[kind]][0] += values[self_time]
        totals[values[kind]][1] += values[count]
    return totals


def _train_step(spec):
    """The contender's one-step callable, built as `train_contender.py` builds it."""
    import train_contender

    captured = {}

    def grab(step_fn, warmup, steps):
        captured["step"] = step_fn
        for _ in range(warmup):
            step_fn()
        return 0.0, 0.0

    common.time_steps, original = grab, common.time_steps
    try:
        kind = spec.split(":")[0]
        runner = {"ours": train_contender._ours, "keras_hub": train_contender._keras_hub,
                  "torch": None}[kind]
        if runner is None:
            raise SystemExit("the TF profiler sees TensorFlow ops only. Received: torch")
        runner(spec, 3, 0, common.BATCH, common.LENGTH)
    finally:
        common.time_steps = original
    return captured["step"]


def _decode(model_name):
    import decode_speed
    import tensorflow as tf

    from t2t_multimodel.decoding.greedy import greedy_search

    model = decode_speed.build_model(model_name)
    inputs, targets = common.reverse_binary_batches(1, 8)[0]
    features = {"inputs": tf.constant(inputs), "target_space_id": tf.fill([8], 4)}
    model({**features, "targets": tf.constant(targets)})
    decoder = decode_speed.NoEos(model)
    search = tf.function(lambda f, n: greedy_search(decoder, f, n)[0])
    length = tf.constant(64)
    for _ in range(2):
        search(features, length).numpy()
    return lambda: search(features, length).numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contender", default="", help="a train_contender.py contender")
    parser.add_argument("--decode", default="", choices=["", "transformer", "multimodel"])
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    if bool(args.contender) == bool(args.decode):
        raise SystemExit("give one of --contender or --decode. "
                         f"Received: contender={args.contender!r}, decode={args.decode!r}")
    spec = common.contender_spec(args.contender)
    fn = _train_step(spec) if args.contender else _decode(args.decode)
    start = time.perf_counter()
    for _ in range(args.calls):
        fn()
    wall = (time.perf_counter() - start) / args.calls
    totals = op_self_times(fn, args.calls)
    busy = sum(t for name, (t, _) in totals.items() if name != "IDLE")
    calls = sum(n for _, n in totals.values())
    unit = "decode" if args.decode else "step"
    print(f"{args.contender or args.decode}: {wall * 1e3:.1f} ms wall per {unit} (unprofiled), "
          f"{busy / args.calls / 1e3:.1f} ms of op self time, {calls / args.calls:.0f} ops")
    ranked = sorted(totals.items(), key=lambda item: -item[1][0])
    for name, (micros, count) in ranked[:args.top]:
        print(f"  {name:48s} {micros / args.calls / 1e3:8.2f} ms {count / args.calls:7.0f} calls")


if __name__ == "__main__":
    main()
