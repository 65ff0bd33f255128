"""PNG plots of each cell's dev curves (matplotlib, no display needed).

```python
plots.plot_cell("joint", results_of_each_seed, "report_joint.png")
```
"""

import os


def plot_cell(name, results, path):
    """Plots a cell's dev log-perplexity and accuracy against the step.

    One line per problem and seed, from the curves in the result dicts
    (`Runner.run_cell`).

    Args:
        name: str. The cell's name (the title).
        results: list of result dicts, one per seed.
        path: str. The PNG to write.

    Returns:
        str, `path`.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, (left, right) = pyplot.subplots(1, 2, figsize=(11, 4))
    for result in results:
        for problem, curves in sorted(result.get("curves", {}).items()):
            label = f"{problem} (seed {result['seed']})"
            if "neg_log_perplexity" in curves:
                points = [(s, -v) for s, v in curves["neg_log_perplexity"]]
            else:
                points = curves.get("loss", [])
            if points:
                left.plot(*zip(*points, strict=True), marker=".", label=label)
            if curves.get("accuracy"):
                right.plot(*zip(*curves["accuracy"], strict=True), marker=".", label=label)
    left.set(title=f"{name}: dev log-perplexity (loss where none)", xlabel="step")
    right.set(title=f"{name}: dev token accuracy", xlabel="step", ylim=(0, 1))
    right.legend(fontsize="x-small", loc="best")
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=80)
    pyplot.close(figure)
    return path
