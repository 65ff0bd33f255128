"""Training under tf.distribute: MirroredStrategy on 2 logical CPUs, and two workers.

The strategies must be created before any other TensorFlow call of a
process, so each case runs in fresh subprocesses (bounded by timeouts).
"""

import collections
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from training import tiny_problem

from t2t_multimodel.errors import T2TError
from t2t_multimodel.training import distribution, trainer

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
MIRRORED_SCRIPT = '''
import json, sys
from t2t_multimodel.training import distribution
strategy = distribution.make_strategy("mirrored", cpu_replicas=2)  # before any TF call
import keras
import numpy as np
import tensorflow as tf
from t2t_multimodel import registry, usr_dir
from t2t_multimodel.problem_hparams import ProblemHParams
from t2t_multimodel.training import steps, trainer

usr, data_dir, output_dir, mixture, hparams_overrides = sys.argv[1:6]
usr_dir.import_usr_dir(usr)
report = {"replicas": strategy.num_replicas_in_sync}

# 1. One mirrored step on two batches of different lengths == one step on
#    one device on both batches padded together (loss scaled by the global
#    batch, gradients summed over the replicas).
keras.utils.set_random_seed(3)
php = ProblemHParams(modality={"inputs": "symbol", "targets": "symbol"},
                     vocab_size={"inputs": 12, "targets": 12})
hparams = registry.hparams("%(hparams_set)s")()
rng = np.random.default_rng(0)
def batch(size, length):
    ids = rng.integers(2, 12, size=(size, length)).astype("int32")
    ids[0, length - 2:] = 0  # some padding
    return {"inputs": ids, "targets": ids[:, ::-1].copy(),
            "target_space_id": np.zeros([size], "int32")}
b0, b1 = batch(3, 5), batch(2, 8)
def pad(x, length):
    return np.pad(x, [(0, 0), (0, length - x.shape[1])])
both = {k: (np.concatenate([b0[k], b1[k]]) if k == "target_space_id" else
            np.concatenate([pad(b0[k], 8), b1[k]])) for k in b0}
spec = {k: tf.TensorSpec([None] * v.ndim, tf.int32) for k, v in b0.items()}

def build(scope_strategy):
    with scope_strategy.scope():
        model = registry.model("transformer")(hparams, php)
        model({k: tf.constant(v) for k, v in b0.items()})
        optimizer = keras.optimizers.SGD(0.5)
        optimizer.build(model.trainable_variables)
        step = tf.Variable(0, dtype=tf.int64)
    return model, optimizer, step

single, single_opt, single_step = build(tf.distribute.get_strategy())
mirrored, mirrored_opt, mirrored_step = build(strategy)
for a, b in zip(mirrored.weights, single.weights):
    a.assign(b.numpy())
dataset = strategy.distribute_datasets_from_function(
    lambda ctx: tf.data.Dataset.from_tensors(b0).concatenate(
        tf.data.Dataset.from_tensors(b1)))
mirrored_out = steps.make_train_step(mirrored, mirrored_opt, mirrored_step,
                                     dataset.element_spec, strategy)(next(iter(dataset)))
single_out = steps.make_train_step(single, single_opt, single_step, spec)(
    {k: tf.constant(v) for k, v in both.items()})
report["step_loss"] = [float(mirrored_out["loss"]), float(single_out["loss"])]
report["step_tokens"] = [float(mirrored_out["tokens"]), float(single_out["tokens"])]
report["max_weight_difference"] = max(
    float(np.max(np.abs(a.numpy() - b.numpy())))
    for a, b in zip(mirrored.trainable_weights, single.trainable_weights))

# 2. Each replica's MoE load-balancing losses are its own (Keras keeps
#    add_loss values on the layers, shared by the replica threads).
from t2t_multimodel.layers.mixture_of_experts import MixtureOfExperts
with strategy.scope():
    moes = [MixtureOfExperts(4, 2, 8), MixtureOfExperts(4, 2, 8)]
    class Net(keras.Model):
        def call(self, x, training=False):
            for moe in moes:
                x = x + moe(x, training=training)
            return x
    net = Net()
    net(tf.zeros([2, 3, 8]))
devices = []
@tf.function
def moe_step(x):
    def replica(x):
        _, aux = steps._forward(net, x)
        devices.append((tf.distribute.get_replica_context().replica_id_in_sync_group.device,
                        [loss.device for loss in aux]))
        return tf.add_n(aux)
    return strategy.reduce("SUM", strategy.run(replica, (x,)), axis=None)
moe_data = strategy.experimental_distribute_dataset(
    tf.data.Dataset.from_tensors(tf.random.normal([4, 3, 8])))
report["moe_aux_loss"] = float(moe_step(next(iter(moe_data))))
report["moe_loss_devices"] = devices

# 3. The trainer, mirrored, then resumed (with an evaluation at the end).
runs = []
for train_steps in (6, 10):
    lines = []
    result = trainer.train(mixture, "transformer", "%(hparams_set)s", data_dir, output_dir,
                           hparams_overrides=hparams_overrides, train_steps=train_steps,
                           eval_steps=1 if train_steps == 10 else 0, save_checkpoints_steps=3,
                           local_eval_frequency=0, log_step_count_steps=2, t2t_usr_dir=usr,
                           log_fn=lines.append, distribution_strategy=strategy)
    runs.append({"lines": lines, "global_step": result["global_step"],
                 "start_step": result["start_step"], "replicas": result["replicas"],
                 "history": result["train_history"],
                 "eval": {k: v for k, v in result.items() if k.startswith("eval_")}})
report["runs"] = runs
print("REPORT " + json.dumps(report))
'''

