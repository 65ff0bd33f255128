"""The Markdown report of the experiments: each table, its claims, the plots.

```python
text = report.markdown(tables, entries, outcomes, roles, context)
```

`outcomes` is `Runner.run`'s {cell name: [result dict per seed]}; a table
row gives, per problem and cell, the mean ± std over seeds of the dev
log-perplexity, per-token accuracy and the problem's real metric (from
greedy decodes of held-out examples), then a line per claim of the paper
(`verdicts.py`) saying whether it holds here, with the deciding numbers.
"""

import os

from t2t_multimodel.data import shards
from t2t_multimodel.experiments import cells as cells_lib
from t2t_multimodel.experiments import verdicts

METRIC_NAMES = {
    "decode_bleu": "BLEU",
    "decode_chrf": "chrF",
    "decode_word_error_rate": "WER",
    "decode_bracket_f1": "bracket F1",
    "decode_bracket_f1_constrained": "bracket F1 (well-formed decodes)",
    "decode_malformed_tree_rate": "malformed trees",
    "decode_accuracy": "top-1",
    "decode_accuracy_top5": "top-5",
    "decode_accuracy_per_sequence": "exact match",
}

CLAIMS = {
    "2": "one model trained jointly on all problems is about as good as single-task models on "
         "the data-rich problems and better on the data-poor one (parsing)",
    "3": "image data helps parsing",
    "4": "the mixture-of-experts and attention blocks never hurt, and attention matters most "
         "for language",
}


def log_perplexity(metrics):
    """(value, exact) of a problem's dev log-perplexity: minus `neg_log_perplexity`,
    else the eval loss (classification problems report no perplexity; their
    loss adds the MoE's balancing loss), marked inexact."""
    if "neg_log_perplexity" in metrics:
        return -metrics["neg_log_perplexity"], True
    return metrics.get("loss"), False


def values(outcomes, cell, problem, what):
    """One number per seed of `cell` on `problem`: "log_ppl", "accuracy" or "real"."""
    out = []
    for result in outcomes.get(cell.name, []):
        metrics = result.get("metrics", {}).get(problem, {})
        if what == "log_ppl":
            out.append(log_perplexity(metrics)[0])
        elif what == "real":
            out.append(metrics.get(result["primary"][problem][0]))
        else:
            out.append(metrics.get(what))
    return out


def _real_name(outcomes, cell, problem):
    for result in outcomes.get(cell.name, []):
        key, lower = result["primary"][problem]
        return METRIC_NAMES.get(key, key.removeprefix("decode_")) + (" ↓" if lower else "")
    return "–"


def _exact(outcomes, cell, problem):
    return all(log_perplexity(r.get("metrics", {}).get(problem, {}))[1]
               for r in outcomes.get(cell.name, []))


def table_rows(entries, outcomes):
    """The Markdown table of one table's entries."""
    lines = ["| problem | cell | run | log-perplexity | accuracy | real metric | value |",
             "|---|---|---|---:|---:|---|---:|"]
    for problem, column, cell in entries:
        mark = "" if _exact(outcomes, cell, problem) else " †"
        lines.append(
            f"| {problem} | {column} | `{cell.name}` | "
            f"{verdicts.format_mean_std(values(outcomes, cell, problem, 'log_ppl'))}{mark} | "
            f"{verdicts.format_mean_std(values(outcomes, cell, problem, 'accuracy'))} | "
            f"{_real_name(outcomes, cell, problem)} | "
            f"{verdicts.format_mean_std(values(outcomes, cell, problem, 'real'), 2)} |")
    return lines


def evaluation_at(outcomes, cell, problem, step):
    """(step, [accuracy per seed]) of a cell's first dev evaluation of `problem`
    at or after `step` ((None, []) if none)."""
    points = []
    for result in outcomes.get(cell.name, []):
        curve = result.get("curves", {}).get(problem, {}).get("accuracy", [])
        points += [next(((s, v) for s, v in curve if s >= step), (None, None))]
    steps = {s for s, _ in points}
    if not points or len(steps) != 1 or None in steps:
        return None, []
    return steps.pop(), [v for _, v in points]


def equal_updates(table, entries, outcomes, train_steps):
    """The `equal_updates_line` of Table 2 (joint vs each single) or Table 3
    (parsing with image / with all vs alone); None where it does not apply."""
    if table not in ("2", "3"):
        return None
    alone = {problem: cell for problem, column, cell in entries
             if column in ("single", "alone")}
    comparisons = []
    for problem, column, cell in entries:
        if cell.name == alone.get(problem, cell).name or not outcomes.get(cell.name):
            continue
        updates = train_steps // len(cell.problems)
        step, early = evaluation_at(outcomes, alone[problem], problem, updates)
        name = problem if table == "2" else f"{problem} {column}"
        comparisons.append((name, values(outcomes, cell, problem, "accuracy"), updates, early,
                            step))
    return verdicts.equal_updates_line(comparisons)


