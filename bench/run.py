"""The benchmark harness of issue 7: one command, a Markdown table, a JSON file.

    python bench/run.py --out bench/results.json

Sections (`--sections`, default all):

- `reference`: training throughput on the reference workload (`common.py`)
  of our `transformer`, our `multimodel` (shrunk to about the same number of
  parameters), keras-hub's TransformerEncoder/Decoder and PyTorch's
  `nn.Transformer` (skipped with a note when torch is not installed).
- `hparams_sets`: `transformer_tiny`, `multimodel_tiny` and a keras-hub model
  whose feed-forward width gives it `multimodel_tiny`'s parameter count, on
  the same batches; then `transformer_base` and `multimodel_base` (one run of
  a few steps: they take seconds per step here), whose peak RSS is reported.
- `decode`: greedy and beam-4 decoding at lengths 64 and 256, cached vs
  full-prefix, with the identical-outputs check (`decode_speed.py`).
- `moe`: the MoE layer at 4/16/64 experts vs a dense layer of equal active
  FLOPs (`moe_speed.py`).
- `input`: the input pipeline's wait fraction on a mixture (`--problems`;
  `input_pipeline.py`), datagen first when the data is missing.
- `memory`: peak RSS of the demo itself (`bin/demo.sh` at `--demo_steps`
  training steps), its largest process measured by `wait4`.
- `mfu`: the measured matmul peak (`matmul_peak.py`); model FLOP utilisation
  of the reference Transformer contenders from their analytic FLOPs.

Every contender runs in its own process, one after another; training
contenders run `--rounds` times in alternating order (A B C, C B A, A B C) and
the median is kept, so load drift on a shared machine cancels out rather than
favouring whoever ran first. `uptime`'s load averages are recorded before and
after every section: on a loaded 2-core machine absolute numbers drop, the
ratios between contenders measured in one run are what to compare.
"""

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import common  # noqa: E402
from report import markdown, mfu_rows, targets  # noqa: E402

SECTIONS = ("reference", "hparams_sets", "decode", "moe", "input", "memory", "mfu")
KERAS_HUB_REFERENCE_PARAMS = 942096  # keras_hub at ff 512 (measured)
KERAS_HUB_PARAMS_PER_FF = 4 * 257   # 4 layers x (128 in + 1 bias + 128 out) per ff unit


def load():
    return list(os.getloadavg())


def run_logged(args, env=None):
    """Runs a child process to its end; returns (its output, its peak RSS MiB, info).

    The peak is `wait4`'s: the largest among the child and its descendants.
    """
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(env or {}))
    with tempfile.TemporaryFile("w+") as log:
        start = time.time()
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=HERE)
        _, status, usage = os.wait4(proc.pid, 0)
        log.seek(0)
        text = log.read()
    return text, usage.ru_maxrss / 1024.0, {"exit": os.waitstatus_to_exitcode(status),
                                            "seconds": time.time() - start}


def run_child(args, env=None):
    """Runs a child process; returns (parsed BENCH_RESULT dict or None, its peak RSS MiB, info)."""
    text, rss, info = run_logged(args, env)
    result = None
    for line in text.splitlines():
        if line.startswith(common.RESULT_PREFIX):
            result = json.loads(line[len(common.RESULT_PREFIX):])
    if result is None:
        tail = "\n".join(text.splitlines()[-15:])
        print(f"  ! {' '.join(args[1:4])} failed (exit {info['exit']}):\n{tail}", flush=True)
    return result, rss, info


def python(script, *flags):
    return [sys.executable, os.path.join(HERE, script), *flags]


def alternating(contenders, rounds, steps, warmup, threads, extra=None):
    """Runs each contender `rounds` times, order reversed every other round."""
    runs = {name: [] for name in contenders}
    order = list(contenders)
    for r in range(rounds):
        for name in (order if r % 2 == 0 else order[::-1]):
            spec = contenders[name]() if callable(contenders[name]) else contenders[name]
            before = load()
            result, rss, info = run_child(python(
                "train_contender.py", f"--contender={spec}", f"--steps={steps}",
                f"--warmup={warmup}", f"--threads={threads}", *(extra or [])))
            if result is not None:
                result.update(load_before=before, load_after=load(), rss_mib=rss, **info)
                runs[name].append(result)
                print(f"  round {r + 1} {name}: {result['steps_per_second']:.2f} steps/s, "
                      f"{result['target_tokens_per_second']:,.0f} tokens/s, "
                      f"{result['parameters']:,} params (load {before[0]:.1f})", flush=True)
    return {name: summarize(rs) for name, rs in runs.items()}


