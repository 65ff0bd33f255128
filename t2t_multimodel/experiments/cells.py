"""The paper's Tables 2-4 as sets of training runs ("cells").

A `Cell` is one training configuration (a problem or mixture and the
hparams overrides that make it differ from the others); each runs once per
seed. A table lists, per problem row, which cell each of its columns reads.
Cells that two tables share (Table 2's joint run is Table 3's "with all
eight" and Table 4's "full") are the same `Cell` and train once.

- Table 2: "joint" (the uniform mixture) vs "single" (each problem alone).
  Claim: joint is about as good on the data-rich problems and better on the
  data-poor one (parsing).
- Table 3: parsing alone, parsing + the image problem, all problems. Claim:
  image data helps parsing.
- Table 4: the full MultiModel vs `use_moe=false` vs `use_attention=false`,
  on the mixture. Claim: the blocks never hurt; attention matters most for
  language.
"""

import difflib

from t2t_multimodel.errors import T2TError

TABLES = ("2", "3", "4")

TITLES = {
    "2": "Table 2: joint training on all problems vs each problem alone",
    "3": "Table 3: parsing alone, with image data, and with all problems",
    "4": "Table 4: the full MultiModel vs no mixture-of-experts vs no attention",
}


class Cell:
    """One training configuration of the experiments, run once per seed.

    Args:
        name: str. Its directory under `output_dir` and its label in the
            report (e.g. `joint`, `single-parsing_english_silver`).
        problem: str. The trainer's `problem`: a name, `"a,b"` (uniform)
            or a registered mixture.
        problems: list of str. The problems it trains (and is scored on).
        overrides: str. Hparams overrides of this cell only
            (e.g. `"use_moe=false"`).

    Example:

    ```python
    Cell("no_moe", "multimodel_paper_offline_uniform", problems, "use_moe=false")
    ```
    """

    def __init__(self, name, problem, problems, overrides=""):
        self.name = name
        self.problem = problem
        self.problems = list(problems)
        self.overrides = overrides

    @property
    def key(self):
        """What makes two cells the same training run: the problems, the
        mixture when a registered one names them (it may not be uniform; a
        name or "a,b" is) and the overrides."""
        registered = len(self.problems) > 1 and "," not in self.problem
        return (tuple(self.problems), self.problem if registered else "", self.overrides)

    def __repr__(self):
        return f"Cell({self.name!r}, {self.problem!r}, overrides={self.overrides!r})"


def parse_tables(spec):
    """["2", "3", "4"] from `--table` ("2,4", "all", "table3"...).

    Raises:
        T2TError: an unknown table, with "did you mean".
    """
    names = [n.strip().lower().removeprefix("table") for n in str(spec or "").split(",")
             if n.strip()]
    if not names:
        raise T2TError(f"--table needs 2, 3, 4 or all. Received: table={spec!r}")
    if "all" in names:
        return list(TABLES)
    for name in names:
        if name not in TABLES:
            hint = f"did you mean {_closest(name)}? " if _closest(name) else ""
            raise T2TError(f"unknown table {name!r}: {hint}pick from 2, 3, 4 or all. "
                           f"Received: table={spec!r}")
    return [t for t in TABLES if t in names]


def _closest(name):
    """The table or "all" that `name` most likely meant (None when nothing is close)."""
    if name.isdigit():
        return min(TABLES, key=lambda t: abs(int(t) - int(name)))
    close = difflib.get_close_matches(name, ("all",) + TABLES, n=1, cutoff=0.5)
    return close[0] if close else None


def _joint(roles, name="joint", overrides=""):
    return Cell(name, roles.joint, roles.joint_problems, overrides)


def _single(problem):
    return Cell(f"single-{problem}", problem, [problem])


def _parsing_with_image(roles):
    pair = [p for p in roles.joint_problems if p in (roles.parsing, roles.image)]
    return Cell("parsing+image", ",".join(pair), pair)


def table_entries(table, roles):
    """The `(problem, column, Cell)` triples of `table`, in report order."""
    if table == "2":
        return [entry for p in roles.joint_problems
                for entry in ((p, "joint", _joint(roles)), (p, "single", _single(p)))]
    if table == "3":
        p = roles.parsing
        return [(p, "alone", _single(p)), (p, "with " + roles.image, _parsing_with_image(roles)),
                (p, "with all", _joint(roles))]
    if table == "4":
        cells = [("full", _joint(roles)), ("no MoE", _joint(roles, "no_moe", "use_moe=false")),
                 ("no attention", _joint(roles, "no_attention", "use_attention=false"))]
        return [(p, column, cell) for p in roles.joint_problems for column, cell in cells]
    raise T2TError(f"unknown table {table!r}. Received: table={table!r}")


def unique_cells(tables, roles):
    """The cells the tables need, each training run once, in first-use order.

    A cell equal to an earlier one (same problems, mixture and overrides)
    is replaced by it, so `entries[table]` may name a cell of another table.

    Returns:
        (list of `Cell`, {table: [(problem, column, Cell)]}).
    """
    by_key = {}
    entries = {}
    for table in tables:
        entries[table] = []
        for problem, column, cell in table_entries(table, roles):
            cell = by_key.setdefault(cell.key, cell)
            entries[table].append((problem, column, cell))
    return list(by_key.values()), entries