TRAIN_SCRIPT = '''
import json, sys, time
config = json.loads(sys.argv[1])
from t2t_multimodel.training import distribution
strategy = distribution.make_strategy(config["strategy"], cpu_replicas=2)  # before any TF call
import numpy as np
from t2t_multimodel.training import trainer

runs = []
for train_steps in config["steps"]:  # each call resumes from the previous one's checkpoint
    lines, last_line = [], [0.0]
    def log(line):
        lines.append(line)
        last_line[0] = time.time()
    result = trainer.train(config["problem"], config["model"], config["hparams_set"],
                           config["data_dir"], config["output_dir"],
                           hparams_overrides=config["overrides"], train_steps=train_steps,
                           eval_steps=0, save_checkpoints_steps=config["save_every"],
                           local_eval_frequency=0, log_step_count_steps=config["log_every"],
                           t2t_usr_dir=config["usr"], log_fn=log,
                           distribution_strategy=strategy)
    import gc; gc.collect()  # the run's iterators are deleted before the clock stops
    runs.append({"lines": lines, "history": result["train_history"],
                 "start_step": result["start_step"], "global_step": result["global_step"],
                 "replicas": result["replicas"], "traces": result["train_step_traces"],
                 "seconds_after_last_line": time.time() - last_line[0]})
np.savez(config["weights"], *[w.numpy() for w in result["model"].trainable_weights])
print("REPORT " + json.dumps({"chief": distribution.is_chief(strategy), "runs": runs}))
'''

# The tiny MultiModel (MoE included) of the mixture tests.
MULTIMODEL_OVERRIDES = (
    "hidden_size=32,num_heads=2,moe_num_experts=4,moe_hidden_size=32,large_kernel_size=5,"
    "encoder_blocks=1,mixer_blocks=1,decoder_blocks=1,batch_size=256,max_length=16")
REVERSE = "algorithmic_reverse_binary40_test"


def _report(stdout):
    lines = [line for line in stdout.splitlines() if line.startswith("REPORT ")]
    assert lines, stdout[-3000:]
    return json.loads(lines[-1][len("REPORT "):])


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def test_mirrored_two_cpus_matches_one_device_trains_and_resumes(
        tiny_usr_dir, tiny_data_dir, tmp_path):
    script = tmp_path / "mirrored.py"
    script.write_text(MIRRORED_SCRIPT % {"hparams_set": tiny_problem.HPARAMS_SET})
    output_dir = str(tmp_path / "run")
    result = subprocess.run(
        [sys.executable, str(script), tiny_usr_dir, tiny_data_dir, output_dir,
         tiny_problem.PROBLEM, "learning_rate_schedule=constant,learning_rate=0.01"],
        env=ENV, capture_output=True, text=True, timeout=400)
    assert result.returncode == 0, result.stderr[-4000:]
    report = _report(result.stdout)
    assert report["replicas"] == 2
    # The same loss, tokens and update as one device on the global batch.
    mirrored_loss, single_loss = report["step_loss"]
    assert mirrored_loss == pytest.approx(single_loss, rel=1e-5)
    assert report["step_tokens"][0] == report["step_tokens"][1]
    assert report["max_weight_difference"] < 1e-5

    # Two replicas, each with the two MoE losses of its own device.
    assert len(report["moe_loss_devices"]) == 2 and report["moe_aux_loss"] > 0
    for replica_device, loss_devices in report["moe_loss_devices"]:
        assert loss_devices == [replica_device] * 2, report["moe_loss_devices"]

    first, resumed = report["runs"]
    log = "\n".join(first["lines"])
    assert "Distributed over 2 replicas (MirroredStrategy)" in log
    assert first["global_step"] == 6 and first["replicas"] == 2
    assert all(np.isfinite(loss) for _, loss, _ in first["history"])
    assert any(line.startswith("Resuming from step 6") for line in resumed["lines"])
    assert resumed["start_step"] == 6 and resumed["global_step"] == 10
    assert tf.train.latest_checkpoint(output_dir).endswith("ckpt-10")
    # The evaluation ran on the mirrored weights.
    assert resumed["eval"]["eval_accuracy"] > 0
    losses = [loss for _, loss, _ in first["history"] + resumed["history"]]
    assert losses[-1] < losses[0], losses


