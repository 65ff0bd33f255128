"""`tf.distribute` strategies for the training loop, and who writes what.

```python
from t2t_multimodel.training import distribution

strategy = distribution.make_strategy("mirrored", cpu_replicas=2)  # before any TF op
distribution.is_chief(strategy)  # False on the workers of a multi-worker run but one
```

Names (`--distribution_strategy`):

* `""` / `"default"`: TF's default strategy (one device; the plain loop).
* `"mirrored"`: `tf.distribute.MirroredStrategy` over the local GPUs; on a
  machine without GPUs, over `cpu_replicas` logical CPU devices (the CPU is
  split with `tf.config.set_logical_device_configuration`, which only works
  before TensorFlow initialises its devices).
* `"multi_worker_mirrored"`: `tf.distribute.MultiWorkerMirroredStrategy`,
  its cluster from the standard `TF_CONFIG` environment variable. It must be
  created before any other TensorFlow call of the process (it starts the
  worker's gRPC server), so the trainer creates it first.

Only the chief writes `hparams.json`, checkpoints and summaries into
`output_dir`; the other workers write their checkpoints to a private
temporary directory that is deleted after each save (the standard TF
pattern: saving reads every variable, so all workers take part).
"""

import json
import os
import shutil
import tempfile

import tensorflow as tf
from tensorflow.python.data.ops import multi_device_iterator_ops

from t2t_multimodel.data import batching
from t2t_multimodel.errors import T2TError

STRATEGIES = ("default", "mirrored", "multi_worker_mirrored")


def _split_cpu(count):
    """Makes `count` logical CPU devices; a clear error once TF is initialised."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is not None and len(current) == count:
        return
    if current is None and count == 1:
        return
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError as e:
        raise T2TError(
            f"cannot split the CPU into {count} devices: TensorFlow is already initialised "
            f"in this process; create the strategy before any other TensorFlow call. "
            f"Received: cpu_replicas={count}") from e


def make_strategy(name=None, cpu_replicas=1):
    """The `tf.distribute.Strategy` named `name` (see the module docstring).

    Args:
        name: str or None. `None`, `""`, `"default"`, `"mirrored"` or
            `"multi_worker_mirrored"`.
        cpu_replicas: int. Without GPUs, `"mirrored"` splits the CPU into this
            many replicas (for testing the distributed path on one machine).

    Returns:
        A `tf.distribute.Strategy`.

    Raises:
        T2TError: an unknown name, a bad `cpu_replicas` or `TF_CONFIG`, or
            TensorFlow already initialised when the CPU must be split.
    """
    name = (name or "default").strip().lower()
    if name not in STRATEGIES:
        raise T2TError(f"unknown distribution strategy {name!r}: use one of "
                       f"{', '.join(STRATEGIES)}. Received: distribution_strategy={name}")
    if not isinstance(cpu_replicas, int) or cpu_replicas < 1:
        raise T2TError(f"--cpu_replicas must be an integer >= 1. "
                       f"Received: cpu_replicas={cpu_replicas}")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "multi_worker_mirrored":
        _check_tf_config()
        try:
            return tf.distribute.MultiWorkerMirroredStrategy()
        except (ValueError, RuntimeError) as e:
            raise T2TError(f"cannot start the multi-worker strategy ({e}); check TF_CONFIG. "
                           f"Received: TF_CONFIG={os.environ.get('TF_CONFIG')}") from e
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return tf.distribute.MirroredStrategy()
    _split_cpu(cpu_replicas)
    return tf.distribute.MirroredStrategy(
        [f"/cpu:{i}" for i in range(cpu_replicas)],
        cross_device_ops=tf.distribute.ReductionToOneDevice())


def _check_tf_config():
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return  # a single worker: MultiWorkerMirroredStrategy runs locally
    try:
        config = json.loads(raw)
        task = config["task"]
        workers = config["cluster"]["worker"]
        index = int(task["index"])
        task_type = task["type"]
    except (ValueError, KeyError, TypeError) as e:
        raise T2TError(
            'TF_CONFIG must be JSON like {"cluster": {"worker": ["host1:port", "host2:port"]}, '
            '"task": {"type": "worker", "index": 0}}. '
            f"Received: TF_CONFIG={raw}") from e
    count = len(config["cluster"].get(task_type, workers))
    if not 0 <= index < count:
        raise T2TError(f"TF_CONFIG task index {index} is not one of the {count} "
                       f"{task_type} tasks. Received: TF_CONFIG={raw}")


def is_multi_worker(strategy):
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and \
        strategy.extended._num_workers > 1  # noqa: SLF001 (no public count)


def is_chief(strategy):
    """Whether this process writes `output_dir` (True unless a non-chief worker)."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    resolver = strategy.cluster_resolver
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type in (None, "chief"):
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and not has_chief


def worker_name(strategy):
    """`"worker 1"` style label of this process ("" when not multi-worker)."""
    if not is_multi_worker(strategy):
        return ""
    resolver = strategy.cluster_resolver
    return f"{resolver.task_type} {resolver.task_id}"


def gather_scalar(strategy, value):
    """Every worker's `value` (an int), in worker order (runs a collective)."""
    if not is_multi_worker(strategy):
        return [int(value)]
    per_replica = strategy.run(lambda: tf.constant([int(value)], tf.int64))
    gathered = strategy.gather(per_replica, axis=0)
    return [int(v) for v in gathered.numpy()]


def distributed_iterator(dataset):
    """`iter(dataset)` of a distributed dataset, with tf.data's autotune off on every device.

    MirroredStrategy's and MultiWorkerMirroredStrategy's iterators add a
    prefetching pipeline per device, built with tf.data's default options
    (autotune on), and no `tf.distribute.InputOptions` reaches them. Deleting
    an autotuned iterator blocks until its autotune thread wakes up (see
    `batching.without_autotune`), so `train` under a strategy returned up to a
    minute after its last step. TF's builder of those pipelines is wrapped
    while the iterator is made (a private TF function: if it is gone, the
    iterator is made as it is).
    """
    original = getattr(multi_device_iterator_ops, "_create_device_dataset", None)
    if original is None:
        return iter(dataset)

    def create_device_dataset(*args, **kwargs):
        return batching.without_autotune(original(*args, **kwargs))

    multi_device_iterator_ops._create_device_dataset = create_device_dataset  # noqa: SLF001
    try:
        return iter(dataset)
    finally:
        multi_device_iterator_ops._create_device_dataset = original  # noqa: SLF001


class CheckpointWriter:
    """Saves checkpoints: the chief into `output_dir`, other workers into a temp dir.

    Args:
        checkpoint: the `tf.train.Checkpoint` of the run.
        output_dir: str. The run's directory.
        strategy: the `tf.distribute.Strategy` of the run.
        max_to_keep: int. Checkpoints the chief keeps.

    Example:

    ```python
    writer = CheckpointWriter(checkpoint, output_dir, strategy)
    writer.save(step)  # the chief's path, or None on other workers
    ```
    """

    def __init__(self, checkpoint, output_dir, strategy, max_to_keep=3):
        self.chief = is_chief(strategy)
        self.checkpoint = checkpoint
        self.output_dir = output_dir
        if self.chief:
            self.manager = tf.train.CheckpointManager(checkpoint, output_dir,
                                                      max_to_keep=max_to_keep)

    def save(self, step):
        if self.chief:
            return self.manager.save(checkpoint_number=step)
        directory = tempfile.mkdtemp(prefix="t2t-worker-checkpoint-")
        try:
            tf.train.CheckpointManager(self.checkpoint, directory, max_to_keep=1).save(
                checkpoint_number=step)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return None
