"""Shared pieces of the benchmarks: the reference workload, timing, results.

The reference workload (issue 7), identical for every contender so that numbers
compare across tools: reverse-binary batches, batch 64, source and target
length 40, vocabulary 16, d_model 128, 4 heads, feed-forward 512, 2 encoder +
2 decoder layers, dropout 0, Adam.

Ids follow T2T: 0 is padding, 1 is EOS, the binary digits are 2 and 3 (the
other ids of the 16-entry vocabulary are unused, as the issue fixes V = 16).
Every source is 39 random digits + EOS; its target is the reversed digits +
EOS, so every batch holds exactly 64 x 40 target tokens (no padding).

A child process prints its result as one line `BENCH_RESULT <json>`, which
`bench/run.py` parses; everything else it prints is ignored.
"""

import json
import os
import resource
import time

import numpy as np

BATCH = 64
LENGTH = 40
VOCAB = 16
D_MODEL = 128
HEADS = 4
FF = 512
LAYERS = 2
LEARNING_RATE = 1e-3
RESULT_PREFIX = "BENCH_RESULT "

# Our models on the reference workload: the hparams set and overrides that
# give the sizes above with dropout 0, no label smoothing, Adam at a constant
# learning rate (the contenders' schedules differ otherwise).
REFERENCE_OVERRIDES = (
    "hidden_size=128,filter_size=512,num_heads=4,dropout=0.0,attention_dropout=0.0,"
    "relu_dropout=0.0,label_smoothing=0.0,learning_rate_schedule=constant,"
    f"learning_rate={LEARNING_RATE},clip_grad_norm=0.0")
TRANSFORMER_REFERENCE = ("transformer_tiny", REFERENCE_OVERRIDES + ",num_hidden_layers=2")
# multimodel_tiny (2.07M parameters) shrunk to about the transformer's 0.93M:
# one encoder, mixer and decoder block each, 4 experts of 256.
MULTIMODEL_REFERENCE = (
    "multimodel_tiny",
    REFERENCE_OVERRIDES + ",encoder_blocks=1,mixer_blocks=1,decoder_blocks=1,"
    "moe_num_experts=4,moe_hidden_size=256")



def contender_spec(name):
    """`ours_transformer` / `ours_multimodel` (the reference sizes) as full
    `ours:<model>:<set>:<overrides>` specs; any other contender as it is."""
    aliases = {"ours_transformer": "ours:transformer:" + ":".join(TRANSFORMER_REFERENCE),
               "ours_multimodel": "ours:multimodel:" + ":".join(MULTIMODEL_REFERENCE)}
    return aliases.get(name, name)


def reverse_binary_batches(num_batches, batch=BATCH, length=LENGTH, seed=1234):
    """`num_batches` pairs of int32 arrays `(inputs [B, L], targets [B, L])`."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(num_batches):
        digits = rng.integers(2, 4, size=(batch, length - 1), dtype=np.int32)
        eos = np.ones((batch, 1), np.int32)
        inputs = np.concatenate([digits, eos], axis=1)
        targets = np.concatenate([digits[:, ::-1], eos], axis=1)
        out.append((inputs, targets))
    return out


def transformer_training_flops(batch=BATCH, src=LENGTH, tgt=LENGTH, d=D_MODEL, ff=FF,
                               layers=LAYERS, vocab=VOCAB):
    """Matmul FLOPs of one training step of the reference Transformer.

    Forward multiply-adds per token: encoder layer `4 d^2 + 2 d ff + 2 S d`
    (projections, feed-forward, scores and weighted values); decoder layer
    `8 d^2 + 2 d ff + 2 T d + 2 S d`; softmax `d V`. FLOPs = 2 x MACs, and a
    training step (forward + backward) is 3 x the forward.
    """
    enc = src * (4 * d * d + 2 * d * ff + 2 * src * d)
    dec = tgt * (8 * d * d + 2 * d * ff + 2 * tgt * d + 2 * src * d)
    macs = layers * (enc + dec) + tgt * d * vocab
    return 3 * 2 * macs * batch


def peak_rss_mib():
    """This process's peak resident set size in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def emit(result):
    """Prints `result` (a JSON-able dict) for `bench/run.py`, with the peak RSS."""
    result = dict(result, peak_rss_mib=round(peak_rss_mib(), 1), pid=os.getpid())
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def time_steps(step_fn, warmup, steps):
    """Calls `step_fn()` `warmup` times untimed, then `steps` times.

    Returns `(seconds of the timed calls, seconds of the warm-up calls)`.
    `step_fn` must block until its step is done (e.g. read the loss).
    """
    start = time.perf_counter()
    for _ in range(warmup):
        step_fn()
    warm = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(steps):
        step_fn()
    return time.perf_counter() - start, warm
