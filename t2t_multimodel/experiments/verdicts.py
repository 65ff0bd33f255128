"""Mean ± std over seeds, and whether each of the paper's claims holds here.

Every claim is decided on per-token dev accuracy, the number the paper's
Tables 2-4 report beside log-perplexity, as a mean over seeds:

* "about as good" / "not worse": `a >= b - max(TOLERANCE * |b|, noise)`;
* "better": `a > b + noise`;

where `noise` is the combined standard deviation over seeds of the two
cells, `sqrt(std_a^2 + std_b^2)` (0 with one seed).
"""

import math

TOLERANCE = 0.05  # "about as good": within 5% of the other (relative)


def mean_std(values):
    """(mean, sample standard deviation, n) of the non-None `values`; std 0 for n < 2."""
    values = [float(v) for v in values if v is not None]
    n = len(values)
    if n == 0:
        return None, None, 0
    mean = sum(values) / n
    if n < 2:
        return mean, 0.0, n
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)), n


def format_mean_std(values, digits=3):
    """"0.512 ± 0.010" over seeds ("0.512" for one seed, "–" for none)."""
    mean, std, n = mean_std(values)
    if n == 0:
        return "–"
    return f"{mean:.{digits}f}" if n == 1 else f"{mean:.{digits}f} ± {std:.{digits}f}"


def noise(a, b):
    """The combined standard deviation over seeds of two cells' values."""
    return math.hypot(mean_std(a)[1] or 0.0, mean_std(b)[1] or 0.0)


def not_worse(a, b, tolerance=TOLERANCE):
    """Whether values `a` are about as good as `b` (higher is better)."""
    mean_a, mean_b = mean_std(a)[0], mean_std(b)[0]
    return mean_a >= mean_b - max(tolerance * abs(mean_b), noise(a, b))


def better(a, b):
    """Whether values `a` beat `b` by more than the seeds' spread (higher is better)."""
    return mean_std(a)[0] > mean_std(b)[0] + noise(a, b)


def verdict(holds):
    """The report's wording of a claim's outcome."""
    return "**holds**" if holds else "**does not hold at this scale**"


def _mean(values):
    return f"{mean_std(values)[0]:.3f}"


def caveat(*value_lists):
    """" One seed: ..." when a cell has fewer than 2 seeds (its spread is unknown)."""
    if any(mean_std(v)[2] < 2 for v in value_lists):
        return (" One seed: the spread over seeds is unknown, so any difference decides; "
                "run --seeds=3 before trusting it.")
    return ""


def _missing(pairs):
    return [name for name, values in pairs if mean_std(values)[2] == 0]


def table2_claims(joint, single, parsing):
    """The claim lines of Table 2.

    Args:
        joint, single: {problem: [accuracy per seed]} of the joint and the
            single-problem cells.
        parsing: str. The data-poor problem.

    Returns:
        list of str (Markdown lines).
    """
    rich = [p for p in joint if p != parsing]
    lines = []
    missing = _missing([(f"joint {p}", joint.get(p)) for p in joint]
                       + [(f"single {p}", single.get(p)) for p in joint])
    if missing:
        return [f"- Not decided: no results for {', '.join(missing)}."]
    if rich:
        worse = [p for p in rich if not not_worse(joint[p], single[p])]
        numbers = "; ".join(f"{p} {_mean(joint[p])} vs {_mean(single[p])}" for p in rich)
        lines.append(
            f"- Joint is about as good as single on the data-rich problems (accuracy within "
            f"{TOLERANCE:.0%} or the seeds' spread): {verdict(not worse)}"
            + (f" (worse on {', '.join(worse)})" if worse else "")
            + f". Accuracy joint vs single: {numbers}."
            + caveat(*(joint[p] for p in rich), *(single[p] for p in rich)))
    holds = better(joint[parsing], single[parsing])
    lines.append(f"- Joint is better on the data-poor problem ({parsing}): {verdict(holds)}. "
                 f"Accuracy joint {_mean(joint[parsing])} vs single {_mean(single[parsing])}"
                 f" (spread {noise(joint[parsing], single[parsing]):.3f})."
                 + caveat(joint[parsing], single[parsing]))
    return lines


