"""Training throughput of ONE contender on the reference workload, in this process.

`bench/run.py` starts one process per contender and run, so no contender
inherits another's threads, caches or memory. Contenders:

- `ours:<model>:<hparams_set>[:<overrides>]`: a registered model trained by
  the trainer's own compiled step (`training.steps.make_train_step`) and
  optimizer (`training.optimizers.from_hparams`). `ours_transformer` and
  `ours_multimodel` are the reference-size configurations (`common.py`).
- `keras_hub[:<ff>][:xla]`: keras-hub's `TokenAndPositionEmbedding`, 2
  `TransformerEncoder` and 2 `TransformerDecoder` layers and a Dense softmax,
  d_model 128, 4 heads, feed-forward `ff` (default 512), dropout 0, trained by
  a `tf.function` step with Keras Adam (a leaner step than ours: no
  accuracy or token statistics); `xla` compiles that step with XLA (Keras'
  own `fit` would not: its `jit_compile="auto"` turns XLA off on CPU-only
  machines).
- `torch`: `torch.nn.Transformer(128, 4, 2, 2, 512, dropout=0, batch_first=True,
  norm_first=True)` with an embedding, sinusoidal positions and a Linear
  softmax, `torch.optim.Adam`.

Every step reads its loss back to the host (as the trainer does), so a
timed step is a finished step. Tokens/s counts target tokens (64 x 40 per
step).

    python bench/train_contender.py --contender=ours_transformer --steps=30
"""

import argparse
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

NUM_BATCHES = 8


def _ours(spec, warmup, steps, batch, length):
    import keras
    import tensorflow as tf

    from t2t_multimodel import hparams as _  # noqa: F401 (registers the sets)
    from t2t_multimodel import registry
    from t2t_multimodel.training import optimizers
    from t2t_multimodel.training import steps as train_steps

    parts = spec.split(":", 3)
    model_name, hparams_set = parts[1], parts[2]
    overrides = parts[3] if len(parts) > 3 else ""
    hparams = registry.hparams(hparams_set)()
    hparams.parse(overrides)
    keras.utils.set_random_seed(hparams.seed)
    php = {"modality": {"inputs": "symbol", "targets": "symbol"},
           "vocab_size": {"inputs": common.VOCAB, "targets": common.VOCAB},
           "target_space_id": 4}
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(hparams.get("dtype_policy", "float32"))
    try:
        model = registry.model(model_name)(hparams, php)
    finally:
        keras.config.set_dtype_policy(previous)
    batches = [{"inputs": tf.constant(i), "targets": tf.constant(t),
                "target_space_id": tf.fill([batch], 4)}
               for i, t in common.reverse_binary_batches(NUM_BATCHES, batch, length)]
    model(batches[0], training=False)
    optimizer = optimizers.from_hparams(hparams)
    optimizer.build(model.trainable_variables)
    global_step = tf.Variable(0, dtype=tf.int64, trainable=False)
    spec_ = {k: tf.TensorSpec(v.shape, v.dtype) for k, v in batches[0].items()}
    train_step = train_steps.make_train_step(model, optimizer, global_step, spec_,
                                             jit_compile=hparams.get("xla_compile", False))
    counter = [0]

    def one():
        out = train_step(batches[counter[0] % NUM_BATCHES])
        counter[0] += 1
        loss = float(out["loss"])
        if not math.isfinite(loss):
            raise RuntimeError(f"non-finite loss {loss}")
        return loss

    seconds, warm = common.time_steps(one, warmup, steps)
    return {"parameters": model.count_params(), "seconds": seconds, "warmup_seconds": warm,
            "final_loss": one(), "traces": train_step.experimental_get_tracing_count(),
            "hparams_set": hparams_set, "overrides": overrides,
            "dtype_policy": hparams.get("dtype_policy", "float32")}


