"""The WMT files users have on disk: plain parallel text, SGML test sets, archives.

WMT distributes each training corpus as two line-aligned plain-text files
(`europarl-v7.de-en.en` / `.de`, some gzipped like
`giga-fren.release2.fixed.en.gz`) inside an archive
(`training-parallel-europarl-v7.tgz`), and its dev/test sets as SGML
(`newstest2014-deen-src.en.sgm` / `newstest2014-deen-ref.de.sgm`, one
`<seg id="..">` per line, XML entities escaped). `locate` finds a corpus under
a directory by file name, in any sub-directory, and extracts its archive once
when only the archive is there.

Example:

```python
corpus = Corpus("europarl-v7", r"europarl-v7\\.de-en", "training-parallel-europarl-v7.tgz",
                "http://www.statmt.org/wmt13/training-parallel-europarl-v7.tgz")
paths = locate("/tmp/t2t", [corpus], "en", "de")    # (".../europarl-v7.de-en.en", "...de")
pairs = read_parallel(*paths)                         # ("Resumption of the session", ...)
```
"""

import dataclasses
import gzip
import html
import itertools
import os
import re
import sys
import tarfile

from t2t_multimodel.errors import DataError

_SEG_RE = re.compile(r"<seg[^>]*>(.*)</seg>", re.IGNORECASE)
_ARCHIVE_SUFFIXES = (".tgz", ".tar.gz", ".tar")


@dataclasses.dataclass(frozen=True)
class Corpus:
    """One parallel corpus as WMT distributes it.

    Args:
        name: str. Shown to users ("europarl-v7").
        prefix: str. For `kind="plain"`, a regular expression matching the
            file name before `.<lang>` (`r"news-commentary-v\\d+\\.de-en"`;
            the newest version found wins). For `kind="sgml"`, the literal
            set name: files `<prefix>-src.<source>.sgm` and
            `<prefix>-ref.<target>.sgm`.
        archive: str. The file name of the archive WMT distributes it in.
        url: str. Where that archive was downloaded from (for messages).
        kind: str. "plain" or "sgml".
    """

    name: str
    prefix: str
    archive: str
    url: str
    kind: str = "plain"

    def file_names(self, source, target):
        """The two file names to put in place, for messages."""
        if self.kind == "sgml":
            return f"{self.prefix}-src.{source}.sgm", f"{self.prefix}-ref.{target}.sgm"
        readable = self.prefix.replace("\\d+", "N").replace("\\", "")
        return f"{readable}.{source}", f"{readable}.{target}"

    def describe(self, source, target):
        src, tgt = self.file_names(source, target)
        return f"{src} + {tgt} (in {self.archive}, {self.url})"


def open_text(path):
    """A text file (gzip when the name ends in .gz), UTF-8, bad bytes replaced."""
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def read_parallel(source_path, target_path):
    """Yields `(source, target)` line pairs of two line-aligned files.

    Pairs with an empty side are skipped; files of different lengths are a
    `DataError`.
    """
    number = 0
    with open_text(source_path) as src, open_text(target_path) as tgt:
        for number, (s, t) in enumerate(itertools.zip_longest(src, tgt), 1):
            if s is None or t is None:
                raise DataError(f"parallel files differ in length after line {number - 1}: "
                                f"replace the damaged one. Received: paths=({source_path}, "
                                f"{target_path})")
            s, t = s.strip(), t.strip()
            if s and t:
                yield s, t


def read_sgm(path):
    """The segments of an SGML dev/test file, in order, entities unescaped."""
    segments = []
    with open_text(path) as f:
        for line in f:
            match = _SEG_RE.search(line)
            if match:
                segments.append(html.unescape(match.group(1)).strip())
    if not segments:
        raise DataError(f"no <seg> lines in the SGML file: is it a WMT .sgm file? "
                        f"Received: path={path}")
    return segments


def read_sgm_pair(source_path, reference_path):
    """`(source, reference)` segment pairs of a WMT SGML source and reference."""
    sources, references = read_sgm(source_path), read_sgm(reference_path)
    if len(sources) != len(references):
        raise DataError(f"SGML source and reference have {len(sources)} and "
                        f"{len(references)} segments: use a matching pair of files. "
                        f"Received: paths=({source_path}, {reference_path})")
    return [(s, r) for s, r in zip(sources, references, strict=True) if s and r]


def read_corpus(paths, kind):
    """The pairs of a located corpus (see `locate`)."""
    if kind == "sgml":
        return iter(read_sgm_pair(*paths))
    return read_parallel(*paths)


def extract_archive(archive_path, directory):
    """Extracts a .tgz/.tar.gz/.tar into `directory` once; returns True if it ran.

    A marker file `.<archive name>.extracted` records a finished extraction,
    so an interrupted one is repeated and a finished one is not.
    """
    marker = os.path.join(directory, f".{os.path.basename(archive_path)}.extracted")
    if os.path.exists(marker):
        return False
    print(f"extracting {archive_path} into {directory}", file=sys.stderr, flush=True)
    try:
        with tarfile.open(archive_path) as tar:
            tar.extractall(directory, filter="data")
    except (tarfile.TarError, OSError, EOFError) as e:
        reason = (str(e).splitlines() or [type(e).__name__])[0].rstrip(":")
        raise DataError(f"cannot extract the archive ({reason}); download it again. "
                        f"Received: archive={archive_path}") from e
    with open(marker, "w") as f:
        f.write("done\n")
    return True


def index_files(directory):
    """File name -> path of every file under `directory` (the shallowest wins)."""
    index = {}
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            if name not in index or path.count(os.sep) < index[name].count(os.sep):
                index[name] = path
    return index


def _natural_key(name):
    return re.sub(r"\d+", lambda m: m.group().zfill(8), name)


def _find(index, corpus, source, target):
    if corpus.kind == "sgml":
        names = corpus.file_names(source, target)
        paths = [index.get(n) for n in names]
        return tuple(paths) if all(paths) else None
    pattern = re.compile(rf"^({corpus.prefix})\.{re.escape(source)}(\.gz)?$")
    matches = sorted((m for m in map(pattern.match, index) if m),
                     key=lambda m: _natural_key(m.group(1)), reverse=True)
    for match in matches:
        stem = match.group(1)
        target_path = index.get(f"{stem}.{target}") or index.get(f"{stem}.{target}.gz")
        if target_path:
            return index[match.group(0)], target_path
    return None


def locate(directory, alternatives, source, target):
    """Finds the first of `alternatives` (`Corpus`es) present under `directory`.

    Looks for the files by name anywhere under `directory`; when none is
    there, extracts the alternatives' archives found there and looks again.

    Returns:
        `(corpus, (source_path, target_path))`, or None when none is present.
    """
    if not os.path.isdir(directory):
        return None
    index = index_files(directory)
    for corpus in alternatives:
        paths = _find(index, corpus, source, target)
        if paths:
            return corpus, paths
    extracted = False
    for corpus in alternatives:
        archive = index.get(corpus.archive)
        if archive and archive.endswith(_ARCHIVE_SUFFIXES):
            extracted |= extract_archive(archive, directory)
    if not extracted:
        return None
    index = index_files(directory)
    for corpus in alternatives:
        paths = _find(index, corpus, source, target)
        if paths:
            return corpus, paths
    return None
