"""`train`: the custom training loop behind `t2t-trainer`.

```python
from t2t_multimodel.training import trainer

metrics = trainer.train("algorithmic_reverse_binary40", "transformer", "transformer_tiny",
                        data_dir, output_dir, hparams_overrides="hidden_size=64",
                        train_steps=1000, generate_data=True)
metrics["eval_accuracy"], metrics["global_step"], metrics["steps_per_sec"]
```

A run lives in `output_dir`: `hparams.json` (the `RunConfig` the decoder and
exporter rebuild the model from), TF checkpoints `ckpt-<step>` (the last 3)
and TensorBoard events under `train/` and `eval/`. Calling `train` again on
the same `output_dir` with the same model, problem and hparams resumes from
the latest checkpoint; anything else is refused before any step.

Checkpoints are safe against a kill at any moment: TF writes a checkpoint's
data files first and only then atomically replaces the `checkpoint` state
file that names the latest one, so a half-written checkpoint is never picked.
A resumed run reshuffles the training data with the seed
`hparams.seed + start_step` instead of replaying the data position (close
enough for these datasets, and cheap).
"""

import os

import keras
import tensorflow as tf

from t2t_multimodel import mixture as mixture_lib
from t2t_multimodel import registry, usr_dir
from t2t_multimodel.data import batching, shards
from t2t_multimodel.errors import DataError, T2TError
from t2t_multimodel.problem import Problem, partition_by_files
from t2t_multimodel.run_config import RunConfig
from t2t_multimodel.training import (
    checkpoints,
    distribution,
    evaluation,
    optimizers,
    schedules,
    steps,
)
from t2t_multimodel.training.loop import TrainingLoop, data_error

STEP_KEY = "step/.ATTRIBUTES/VARIABLE_VALUE"


def resolve_hparams(hparams_set, hparams_overrides=""):
    """`registry.hparams(hparams_set)()` with the overrides parsed onto it."""
    hparams = registry.hparams(hparams_set)()
    hparams.parse(hparams_overrides or "")
    schedules.check_schedule_name(hparams.get("learning_rate_schedule", "constant"))
    return hparams


def resolve_problems(problem):
    """(`Mixture`, [Problem]) of `--problem`: a name, "a,b,c" or a mixture name."""
    if isinstance(problem, Problem):
        return mixture_lib.Mixture([problem.name]), [problem]
    mix = mixture_lib.resolve(problem)
    return mix, [registry.problem(name) for name in mix.problems]


def hparams_differences(old, new, defaults=None):
    """Sorted names whose values differ between two `HParams` (or are in one only).

    A name only in `new` whose value is its value in `defaults` (the hparams
    set before overrides) is no difference: an hparam added to the set after
    the run started, left at its default, so the run resumes after an upgrade.
    """
    a, b = old.values(), new.values()
    d = defaults.values() if defaults is not None else {}

    def added_at_default(k):
        return k not in a and k in d and d[k] == b.get(k, KeyError)

    return sorted(k for k in set(a) | set(b)
                  if a.get(k, KeyError) != b.get(k, KeyError) and not added_at_default(k))


def check_previous_run(output_dir, model_name, problem_names, hparams, defaults=None):
    """Raises `T2TError` if `output_dir` holds a different run; returns its config or None.

    `defaults`: the hparams set before overrides (see `hparams_differences`).
    """
    if not RunConfig.exists(output_dir):
        return None
    previous = RunConfig.load(output_dir)
    differ = hparams_differences(previous.hparams, hparams, defaults)
    if previous.model != model_name or previous.problems != list(problem_names) or differ:
        detail = f" (hparams differ in: {', '.join(differ)})" if differ else ""
        raise T2TError(
            f"output_dir holds a run of model {previous.model} on problem "
            f"{','.join(previous.problems)}{detail}; use a new --output_dir. Received: "
            f"output_dir={output_dir}, model={model_name}, problem={','.join(problem_names)}")
    return previous


def latest_step(output_dir):
    """(global step, path) of the latest complete checkpoint, or (0, None)."""
    path = tf.train.latest_checkpoint(output_dir)
    if path is None:
        return 0, None
    return int(tf.train.load_variable(path, STEP_KEY)), path


