"""Penn Treebank `.mrg` reading, cleaning and T2T's linearisation of trees."""

import pytest

from t2t_multimodel.data import ptb_trees

# The real `.mrg` layout: trees span lines, an unlabelled outer "( ... )",
# -NONE- traces with indices, function tags, PTB bracket escapes.
MRG = """\
( (S
    (NP-SBJ-1 (NNP Ms.) (NNP Haag) )
    (VP (VBZ plays)
      (NP (NNP Elianti) (-LRB- -LRB-) (NNP Ltd.) (-RRB- -RRB-) ))
    (. .) ))
( (SINV
    (S-TPC-2
      (NP-SBJ (-NONE- *-1) )
      (VP (VBG Declining)
        (PP-TMP=3 (IN after)
          (NP (DT the) (NN report) ))))
    (, ,)
    (VP (VBD said)
      (S (-NONE- *T*-2) ))
    (NP-SBJ (DT the) (NN firm) )
    (PRT|ADVP (RP up) )
    (. .) ))
"""


def test_reads_multiline_trees_and_cleans_them():
    raw = ptb_trees.read_bracketed(MRG)
    assert len(raw) == 2 and raw[0][0] == ""  # the unlabelled wrapper
    first, second = [ptb_trees.clean_tree(t) for t in raw]
    assert ptb_trees.words(first) == ["Ms.", "Haag", "plays", "Elianti", "(", "Ltd.", ")", "."]
    assert ptb_trees.linearize(first) == (
        "S NP XX XX /NP VP XX NP XX XX XX XX /NP /VP XX /S")
    # The trace subject and the trace-only S are gone; tags and indices stripped.
    assert ptb_trees.words(second) == ["Declining", "after", "the", "report", ",", "said",
                                       "the", "firm", "up", "."]
    assert ptb_trees.linearize(second) == (
        "SINV S VP XX PP XX NP XX XX /NP /PP /VP /S XX VP XX /VP NP XX XX /NP PRT XX /PRT XX "
        "/SINV")


def test_strip_label():
    assert [ptb_trees.strip_label(x) for x in ["NP-SBJ-1", "PP-LOC=2", "PRT|ADVP", "S",
                                               "-NONE-", "ADVP-TMP-CLR"]] == [
        "NP", "PP", "PRT", "S", "-NONE-", "ADVP"]


def test_skips_banner_and_trace_only_trees():
    text = "*x* Copyright (C) 1995 University of Pennsylvania *x*\n( (S (NP-SBJ (-NONE- *) )))"
    (tree,) = ptb_trees.read_bracketed(text)
    assert ptb_trees.clean_tree(tree) is None


@pytest.mark.parametrize("text,message", [
    ("( (S (NP (NN dog) ) )", "unclosed"),
    ("( (S (NP (NN dog) ) ) ) )", "closes nothing"),
    ("dog ( (S (NN dog) ) )", "outside a tree"),
])
def test_bad_bracketing_raises(text, message):
    with pytest.raises(ptb_trees.MalformedTreeError, match=message):
        ptb_trees.read_bracketed(text)


def test_unknown_phrase_label_raises():
    (tree,) = ptb_trees.read_bracketed("( (S (FOO (NN dog) ) ) )")
    with pytest.raises(ptb_trees.MalformedTreeError, match="unknown phrase label 'FOO'"):
        ptb_trees.clean_tree(tree)


def test_linearisation_round_trip():
    for raw in ptb_trees.read_bracketed(MRG):
        tree = ptb_trees.clean_tree(raw)
        text = ptb_trees.linearize(tree)
        parsed = ptb_trees.parse_linearized(text)
        assert ptb_trees.linearize(parsed) == text
        assert ptb_trees.labelled_spans(parsed) == ptb_trees.labelled_spans(tree)
    spans, num_words = ptb_trees.labelled_spans(
        ptb_trees.parse_linearized("S NP XX XX /NP VP XX NP XX /NP /VP XX /S"))
    assert sorted(spans) == [("NP", 0, 2), ("NP", 3, 4), ("S", 0, 5), ("VP", 2, 4)]
    assert num_words == 5


@pytest.mark.parametrize("text,message", [
    ("", "empty"),
    ("S NP XX /VP /S", "closes 'NP'"),
    ("S NP XX /NP", "left open"),
    ("S XX /S /S", "after the root"),
    ("S XX /S NP XX /NP", "after the root"),
    ("XX S XX /S", "outside every phrase"),
    ("S NP /NP XX /S", "has no XX"),
    ("/S", "closes nothing"),
])
def test_malformed_linearised_trees(text, message):
    with pytest.raises(ptb_trees.MalformedTreeError, match=message):
        ptb_trees.parse_linearized(text)


def test_target_vocabulary_covers_every_label_once():
    tokens = ptb_trees.target_tokens()
    assert len(tokens) == len(set(tokens)) == 1 + 2 * len(ptb_trees.PHRASE_LABELS)
    assert {"XX", "S", "/S", "NP", "/NP", "WHPP", "/WHPP"} <= set(tokens)
