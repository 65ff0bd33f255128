"""Length filtering and token-based batching with length buckets (T2T's scheme).

`batch_size` counts tokens: an example's length is the longer of its inputs and
targets, and a bucket of length L gets `max(1, batch_size // L)` examples, so a
batch of short sequences holds many examples and one of long sequences few.
"""

import tensorflow as tf


def bucket_boundaries(max_length, min_length=8, length_bucket_step=1.1):
    """Geometric bucket boundaries from `min_length` up to `max_length`."""
    x = min_length
    boundaries = []
    while x < max_length:
        boundaries.append(x)
        x = max(x + 1, int(x * length_bucket_step))
    return boundaries


def example_length(example):
    """The longer of the inputs and targets (tokens); images count one."""
    lengths = [tf.shape(example["targets"])[0]]
    if "inputs" in example and example["inputs"].shape.rank == 1:
        lengths.append(tf.shape(example["inputs"])[0])
    return tf.reduce_max(tf.stack(lengths))


def filter_by_length(dataset, max_length):
    """Drops examples longer than `max_length` (0 keeps everything)."""
    if not max_length:
        return dataset
    return dataset.filter(lambda ex: example_length(ex) <= max_length)


def batch_by_tokens(dataset, batch_size, max_length, min_length_bucket=8,
                    length_bucket_step=1.1):
    """Groups examples of similar length into batches of about `batch_size` tokens.

    Args:
        dataset: a `tf.data.Dataset` of feature dicts with 1-D int features.
        batch_size: int. Tokens per batch.
        max_length: int. The longest example expected (sets the last bucket).
        min_length_bucket: int. The first bucket boundary.
        length_bucket_step: float. Ratio between consecutive boundaries.

    Returns:
        A dataset of padded batches (padding id 0).
    """
    max_length = max_length or batch_size
    boundaries = bucket_boundaries(max_length + 1, min_length_bucket, length_bucket_step)
    # Bucket i holds lengths below boundaries[i]; the last one up to max_length.
    longest = [max(1, b - 1) for b in boundaries] + [max_length]
    sizes = [max(1, batch_size // n) for n in longest]
    return dataset.bucket_by_sequence_length(
        element_length_func=example_length,
        bucket_boundaries=boundaries,
        bucket_batch_sizes=sizes,
        no_padding=False,
        drop_remainder=False,
    )


def without_autotune(dataset):
    """`dataset` with tf.data's autotuning off.

    Deleting an autotuned iterator blocks until the autotune thread's next
    wake-up (10 s, 20 s, 40 s, ... after the iterator was created): training
    returned up to a minute after its last step, and every evaluation paid
    it again. Our input pipelines are far from the bottleneck, so the fixed
    parallelism costs nothing measurable.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)