def _build_model(model_cls, hparams, problem_hparams):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(hparams.get("dtype_policy", "float32"))
    try:
        return model_cls(hparams, problem_hparams)
    finally:
        keras.config.set_dtype_policy(previous)


def _check_positive(**values):
    for name, value in values.items():
        if value <= 0:
            raise T2TError(f"--{name} must be > 0. Received: {name}={value}")


def train(problem, model, hparams_set, data_dir, output_dir, hparams_overrides="",
          train_steps=1000, eval_steps=20, save_checkpoints_steps=100,
          local_eval_frequency=500, generate_data=False, tmp_dir=None, t2t_usr_dir=None,
          log_fn=print, log_step_count_steps=100, distribution_strategy=None,
          cpu_replicas=1):
    """Trains `model` on `problem` in `output_dir`, resuming from its last checkpoint.

    Args:
        problem: str. A registered problem name (a `Problem` instance also works).
        model: str. A registered model name.
        hparams_set: str. A registered hparams set name.
        data_dir: str. The problem's data (and vocabulary) directory.
        output_dir: str. The run's directory (`hparams.json`, checkpoints, events).
        hparams_overrides: str. `"name=value,..."` applied to the hparams set.
        train_steps: int. Train until the global step reaches this.
        eval_steps: int. Dev batches per evaluation; <= 0: the whole dev split
            (then only the periodic evaluations run, none extra at the end).
        save_checkpoints_steps: int. Checkpoint every this many steps (and at
            the end).
        local_eval_frequency: int. Evaluate every this many steps (0: never,
            apart from the final evaluation when `eval_steps > 0`).
        generate_data: bool. Run `problem.generate_data` first.
        tmp_dir: str or None. Scratch directory (default `data_dir/tmp`).
        t2t_usr_dir: str or None. A user package to import first.
        log_fn: callable taking one str; progress and messages.
        log_step_count_steps: int. A progress line every this many steps.
        distribution_strategy: None, a name (`"mirrored"`,
            `"multi_worker_mirrored"`; see `distribution.make_strategy`) or a
            `tf.distribute.Strategy`. A name is turned into its strategy
            before any other TensorFlow call, as the strategies need.
            `hparams.batch_size` is per replica, as in T2T.
        cpu_replicas: int. Without GPUs, `"mirrored"` splits the CPU into
            this many replicas.

    Returns:
        A dict: `global_step`, `start_step`, `train_loss` and `train_accuracy`
        (mean of the last logged interval), `steps_per_sec` and
        `tokens_per_sec` (this session, first step excluded),
        `train_seconds`, `eval_<metric>` of the last evaluation, and the
        histories `train_history` [(step, loss, accuracy)] and
        `eval_history` [(step, metrics dict)], and `train_step_traces` /
        `eval_step_traces` (how often the steps were traced: 1 unless
        something retraces), `replicas` (replicas in sync) and `model` (the
        trained model).

    Raises:
        T2TError: unknown names, bad hparams, missing data, an `output_dir`
            of another run, or a loss that became NaN/Inf.
    """
    if isinstance(distribution_strategy, tf.distribute.Strategy):
        strategy = distribution_strategy
    else:
        strategy = distribution.make_strategy(distribution_strategy, cpu_replicas)
    chief = distribution.is_chief(strategy)
    worker = distribution.worker_name(strategy)
    if worker:
        log_fn = _prefixed(log_fn, f"[{worker}] ")
    usr_dir.import_usr_dir(t2t_usr_dir)
    _check_positive(save_checkpoints_steps=save_checkpoints_steps,
                    log_step_count_steps=log_step_count_steps)
    if train_steps < 0:
        raise T2TError(f"--train_steps must be >= 0. Received: train_steps={train_steps}")
    hparams = resolve_hparams(hparams_set, hparams_overrides)
    # Seed before anything creates in-graph encoders: in eager mode seeding
    # clears TF's kernel cache, which destroys resources owned by kernels
    # (SentencePiece models), and a pipeline built earlier would then fail
    # with "Resource ... SentencepieceOp ... does not exist".
    keras.utils.set_random_seed(hparams.seed)
    mix, problems = resolve_problems(problem)
    names = [p.name for p in problems]
    model_cls = registry.model(model)
    check_previous_run(output_dir, model, names, hparams,
                       defaults=resolve_hparams(hparams_set))

    start_step, checkpoint_path = latest_step(output_dir)
    steps_seen = distribution.gather_scalar(strategy, start_step)
    if len(set(steps_seen)) > 1:
        raise T2TError(
            f"the workers see different latest checkpoints in output_dir (steps "
            f"{steps_seen}): put output_dir on storage every worker shares. "
            f"Received: output_dir={output_dir}")
    if start_step >= train_steps:
        log_fn(f"{output_dir} is already at step {start_step} >= train_steps={train_steps}; "
               "nothing to train.")
        return {"global_step": start_step, "start_step": start_step,
                "train_history": [], "eval_history": []}

    if generate_data:
        tmp_dir = tmp_dir or os.path.join(data_dir, "tmp")
        os.makedirs(data_dir, exist_ok=True)
        os.makedirs(tmp_dir, exist_ok=True)
        for p in problems:
            log_fn(f"Generating data for {p.name} into {data_dir}")
            p.generate_data(data_dir, tmp_dir)
    files = {}
    for p in problems:
        files[p.name] = p.data_files(data_dir, "train")
        if local_eval_frequency > 0 or eval_steps > 0:
            p.data_files(data_dir, "eval")
    problem_hparams = {p.name: p.get_hparams(hparams, data_dir) for p in problems}
    if chief:
        RunConfig(model, names, hparams_set, hparams, data_dir,
                  {n: php.to_dict() for n, php in problem_hparams.items()},
                  t2t_usr_dir).save(output_dir)
    rates = mix.rates({p.name: mixture_lib.count_examples(p, data_dir) for p in problems}
                      if mix.needs_sizes else None)
    if len(problems) > 1:
        log_fn("Mixture (" + mix.schedule + "): " + ", ".join(
            f"{n} {r:.1%}" for n, r in zip(names, rates, strict=True)))

    datasets = {p.name: _train_dataset(strategy, p, data_dir, hparams, start_step, log_fn)
                for p in problems}
    batches = {n: _Batches(distribution.distributed_iterator(ds), n, files[n], data_dir)
               for n, ds in datasets.items()}
    features = {n: batches[n].first() for n in names}
    # One problem: the model gets its ProblemHParams (and serves any name);
    # a mixture: all of them by name, and each call names its problem.
    with strategy.scope():
        net = _build_model(model_cls, hparams, (problem_hparams[names[0]] if len(names) == 1
                                                else problem_hparams))
        views = {n: net.for_problem(n if len(names) > 1 else None) for n in names}
        for n in names:
            views[n](strategy.experimental_local_results(features[n])[0], training=False)
        optimizer = optimizers.from_hparams(hparams)
        optimizer.build(net.trainable_variables)
        global_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
    checkpoint = checkpoints.make_checkpoint(net, optimizer, global_step)
    manager = distribution.CheckpointWriter(checkpoint, output_dir, strategy, max_to_keep=3)
    if strategy.num_replicas_in_sync > 1:
        log_fn(f"Distributed over {strategy.num_replicas_in_sync} replicas "
               f"({type(strategy).__name__}); batch_size is per replica")
    if checkpoint_path is not None:
        checkpoints.restore(checkpoint, checkpoint_path)
        log_fn(f"Resuming from step {start_step} ({checkpoint_path})")
    log_fn(f"Training {model} on {','.join(names)} from step {start_step} to {train_steps} "
           f"({net.count_params():,} parameters) in {output_dir}")

    loop = TrainingLoop(net, optimizer, global_step, manager, hparams, output_dir, train_steps,
                        eval_steps, save_checkpoints_steps, local_eval_frequency,
                        log_step_count_steps, log_fn, chief)
    # Evaluation runs on the chief only, on one device.
    loop.evaluators = {
        p.name: evaluation.Evaluator(
            views[p.name], lambda p=p: p.dataset("eval", data_dir, hparams),
            p.eval_metrics(), log_fn, decode_evaluator=_decode_evaluator(
                net, p, p.name if len(names) > 1 else None, data_dir, hparams))
        for p in problems} if chief else {}
    loop.problems = {p.name: p for p in problems}
    loop.data_dir = data_dir
    train_steps_by_problem = {
        n: steps.make_train_step(views[n], optimizer, global_step, datasets[n].element_spec,
                                 strategy, jit_compile=hparams.get("xla_compile", False))
        for n in names}
    # Autotune off: deleting an autotuned iterator blocks (`batching.without_autotune`).
    choices = iter(batching.without_autotune(mix.choices(rates, seed=hparams.seed + start_step)))
    try:
        result = loop.run(train_steps_by_problem, features, batches, choices, start_step)
    finally:
        loop.summaries.close()
    # A barrier: when `train` returns on any worker, the chief's last checkpoint exists.
    distribution.gather_scalar(strategy, result["global_step"])
    result["train_step_traces"] = max(
        s.experimental_get_tracing_count() for s in train_steps_by_problem.values())
    result["eval_step_traces"] = max(
        (e.tracing_count() for e in loop.evaluators.values()), default=0)
    result["replicas"] = strategy.num_replicas_in_sync
    result["model"] = net
    return result


