"""Tests of the decode metrics against values computed by hand."""

import pytest

from t2t_multimodel.errors import T2TError
from t2t_multimodel.metrics import decode


def test_bleu_perfect_and_disjoint():
    refs = ["the cat sat on the mat today", "a dog ran in the park"]
    assert decode.compute(["bleu"], refs, refs)["bleu"] == pytest.approx(100.0)
    assert decode.compute(["bleu"], ["x y z w v", "q r s t u"], refs)["bleu"] == 0.0


def test_bleu_uses_every_reference():
    outputs = ["the cat is on the mat"]
    one = decode.compute(["bleu"], outputs, ["there is a cat on the mat"])["bleu"]
    two = decode.compute(["bleu"], outputs, [["there is a cat on the mat",
                                              "the cat is on the mat"]])["bleu"]
    assert two == pytest.approx(100.0) and one < 50.0


def test_chrf_is_between_zero_and_hundred():
    value = decode.compute(["chrf"], ["Haus am See"], ["Das Haus am See"])["chrf"]
    assert 50.0 < value < 100.0


def test_word_error_rate_counts_edits_over_reference_words():
    # Reference: 7 words after lower-casing and dropping punctuation.
    wer = decode.compute(["word_error_rate"], ["the quick fox jumps over it now"],
                         ["The quick brown fox jumps over, it."])["word_error_rate"]
    assert wer == pytest.approx(2 / 7)  # "brown" deleted, "now" inserted; 7 words
    assert decode.compute(["word_error_rate"], [""], ["one two"])["word_error_rate"] == 1.0


def test_classification_metrics():
    values = decode.compute(["accuracy", "accuracy_top5"], ["cat", "dog"], ["cat", "cow"],
                            top_k=[["cat", "dog"], ["dog", "x", "y", "z", "w", "cow"]])
    assert values == {"accuracy": 0.5, "accuracy_top5": 0.5}


def test_unknown_metric_says_did_you_mean():
    with pytest.raises(T2TError, match=r"did you mean bleu\?.*Received: metric='blue'"):
        decode.compute(["blue"], ["a"], ["a"])


def test_signatures_name_sacrebleu_settings():
    sig = decode.signatures(["bleu", "chrf"])
    assert "tok:13a" in sig["bleu"] and "version:2.6.0" in sig["bleu"]
    assert sig["chrf"].startswith("nrefs:1|")
