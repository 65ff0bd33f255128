"""WMT files: plain parallel text (gzip too), SGML sets, archives, locating by name."""

import gzip
import io
import os
import tarfile

import pytest

from t2t_multimodel.data import wmt_files
from t2t_multimodel.data.wmt_files import Corpus
from t2t_multimodel.errors import DataError

EUROPARL = Corpus("europarl-v7", r"europarl-v7\.de-en", "training-parallel-europarl-v7.tgz",
                  "http://www.statmt.org/wmt13/training-parallel-europarl-v7.tgz")
NEWS = Corpus("news-commentary", r"news-commentary-v\d+\.de-en", "training-parallel-nc-v12.tgz",
              "http://example.org/nc.tgz")
NEWSTEST = Corpus("newstest2014", "newstest2014-deen", "test-full.tgz",
                  "http://www.statmt.org/wmt14/test-full.tgz", kind="sgml")

# The layout of WMT's SGML files: one <seg> per line, XML entities escaped.
SRC_SGM = """<srcset setid="newstest2014" srclang="any">
<doc sysid="ref" docid="1012-bbc" genre="news" origlang="en">
<p>
<seg id="1">Gutach: Increased safety for pedestrians</seg>
<seg id="2">They are not even 100 metres apart &amp; &quot;quite&quot; close: &lt;ok&gt;</seg>
</p>
</doc>
</srcset>
"""
REF_SGM = """<refset setid="newstest2014" srclang="any" trglang="de">
<doc sysid="ref" docid="1012-bbc" genre="news" origlang="en">
<p>
<seg id="1">Gutach: Noch mehr Sicherheit für Fußgänger</seg>
<seg id="2">Sie stehen keine 100 Meter voneinander entfernt &amp; &#8222;recht&#8220; nah</seg>
</p>
</doc>
</refset>
"""


def _write(path, text, gz=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    opener = gzip.open if gz else open
    with opener(path, "wt", encoding="utf-8") as f:
        f.write(text)


def _tgz(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, text in members.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_parallel_files_pair_lines_and_skip_empty_sides(tmp_path):
    _write(str(tmp_path / "a.en"), "Resumption of the session\n\nI declare resumed.\nlast\n")
    _write(str(tmp_path / "a.de.gz"), "Wiederaufnahme der Sitzungsperiode\nleer\nIch erkläre.\n"
           "letzte\n", gz=True)
    pairs = list(wmt_files.read_parallel(str(tmp_path / "a.en"), str(tmp_path / "a.de.gz")))
    assert pairs == [("Resumption of the session", "Wiederaufnahme der Sitzungsperiode"),
                     ("I declare resumed.", "Ich erkläre."), ("last", "letzte")]


def test_parallel_files_of_different_length_are_a_clear_error(tmp_path):
    _write(str(tmp_path / "a.en"), "one\ntwo\nthree\n")
    _write(str(tmp_path / "a.de"), "eins\nzwei\n")
    with pytest.raises(DataError, match=r"differ in length after line 2.*Received: paths="):
        list(wmt_files.read_parallel(str(tmp_path / "a.en"), str(tmp_path / "a.de")))


def test_sgml_segments_are_unescaped_and_paired(tmp_path):
    _write(str(tmp_path / "src.sgm"), SRC_SGM)
    _write(str(tmp_path / "ref.sgm"), REF_SGM)
    pairs = wmt_files.read_sgm_pair(str(tmp_path / "src.sgm"), str(tmp_path / "ref.sgm"))
    assert pairs == [
        ("Gutach: Increased safety for pedestrians", "Gutach: Noch mehr Sicherheit für Fußgänger"),
        ('They are not even 100 metres apart & "quite" close: <ok>',
         "Sie stehen keine 100 Meter voneinander entfernt & „recht“ nah")]


def test_sgml_errors(tmp_path):
    _write(str(tmp_path / "src.sgm"), SRC_SGM)
    _write(str(tmp_path / "short.sgm"), REF_SGM.replace('<seg id="2">', '<xseg id="2">'))
    _write(str(tmp_path / "plain.txt"), "not sgml\n")
    with pytest.raises(DataError, match="have 2 and 1 segments"):
        wmt_files.read_sgm_pair(str(tmp_path / "src.sgm"), str(tmp_path / "short.sgm"))
    with pytest.raises(DataError, match="no <seg> lines"):
        wmt_files.read_sgm(str(tmp_path / "plain.txt"))


def test_locate_finds_files_in_subdirectories_and_the_newest_version(tmp_path):
    for version in (9, 12):
        for lang in ("en", "de"):
            _write(str(tmp_path / "training" / f"news-commentary-v{version}.de-en.{lang}"),
                   f"v{version} {lang}\n")
    corpus, paths = wmt_files.locate(str(tmp_path), [NEWS], "de", "en")
    assert corpus is NEWS
    assert [os.path.basename(p) for p in paths] == ["news-commentary-v12.de-en.de",
                                                    "news-commentary-v12.de-en.en"]
    assert wmt_files.locate(str(tmp_path), [EUROPARL], "en", "de") is None


def test_locate_extracts_an_archive_once(tmp_path):
    _tgz(str(tmp_path / "training-parallel-europarl-v7.tgz"),
         {"training/europarl-v7.de-en.en": "Hello\n", "training/europarl-v7.de-en.de": "Hallo\n"})
    corpus, paths = wmt_files.locate(str(tmp_path), [EUROPARL], "en", "de")
    assert paths[0] == str(tmp_path / "training" / "europarl-v7.de-en.en")
    assert list(wmt_files.read_corpus(paths, corpus.kind)) == [("Hello", "Hallo")]
    assert not wmt_files.extract_archive(str(tmp_path / "training-parallel-europarl-v7.tgz"),
                                         str(tmp_path))  # the marker says: done


def test_locate_sgml_set_prefers_the_first_alternative(tmp_path):
    _write(str(tmp_path / "test-full" / "newstest2014-deen-src.en.sgm"), SRC_SGM)
    _write(str(tmp_path / "test-full" / "newstest2014-deen-ref.de.sgm"), REF_SGM)
    corpus, paths = wmt_files.locate(str(tmp_path), [NEWSTEST, EUROPARL], "en", "de")
    assert corpus is NEWSTEST
    assert len(list(wmt_files.read_corpus(paths, corpus.kind))) == 2
    assert NEWSTEST.describe("en", "de") == (
        "newstest2014-deen-src.en.sgm + newstest2014-deen-ref.de.sgm "
        "(in test-full.tgz, http://www.statmt.org/wmt14/test-full.tgz)")


def test_a_broken_archive_is_a_clear_error(tmp_path):
    (tmp_path / "training-parallel-europarl-v7.tgz").write_bytes(b"not a tar file")
    with pytest.raises(DataError, match="cannot extract the archive.*download it again"):
        wmt_files.locate(str(tmp_path), [EUROPARL], "en", "de")
