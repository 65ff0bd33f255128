"""The Ding dictionary reader: aligned sub-entries, annotations, sentence filter."""

import pytest
from data.translation_fixtures import DING_LINES, DING_SENTENCES

from t2t_multimodel.data import ding
from t2t_multimodel.errors import DataError


@pytest.fixture
def ding_file(tmp_path):
    path = tmp_path / "de-en"
    path.write_text("\n".join(DING_LINES) + "\n", encoding="utf-8")
    return str(path)


def test_aligned_pairs_strip_annotations_and_take_the_first_synonym(ding_file):
    pairs = list(ding.aligned_pairs(ding_file))
    assert ("eel", "Aal") in pairs and ("eels", "Aale") in pairs
    assert ("to give sb sth", "jdm. etw. geben") in pairs
    assert ("I don't care about it.", "Das ist mir egal.") in pairs
    assert not any("Sie kam" in de for _, de in pairs)  # misaligned entry skipped
    assert not any(de.startswith("#") for _, de in pairs)


def test_sentence_pairs_keep_only_whole_sentences(ding_file):
    assert ding.sentence_pairs(ding_file) == DING_SENTENCES


def test_missing_dictionary_names_the_package(tmp_path):
    with pytest.raises(DataError, match="apt-get install trans-de-en"):
        ding.sentence_pairs(str(tmp_path / "nope"))