def _decode_evaluator(model, problem, key, data_dir, hparams):
    """Real decodes at eval time when `eval_decode_samples` > 0 (else None)."""
    samples = hparams.get("eval_decode_samples", 0)
    if samples <= 0:
        return None
    return evaluation.DecodeEvaluator(model, problem, key, data_dir, samples,
                                      beam_size=hparams.get("eval_decode_beam_size", 1))


def _prefixed(log_fn, prefix):
    return lambda line: log_fn(prefix + line)


def _train_dataset(strategy, problem, data_dir, hparams, start_step, log_fn):
    """The distributed train dataset: one pipeline per worker, batches per replica."""
    return strategy.distribute_datasets_from_function(
        train_dataset_fn(problem, data_dir, hparams, start_step, log_fn))


def train_dataset_fn(problem, data_dir, hparams, start_step, log_fn=print, **kwargs):
    """The `dataset_fn(input_context)` of `distribute_datasets_from_function`.

    Each worker's pipeline (`input_context.input_pipeline_id` of
    `num_input_pipelines`) reads a disjoint part of the train split: every
    n-th shard when the split has at least as many shards as workers, else
    (logged) every n-th record of each shard; it shuffles with its own seed,
    and the replicas of a worker take its batches in turn. `kwargs` go to
    `problem.dataset` (tests read one unbatched epoch).
    """

    def dataset_fn(context):
        workers, index = context.num_input_pipelines, context.input_pipeline_id
        if workers > 1 and not partition_by_files(len(problem.data_files(data_dir, "train")),
                                                  workers):
            log_fn(f"{problem.name} has fewer train shards than the {workers} workers: "
                   f"each reads 1 in {workers} records of every shard")
        seed = hparams.seed + start_step + 7919 * index
        return batching.without_autotune(problem.dataset(
            "train", data_dir, hparams, seed=seed, partition_id=index,
            num_partitions=workers, **kwargs))

    return dataset_fn


class _Batches:
    """A problem's train iterator whose read errors name the bad file."""

    def __init__(self, iterator, name, paths, data_dir):
        self.iterator = iterator
        self.name = name
        self.paths = paths
        self.data_dir = data_dir

    def __next__(self):
        try:
            return next(self.iterator)
        except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as e:
            raise data_error(f"the train data of {self.name}", self.paths, e) from None

    def first(self):
        try:
            return next(self)
        except StopIteration:
            pass
        empty = [p for p in self.paths if shards.count_records(p) == 0]
        if len(empty) == len(self.paths):
            raise DataError(
                f"the train shards of {self.name} hold no examples: {', '.join(empty)}; "
                f"delete them and rerun t2t-datagen. Received: data_dir={self.data_dir}")
        raise DataError(
            f"the train split of {self.name} yielded no batch (every example longer "
            f"than max_length?). Received: data_dir={self.data_dir}")