def _config(tmp_path, usr, data_dir, strategy, model, hparams_set, problem, overrides, steps,
            weights, save_every, log_every):
    return json.dumps({
        "strategy": strategy, "model": model, "hparams_set": hparams_set, "problem": problem,
        "overrides": overrides, "steps": steps, "usr": usr, "data_dir": data_dir,
        "output_dir": str(tmp_path / "run"), "weights": str(weights),
        "save_every": save_every, "log_every": log_every})


@pytest.fixture(scope="module")
def mixture_data_dir(tiny_data_dir, tmp_path_factory):
    """The tiny problem's shards plus those of a second problem (a mixture's)."""
    from t2t_multimodel import registry

    data_dir = tmp_path_factory.mktemp("mixture_data")
    for path in glob.glob(os.path.join(tiny_data_dir, "*")):
        if os.path.isfile(path):
            shutil.copy(path, data_dir)
    registry.problem(REVERSE).generate_data(str(data_dir), str(data_dir / "tmp"))
    return str(data_dir)


def test_mirrored_multimodel_mixture_trains_and_resumes(tiny_usr_dir, mixture_data_dir,
                                                        tmp_path):
    # Each problem of a mixture has its own train step, built on its first
    # step; under MirroredStrategy this took minutes with Keras's unfused Adam.
    script = tmp_path / "train.py"
    script.write_text(TRAIN_SCRIPT)
    problems = f"{tiny_problem.PROBLEM},{REVERSE}"
    config = _config(tmp_path, tiny_usr_dir, mixture_data_dir, "mirrored", "multimodel",
                     "multimodel_tiny", problems, MULTIMODEL_OVERRIDES, [4, 5],
                     tmp_path / "weights.npz", save_every=2, log_every=1)
    result = subprocess.run([sys.executable, str(script), config], env=ENV,
                            capture_output=True, text=True, timeout=400)
    assert result.returncode == 0, result.stderr[-4000:]
    first, resumed = _report(result.stdout)["runs"]
    log = "\n".join(first["lines"])
    assert "Distributed over 2 replicas (MirroredStrategy)" in log
    assert first["replicas"] == 2 and first["global_step"] == 4 and first["traces"] == 1
    # Both problems trained, each with its own step built once.
    for name in (tiny_problem.PROBLEM, REVERSE):
        assert re.search(rf"^  {name}: loss [0-9.]+", log, re.M), log
        assert len(re.findall(rf"^Built the train step of {name} in", log, re.M)) == 1, log
    assert all(np.isfinite(loss) for _, loss, _ in first["history"] + resumed["history"])
    assert any(line.startswith("Resuming from step 4") for line in resumed["lines"])
    assert resumed["start_step"] == 4 and resumed["global_step"] == 5
    assert tf.train.latest_checkpoint(str(tmp_path / "run")).endswith("ckpt-5")
    # train returns right after its last line: deleting an autotuned tf.data
    # iterator (the per-device pipelines, the mixture's sampler) blocked up to
    # a minute.
    for run in (first, resumed):
        assert run["seconds_after_last_line"] < 15, run["seconds_after_last_line"]


