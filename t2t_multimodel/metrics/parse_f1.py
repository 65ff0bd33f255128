"""Labelled bracket F1 (EVALB-style) and the malformed-tree rate of decoded trees.

Outputs and references are linearised trees (`S NP XX XX /NP ... /S`, see
`t2t_multimodel.data.ptb_trees`). Scoring follows EVALB's `COLLINS.prm` as
far as it applies to trees whose words are all `XX`:

* A bracket is `(label, start, end)` over word positions; the `XX` tokens
  give the positions, so the preterminal (POS) level is never scored.
  Brackets are matched as a multiset (a unary chain `NP -> NP` over one span
  counts twice, and matches twice only if the reference has it twice).
* The root phrase counts, like EVALB's `S` under its deleted `TOP`.
* `ADVP` and `PRT` are the same label (`EQ_LABEL ADVP PRT`).
* Corpus-level: precision = matched / output brackets and recall = matched /
  reference brackets, both summed over all sentences; F1 = 2PR / (P + R),
  in percent as EVALB prints it.
* Unlike EVALB, punctuation is not deleted (`DELETE_LABEL , : `` '' .`):
  with every word written `XX` the trees do not say which words are
  punctuation. Scores are therefore a little different from EVALB on the
  same trees, and comparable with each other.

A **malformed** output is one that is not exactly one tree over the
reference's words: brackets that do not balance, a `/L` that closes a
phrase other than `L`, a phrase without any `XX`, tokens outside the root
phrase, an empty output, or a number of `XX` different from the
reference's. EVALB skips such sentences ("length unmatch"); here a malformed
output contributes zero output brackets and zero matches, so it lowers
recall, and `malformed_tree_rate` is the fraction of outputs that are
malformed. References must be well formed (a `ValueError` otherwise).
"""

import collections

from t2t_multimodel.data import ptb_trees
from t2t_multimodel.metrics.decode import register_decode_metric

_EQUAL_LABELS = {"PRT": "ADVP"}


def tree_brackets(linearized):
    """The labelled brackets and word count of a linearised tree.

    Args:
        linearized: str. A linearised tree.

    Returns:
        `(collections.Counter of (label, start, end), number of words)`.

    Raises:
        ptb_trees.MalformedTreeError: the string is not one tree.
    """
    spans, num_words = ptb_trees.labelled_spans(ptb_trees.parse_linearized(linearized))
    return collections.Counter(
        (_EQUAL_LABELS.get(label, label), start, end) for label, start, end in spans), num_words


def bracket_scores(outputs, references):
    """EVALB-style corpus scores of decoded trees.

    Args:
        outputs: list of str. Decoded linearised trees.
        references: list of str. The reference linearised trees.

    Returns:
        A dict: `matched`, `output_brackets`, `reference_brackets`,
        `malformed` (counts), and `precision`, `recall`, `f1` (percent) and
        `malformed_rate` (a fraction).
    """
    if len(outputs) != len(references):
        raise ValueError(f"{len(outputs)} outputs for {len(references)} references. "
                         f"Received: len(outputs)={len(outputs)}")
    matched = output_total = reference_total = malformed = 0
    for output, reference in zip(outputs, references, strict=True):
        try:
            gold, num_words = tree_brackets(reference)
        except ptb_trees.MalformedTreeError as e:
            raise ValueError(f"reference is not a tree ({e}). "
                             f"Received: reference={reference!r}") from None
        reference_total += sum(gold.values())
        try:
            test, output_words = tree_brackets(output)
        except ptb_trees.MalformedTreeError:
            malformed += 1
            continue
        if output_words != num_words:
            malformed += 1
            continue
        output_total += sum(test.values())
        matched += sum((test & gold).values())
    precision = 100.0 * matched / output_total if output_total else 0.0
    recall = 100.0 * matched / reference_total if reference_total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"matched": matched, "output_brackets": output_total,
            "reference_brackets": reference_total, "malformed": malformed,
            "precision": precision, "recall": recall, "f1": f1,
            "malformed_rate": malformed / len(outputs) if outputs else 0.0}


@register_decode_metric("bracket_f1")
def bracket_f1(outputs, references):
    """Labelled bracket F1 in percent (see the module docstring)."""
    return bracket_scores(outputs, _first(references))["f1"]


@register_decode_metric("malformed_tree_rate")
def malformed_tree_rate(outputs, references):
    """The fraction of outputs that are not one tree over the reference's words."""
    return bracket_scores(outputs, _first(references))["malformed_rate"]


def _first(references):
    return [r[0] if isinstance(r, (list, tuple)) else r for r in references]
