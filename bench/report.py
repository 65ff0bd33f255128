"""The benchmark report: the issue's target ratios and the Markdown table, from results."""

import common


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
    t["transformer xla_compile / keras-hub"] = ratio(tok.get("ours transformer xla_compile"), kh)
    t["transformer xla_compile / keras-hub, XLA"] = ratio(
        tok.get("ours transformer xla_compile"), tok.get("keras-hub, XLA"))
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
        lines.append(f"\n**Peak RSS of the demo** (`bin/demo.sh`, {m['demo_steps']} steps): "
                     f"{m['demo_peak_rss_mib']:,.0f} MiB, its largest process")
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
