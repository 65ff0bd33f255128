"""Penn Treebank trees: reading `.mrg` files, cleaning, and T2T's linearisation.

A tree is a tuple `(label, children)` whose children are trees or word
strings. In a PTB file every word sits under its POS tag, a preterminal
`(tag, ["word"])`; `clean_tree` drops the tags, so cleaned trees (and silver
trees from link-grammar) have the words directly under their phrases.

**Linearisation** (the target side of the parsing problems). We use the token
format of T2T's `wsj_parsing.words_and_tags_from_wsj_tree`: a phrase opens
with its bare label (`NP`) and closes with `/` + label (`/NP`), tokens
separated by single spaces. Where T2T kept the POS tag of each word, we write
`XX`, the normalisation of Vinyals et al. 2015 ("Grammar as a Foreign
Language"), so the target carries only the phrase structure and one `XX` per
input word. Vinyals et al.'s `(S (NP XX XX )NP ... )S` is the same sequence
with other spellings of the brackets:

    (S (NP (NNP Ms.) (NNP Haag)) (VP (VBZ plays) (NP (NNP Elianti))) (. .))
    -> inputs  "Ms. Haag plays Elianti ."
    -> targets "S NP XX XX /NP VP XX NP XX /NP /VP XX /S"

Cleaning a PTB tree (`clean_tree`), as is standard for parsing experiments:
the unlabelled outer wrapper `( (S ...) )` (or a `TOP`/`ROOT` one) is removed;
`-NONE-` traces are deleted, and so is every phrase they leave empty;
function tags and indices are stripped (`NP-SBJ-1` -> `NP`, `NP=2` -> `NP`,
`PRT|ADVP` -> `PRT`). The PTB's bracket escapes in words (`-LRB-`, `-RCB-`,
...) become the brackets themselves in the inputs.

The target vocabulary is fixed (`target_tokens()`): `XX`, and the opening and
closing token of each phrase label of the PTB (plus `NML` and `JJP` of the
later NP-bracketing revisions), so every parsing problem shares one target
vocabulary and a model trained on one transfers to another.
"""

import re

WORD = "XX"

PHRASE_LABELS = (
    "ADJP", "ADVP", "CONJP", "FRAG", "INTJ", "JJP", "LST", "NAC", "NML", "NP", "NX", "PP",
    "PRN", "PRT", "QP", "RRC", "S", "SBAR", "SBARQ", "SINV", "SQ", "UCP", "VP", "WHADJP",
    "WHADVP", "WHNP", "WHPP", "X")

_ROOT_LABELS = ("", "TOP", "ROOT")
_WORD_ESCAPES = {"-LRB-": "(", "-RRB-": ")", "-LCB-": "{", "-RCB-": "}",
                 "-LSB-": "[", "-RSB-": "]"}
_SEXPR_TOKEN = re.compile(r"\(|\)|[^\s()]+")


class MalformedTreeError(ValueError):
    """A bracketed or linearised tree that is not a well-formed tree."""


def target_tokens():
    """The target vocabulary: `XX`, then `L` and `/L` for each phrase label."""
    return [WORD] + [t for label in PHRASE_LABELS for t in (label, "/" + label)]


def read_bracketed(text):
    """Trees of a bracketed text (a whole `.mrg` file: trees span lines).

    Lines starting with `*x*` (the LDC copyright banner some files carry) are
    skipped.

    Args:
        text: str. One or more s-expressions, `(LABEL child ...)`.

    Returns:
        A list of trees `(label, children)`; the outer `( ... )` of the PTB
        keeps its empty label (see `clean_tree`).

    Raises:
        MalformedTreeError: unbalanced brackets or text outside a tree.
    """
    text = "\n".join(line for line in text.splitlines() if not line.startswith("*x*"))
    trees, stack = [], []
    tokens = _SEXPR_TOKEN.findall(text)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "(":
            label = ""
            if i + 1 < len(tokens) and tokens[i + 1] not in "()":
                label = tokens[i + 1]
                i += 1
            stack.append((label, []))
        elif token == ")":
            if not stack:
                raise MalformedTreeError(f"a ')' closes nothing at token {i}")
            node = stack.pop()
            (stack[-1][1] if stack else trees).append(node)
        elif stack:
            stack[-1][1].append(token)
        else:
            raise MalformedTreeError(f"text outside a tree: {token!r}")
        i += 1
    if stack:
        raise MalformedTreeError(f"{len(stack)} unclosed '(' at the end")
    return trees


