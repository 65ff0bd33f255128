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
- `memory`: peak RSS of a demo-like run (`t2t-trainer` on the mixture, then
  `t2t-decoder` and `t2t-exporter`), each process measured by `wait4`.
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
sys.path.insert(0, HERE)

import common  # noqa: E402

SECTIONS = ("reference", "hparams_sets", "decode", "moe", "input", "memory", "mfu")
KERAS_HUB_REFERENCE_PARAMS = 942096  # keras_hub at ff 512 (measured)
KERAS_HUB_PARAMS_PER_FF = 4 * 257   # 4 layers x (128 in + 1 bias + 128 out) per ff unit


def load():
    return list(os.getloadavg())


def run_child(args, env=None, timeout=3600):
    """Runs a child process; returns (parsed BENCH_RESULT dict or None, its peak RSS MiB, log)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(env or {}))
    with tempfile.TemporaryFile("w+") as log:
        start = time.time()
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=HERE)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        text = log.read()
    result = None
    for line in text.splitlines():
        if line.startswith(common.RESULT_PREFIX):
            result = json.loads(line[len(common.RESULT_PREFIX):])
    if result is None:
        tail = "\n".join(text.splitlines()[-15:])
        print(f"  ! {' '.join(args[1:4])} failed (exit {proc.returncode}):\n{tail}", flush=True)
    return result, usage.ru_maxrss / 1024.0, {"exit": proc.returncode,
                                              "seconds": time.time() - start}


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
    contenders = {"ours transformer": "ours_transformer",
                  "ours transformer mixed_bfloat16": bf16,
                  "ours multimodel (ref size)": "ours_multimodel",
                  "keras-hub": "keras_hub"}
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


def ensure_data(args, problems):
    for problem in problems:
        if not any(f.startswith(problem + "-train") for f in os.listdir(args.data_dir)):
            print(f"  datagen {problem} into {args.data_dir}", flush=True)
            subprocess.run(["t2t-datagen", f"--problem={problem}",
                            f"--data_dir={args.data_dir}"], check=True,
                           env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))


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
    os.makedirs(args.data_dir, exist_ok=True)
    ensure_data(args, args.problems.split(","))
    first = args.problems.split(",")[0]
    with tempfile.TemporaryDirectory() as train_dir:
        commands = {
            "t2t-trainer": ["t2t-trainer", f"--problem={args.problems}", "--model=multimodel",
                            "--hparams_set=multimodel_tiny",
                            "--hparams=learning_rate=0.003,learning_rate_warmup_steps=100,"
                            "label_smoothing=0.0,image_downsample_steps=1",
                            f"--data_dir={args.data_dir}", f"--output_dir={train_dir}",
                            f"--train_steps={args.demo_steps}",
                            f"--save_checkpoints_steps={args.demo_steps}",
                            f"--local_eval_frequency={args.demo_steps}", "--eval_steps=0"],
            "t2t-decoder": ["t2t-decoder", f"--output_dir={train_dir}", f"--problem={first}",
                            "--decode_hparams=beam_size=4,alpha=0.6,num_samples=50"],
            "t2t-exporter": ["t2t-exporter", f"--output_dir={train_dir}", f"--problem={first}",
                             f"--export_dir={train_dir}/export"],
        }
        rows = {}
        for name, command in commands.items():
            env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
            start = time.time()
            proc = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, env=env)
            _, status, usage = os.wait4(proc.pid, 0)
            stderr = proc.stderr.read().decode(errors="replace")
            rows[name] = {"peak_rss_mib": usage.ru_maxrss / 1024.0,
                          "exit": os.waitstatus_to_exitcode(status),
                          "seconds": time.time() - start}
            if rows[name]["exit"]:
                rows[name]["stderr_tail"] = stderr[-800:]
            print(f"  {name}: peak RSS {rows[name]['peak_rss_mib']:.0f} MiB "
                  f"(exit {rows[name]['exit']})", flush=True)
    out["memory"] = {"demo_like": rows, "demo_steps": args.demo_steps,
                     "problems": args.problems,
                     "demo_peak_rss_mib": max(r["peak_rss_mib"] for r in rows.values())}


def section_mfu(args, out):
    result, _, _ = run_child(python("matmul_peak.py", f"--threads={args.threads}"))
    out["mfu"] = {"matmul_peak": result}
    if result:
        mfu_rows(out)


def mfu_rows(out):
    """Achieved FLOP/s of the reference Transformer contenders over the matmul peak."""
    peak = out["mfu"]["matmul_peak"]["float32_flops_per_second"]
    flops = common.transformer_training_flops()
    rows = {}
    for name, row in out.get("reference", {}).items():
        if row.get("missing") or "multimodel" in name or "bfloat16" in name:
            continue
        achieved = flops * row["steps_per_second"]
        rows[name] = {"flops_per_step": flops, "achieved_flops_per_second": achieved,
                      "mfu": achieved / peak}
    out["mfu"]["rows"] = rows


def ratio(a, b):
    return a / b if a and b else None


def targets(out):
    """The issue's target ratios from this run's numbers."""
    t = {}
    ref = out.get("reference", {})
    tok = {k: v.get("target_tokens_per_second") for k, v in ref.items()}
    kh = tok.get("keras-hub")
    t["transformer / keras-hub (>= 1.2)"] = ratio(tok.get("ours transformer"), kh)
    t["transformer / pytorch (>= 1.0)"] = ratio(tok.get("ours transformer"),
                                                tok.get("pytorch nn.Transformer"))
    t["multimodel (ref size) / keras-hub"] = ratio(tok.get("ours multimodel (ref size)"), kh)
    sets = out.get("hparams_sets", {})
    t["multimodel_tiny / keras-hub of equal params (>= 1.0)"] = ratio(
        sets.get("ours multimodel_tiny", {}).get("target_tokens_per_second"),
        sets.get("keras-hub (multimodel_tiny's params)", {}).get("target_tokens_per_second"))
    for model, result in (out.get("decode") or {}).items():
        if not result:
            continue
        rows = result["rows"]
        for search in ("greedy", "beam"):
            sec = {r["path"]: r["seconds"] for r in rows
                   if r["kind"] == "decode" and r["search"] == search and r["length"] == 64}
            same = [r["identical"] for r in rows
                    if r["kind"] == "check" and r["search"] == search and r["length"] == 64]
            if len(sec) == 2:
                t[f"{model} {search} cached speed-up at 64 (>= 5), identical={all(same)}"] = (
                    sec["full_prefix"] / sec["cached"])
    moe = out.get("moe")
    if moe:
        row = moe["rows"].get("moe_16")
        t["MoE 16 experts / dense (>= 0.7)"] = row["ratio_to_dense"] if row else None
    if out.get("input"):
        t["input wait fraction (< 0.05)"] = out["input"]["wait_fraction"]
    if out.get("memory"):
        t["demo peak RSS GiB (< 4)"] = out["memory"]["demo_peak_rss_mib"] / 1024
    return t


def markdown(out):
    lines = []
    for key, title in (("reference", "Training, reference workload"),
                       ("hparams_sets", "Training, hparams sets (same batches)")):
        if key not in out:
            continue
        lines += [f"\n**{title}** (batch 64 x 40, median of runs)\n",
                  "| contender | parameters | steps/s | target tokens/s | peak RSS MiB |",
                  "|---|---:|---:|---:|---:|"]
        for name, row in out[key].items():
            if row.get("missing"):
                lines.append(f"| {name} | - | failed | - | - |")
                continue
            lines.append(f"| {name} | {row['parameters']:,} | {row['steps_per_second']:.2f} | "
                         f"{row['target_tokens_per_second']:,.0f} | {row['peak_rss_mib']:,.0f} |")
    if out.get("decode"):
        lines += ["\n**Decoding** (batch 8, EOS masked so every decode runs the full length)\n",
                  "| model | search | length | cached s | full-prefix s | speed-up | identical |",
                  "|---|---|---:|---:|---:|---:|---|"]
        for model, result in out["decode"].items():
            if not result:
                continue
            decode = [r for r in result["rows"] if r["kind"] == "decode"]
            for search in ("greedy", "beam"):
                for length in sorted({r["length"] for r in decode}):
                    sec = {r["path"]: r["seconds"] for r in decode
                           if r["search"] == search and r["length"] == length}
                    same = [r["identical"] for r in result["rows"] if r["kind"] == "check"
                            and r["search"] == search and r["length"] == length]
                    if len(sec) == 2:
                        lines.append(
                            f"| {model} | {search} | {length} | {sec['cached']:.2f} | "
                            f"{sec['full_prefix']:.2f} | "
                            f"{sec['full_prefix'] / sec['cached']:.1f}x | {all(same)} |")
    if out.get("moe"):
        moe = out["moe"]
        lines += [f"\n**MoE vs dense** (train step, {moe['tokens_per_step']} tokens of "
                  f"{moe['hidden']}, top-{moe['k']} experts of {moe['expert_hidden']} vs "
                  f"dense {moe['dense_filter']})\n",
                  "| layer | tokens/s | ratio to dense |", "|---|---:|---:|"]
        for name, row in moe["rows"].items():
            lines.append(f"| {name} | {row['tokens_per_second']:,.0f} | "
                         f"{row['ratio_to_dense']:.2f} |")
    if out.get("input"):
        i = out["input"]
        lines.append(f"\n**Input pipeline** ({', '.join(i['problems'])}, {i['hparams_set']}): "
                     f"wait {i['wait_fraction']:.1%} of step time")
    if out.get("memory"):
        m = out["memory"]
        parts = ", ".join(f"{k} {v['peak_rss_mib']:,.0f} MiB"
                          for k, v in m["demo_like"].items())
        lines.append(f"\n**Peak RSS, demo-like run** ({m['demo_steps']} steps): {parts}")
    if out.get("mfu", {}).get("matmul_peak"):
        peak = out["mfu"]["matmul_peak"]
        lines.append(f"\n**MFU**: measured matmul peak "
                     f"{peak['float32_flops_per_second'] / 1e9:.1f} GFLOP/s float32, "
                     f"{peak['bfloat16_flops_per_second'] / 1e9:.1f} GFLOP/s bfloat16")
        for name, row in out["mfu"].get("rows", {}).items():
            lines.append(f"- {name}: {row['achieved_flops_per_second'] / 1e9:.1f} GFLOP/s "
                         f"= {row['mfu']:.1%} of peak")
    lines += ["\n**Targets** (ratios from this run)\n", "| target | value |", "|---|---:|"]
    for name, value in out["targets"].items():
        lines.append(f"| {name} | {'-' if value is None else f'{value:.2f}'} |")
    lines.append(f"\nLoad average (1/5/15 min) at start {out['load_start']}, "
                 f"at end {out['load_end']}; {out['cpu_count']} CPUs.")
    for note in out["notes"]:
        lines.append(f"\nNote: {note}")
    return "\n".join(lines)


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
            out["load_end"] = part["load_end"]
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
                        help="the mixture of the input and memory sections")
    parser.add_argument("--demo_steps", type=int, default=100)
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
