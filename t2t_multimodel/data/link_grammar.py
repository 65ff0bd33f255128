"""Silver constituency trees from link-grammar's `link-parser` (Debian `link-grammar`).

`link-parser en` with `!constituents=1` prints a Penn-style bracketed tree
for each sentence. It is a rule-based parser, not trained on the Penn
Treebank: the trees are machine-made ("silver") and some attachments are
wrong. We drive the CLI (the Python binding only exists for Debian's system
interpreter) over chunks of sentences in parallel processes.

The printed leaves are dictionary entries, not the sentence's words:
subscripts (`said.v-d`, `Mr..x`), spell guesses (`there.#their`), marks of
unknown words (`Kennedy{!}`) and of words left out of the linkage
(`{outcome}`), and a lower-cased first word. `align_leaves` maps each leaf
back onto the sentence text, so the words of a silver tree are the
sentence's own tokens (`Atlanta's` -> `Atlanta`, `'s`).
"""

import concurrent.futures
import re
import subprocess
import sys
import time

from t2t_multimodel.data import ptb_trees
from t2t_multimodel.errors import DataError

DEBIAN_PACKAGE = "link-grammar"
_COMMANDS = "!constituents=1\n!graphics=0\n!verbosity=0\n!echo=1\n!timeout={timeout}\n"
_MARKS = re.compile(r"\{[!?~]\}|\[[!?~]\]")
_SUBSCRIPT = re.compile(r"\.[a-z#][^.\s]*$")


def parseable(sentence):
    """Whether link-parser can parse `sentence` in batch: no brackets (they
    would break the bracketed output), no leading `!` (a command)."""
    return bool(sentence.strip()) and not re.search(r"[()\[\]{}]", sentence) and (
        not sentence.lstrip().startswith("!"))


def align_leaves(leaves, sentence):
    """The sentence's own tokens for link-parser's leaves, or None.

    Each leaf, with its marks removed, is matched case-insensitively at the
    current position of the sentence, first whole, then without its
    dictionary subscript(s); the token is the sentence's text there.

    Args:
        leaves: list of str. The leaves of a link-parser tree, in order.
        sentence: str. The sentence it parsed.

    Returns:
        A list of str, one per leaf, or None when the leaves do not spell
        the sentence.
    """
    tokens, pos = [], 0
    for leaf in leaves:
        while pos < len(sentence) and sentence[pos].isspace():
            pos += 1
        form = _MARKS.sub("", leaf)
        if len(form) > 2 and form[0] + form[-1] in ("{}", "[]"):
            form = form[1:-1]
        for candidate in _candidates(form):
            if sentence[pos:pos + len(candidate)].lower() == candidate.lower():
                tokens.append(sentence[pos:pos + len(candidate)])
                pos += len(candidate)
                break
        else:
            return None
    return tokens if not sentence[pos:].strip() else None


def _candidates(form):
    yield form
    while _SUBSCRIPT.search(form) and len(form) > 1:
        form = _SUBSCRIPT.sub("", form)
        if form:
            yield form


def read_output(stdout, sentences):
    """Pairs link-parser's echoed sentences with the trees that follow them.

    Args:
        stdout: str. Output of `link-parser` run with `!echo=1`.
        sentences: list of str. The sentences it was given, in order.

    Returns:
        A list with, per sentence, `(tokens, tree)` (the tree's leaves are
        the sentence's tokens) or None when it gave no usable tree.
    """
    results = [None] * len(sentences)
    positions = {}
    for i, sentence in enumerate(sentences):
        positions.setdefault(" ".join(sentence.split()), []).append(i)
    index, depth, chunk, line = -1, 0, [], []
    for char in stdout:
        if depth or char == "(":
            chunk.append(char)
            depth += (char == "(") - (char == ")")
            if not depth and index >= 0 and results[index] is None:
                results[index] = _silver_tree("".join(chunk), sentences[index])
            if not depth:
                chunk = []
        elif char == "\n":
            # An echoed sentence: the next one, or a later one if some printed nothing.
            later = [i for i in positions.get(" ".join("".join(line).split()), []) if i > index]
            if later:
                index = later[0]
            line = []
        else:
            line.append(char)
    return results


def _silver_tree(text, sentence):
    try:
        (tree,) = ptb_trees.read_bracketed(text)
    except (ptb_trees.MalformedTreeError, ValueError):
        return None
    leaves = ptb_trees.words(tree)
    tokens = align_leaves(leaves, sentence)
    if tokens is None or tree[0] not in ptb_trees.PHRASE_LABELS:
        return None
    tokens_left = iter(tokens)

    def replace(node):
        if isinstance(node, str):
            return next(tokens_left)
        return (node[0], [replace(c) for c in node[1]])

    tree = replace(tree)
    if any(label not in ptb_trees.PHRASE_LABELS for label, _, _ in
           ptb_trees.labelled_spans(tree)[0]):
        return None
    return tokens, tree


def parse_chunk(binary, sentences, timeout=5):
    """Runs one `link-parser` process over `sentences`; see `read_output`."""
    commands = _COMMANDS.format(timeout=timeout)
    result = subprocess.run([binary, "en"], input=commands + "\n".join(sentences) + "\n",
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DataError(f"link-parser failed with exit status {result.returncode}: "
                        f"{result.stderr.strip()[-300:]} Received: binary={binary}")
    return read_output(result.stdout, sentences)


def parse_sentences(binary, sentences, num_processes=2, chunk_size=250, label="link-parser"):
    """Silver trees of `sentences`, parsed in chunks by parallel processes.

    Prints a progress line on stderr as chunks finish.

    Args:
        binary: str. Path of `link-parser`.
        sentences: list of str. Sentences for which `parseable` holds.
        num_processes: int. Parallel `link-parser` processes.
        chunk_size: int. Sentences per process run.
        label: str. Prefix of the progress lines.

    Returns:
        A list with `(tokens, tree)` or None per sentence, in order.
    """
    chunks = [sentences[i:i + chunk_size] for i in range(0, len(sentences), chunk_size)]
    results, done, start = [None] * len(chunks), 0, time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=num_processes) as pool:
        futures = {pool.submit(parse_chunk, binary, chunk): i for i, chunk in enumerate(chunks)}
        for future in concurrent.futures.as_completed(futures):
            results[futures[future]] = future.result()
            done += len(chunks[futures[future]])
            print(f"\r{label}: {done}/{len(sentences)} sentences parsed "
                  f"({done / max(time.time() - start, 1e-9):.0f}/s)",
                  end="", file=sys.stderr, flush=True)
    if chunks:
        print(file=sys.stderr, flush=True)
    return [tree for chunk in results for tree in chunk]
