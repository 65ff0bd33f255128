"""Token-based bucketing: batches of about batch_size tokens, similar lengths."""

import tensorflow as tf

from t2t_multimodel.data import batching


def make_dataset(lengths):
    def gen():
        for n in lengths:
            yield {"inputs": [2] * n, "targets": [3] * n}

    spec = {"inputs": tf.TensorSpec([None], tf.int32), "targets": tf.TensorSpec([None], tf.int32)}
    return tf.data.Dataset.from_generator(gen, output_signature=spec)


def test_bucket_boundaries_are_geometric():
    assert batching.bucket_boundaries(20, 8, 1.1) == [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
    b = batching.bucket_boundaries(256, 8, 1.5)
    assert b[:4] == [8, 12, 18, 27] and b[-1] < 256


def test_batches_hold_about_batch_size_tokens():
    lengths = [3] * 100 + [30] * 40
    ds = batching.batch_by_tokens(make_dataset(lengths), batch_size=60, max_length=40)
    for batch in ds:
        b, t = batch["targets"].shape
        assert b * t <= 60 + t  # padded size stays near the token budget
        real = tf.reduce_sum(tf.cast(batch["targets"] > 0, tf.int32), axis=1).numpy()
        assert real.max() - real.min() <= 7  # similar lengths share a batch
    total = sum(int(b["targets"].shape[0]) for b in ds)
    assert total == 140


def test_filter_by_length_drops_long_examples():
    ds = batching.filter_by_length(make_dataset([5, 50, 10]), 20)
    assert [int(ex["targets"].shape[0]) for ex in ds] == [5, 10]
    assert len(list(batching.filter_by_length(make_dataset([5, 50]), 0))) == 2
