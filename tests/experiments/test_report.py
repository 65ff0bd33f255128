"""The Markdown report from hand-made results, and the result helpers."""

import json
import os

from t2t_multimodel.experiments import cells, report, results, roles

REVERSE = "algorithmic_reverse_binary40_test"
DIGITS = "image_digits"


def _result(cell, seed, metrics):
    # Dev curves evaluated at steps 300 and 600, 0.1 below the end at 300.
    curves = {p: {"accuracy": [[300, m["accuracy"] - 0.1], [600, m["accuracy"]]]}
              for p, m in metrics.items()}
    return {"cell": cell, "seed": seed, "metrics": metrics, "hparams": "seed=1",
            "problem": cell, "wall_seconds": 10.0, "curves": curves,
            "primary": {REVERSE: ["decode_accuracy_per_sequence", False],
                        DIGITS: ["decode_accuracy", False]}}


def _metrics(reverse_accuracy, digits_accuracy):
    return {REVERSE: {"accuracy": reverse_accuracy, "neg_log_perplexity": -1.5,
                      "decode_accuracy_per_sequence": 0.25},
            DIGITS: {"accuracy": digits_accuracy, "loss": 2.0, "decode_accuracy": 0.5}}


def test_the_report_has_every_table_row_and_claim():
    the_roles = roles.Roles(f"{REVERSE},{DIGITS}", parsing=REVERSE, image=DIGITS,
                            language=[REVERSE])
    tables = ["2", "3", "4"]
    unique, entries = cells.unique_cells(tables, the_roles)
    accuracy = {"joint": (0.6, 0.9), f"single-{REVERSE}": (0.5, None),
                f"single-{DIGITS}": (None, 0.9), "no_moe": (0.55, 0.9),
                "no_attention": (0.3, 0.9)}
    outcomes = {}
    for cell in unique:
        rev, dig = accuracy[cell.name]
        outcomes[cell.name] = [
            _result(cell.name, seed, {p: m for p, m in _metrics(
                rev and rev + 0.01 * seed, dig and dig + 0.01 * seed).items()
                if p in cell.problems}) for seed in (0, 2)]
    context = dict(command="t2t-experiments --table=all", train_steps=600, seeds=2,
                   model="multimodel", hparams_set="multimodel_tiny", hparams="a=1",
                   eval_steps=20, eval_decode_samples=100, wall_seconds=120.0,
                   output_dir="/x")
    text = report.markdown(tables, entries, outcomes, the_roles, context, {"joint": "r_joint.png"},
                           notes="Why it came out so.\n")
    assert "**600 steps per run**" in text and "each gets about 300 of them" in text
    assert "`t2t-experiments --table=all`" in text
    # Mean ± std over the two seeds; the image problem's loss marked †.
    assert f"| {REVERSE} | joint | `joint` | 1.500 ± 0.000 | 0.610 ± 0.014 | exact match |" in text
    assert f"| {DIGITS} | single | `single-{DIGITS}` | 2.000 ± 0.000 † | 0.910 ± 0.014 |" in text
    assert "| top-1 | 0.50 ± 0.00 |" in text
    lines = text.splitlines()
    verdict_lines = [line for line in lines if "**holds**" in line or "not hold" in line]
    assert len(verdict_lines) == 6, verdict_lines
    # joint beats single on parsing (0.61 vs 0.51), attention matters for language.
    assert any("data-poor" in line and "**holds**" in line for line in verdict_lines)
    assert any("Attention matters" in line and "**holds**" in line for line in verdict_lines)
    # The mixtures' ends (300 updates of each problem) vs the singles at step 300:
    # Table 2 (joint vs single) and Table 3 (parsing with digits / with all: the joint run).
    assert text.count("- At about equal updates of the problem") == 2, text
    assert ("better on 2 of 2 (" + REVERSE + ", " + DIGITS + "). Accuracy: " + REVERSE
            + " 0.610 after about 300 updates vs 0.410 at step 300 alone; " + DIGITS
            + " 0.910 after about 300 updates vs 0.810 at step 300 alone.") in text, text
    assert (f"Accuracy: {REVERSE} with {DIGITS} 0.610 after about 300 updates vs 0.410 at step "
            f"300 alone; {REVERSE} with all 0.610 after") in text, text
    assert "![joint](r_joint.png)" in text
    assert "\n## Discussion\n\nWhy it came out so.\n\n## Runs\n" in text
    # The runs table names each cell's own problem and overrides (not the results' copy).
    assert f"| `no_moe` | {the_roles.joint} | use_moe=false | 2 | 20 |" in text, text
    assert f"| `single-{DIGITS}` | {DIGITS} | – | 2 | 20 |" in text
    # 5 cells x 2 seeds x 10 s, over all sessions; this invocation's 2 minutes apart.
    assert "2.0 min for this invocation" in text
    assert "all runs' training and eval 0.0 h (100 s), from their event times" in text


def test_results_per_problem_curves_and_atomic_json(tmp_path):
    events = {3: {f"{REVERSE}/accuracy": 0.2, f"{DIGITS}/accuracy": 0.5},
              6: {f"{REVERSE}/accuracy": 0.4, f"{DIGITS}/accuracy": 0.7}}
    step, final = results.final_metrics(events, [REVERSE, DIGITS])
    assert step == 6 and final == {REVERSE: {"accuracy": 0.4}, DIGITS: {"accuracy": 0.7}}
    assert results.curves(events, [REVERSE, DIGITS])[DIGITS] == {"accuracy": [[3, 0.5],
                                                                             [6, 0.7]]}
    assert results.per_problem({"accuracy": 0.3}, [DIGITS]) == {DIGITS: {"accuracy": 0.3}}
    path = str(tmp_path / "result.json")
    results.write_json(path, {"a": 1})
    assert json.load(open(path)) == {"a": 1} and os.listdir(tmp_path) == ["result.json"]
    open(path, "w").write('{"a": ')  # a torn file is as good as none: the cell runs again
    assert results.read_json(path) is None


def test_eval_events_of_two_sessions_and_a_torn_file(tmp_path):
    from t2t_multimodel.training import summaries

    run_dir = str(tmp_path)
    first = summaries.Summaries(run_dir)
    first.scalars("eval", {"accuracy": 0.25}, 3)
    first.scalars("eval", {"accuracy": 0.5}, 6)  # killed before its checkpoint of step 6
    first.close()
    second = summaries.Summaries(run_dir)  # resumed from step 3
    second.scalars("eval", {"accuracy": 0.75}, 6)
    second.close()
    assert results.read_eval_events(run_dir) == {3: {"accuracy": 0.25}, 6: {"accuracy": 0.75}}
    newest = max((os.path.join(run_dir, "eval", f) for f in os.listdir(run_dir + "/eval")),
                 key=os.path.getmtime)
    with open(newest, "r+b") as f:
        f.truncate(os.path.getsize(newest) - 5)
    assert results.read_eval_events(run_dir) == {3: {"accuracy": 0.25}, 6: {"accuracy": 0.5}}
