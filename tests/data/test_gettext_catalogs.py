"""gettext .mo reading: contexts, plurals, charsets, both byte orders, bad files."""

import gettext
import struct

import pytest
from data.translation_fixtures import MO_MAGIC, write_mo

from t2t_multimodel.data import gettext_catalogs
from t2t_multimodel.errors import DataError

MESSAGES = {"Insert Page Break": "Seitenumbruch einfügen",
            "menu\x04~Open": "Ö~ffnen",
            "%1 row\x00%1 rows": "%1 Zeile\x00%1 Zeilen"}


def test_the_fixture_writer_writes_what_python_gettext_reads(tmp_path):
    path = str(tmp_path / "sc.mo")
    write_mo(path, MESSAGES)
    with open(path, "rb") as f:
        catalog = gettext.GNUTranslations(f)
    assert catalog.gettext("Insert Page Break") == "Seitenumbruch einfügen"
    assert catalog.pgettext("menu", "~Open") == "Ö~ffnen"
    assert catalog.ngettext("%1 row", "%1 rows", 2) == "%1 Zeilen"


def test_read_mo_drops_contexts_and_keeps_singular_plurals(tmp_path):
    path = str(tmp_path / "sc.mo")
    write_mo(path, MESSAGES)
    assert gettext_catalogs.read_mo(path) == {"Insert Page Break": "Seitenumbruch einfügen",
                                              "~Open": "Ö~ffnen", "%1 row": "%1 Zeile"}


def test_read_mo_decodes_the_header_charset_and_big_endian(tmp_path):
    path = str(tmp_path / "latin1.mo")
    write_mo(path, {"Open file": "Ouvrir le fichier é"}, charset="ISO-8859-1")
    assert gettext_catalogs.read_mo(path) == {"Open file": "Ouvrir le fichier é"}
    # The same catalog with every header and table integer big-endian.
    data = open(path, "rb").read()
    count = struct.unpack("<I", data[8:12])[0]
    ints = struct.unpack(f"<{7 + 4 * count}I", data[:28 + 16 * count])
    big = tmp_path / "big.mo"
    big.write_bytes(struct.pack(f">{len(ints)}I", *ints) + data[28 + 16 * count:])
    assert struct.unpack(">I", big.read_bytes()[:4])[0] == MO_MAGIC
    assert gettext_catalogs.read_mo(str(big)) == {"Open file": "Ouvrir le fichier é"}


def test_read_catalogs_merges_a_directory_first_file_wins(tmp_path):
    write_mo(str(tmp_path / "a.mo"), {"Save": "Speichern"})
    write_mo(str(tmp_path / "b.mo"), {"Save": "Sichern", "Close": "Schließen"})
    assert gettext_catalogs.read_catalogs(str(tmp_path)) == {"Save": "Speichern",
                                                             "Close": "Schließen"}


def test_bad_files_are_clear_errors(tmp_path):
    (tmp_path / "x.mo").write_bytes(b"\x00" * 40)
    with pytest.raises(DataError, match="bad magic number.*Received: path="):
        gettext_catalogs.read_mo(str(tmp_path / "x.mo"))
    with pytest.raises(DataError, match="no .mo catalogs"):
        gettext_catalogs.read_catalogs(str(tmp_path / "empty"))
