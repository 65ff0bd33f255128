"""PNG plots of each cell's dev curves (matplotlib, no display needed).

```python
plots.plot_cell("joint", results_of_each_seed, "report_joint.png")
```
"""

import os


def plot_cell(name, results, path):
    """Plots a cell's dev log-perplexity and accuracy against the step.

    One line per problem and seed, from the curves in the result dicts
    (`Runner.run_cell`): a colour per problem, a line style per seed.

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
    from matplotlib.lines import Line2D

    problems = sorted({p for result in results for p in result.get("curves", {})})
    colors = {p: f"C{i % 10}" for i, p in enumerate(problems)}
    styles = ("-", "--", ":", "-.")
    seeds = [result["seed"] for result in results]
    figure, (left, right) = pyplot.subplots(1, 2, figsize=(13, 4.2))
    for i, result in enumerate(results):
        for problem, curves in result.get("curves", {}).items():
            look = dict(color=colors[problem], linestyle=styles[i % len(styles)], marker=".")
            if "neg_log_perplexity" in curves:
                points = [(s, -v) for s, v in curves["neg_log_perplexity"]]
            else:
                points = curves.get("loss", [])
            if points:
                left.plot(*zip(*points, strict=True), **look)
            if curves.get("accuracy"):
                right.plot(*zip(*curves["accuracy"], strict=True), **look)
    left.set(title=f"{name}: dev log-perplexity (loss where none)", xlabel="step")
    right.set(title=f"{name}: dev token accuracy", xlabel="step", ylim=(0, 1))
    # One colour per problem, one line style per seed, the key outside the axes.
    handles = [Line2D([], [], color=colors[p], label=p) for p in problems]
    handles += [Line2D([], [], color="black", linestyle=styles[i % len(styles)],
                       label=f"seed {seed}") for i, seed in enumerate(seeds)]
    figure.legend(handles=handles, loc="center right", fontsize="small", frameon=False)
    figure.tight_layout(rect=(0, 0, 0.78, 1))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=80)
    pyplot.close(figure)
    return path
