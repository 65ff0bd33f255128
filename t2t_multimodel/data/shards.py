"""Atomic, sharded TFRecord writing and strict shard discovery.

Shards are named as in T2T: `<problem>-train-00003-of-00010`. Each is written
under a hidden temporary name in the same directory and renamed into place only
after it is complete, and readers match the exact `-NNNNN-of-NNNNN` pattern and
accept a split only when all N shards of its `-of-N` set are there, so an
interrupted datagen leaves nothing a reader would pick up.
"""

import glob
import os
import sys
import time

import tensorflow as tf

from t2t_multimodel.errors import DataError

SPLIT_FILE_NAMES = {"train": "train", "eval": "dev", "dev": "dev", "test": "test"}
_SHARD_GLOB = "[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9]"


def sharded_name(base, shard, num_shards):
    return f"{base}-{shard:05d}-of-{num_shards:05d}"


def shard_paths(data_dir, dataset_name, split, num_shards):
    """The final paths of the `num_shards` shards of `split`."""
    base = os.path.join(data_dir, f"{dataset_name}-{SPLIT_FILE_NAMES[split]}")
    return [sharded_name(base, i, num_shards) for i in range(num_shards)]


def find_shards(data_dir, dataset_name, split):
    """Sorted shard paths of `split`: all N of each `-of-N` set, never a temporary file.

    A datagen killed between its shard renames can leave some of the N final
    shards without the others; such a set is refused (DataError naming the
    missing shards) rather than read as if it were the whole split.
    """
    pattern = os.path.join(
        data_dir, f"{dataset_name}-{SPLIT_FILE_NAMES[split]}-{_SHARD_GLOB}")
    paths = sorted(glob.glob(pattern))
    present = {}
    for path in paths:  # ...-SSSSS-of-NNNNN
        present.setdefault(int(path[-5:]), set()).add(int(path[-14:-9]))
    for total, indices in sorted(present.items()):
        missing = [sharded_name(f"{dataset_name}-{SPLIT_FILE_NAMES[split]}", i, total)
                   for i in range(total) if i not in indices]
        if missing:
            shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
            raise DataError(
                f"the {split} split of {dataset_name} in {data_dir} is incomplete "
                f"({len(missing)} of {total} shards missing: {shown}), probably from an "
                f"interrupted t2t-datagen; rerun t2t-datagen with the same --problem and "
                f"--data_dir={data_dir} to regenerate it. Received: "
                f"shards={len(indices)}/{total}")
    return paths


def count_records(path):
    """The number of records in the TFRecord file `path` (reads all of it)."""
    return sum(1 for _ in tf.data.TFRecordDataset(path))


def find_unreadable(paths):
    """`(path, reason)` of the first TFRecord file of `paths` that does not read, or None.

    Reads every record (and checks its CRCs): call it when reading has
    already failed, to name the file.
    """
    for path in paths:
        try:
            for _ in tf.data.TFRecordDataset(path):
                pass
        except (tf.errors.DataLossError, tf.errors.InvalidArgumentError,
                tf.errors.NotFoundError) as e:
            return path, str(e).strip().splitlines()[0]
    return None


def to_example(features):
    """Builds a `tf.train.Example` from a dict of str/bytes/int/float (lists)."""
    feature = {}
    for name, value in features.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        if not values:
            raise DataError(f"generated feature {name!r} is empty. Received: {name}=[]")
        first = values[0]
        if isinstance(first, str):
            feature[name] = tf.train.Feature(bytes_list=tf.train.BytesList(
                value=[v.encode("utf-8") for v in values]))
        elif isinstance(first, bytes):
            feature[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
        elif isinstance(first, (bool, int)):
            feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(
                value=[int(v) for v in values]))
        elif isinstance(first, float):
            feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=values))
        else:
            raise DataError(
                f"generated feature {name!r} must be str, bytes, int or float. "
                f"Received: {name}={first!r}")
    return tf.train.Example(features=tf.train.Features(feature=feature))