def _keras_hub(spec, warmup, steps, batch, length):
    import keras
    import keras_hub
    import tensorflow as tf

    options = spec.split(":")[1:]
    ff = next((int(o) for o in options if o.isdigit()), common.FF)
    xla = "xla" in options
    keras.utils.set_random_seed(1234)
    d, heads, vocab = common.D_MODEL, common.HEADS, common.VOCAB
    enc_in = keras.Input((None,), dtype="int32")
    dec_in = keras.Input((None,), dtype="int32")
    x = keras_hub.layers.TokenAndPositionEmbedding(vocab, length, d)(enc_in)
    for _ in range(common.LAYERS):
        x = keras_hub.layers.TransformerEncoder(ff, heads, dropout=0.0)(x)
    y = keras_hub.layers.TokenAndPositionEmbedding(vocab, length, d)(dec_in)
    for _ in range(common.LAYERS):
        y = keras_hub.layers.TransformerDecoder(ff, heads, dropout=0.0)(y, x)
    logits = keras.layers.Dense(vocab)(y)
    model = keras.Model([enc_in, dec_in], logits)
    optimizer = keras.optimizers.Adam(common.LEARNING_RATE)
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    batches = []
    for i, t in common.reverse_binary_batches(NUM_BATCHES, batch, length):
        shifted = tf.pad(t, [[0, 0], [1, 0]])[:, :-1]
        batches.append((tf.constant(i), tf.constant(shifted), tf.constant(t)))

    @tf.function(jit_compile=xla)
    def train_step(inputs, decoder_inputs, targets):
        with tf.GradientTape() as tape:
            out = model([inputs, decoder_inputs], training=True)
            loss = loss_fn(targets, out)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    counter = [0]

    def one():
        loss = float(train_step(*batches[counter[0] % NUM_BATCHES]))
        counter[0] += 1
        return loss

    seconds, warm = common.time_steps(one, warmup, steps)
    return {"parameters": model.count_params(), "seconds": seconds, "warmup_seconds": warm,
            "final_loss": one(), "feed_forward": ff, "xla_compile": xla,
            "keras_hub": keras_hub.__version__}


def _torch(spec, warmup, steps, batch, length):
    del spec
    import torch

    torch.manual_seed(1234)
    d, vocab = common.D_MODEL, common.VOCAB

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(vocab, d)
            self.transformer = torch.nn.Transformer(
                d, common.HEADS, common.LAYERS, common.LAYERS, common.FF, dropout=0.0,
                batch_first=True, norm_first=True)
            self.out = torch.nn.Linear(d, vocab)
            position = torch.arange(length)[:, None]
            rate = torch.exp(torch.arange(0, d, 2) * (-math.log(10000.0) / d))
            timing = torch.zeros(length, d)
            timing[:, 0::2] = torch.sin(position * rate)
            timing[:, 1::2] = torch.cos(position * rate)
            self.register_buffer("timing", timing)
            self.register_buffer("causal", torch.nn.Transformer.generate_square_subsequent_mask(
                length))

        def forward(self, inputs, decoder_inputs):
            src = self.embedding(inputs) * math.sqrt(d) + self.timing
            tgt = self.embedding(decoder_inputs) * math.sqrt(d) + self.timing
            h = self.transformer(src, tgt, tgt_mask=self.causal, tgt_is_causal=True)
            return self.out(h)

    model = Model()
    optimizer = torch.optim.Adam(model.parameters(), lr=common.LEARNING_RATE)
    loss_fn = torch.nn.CrossEntropyLoss()
    batches = []
    for i, t in common.reverse_binary_batches(NUM_BATCHES, batch, length):
        i, t = torch.from_numpy(i).long(), torch.from_numpy(t).long()
        shifted = torch.nn.functional.pad(t, (1, 0))[:, :-1]
        batches.append((i, shifted, t))
    counter = [0]

    def one():
        inputs, decoder_inputs, targets = batches[counter[0] % NUM_BATCHES]
        counter[0] += 1
        optimizer.zero_grad(set_to_none=True)
        logits = model(inputs, decoder_inputs)
        loss = loss_fn(logits.reshape(-1, vocab), targets.reshape(-1))
        loss.backward()
        optimizer.step()
        return float(loss.item())

    seconds, warm = common.time_steps(one, warmup, steps)
    return {"parameters": sum(p.numel() for p in model.parameters()), "seconds": seconds,
            "warmup_seconds": warm, "final_loss": one(), "torch": torch.__version__,
            "threads": torch.get_num_threads()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contender", required=True)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch", type=int, default=common.BATCH)
    parser.add_argument("--length", type=int, default=common.LENGTH)
    parser.add_argument("--threads", type=int, default=0,
                        help="intra- and inter-op threads (TF) / torch threads; 0: default")
    args = parser.parse_args()
    spec = common.contender_spec(args.contender)
    kind = spec.split(":")[0]
    runners = {"ours": _ours, "keras_hub": _keras_hub, "torch": _torch}
    if kind not in runners:
        raise SystemExit(f"unknown contender kind {kind!r}: choose one of {sorted(runners)}. "
                         f"Received: --contender={args.contender}")
    if args.threads and kind == "torch":
        import torch

        torch.set_num_threads(args.threads)
    elif args.threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    start = time.time()
    result = runners[kind](spec, args.warmup, args.steps, args.batch, args.length)
    tokens = args.batch * args.length * args.steps
    result.update(contender=args.contender, spec=spec, steps=args.steps, warmup=args.warmup,
                  steps_per_second=args.steps / result["seconds"],
                  target_tokens_per_second=tokens / result["seconds"],
                  wall_seconds=time.time() - start)
    common.emit(result)


if __name__ == "__main__":
    main()
