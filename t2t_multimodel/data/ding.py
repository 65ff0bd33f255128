"""Example sentences of the Ding German-English dictionary (Debian `trans-de-en`).

The dictionary (`usr/share/trans/de-en`, GPL-2+, TU Chemnitz) has one entry
per line, `de1 | de2 | ... :: en1 | en2 | ...`: the `|` sub-entries are
aligned, `;` separates synonyms inside a sub-entry, `{m}`/`{pl}` are grammar
tags, `[coll.]`/`[Br.]` usage labels and `<...>` search keys; `#` starts a
comment line. Many sub-entries are whole example sentences ("Beethoven was a
pupil of Haydn." :: "Beethoven war ein Schüler von Haydn."); `sentence_pairs`
keeps those.

Example:

```python
pairs = sentence_pairs("/usr/share/trans/de-en")   # [(english, german), ...]
```
"""

import re

from t2t_multimodel.errors import DataError

_ANNOTATION_RE = re.compile(r"\s*(\{[^}]*\}|\[[^\]]*\]|<[^>]*>)")
# Placeholder words of dictionary phrases ("to give sb sth", "jdm etw geben").
_SLOT_RE = re.compile(r"\b(sb|sth|sb's|jdn|jdm|jds|etw)\b")
_SENTENCE_END = (".", "?", "!")


def normalize(text):
    """One sub-entry without annotations, its first synonym, spaces collapsed."""
    return " ".join(_ANNOTATION_RE.sub("", text).split(";")[0].split())


def aligned_pairs(path, raw_filter=None):
    """Yields `(english, german)` for every aligned sub-entry of the dictionary.

    Args:
        path: str. The dictionary file.
        raw_filter: callable `(english, german) -> bool` on the raw
            sub-entries (annotations still in), to skip most of them cheaply;
            None keeps all.
    """
    try:
        f = open(path, encoding="utf-8", errors="replace")
    except OSError as e:
        raise DataError(f"cannot read the Ding dictionary ({e}); apt-get install "
                        f"trans-de-en. Received: path={path}") from e
    with f:
        for line in f:
            if line.startswith("#") or "::" not in line:
                continue
            german, english = line.rstrip("\n").split("::", 1)
            german, english = german.split("|"), english.split("|")
            if len(german) != len(english):
                continue
            for de, en in zip(german, english, strict=True):
                if raw_filter is not None and not raw_filter(en, de):
                    continue
                de, en = normalize(de), normalize(en)
                if de and en:
                    yield en, de


def is_sentence_pair(english, german, min_words=4):
    """Both sides end a sentence, English has `min_words`, no slot words."""
    return (len(english.split()) >= min_words and english.endswith(_SENTENCE_END)
            and german.endswith(_SENTENCE_END) and not _SLOT_RE.search(english + " " + german))


def sentence_pairs(path, min_words=4):
    """The sorted distinct `(english, german)` example sentence pairs."""
    def may_be_sentence(en, de):
        return (en.count(" ") >= min_words - 1 and any(c in en for c in _SENTENCE_END)
                and any(c in de for c in _SENTENCE_END))

    return sorted({(en, de) for en, de in aligned_pairs(path, may_be_sentence)
                   if is_sentence_pair(en, de, min_words)})