def equal_updates_line(comparisons):
    """A mixture's run against the same problem alone at about equal updates.

    A run on a mixture of k problems gives each about `train_steps / k`
    updates; the problem's run alone has had as many at an earlier
    evaluation. The mixture about as good there but not at the end points at
    the budget the problems share, not at the problems hurting each other.

    Args:
        comparisons: list of `(name, mixed, updates, alone, alone_step)`:
            the mixture run's accuracy per seed at its end (`updates` steps
            of the problem) and the single run's at its first evaluation at
            or after `updates` (`alone_step`); `alone` may be empty (left out).

    Returns:
        str (a Markdown line), or None when no pair has results.
    """
    comparisons = [c for c in comparisons if mean_std(c[3])[2] and mean_std(c[1])[2]]
    if not comparisons:
        return None
    held = [name for name, mixed, _, alone, _ in comparisons if not_worse(mixed, alone)]
    numbers = "; ".join(
        f"{name} {_mean(mixed)} after about {updates} updates vs {_mean(alone)} at step "
        f"{step} alone" for name, mixed, updates, alone, step in comparisons)
    return ("- At about equal updates of the problem (the mixture run's end vs the problem "
            "alone at its first evaluation with as many or more): the mixture about as good or "
            f"better on {len(held)} of {len(comparisons)}"
            + (f" ({', '.join(held)})" if held else "") + f". Accuracy: {numbers}. Where the "
            "mixture keeps up here but not at the end, the end gap is the budget the problems "
            "share, not the problems hurting each other.")


def table3_claims(alone, with_image, with_all, image):
    """The claim lines of Table 3, from lists of parsing accuracy per seed."""
    missing = _missing([("alone", alone), ("with image", with_image), ("with all", with_all)])
    if missing:
        return [f"- Not decided: no results for {', '.join(missing)}."]
    return [
        f"- Image data ({image}) helps parsing: {verdict(better(with_image, alone))}. Accuracy "
        f"with {image} {_mean(with_image)} vs alone {_mean(alone)} "
        f"(spread {noise(with_image, alone):.3f})." + caveat(with_image, alone),
        f"- All problems together help parsing: {verdict(better(with_all, alone))}. Accuracy "
        f"with all {_mean(with_all)} vs alone {_mean(alone)} "
        f"(spread {noise(with_all, alone):.3f})." + caveat(with_all, alone),
    ]


def table4_claims(full, no_moe, no_attention, language, image):
    """The claim lines of Table 4.

    Args:
        full, no_moe, no_attention: {problem: [accuracy per seed]}.
        language: list of str. The language problems.
        image: str. The image problem.
    """
    pairs = [(f"{cell} {p}", values.get(p))
             for cell, values in (("full", full), ("no MoE", no_moe),
                                  ("no attention", no_attention)) for p in full]
    missing = _missing(pairs)
    if missing:
        return [f"- Not decided: no results for {', '.join(missing)}."]
    hurt = [f"{name} on {p}" for p in full
            for name, ablated in (("the MoE", no_moe), ("attention", no_attention))
            if not not_worse(full[p], ablated[p])]
    numbers = "; ".join(f"{p} {_mean(full[p])} / {_mean(no_moe[p])} / {_mean(no_attention[p])}"
                        for p in full)
    lines = [f"- The blocks never hurt (full within {TOLERANCE:.0%} or the seeds' spread of "
             f"each ablation, or better): {verdict(not hurt)}"
             + (f" (hurt: {', '.join(hurt)})" if hurt else "")
             + f". Accuracy full / no MoE / no attention: {numbers}."
             + caveat(*full.values(), *no_moe.values(), *no_attention.values())]

    def drop(p):
        return mean_std(full[p])[0] - mean_std(no_attention[p])[0]

    language_drop = sum(drop(p) for p in language) / len(language)
    lines.append(
        f"- Attention matters most for language: {verdict(language_drop > drop(image))}. "
        f"Accuracy lost without attention: language ({', '.join(language)}) "
        f"{language_drop:+.3f} on average vs {image} {drop(image):+.3f}."
        + caveat(*(full[p] for p in language + [image]),
                 *(no_attention[p] for p in language + [image])))
    return lines
