"""Input-pipeline wait as a fraction of step time, on a mixture, in this process.

Builds what `t2t-trainer` builds for a mixture (each problem's
`problem.dataset("train", ...)` without autotuning, one compiled train step
per problem, a `multimodel`), then runs the trainer's loop pattern: pick a
problem uniformly, run its step and read the loss, fetch that problem's next
batch. The time spent in `next(iterator)` is the wait; the fraction is wait /
(wait + step). The data must exist (`t2t-datagen --problem=<each>
--data_dir=<data_dir>`); `bench/run.py` generates it when missing.

    python bench/input_pipeline.py --data_dir=/tmp/t2t_bench_data \
        --problems=algorithmic_reverse_binary40,image_digits
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", required=True)
    parser.add_argument("--problems", default="algorithmic_reverse_binary40,image_digits")
    parser.add_argument("--model", default="multimodel")
    parser.add_argument("--hparams_set", default="multimodel_tiny")
    parser.add_argument("--hparams", default="max_length=41,image_downsample_steps=1")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf

    from t2t_multimodel import hparams as _  # noqa: F401
    from t2t_multimodel import registry
    from t2t_multimodel.data import batching
    from t2t_multimodel.training import optimizers, steps

    hparams = registry.hparams(args.hparams_set)()
    hparams.parse(args.hparams)
    keras.utils.set_random_seed(hparams.seed)
    problems = [registry.problem(name) for name in args.problems.split(",")]
    names = [p.name for p in problems]
    datasets = {p.name: batching.without_autotune(
        p.dataset("train", args.data_dir, hparams, seed=hparams.seed)) for p in problems}
    iterators = {n: iter(ds) for n, ds in datasets.items()}
    features = {n: next(it) for n, it in iterators.items()}
    php = {p.name: p.get_hparams(hparams, args.data_dir) for p in problems}
    model = registry.model(args.model)(hparams, php if len(names) > 1 else php[names[0]])
    views = {n: model.for_problem(n if len(names) > 1 else None) for n in names}
    for n in names:
        views[n](features[n], training=False)
    optimizer = optimizers.from_hparams(hparams)
    optimizer.build(model.trainable_variables)
    global_step = tf.Variable(0, dtype=tf.int64, trainable=False)
    train_steps = {n: steps.make_train_step(views[n], optimizer, global_step,
                                            datasets[n].element_spec) for n in names}
    rng = np.random.default_rng(hparams.seed)
    wait = {n: 0.0 for n in names}
    busy = {n: 0.0 for n in names}
    count = {n: 0 for n in names}
    for i in range(args.warmup + args.steps):
        name = names[int(rng.integers(len(names)))]
        start = time.perf_counter()
        float(train_steps[name](features[name])["loss"])
        middle = time.perf_counter()
        features[name] = next(iterators[name])
        end = time.perf_counter()
        if i >= args.warmup:
            busy[name] += middle - start
            wait[name] += end - middle
            count[name] += 1
    total_wait, total_busy = sum(wait.values()), sum(busy.values())
    per_problem = {n: {"steps": count[n], "wait_seconds": wait[n], "step_seconds": busy[n],
                       "wait_fraction": wait[n] / max(wait[n] + busy[n], 1e-9)} for n in names}
    print(f"wait fraction {total_wait / (total_wait + total_busy):.2%}", flush=True)
    common.emit({"problems": names, "hparams_set": args.hparams_set, "hparams": args.hparams,
                 "steps": args.steps, "wait_fraction": total_wait / (total_wait + total_busy),
                 "wait_seconds": total_wait, "step_seconds": total_busy,
                 "per_problem": per_problem})


if __name__ == "__main__":
    main()