def strip_label(label):
    """`NP-SBJ-1` -> `NP`, `NP=2` -> `NP`, `PRT|ADVP` -> `PRT`; `-NONE-` stays."""
    if label.startswith("-"):
        return label
    return re.split(r"[-=|]", label, maxsplit=1)[0]


def is_preterminal(node):
    """Whether a node of a PTB tree is a POS tag over one word."""
    return not isinstance(node, str) and len(node[1]) == 1 and isinstance(node[1][0], str)


def clean_tree(tree):
    """The PTB tree without its wrapper, traces, empty phrases, function tags
    and POS tags: each preterminal becomes its word (PTB escapes unescaped).

    Returns:
        The cleaned tree, or None when no phrase is left (only traces, or
        a lone word).

    Raises:
        MalformedTreeError: a phrase label outside `PHRASE_LABELS`.
    """
    while tree[0] in _ROOT_LABELS and len(tree[1]) == 1 and not isinstance(tree[1][0], str):
        tree = tree[1][0]
    if is_preterminal(tree):  # a one-word "sentence" has no phrase to predict
        return None
    return _clean(tree)


def _clean(node):
    if isinstance(node, str):
        return node
    label, children = node
    if is_preterminal(node):
        return None if label == "-NONE-" else _WORD_ESCAPES.get(children[0], children[0])
    children = [c for c in (_clean(c) for c in children) if c is not None]
    if not children:
        return None
    label = strip_label(label)
    if label not in PHRASE_LABELS:
        raise MalformedTreeError(f"unknown phrase label {label!r} (known: "
                                 f"{', '.join(PHRASE_LABELS)})")
    return (label, children)


def words(tree):
    """The words of a cleaned tree, left to right."""
    if isinstance(tree, str):
        return [tree]
    return [w for child in tree[1] for w in words(child)]


def linearize(tree):
    """The target string of a (cleaned) tree: `S NP XX XX /NP ... /S`."""
    return " ".join(_linear_tokens(tree))


def _linear_tokens(node):
    if isinstance(node, str):
        return [WORD]
    label, children = node
    return [label] + [t for child in children for t in _linear_tokens(child)] + ["/" + label]


def parse_linearized(text):
    """The tree of a linearised string; the inverse of `linearize`.

    A well-formed linearised tree is exactly one phrase: every `/L` closes
    the innermost open `L`, every phrase holds at least one `XX`, and
    nothing comes before the first label or after its closing token.

    Args:
        text: str. Space-separated tokens.

    Returns:
        The tree `(label, children)`, with `"XX"` leaves.

    Raises:
        MalformedTreeError: with the reason, when the string is not one tree.
    """
    tokens = text.split()
    if not tokens:
        raise MalformedTreeError("empty output")
    stack, root = [], None
    for i, token in enumerate(tokens):
        if root is not None:
            raise MalformedTreeError(f"token {token!r} after the root closed at {i - 1}")
        if token == WORD:
            if not stack:
                raise MalformedTreeError(f"{WORD} outside every phrase at token {i}")
            stack[-1][1].append(WORD)
        elif token.startswith("/"):
            if not stack:
                raise MalformedTreeError(f"{token!r} at token {i} closes nothing")
            label, children = stack.pop()
            if token[1:] != label:
                raise MalformedTreeError(f"{token!r} at token {i} closes {label!r}")
            if not any(_has_word(c) for c in children):
                raise MalformedTreeError(f"phrase {label!r} closed at token {i} has no {WORD}")
            if stack:
                stack[-1][1].append((label, children))
            else:
                root = (label, children)
        else:
            stack.append((token, []))
    if stack:
        raise MalformedTreeError(f"{len(stack)} phrase(s) left open: "
                                 f"{' '.join(label for label, _ in stack)}")
    return root


def _has_word(node):
    return node == WORD or any(_has_word(c) for c in node[1])


def labelled_spans(tree):
    """The phrases of a tree as `(label, start, end)` over its word positions.

    Word leaves (`XX` or words) are positions, not phrases. Returns the spans
    (a list: a unary chain of one label over one span counts twice) and the
    number of words.
    """
    spans = []

    def visit(node, start):
        if isinstance(node, str):
            return start + 1
        end = start
        for child in node[1]:
            end = visit(child, end)
        spans.append((node[0], start, end))
        return end

    return spans, visit(tree, 0)
