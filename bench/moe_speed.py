"""The MoE layer vs a dense feed-forward layer of equal active FLOPs, in this process.

`MixtureOfExperts(E, k=2, expert_hidden_size=F)` against `FeedForward(k * F)`:
each token goes through k experts of width F, so the matmul FLOPs per token
equal those of one dense layer of width k * F (gating is extra). Both run a
training step (forward + backward, training capacity factor 1.25, noisy
gating, the load-balancing loss) as a `tf.function` on `[B, T, H]` tokens;
timed after warm-up, the contenders alternated round by round, median kept.

    python bench/moe_speed.py --experts=4,16,64
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experts", default="4,16,64")
    parser.add_argument("--k", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--expert_hidden", type=int, default=512)
    parser.add_argument("--batch", type=int, default=common.BATCH)
    parser.add_argument("--length", type=int, default=common.LENGTH)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from t2t_multimodel.layers.feed_forward import FeedForward
    from t2t_multimodel.layers.mixture_of_experts import MixtureOfExperts

    keras.utils.set_random_seed(1234)
    x = tf.random.normal([args.batch, args.length, args.hidden])
    mask = tf.ones([args.batch, args.length])

    def train_step_fn(layer, is_moe):
        layer(x, mask=mask, training=True) if is_moe else layer(x, training=True)

        @tf.function
        def step(x):
            with tf.GradientTape() as tape:
                if is_moe:
                    y = layer(x, mask=mask, training=True)
                    loss = tf.reduce_mean(y * y) + tf.add_n(layer.losses)
                else:
                    y = layer(x, training=True)
                    loss = tf.reduce_mean(y * y)
            return tape.gradient(loss, layer.trainable_variables)

        def run():
            grads = step(x)
            grads[0].numpy()

        for _ in range(3):
            run()
        return run

    contenders = {"dense": train_step_fn(FeedForward(args.k * args.expert_hidden), False)}
    for e in [int(v) for v in args.experts.split(",")]:
        contenders[f"moe_{e}"] = train_step_fn(
            MixtureOfExperts(e, k=args.k, expert_hidden_size=args.expert_hidden), True)
    times = {name: [] for name in contenders}
    order = list(contenders)
    for r in range(args.rounds):
        for name in (order if r % 2 == 0 else order[::-1]):
            start = time.perf_counter()
            for _ in range(args.steps):
                contenders[name]()
            times[name].append((time.perf_counter() - start) / args.steps)
    tokens = args.batch * args.length
    rows = {name: {"seconds_per_step": statistics.median(t),
                   "tokens_per_second": tokens / statistics.median(t), "all": t}
            for name, t in times.items()}
    dense = rows["dense"]["tokens_per_second"]
    for name, row in rows.items():
        row["ratio_to_dense"] = row["tokens_per_second"] / dense
        print(f"{name}: {row['tokens_per_second']:,.0f} tokens/s "
              f"({row['ratio_to_dense']:.2f}x dense)", flush=True)
    common.emit({"k": args.k, "hidden": args.hidden, "expert_hidden": args.expert_hidden,
                 "dense_filter": args.k * args.expert_hidden, "tokens_per_step": tokens,
                 "rows": rows})


if __name__ == "__main__":
    main()
