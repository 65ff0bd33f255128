"""`run_tables`: trains the cells of the chosen tables and writes the report."""

import os
import time

from t2t_multimodel.errors import T2TError
from t2t_multimodel.experiments import cells as cells_lib
from t2t_multimodel.experiments import plots, report
from t2t_multimodel.training.graph_optimizations import graph_optimizations


def run_tables(tables, roles, runner, report_path, command, optimize_graphs=True,
               report_only=False, train_only=False, train_elsewhere=None, notes=None):
    """Runs the cells of `tables` with `runner`; writes the report and plots.

    Args:
        tables: str or list. `--table`: "2,3,4", "all", ...
        roles: `Roles`.
        runner: `Runner`.
        report_path: str. The Markdown report; the PNGs go beside it as
            `<report name>_<cell>.png`.
        command: str. The command line, quoted in the report.
        optimize_graphs: bool. False turns grappler off (`--quick`).
        report_only: bool. Trains nothing: the report of the runs finished so
            far (`--report_only`; the others show "–", their claims "Not
            decided").
        train_only: bool. Trains and writes no report (returns None for it;
            with the runner's `max_runs`, the outcomes hold the runs done).
        train_elsewhere: callable or None. Trains the runs in other processes
            (`workers.train_in_workers`), called with a function that counts
            the runs not finished yet; the results are then read back.
        notes: str or None. Markdown added as the report's discussion.

    Returns:
        (report text, {cell name: [result per seed]}).

    Raises:
        T2TError: an unknown table or problem, missing data (naming the
            t2t-datagen command), or a training error.
    """
    began = time.time()
    tables = cells_lib.parse_tables(tables) if isinstance(tables, str) else list(tables)
    cells, entries = cells_lib.unique_cells(tables, roles)
    if report_only:
        outcomes = runner.finished(cells)
    else:
        runner.check_data(cells)
        runner.log_fn(f"Tables {', '.join(tables)}: {len(cells)} cells x {len(runner.seeds)} "
                      f"seed(s), {runner.train_steps} steps each: "
                      + ", ".join(cell.name for cell in cells))
        if train_elsewhere:
            train_elsewhere(lambda: sum(len(runner.seeds) - len(results)
                                        for results in runner.finished(cells).values()))
            outcomes = runner.finished(cells)
            missing = [f"{name} ({len(results)} of {len(runner.seeds)})"
                       for name, results in outcomes.items() if len(results) < len(runner.seeds)]
            if missing:
                raise T2TError(f"the workers ended without results for {', '.join(missing)}; "
                               "rerun the same command to resume them. "
                               f"Received: output_dir={runner.output_dir}")
        else:
            with graph_optimizations(optimize_graphs):
                outcomes = runner.run(cells)
    if train_only:
        return None, outcomes
    stem = os.path.splitext(os.path.abspath(report_path))[0]
    pictures = {}
    for name, results in outcomes.items():
        if not results:
            continue
        path = plots.plot_cell(name, results, f"{stem}_{name}.png")
        pictures[name] = os.path.basename(path)
    context = dict(command=command, train_steps=runner.train_steps, seeds=len(runner.seeds),
                   model=runner.model, hparams_set=runner.hparams_set, hparams=runner.hparams,
                   eval_steps=runner.eval_steps, eval_decode_samples=runner.eval_decode_samples,
                   wall_seconds=time.time() - began, output_dir=runner.output_dir)
    text = report.markdown(tables, entries, outcomes, roles, context, pictures, notes)
    report.write(report_path, text)
    runner.log_fn(f"Wrote {report_path}")
    return text, outcomes