@pytest.mark.parametrize("model, hparams_set, overrides, steps", [
    pytest.param(tiny_problem.MODEL, tiny_problem.HPARAMS_SET, "", [12, 24], id="transformer"),
    # The MultiModel (MoE included); one call: resuming is the same code.
    pytest.param("multimodel", "multimodel_tiny", MULTIMODEL_OVERRIDES, [10], id="multimodel"),
])
def test_two_workers_hold_the_same_weights_and_learn(tiny_usr_dir, tiny_data_dir, tmp_path,
                                                     model, hparams_set, overrides, steps):
    script = tmp_path / "worker.py"
    script.write_text(TRAIN_SCRIPT)
    output_dir = str(tmp_path / "run")  # shared storage, as on a cluster
    overrides = ",".join(filter(None, [
        overrides, "learning_rate_schedule=constant,learning_rate=0.01"]))
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    procs = []
    scratch = []
    try:
        for index in range(2):
            tmp = tmp_path / f"tmp{index}"
            tmp.mkdir()
            scratch.append(tmp)
            env = dict(ENV, TMPDIR=str(tmp), TF_CONFIG=json.dumps(
                {"cluster": cluster, "task": {"type": "worker", "index": index}}))
            config = _config(tmp_path, tiny_usr_dir, tiny_data_dir, "multi_worker_mirrored",
                             model, hparams_set, tiny_problem.PROBLEM, overrides, steps,
                             tmp_path / f"weights{index}.npz", save_every=steps[0],
                             log_every=2)
            procs.append(subprocess.Popen(
                [sys.executable, str(script), config],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        outputs = [proc.communicate(timeout=400) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
    for proc, (_, stderr) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, stderr[-4000:]
    chief, worker = (_report(stdout) for stdout, _ in outputs)
    assert chief["chief"] and not worker["chief"]
    # Both hold the same weights.
    a, b = np.load(tmp_path / "weights0.npz"), np.load(tmp_path / "weights1.npz")
    assert len(a.files) == len(b.files) > 0
    for key in a.files:
        np.testing.assert_array_equal(a[key], b[key])
    # The loss falls, and both workers saw the same (global) losses.
    history = [h for run in chief["runs"] for h in run["history"]]
    assert history == [h for run in worker["runs"] for h in run["history"]]
    assert history[-1][1] < 0.9 * history[0][1], history
    # A second call resumed from the chief's checkpoint on both workers.
    for report in (chief, worker):
        assert [run["start_step"] for run in report["runs"]] == [0] + steps[:-1]
        assert [run["global_step"] for run in report["runs"]] == steps
    assert tf.train.latest_checkpoint(output_dir).endswith(f"ckpt-{steps[-1]}")
    # Only the chief wrote into output_dir; the worker's checkpoints were deleted.
    assert not glob.glob(str(scratch[1] / "t2t-worker-checkpoint-*"))
    assert sorted(os.listdir(os.path.join(output_dir))) == sorted(
        ["checkpoint", "hparams.json", "train", "eval"]
        + [os.path.basename(p) for p in glob.glob(os.path.join(output_dir, "ckpt-*"))])
    assert any(line.startswith("[worker 1] ") for line in worker["runs"][0]["lines"])
    for report in (chief, worker):
        for run in report["runs"]:
            assert run["seconds_after_last_line"] < 15, run["seconds_after_last_line"]


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_read_disjoint_parts_of_the_train_split(tiny_usr_dir, tiny_data_dir, workers):
    # The tiny problem has 2 train shards: 2 workers read one shard each; 3
    # workers (more than shards) each read every 3rd record of both shards.
    from t2t_multimodel import registry

    problem = registry.problem(tiny_problem.PROBLEM)
    hparams = trainer.resolve_hparams(tiny_problem.HPARAMS_SET)
    assert len(problem.data_files(tiny_data_dir, "train")) == 2

    def read(index, count):
        lines = []
        dataset_fn = trainer.train_dataset_fn(problem, tiny_data_dir, hparams, 0, lines.append,
                                              repeat=False, batch=False, prefetch=False)
        dataset = dataset_fn(tf.distribute.InputContext(
            num_input_pipelines=count, input_pipeline_id=index))
        return collections.Counter(
            (tuple(ex["inputs"]), tuple(ex["targets"])) for ex in dataset.as_numpy_iterator()
        ), lines

    everything, _ = read(0, 1)
    parts = [read(index, workers) for index in range(workers)]
    # Together the workers read each example exactly once.
    assert sum((part for part, _ in parts), collections.Counter()) == everything
    sizes = [part.total() for part, _ in parts]
    assert sum(sizes) == everything.total() == 4000
    # By shard: 2000 each; by record: 667 or 666 of each 2000-record shard.
    assert sizes == ([2000, 2000] if workers == 2 else [1334, 1334, 1332])
    for _, lines in parts:
        if workers == 2:
            assert lines == []
        else:
            assert lines == [f"{tiny_problem.PROBLEM} has fewer train shards than the 3 "
                             f"workers: each reads 1 in 3 records of every shard"]


def test_strategy_names_and_late_cpu_split_are_clear_errors():
    with pytest.raises(T2TError, match="unknown distribution strategy 'mirored': use one of "
                                       "default, mirrored, multi_worker_mirrored"):
        distribution.make_strategy("mirored")
    tf.constant(1)  # TensorFlow is initialised in this process
    if tf.config.get_logical_device_configuration(tf.config.list_physical_devices("CPU")[0]):
        pytest.skip("the CPU is already split in this process")
    with pytest.raises(T2TError, match="create the strategy before any other TensorFlow call"):
        distribution.make_strategy("mirrored", cpu_replicas=2)
    assert distribution.is_chief(distribution.make_strategy(None))