def summarize(runs):
    if not runs:
        return {"runs": [], "missing": True}
    return {"parameters": runs[0]["parameters"],
            "steps_per_second": statistics.median(r["steps_per_second"] for r in runs),
            "target_tokens_per_second": statistics.median(
                r["target_tokens_per_second"] for r in runs),
            "peak_rss_mib": max(r["rss_mib"] for r in runs),
            "runs": runs}


def torch_available():
    return importlib.util.find_spec("torch") is not None


def section_reference(args, out):
    bf16 = ("ours:transformer:" + ":".join(common.TRANSFORMER_REFERENCE)
            + ",dtype_policy=mixed_bfloat16")
    xla = "ours:transformer:" + ":".join(common.TRANSFORMER_REFERENCE) + ",xla_compile=true"
    contenders = {"ours transformer": "ours_transformer",
                  "ours transformer xla_compile": xla,
                  "ours transformer mixed_bfloat16": bf16,
                  "ours multimodel (ref size)": "ours_multimodel",
                  "keras-hub": "keras_hub",
                  "keras-hub, XLA": "keras_hub:xla"}
    if torch_available():
        contenders["pytorch nn.Transformer"] = "torch"
    else:
        out["notes"].append("PyTorch is not installed: its row is skipped "
                            "(pip install -r requirements-bench.txt).")
    out["reference"] = alternating(contenders, args.rounds, args.steps, args.warmup,
                                   args.threads)


def section_hparams_sets(args, out):
    sizes = {}

    def keras_hub_matched():
        params = sizes.get("multimodel_tiny", 2_070_000)
        ff = 512 + round((params - KERAS_HUB_REFERENCE_PARAMS) / KERAS_HUB_PARAMS_PER_FF / 8) * 8
        return f"keras_hub:{ff}"

    contenders = {"ours multimodel_tiny": "ours:multimodel:multimodel_tiny",
                  "ours transformer_tiny": "ours:transformer:transformer_tiny",
                  "keras-hub (multimodel_tiny's params)": keras_hub_matched}
    # The first round runs multimodel_tiny first; its size picks keras-hub's width.
    first, _, _ = run_child(python("train_contender.py",
                                "--contender=ours:multimodel:multimodel_tiny",
                                "--steps=1", "--warmup=1", f"--threads={args.threads}"))
    if first:
        sizes["multimodel_tiny"] = first["parameters"]
    out["hparams_sets"] = alternating(contenders, args.rounds, args.steps, args.warmup,
                                      args.threads)
    base = {"ours transformer_base": "ours:transformer:transformer_base",
            "ours multimodel_base": "ours:multimodel:multimodel_base"}
    if args.base_steps > 0:
        out["hparams_sets"].update(alternating(base, 1, args.base_steps, 1, args.threads))


def section_decode(args, out):
    out["decode"] = {}
    for model in ("transformer", "multimodel"):
        before = load()
        result, rss, info = run_child(python("decode_speed.py", f"--model={model}",
                                             f"--lengths={args.decode_lengths}"))
        if result:
            result.update(load_before=before, load_after=load(), rss_mib=rss, **info)
        out["decode"][model] = result


def section_moe(args, out):
    before = load()
    result, rss, info = run_child(python("moe_speed.py", f"--experts={args.experts}"))
    if result:
        result.update(load_before=before, load_after=load(), rss_mib=rss, **info)
    out["moe"] = result


def binaries_path():
    """PATH with this interpreter's bin directory first, where `pip install` put `t2t-*`
    (so the benchmark finds them when run as `.venv/bin/python bench/run.py`)."""
    return os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]


def ensure_data(args, problems):
    for problem in problems:
        if not any(f.startswith(problem + "-train") for f in os.listdir(args.data_dir)):
            print(f"  datagen {problem} into {args.data_dir}", flush=True)
            subprocess.run(["t2t-datagen", f"--problem={problem}",
                            f"--data_dir={args.data_dir}"], check=True,
                           env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
                                    PATH=binaries_path()))


def section_input(args, out):
    os.makedirs(args.data_dir, exist_ok=True)
    ensure_data(args, args.problems.split(","))
    before = load()
    result, rss, info = run_child(python("input_pipeline.py", f"--data_dir={args.data_dir}",
                                         f"--problems={args.problems}"))
    if result:
        result.update(load_before=before, load_after=load(), rss_mib=rss, **info)
    out["input"] = result