class _Progress:
    """A one-line progress report on stderr, at most every two seconds."""

    def __init__(self, label):
        self.label = label
        self.count = 0
        self.start = self.last = time.time()

    def update(self):
        self.count += 1
        now = time.time()
        if now - self.last >= 2.0:
            self.last = now
            rate = self.count / max(now - self.start, 1e-9)
            print(f"\r{self.label}: {self.count} examples ({rate:.0f}/s)",
                  end="", file=sys.stderr, flush=True)

    def done(self):
        elapsed = time.time() - self.start
        print(f"\r{self.label}: {self.count} examples in {elapsed:.1f}s",
              file=sys.stderr, flush=True)


def write_shards(examples, paths, label=None):
    """Writes dicts from `examples` round-robin into `paths`, atomically.

    Args:
        examples: iterable of feature dicts (see `to_example`).
        paths: list of final shard paths.
        label: str or None. Shown in the progress line.

    Returns:
        The number of examples written.
    """
    for path in paths:  # left by a datagen that was killed (SIGKILL runs no cleanup)
        stale = os.path.join(os.path.dirname(path), f".tmp-*-{os.path.basename(path)}")
        for tmp in glob.glob(stale):
            os.remove(tmp)
    tmp_paths = [
        os.path.join(os.path.dirname(p), f".tmp-{os.getpid()}-{os.path.basename(p)}")
        for p in paths
    ]
    writers = [tf.io.TFRecordWriter(p) for p in tmp_paths]
    progress = _Progress(label or os.path.basename(paths[0]).rsplit("-", 3)[0])
    try:
        for i, example in enumerate(examples):
            writers[i % len(writers)].write(to_example(example).SerializeToString())
            progress.update()
    except BaseException:
        for writer, tmp in zip(writers, tmp_paths, strict=True):
            writer.close()
            if os.path.exists(tmp):
                os.remove(tmp)
        raise
    for writer in writers:
        writer.close()
    if progress.count == 0:
        for tmp in tmp_paths:
            os.remove(tmp)
        raise DataError(f"the generator wrote no examples for {paths[0]}; check "
                        f"the source data. Received: 0 examples")
    for tmp, final in zip(tmp_paths, paths, strict=True):
        os.replace(tmp, final)
    progress.done()
    return progress.count


def all_exist(paths, label):
    """True when every shard in `paths` exists (saying so, as skipped, on stderr)."""
    if all(tf.io.gfile.exists(p) for p in paths):
        print(f"{label}: shards exist, skipping", file=sys.stderr, flush=True)
        return True
    return False


def write_missing_splits(name, data_dir, dataset_name, dataset_splits, samples):
    """Writes the shards of each split whose shards are not all there yet.

    Args:
        name: str. The problem's name, shown in the progress lines.
        data_dir: str. Where the shards go.
        dataset_name: str. The shards' file name prefix.
        dataset_splits: list of `{"split": str, "shards": int}`.
        samples: callable `split -> iterable of feature dicts`.
    """
    for spec in dataset_splits:
        split = spec["split"]
        paths = shard_paths(data_dir, dataset_name, split, spec["shards"])
        if not all_exist(paths, f"{name} {split}"):
            write_shards(samples(split), paths, label=f"{name} {split}")


def read_strings(files, features, limit=0):
    """Yields the str value of each of `features` of each record of `files`.

    Reads at most `limit` records (0: all), in file order.
    """
    spec = {k: tf.io.FixedLenFeature([], tf.string) for k in features}
    ds = tf.data.TFRecordDataset(files, num_parallel_reads=None)
    if limit:
        ds = ds.take(limit)
    ds = ds.batch(4096).map(lambda r: tf.io.parse_example(r, spec),
                            num_parallel_calls=tf.data.AUTOTUNE)
    for batch in ds.as_numpy_iterator():
        for key in spec:
            for value in batch[key]:
                yield value.decode("utf-8")


def write_text_atomically(path, text):
    """Writes `text` to `path` through a temporary file, synced, and a rename:
    a reader (or a run after a crash) sees the old file or the whole new one."""
    tmp = os.path.join(os.path.dirname(path), f".tmp-{os.getpid()}-{os.path.basename(path)}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_bytes_atomically(path, data):
    tmp = os.path.join(os.path.dirname(path), f".tmp-{os.getpid()}-{os.path.basename(path)}")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
