"""Decoding latency and throughput: cached incremental vs full-prefix, in this process.

For one model (`transformer` or `multimodel` at the reference sizes of
`common.py`, randomly initialised with a fixed seed), greedy and beam-4
search decode a batch of reverse-binary sources to exactly `length` tokens
(EOS is masked out of the logits, by a wrapper applied identically to both
paths, so every decode runs the full length), once through the model's
cached `step` and once through `FullPrefixDecoder`, which re-runs the whole
model on the prefix at every step. The two must decode identical ids.

Each search is one `tf.function` (max length a tensor, so one trace per
search and path), warmed up on a short decode, then timed: the two paths
alternate, decodes up to length 64 three times (median kept), longer once.

    python bench/decode_speed.py --model=transformer --lengths=64,256
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402


class NoEos:
    """Wraps an incremental decoder so that EOS is never chosen (fixed-length decodes)."""

    def __init__(self, model, eos_id=1):
        self.model = model
        self.eos_id = eos_id

    def encode(self, features, training=False):
        return self.model.encode(features, training=training)

    def initial_cache(self, encoded, max_length):
        return self.model.initial_cache(encoded, max_length)

    def step(self, ids, index, cache, encoded):
        import tensorflow as tf

        logits, cache = self.model.step(ids, index, cache, encoded)
        vocab = tf.shape(logits)[-1]
        banned = tf.one_hot(self.eos_id, vocab, on_value=-1e9, off_value=0.0,
                            dtype=logits.dtype)
        return logits + banned, cache


def build_model(name):
    import keras

    from t2t_multimodel import hparams as _  # noqa: F401
    from t2t_multimodel import registry

    hparams_set, overrides = (common.TRANSFORMER_REFERENCE if name == "transformer"
                              else common.MULTIMODEL_REFERENCE)
    hparams = registry.hparams(hparams_set)()
    hparams.parse(overrides)
    keras.utils.set_random_seed(hparams.seed)
    php = {"modality": {"inputs": "symbol", "targets": "symbol"},
           "vocab_size": {"inputs": common.VOCAB, "targets": common.VOCAB},
           "target_space_id": 4}
    return registry.model(name)(hparams, php)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="transformer", choices=["transformer", "multimodel"])
    parser.add_argument("--lengths", default="64,256")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--beam_size", type=int, default=4)
    parser.add_argument("--searches", default="greedy,beam")
    parser.add_argument("--paths", default="cached,full_prefix")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--repeat_max_length", type=int, default=64,
                        help="decodes up to this length are repeated --repeats times")
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    from t2t_multimodel.decoding.beam_search import beam_search
    from t2t_multimodel.decoding.full_prefix import FullPrefixDecoder
    from t2t_multimodel.decoding.greedy import greedy_search

    model = build_model(args.model)
    inputs, targets = common.reverse_binary_batches(1, args.batch)[0]
    features = {"inputs": tf.constant(inputs), "targets": tf.constant(targets),
                "target_space_id": tf.fill([args.batch], 4)}
    model(features)
    decode_features = {"inputs": features["inputs"],
                       "target_space_id": features["target_space_id"]}
    decoders = {"cached": NoEos(model), "full_prefix": NoEos(FullPrefixDecoder(model))}
    length_spec = tf.TensorSpec([], tf.int32)

    def make(search, decoder):
        if search == "greedy":
            fn = lambda feats, n: greedy_search(decoder, feats, n)[0]  # noqa: E731
        else:
            fn = lambda feats, n: beam_search(  # noqa: E731
                decoder, feats, args.beam_size, 0.6, n)[0]
        spec = {k: tf.TensorSpec(v.shape, v.dtype) for k, v in decode_features.items()}
        return tf.function(fn, input_signature=[spec, length_spec])

    rows = []
    for search in args.searches.split(","):
        fns = {path: make(search, decoders[path]) for path in args.paths.split(",")}
        for path, fn in fns.items():
            start = time.perf_counter()
            fn(decode_features, tf.constant(2)).numpy()
            rows.append({"search": search, "path": path, "trace_seconds":
                         time.perf_counter() - start, "kind": "trace"})
        for length in [int(x) for x in args.lengths.split(",")]:
            outputs = {}
            times = {path: [] for path in fns}
            # Alternate the paths; repeat short decodes (the median is kept).
            repeats = args.repeats if length <= args.repeat_max_length else 1
            for r in range(repeats):
                for path in (list(fns) if r % 2 == 0 else list(fns)[::-1]):
                    start = time.perf_counter()
                    outputs[path] = fns[path](decode_features, tf.constant(length)).numpy()
                    times[path].append(time.perf_counter() - start)
            for path, values in times.items():
                seconds = statistics.median(values)
                rows.append({"search": search, "path": path, "length": length,
                             "batch": args.batch, "seconds": seconds, "all": values,
                             "tokens_per_second": args.batch * length / seconds,
                             "ms_per_token_step": seconds / length * 1e3, "kind": "decode"})
                print(f"{args.model} {search} {path} length {length}: {seconds:.2f} s",
                      flush=True)
            if len(outputs) == 2:
                same = bool(np.array_equal(outputs["cached"], outputs["full_prefix"]))
                rows.append({"search": search, "length": length, "identical": same,
                             "kind": "check"})
    common.emit({"model": args.model, "beam_size": args.beam_size, "rows": rows})


if __name__ == "__main__":
    main()
