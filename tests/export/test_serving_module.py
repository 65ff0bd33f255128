"""ServingModule's `decode` signature: an explicit max_decode_length is capped."""

import time

import tensorflow as tf

from t2t_multimodel.decoding import decoder, loading

LINES = ["1 2 3", "5 5 5 5 5 5"]


def test_huge_max_decode_length_is_capped_to_the_decode_bound(first_run):
    run = loading.load_run(first_run[0])
    module = decoder.serving_module(run, decoder.decode_hparams("beam_size=1,extra_length=50"))
    inputs = tf.constant(LINES)
    # The bound is the larger of the default (longest input + EOS + 50 = 57
    # tokens) and the model's max_length (16).
    assert run.model.hparams.max_length == 16

    def decode(beam_size, max_decode_length):
        out = module.decode(inputs, tf.constant(beam_size), tf.constant(0.6),
                            tf.constant(max_decode_length))
        return [o.decode() for o in out["outputs"].numpy()]

    for beam_size in (1, 2):
        default = decode(beam_size, 0)
        started = time.perf_counter()
        # Uncapped, greedy and beam search allocated [B, 10^9] ids plus a
        # cache of 10^9 positions: an allocation error or the OOM killer.
        huge = decode(beam_size, 10**9)
        assert time.perf_counter() - started < 60
        assert huge == default
        assert all(len(o.split()) <= 57 for o in huge), huge
    # A request below the bound is kept as is.
    assert all(len(o.split()) <= 2 for o in decode(1, 2))
