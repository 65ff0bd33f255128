"""Labelled bracket F1 and malformed-tree rate against hand-computed EVALB values."""

import pytest

from t2t_multimodel.metrics import decode, parse_f1

# Brackets: NP(0,2) NP(3,4) VP(2,4) S(0,5): four, the root included.
GOLD = "S NP XX XX /NP VP XX NP XX /NP /VP XX /S"


def scores(outputs, references):
    return parse_f1.bracket_scores(outputs, references)


def test_perfect_tree():
    s = scores([GOLD], [GOLD])
    assert (s["matched"], s["output_brackets"], s["reference_brackets"]) == (4, 4, 4)
    assert s["precision"] == s["recall"] == s["f1"] == 100.0
    assert s["malformed_rate"] == 0.0


def test_one_wrong_label():
    s = scores(["S NP XX XX /NP VP XX ADJP XX /ADJP /VP XX /S"], [GOLD])
    assert (s["matched"], s["output_brackets"], s["reference_brackets"]) == (3, 4, 4)
    assert s["precision"] == s["recall"] == s["f1"] == 75.0


def test_one_missing_bracket():
    s = scores(["S NP XX XX /NP VP XX XX /VP XX /S"], [GOLD])
    assert (s["matched"], s["output_brackets"]) == (3, 3)
    assert s["precision"] == 100.0 and s["recall"] == 75.0
    assert s["f1"] == pytest.approx(2 * 100 * 75 / 175)  # 85.71


def test_malformed_output_matches_nothing_and_is_counted():
    s = scores([GOLD, "S NP XX XX /VP XX XX XX /S"], [GOLD, GOLD])
    assert (s["matched"], s["output_brackets"], s["reference_brackets"]) == (4, 4, 8)
    assert s["precision"] == 100.0 and s["recall"] == 50.0
    assert s["f1"] == pytest.approx(200 / 3)
    assert s["malformed"] == 1 and s["malformed_rate"] == 0.5


def test_wrong_number_of_words_is_malformed():
    s = scores(["S NP XX XX /NP VP XX NP XX /NP /VP /S"], [GOLD])  # 4 XX for 5 words
    assert s["malformed"] == 1 and s["f1"] == 0.0


def test_multiset_and_equal_labels():
    # A unary NP chain counts twice in the reference; PRT equals ADVP (COLLINS.prm).
    gold = "S NP NP XX /NP /NP VP XX PRT XX /PRT /VP /S"
    s = scores(["S NP XX /NP VP XX ADVP XX /ADVP /VP /S"], [gold])
    assert (s["matched"], s["output_brackets"], s["reference_brackets"]) == (4, 4, 5)
    assert s["precision"] == 100.0 and s["recall"] == 80.0


def test_flat_tree_baseline_gets_only_the_root():
    s = scores(["S XX XX XX XX XX /S"], [GOLD])
    assert (s["matched"], s["output_brackets"]) == (1, 1)
    assert s["recall"] == 25.0 and s["f1"] == pytest.approx(40.0)


def test_registered_as_decode_metrics():
    outputs = [GOLD, "S NP XX XX /NP VP XX XX /VP XX /S", "S XX"]
    values = decode.compute(["bracket_f1", "malformed_tree_rate"], outputs, [GOLD] * 3)
    # matched 4 + 3, output 4 + 3, reference 12: P 100, R 58.33.
    assert values["bracket_f1"] == pytest.approx(2 * 100 * (700 / 12) / (100 + 700 / 12))
    assert values["malformed_tree_rate"] == pytest.approx(1 / 3)


def test_malformed_reference_raises():
    with pytest.raises(ValueError, match="reference is not a tree"):
        scores([GOLD], ["S NP XX /S"])
