"""Parameters, train steps/s and tokens/s of models side by side, on one data set.

Every configuration trains on the same batches (the first `--batches` of the
problem's training data, cycled), in one process, one after the other, so the
numbers are comparable as ratios; absolute speeds depend on the machine.

    python bench/model_speed.py --data_dir=/tmp/t2t_data \
        --problem=algorithmic_reverse_binary40 \
        --configs=transformer:transformer_tiny,multimodel:multimodel_tiny,\
transformer:transformer_base,multimodel:multimodel_base --steps=20
"""

import argparse
import itertools
import time

import keras
import tensorflow as tf

from t2t_multimodel import registry
from t2t_multimodel.training import optimizers, steps


def measure(problem, data_dir, model_name, hparams_set, overrides, num_steps, num_batches):
    hparams = registry.hparams(hparams_set)()
    hparams.parse(overrides)
    keras.utils.set_random_seed(hparams.seed)
    dataset = problem.dataset("train", data_dir, hparams).take(num_batches).cache()
    batches = list(dataset)
    model = registry.model(model_name)(hparams, problem.get_hparams(hparams, data_dir))
    model(batches[0], training=False)
    optimizer = optimizers.from_hparams(hparams)
    optimizer.build(model.trainable_variables)
    step = tf.Variable(0, dtype=tf.int64)
    train_step = steps.make_train_step(model, optimizer, step, dataset.element_spec)
    cycle = itertools.cycle(batches)
    for _ in range(3):  # trace and warm up
        train_step(next(cycle))
    tokens = 0.0
    start = time.perf_counter()
    for _ in range(num_steps):
        tokens += float(train_step(next(cycle))["tokens"])
    seconds = time.perf_counter() - start
    return model.count_params(), num_steps / seconds, tokens / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", required=True)
    parser.add_argument("--problem", default="algorithmic_reverse_binary40")
    parser.add_argument("--configs", default="transformer:transformer_tiny,"
                        "multimodel:multimodel_tiny")
    parser.add_argument("--hparams", default="", help="overrides applied to every config")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batches", type=int, default=20)
    args = parser.parse_args()
    problem = registry.problem(args.problem)
    rows = []
    for config in args.configs.split(","):
        model_name, hparams_set = config.split(":")
        params, steps_per_sec, tokens_per_sec = measure(
            problem, args.data_dir, model_name, hparams_set, args.hparams, args.steps,
            args.batches)
        rows.append((config, params, steps_per_sec, tokens_per_sec))
        print(f"{config}: {params:,} parameters, {steps_per_sec:.2f} steps/s, "
              f"{tokens_per_sec:,.0f} tokens/s", flush=True)
    base = rows[0][3]
    print("\n| model:hparams | parameters | steps/s | tokens/s | tokens/s ratio |")
    print("|---|---:|---:|---:|---:|")
    for config, params, sps, tps in rows:
        print(f"| {config} | {params:,} | {sps:.2f} | {tps:,.0f} | {tps / base:.2f} |")


if __name__ == "__main__":
    main()
