"""The measured matmul peak of this CPU (float32 and bfloat16 FLOP/s), in this process.

A `tf.function` of `n x n @ n x n` matmuls, warmed up, then timed; the best
of a few rounds is the peak (the machine may be shared). The MFU figures of
`bench/run.py` divide a model's achieved FLOP/s by the float32 peak.

    python bench/matmul_peak.py --size=1024
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    result = {"size": args.size}
    for dtype in ("float32", "bfloat16"):
        a = tf.cast(tf.random.normal([args.size, args.size]), dtype)
        b = tf.cast(tf.random.normal([args.size, args.size]), dtype)

        scale = tf.cast(args.size ** -0.5, dtype)

        @tf.function
        def run(a, b, scale):
            # A chain, so no two matmuls are the same expression (Grappler
            # would compute identical ones once).
            out = a
            for _ in range(args.repeats):
                out = tf.matmul(out, b) * scale
            return tf.reduce_sum(tf.cast(out[:1, :1], tf.float32))

        run(a, b, scale).numpy()
        best = float("inf")
        for _ in range(args.rounds):
            start = time.perf_counter()
            run(a, b, scale).numpy()
            best = min(best, time.perf_counter() - start)
        flops = 2 * args.size ** 3 * args.repeats / best
        result[f"{dtype}_flops_per_second"] = flops
        print(f"{dtype}: {flops / 1e9:.1f} GFLOP/s", flush=True)
    common.emit(result)


if __name__ == "__main__":
    main()
