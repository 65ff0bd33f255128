"""Nothing in the package evaluates or unpickles data: no pickle, eval or exec calls."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ("t2t_multimodel", "problems", "hparams", "bin")
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "marshal", "shelve"}


def _violations(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if isinstance(func, ast.Name) and name in FORBIDDEN_CALLS:
                found.append(f"{path}:{node.lineno} calls {name}()")
            # numpy's allow_pickle=True loads pickles from .npy/.npz files
            for keyword in node.keywords:
                if keyword.arg == "allow_pickle" and not (
                        isinstance(keyword.value, ast.Constant) and keyword.value.value is False):
                    found.append(f"{path}:{node.lineno} passes allow_pickle")
        elif isinstance(node, ast.Import):
            found += [f"{path}:{node.lineno} imports {a.name}" for a in node.names
                      if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module and \
                node.module.split(".")[0] in FORBIDDEN_MODULES:
            found.append(f"{path}:{node.lineno} imports from {node.module}")
    return found


def test_no_pickle_eval_or_exec_in_the_project():
    files = [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]
    assert len(files) > 30
    violations = [v for path in files for v in _violations(path)]
    assert violations == []


def test_the_check_finds_what_it_looks_for(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import pickle\nfrom marshal import loads\neval('1')\n"
                   "np.load(f, allow_pickle=True)\n")
    assert len(_violations(bad)) == 4