def claims(table, entries, outcomes, roles, train_steps=None):
    """The claim lines of `table` (see `verdicts.py`); with `train_steps`,
    Tables 2 and 3 add their comparison at about equal updates."""
    accuracy = {}
    for problem, column, cell in entries:
        accuracy.setdefault(column, {})[problem] = values(outcomes, cell, problem, "accuracy")
    if table == "2":
        lines = verdicts.table2_claims(accuracy["joint"], accuracy["single"], roles.parsing)
    elif table == "3":
        columns = list(accuracy)
        lines = verdicts.table3_claims(*(accuracy[c][roles.parsing] for c in columns),
                                       image=roles.image)
    else:
        return verdicts.table4_claims(accuracy["full"], accuracy["no MoE"],
                                      accuracy["no attention"], roles.language, roles.image)
    extra = equal_updates(table, entries, outcomes, train_steps) if train_steps else None
    return lines + ([extra] if extra else [])


def markdown(tables, entries, outcomes, roles, context, plots=None, notes=None):
    """The whole report.

    Args:
        tables: list of str. The tables run ("2", "3", "4").
        entries: {table: [(problem, column, Cell)]} (`cells.unique_cells`).
        outcomes: {cell name: [result dict per seed]}.
        roles: `Roles`.
        context: dict with `command`, `train_steps`, `seeds`, `model`,
            `hparams_set`, `hparams`, `eval_steps`, `eval_decode_samples`,
            `wall_seconds`, `output_dir`.
        plots: {cell name: path of its PNG, relative to the report}.
        notes: str or None. Markdown added after the tables as "Discussion".

    Returns:
        str.
    """
    plots = plots or {}
    k = len(roles.joint_problems)
    lines = [
        '# "One Model To Learn Them All" in miniature',
        "",
        f"Command: `{context['command']}`",
        "",
        f"- Model `{context['model']}`, hparams set `{context['hparams_set']}` with "
        f"`{context['hparams'] or '(no overrides)'}`.",
        f"- Budget: **{context['train_steps']} steps per run**, the same for a single problem "
        f"and for the joint mixture of {k} problems (sampled {roles.mixture.schedule}ly: "
        f"each gets about {context['train_steps'] // k} of them). {context['seeds']} seed(s) "
        "per cell: "
        "mean ± std over seeds.",
        f"- Dev numbers: log-perplexity and per-token accuracy over {context['eval_steps']} "
        f"dev batches (teacher-forced); the real metric from greedy decodes of the first "
        f"{context['eval_decode_samples']} dev examples (↓: lower is better). † marks the eval "
        "loss where a problem reports no log-perplexity (it includes the MoE balancing loss).",
        f"- The claims are decided on accuracy, the paper's number: \"about as good\" / "
        f"\"never hurt\" = within {verdicts.TOLERANCE:.0%} or the seeds' spread, "
        "\"better\" / \"helps\" = ahead by more than the seeds' spread.",
        f"- Wall time: {context['wall_seconds'] / 60:.1f} min for this invocation "
        "(finished cells are reused, not re-run); all runs' training and eval "
        f"{_total_seconds(outcomes) / 3600:.1f} h ({_total_seconds(outcomes):,.0f} s), "
        "from their event times over all sessions (pauses "
        "under 10 minutes count, longer gaps are a run stopped and resumed and do not; "
        f"the step builds of each session are not counted). Runs in `{context['output_dir']}`.",
    ]
    unfinished = {name: len(results) for name, results in outcomes.items()
                  if len(results) < context["seeds"]}
    if unfinished:
        total = len(outcomes) * context["seeds"]
        lines.append(
            f"- **Interim report: {sum(context['seeds'] - n for n in unfinished.values())} of "
            f"{total} runs have not finished** ("
            + ", ".join(f"`{name}` {n} of {context['seeds']}" for name, n in unfinished.items())
            + "): a row gives the mean over its finished seeds; a claim is decided on them, "
            "and not decided while one of its cells has none.")
    lines.append("")
    for table in tables:
        lines += [f"## {cells_lib.TITLES[table]}", "", f"Paper's claim: {CLAIMS[table]}.", ""]
        lines += table_rows(entries[table], outcomes) + [""]
        lines += claims(table, entries[table], outcomes, roles, context["train_steps"]) + [""]
        shown = list(dict.fromkeys(cell.name for _, _, cell in entries[table]))
        lines += [f"![{name}]({plots[name]})" for name in shown if name in plots] + [""]
    if notes:
        lines += ["## Discussion", "", notes.strip(), ""]
    lines += ["## Runs", "", "| run | trains on | overrides | seeds | train + eval time (s) |",
              "|---|---|---|---:|---:|"]
    cells = {cell.name: cell for table in tables for _, _, cell in entries[table]}
    for name, results in outcomes.items():
        wall = sum(r.get("wall_seconds", 0.0) for r in results)
        lines.append(f"| `{name}` | {cells[name].problem} | {cells[name].overrides or '–'} | "
                     f"{len(results)} | {wall:.0f} |")
    return "\n".join(lines) + "\n"


def _total_seconds(outcomes):
    return sum(r.get("wall_seconds", 0.0) for results in outcomes.values() for r in results)


def write(path, text):
    """Writes the report to `path` (its directory is created)."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    shards.write_text_atomically(path, text)
