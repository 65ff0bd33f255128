"""`run_tables`: trains the cells of the chosen tables and writes the report."""

import contextlib
import os
import time

from t2t_multimodel.experiments import cells as cells_lib
from t2t_multimodel.experiments import plots, report


@contextlib.contextmanager
def graph_optimizations(enabled):
    """Turns TF's graph optimizer (grappler) off inside the block when not `enabled`.

    `--quick` runs take a few steps, too few to pay back grappler's time on
    each newly traced step (about half of the first call of a MultiModel
    train step); the results are the same up to float rounding.
    """
    if enabled:
        yield
        return
    import tensorflow as tf

    before = tf.config.optimizer.get_experimental_options()
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options(
            {"disable_meta_optimizer": before.get("disable_meta_optimizer", False)})


def run_tables(tables, roles, runner, report_path, command, optimize_graphs=True):
    """Runs the cells of `tables` with `runner`; writes the report and plots.

    Args:
        tables: str or list. `--table`: "2,3,4", "all", ...
        roles: `Roles`.
        runner: `Runner`.
        report_path: str. The Markdown report; the PNGs go beside it as
            `<report name>_<cell>.png`.
        command: str. The command line, quoted in the report.
        optimize_graphs: bool. False turns grappler off (`--quick`).

    Returns:
        (report text, {cell name: [result per seed]}).

    Raises:
        T2TError: an unknown table or problem, missing data (naming the
            t2t-datagen command), or a training error.
    """
    began = time.time()
    tables = cells_lib.parse_tables(tables) if isinstance(tables, str) else list(tables)
    cells, entries = cells_lib.unique_cells(tables, roles)
    runner.check_data(cells)
    runner.log_fn(f"Tables {', '.join(tables)}: {len(cells)} cells x {len(runner.seeds)} "
                  f"seed(s), {runner.train_steps} steps each: "
                  + ", ".join(cell.name for cell in cells))
    with graph_optimizations(optimize_graphs):
        outcomes = runner.run(cells)
    stem = os.path.splitext(os.path.abspath(report_path))[0]
    pictures = {}
    for name, results in outcomes.items():
        path = plots.plot_cell(name, results, f"{stem}_{name}.png")
        pictures[name] = os.path.basename(path)
    context = dict(command=command, train_steps=runner.train_steps, seeds=len(runner.seeds),
                   model=runner.model, hparams_set=runner.hparams_set, hparams=runner.hparams,
                   eval_steps=runner.eval_steps, eval_decode_samples=runner.eval_decode_samples,
                   wall_seconds=time.time() - began, output_dir=runner.output_dir)
    text = report.markdown(tables, entries, outcomes, roles, context, pictures)
    report.write(report_path, text)
    runner.log_fn(f"Wrote {report_path}")
    return text, outcomes