def section_memory(args, out):
    """Peak RSS of the demo itself: `bin/demo.sh` at `--demo_steps` steps.

    `wait4` on the script reports the largest peak among its processes
    (datagen, trainer, decoder, exporters, the SavedModel demo). The data is
    generated once into `--data_dir`/demo and reused.
    """
    with tempfile.TemporaryDirectory() as demo_dir:
        env = {"DEMO_DIR": demo_dir, "DATA": os.path.join(args.data_dir, "demo"),
               "STEPS": str(args.demo_steps),
               "PATH": binaries_path()}
        text, rss, info = run_logged(["bash", os.path.join(REPO, "bin", "demo.sh")], env)
    row = {"peak_rss_mib": rss, **info}
    if row["exit"]:
        row["log_tail"] = text[-800:]
    print(f"  bin/demo.sh ({args.demo_steps} steps): largest process peak RSS "
          f"{row['peak_rss_mib']:,.0f} MiB (exit {row['exit']}, {row['seconds']:.0f} s)",
          flush=True)
    out["memory"] = {"demo": row, "demo_steps": args.demo_steps,
                     "demo_peak_rss_mib": row["peak_rss_mib"]}


def section_mfu(args, out):
    result, _, _ = run_child(python("matmul_peak.py", f"--threads={args.threads}"))
    out["mfu"] = {"matmul_peak": result}
    if result:
        mfu_rows(out)


def finish(out, path):
    out["targets"] = targets(out)
    out["markdown"] = markdown(out)
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print(out["markdown"])
    print(f"\nwrote {path}")


def merge(args):
    """Merges the sections of several results files (e.g. two partial runs)."""
    out = None
    for path in args.merge.split(","):
        with open(path) as f:
            part = json.load(f)
        if out is None:
            out = part
            out["merged_from"] = []
        else:
            for name in SECTIONS:
                if name in part:
                    out[name] = part[name]
            out["notes"] = list(dict.fromkeys(out["notes"] + part["notes"]))
            # A run that stopped early wrote its finished sections but no end load.
            out["load_end"] = part.get("load_end", out.get("load_end"))
            out.setdefault("section_load", {}).update(part.get("section_load", {}))
            out.setdefault("section_seconds", {}).update(part.get("section_seconds", {}))
        out["merged_from"].append({"path": path, "started": part["started"],
                                   "sections": [n for n in SECTIONS if n in part]})
    if out.get("mfu", {}).get("matmul_peak"):
        mfu_rows(out)
    finish(out, args.out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(HERE, "results.json"))
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--base_steps", type=int, default=2, help="0: skip the base sets")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads per contender (TF intra/inter-op, torch)")
    parser.add_argument("--decode_lengths", default="64,256")
    parser.add_argument("--experts", default="4,16,64")
    parser.add_argument("--data_dir", default=os.path.join(tempfile.gettempdir(),
                                                           "t2t_bench_data"))
    parser.add_argument("--problems", default="algorithmic_reverse_binary40,image_digits",
                        help="the mixture of the input section")
    parser.add_argument("--demo_steps", type=int, default=1000,
                        help="training steps of the memory section's demo run (its memory "
                             "grows with new batch shapes for the first few hundred)")
    parser.add_argument("--merge", default="",
                        help="comma-separated results JSON files: merge their sections "
                             "(later files win), recompute MFU, targets and the table, "
                             "write --out; nothing is run")
    args = parser.parse_args()
    if args.merge:
        return merge(args)
    # A passive OpenMP wait policy: spinning threads (torch) collapse on a shared machine.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    sections = args.sections.split(",")
    for name in sections:
        if name not in SECTIONS:
            raise SystemExit(f"unknown section {name!r}: choose from {', '.join(SECTIONS)}. "
                             f"Received: --sections={args.sections}")
    out = {"machine": platform.platform(), "cpu_count": os.cpu_count(),
           "python": platform.python_version(), "load_start": load(), "notes": [],
           "args": vars(args), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
           "uptime_start": subprocess.run(["uptime"], capture_output=True,
                                          text=True).stdout.strip(),
           "omp_wait_policy": os.environ["OMP_WAIT_POLICY"]}
    if os.getloadavg()[0] > out["cpu_count"]:
        out["notes"].append(
            f"the machine was shared (load {out['load_start'][0]:.1f} on {out['cpu_count']} "
            "CPUs): contenders alternate so drift cancels; compare ratios, not absolutes.")
    for name in SECTIONS:
        if name in sections:
            print(f"== {name} (load {load()[0]:.1f})", flush=True)
            start = time.time()
            globals()[f"section_{name}"](args, out)
            out.setdefault("section_seconds", {})[name] = time.time() - start
            out.setdefault("section_load", {})[name] = load()
            with open(args.out, "w") as f:  # partial results survive an interrupted run
                json.dump(out, f, indent=1)
    out["load_end"] = load()
    out["uptime_end"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    finish(out, args.out)


if __name__ == "__main__":
    main()
