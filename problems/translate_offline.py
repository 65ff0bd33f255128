"""Offline stand-ins for the paper's WMT tasks, on real translations from Debian.

`translate_ende_offline`, `translate_deen_offline`, `translate_enfr_offline`
and `translate_fren_offline` need no download beyond a few small Debian
packages, fetched at datagen time with `apt-get download` + `dpkg-deb -x`
into `<tmp_dir>/debian/` (or read from the installed packages; see
`t2t_multimodel.data.system_packages`). The data is GPL/MPL/CC-BY-SA, so it
is never committed here.

en<->de (27.1k distinct pairs: train 24,936, dev 1,080, test 1,070):
    * The example sentences of the Ding dictionary (Debian `trans-de-en`,
      GPL-2+, 6 MB): 17,735 general-domain sentence pairs ("Beethoven
      was a pupil of Haydn." -> "Beethoven war ein Schüler von Haydn."),
      without those whose German offers alternatives with " / ".
    * LibreOffice's German UI catalogs (Debian `libreoffice-l10n-de`,
      MPL-2.0, 0.9 MB): 9,437 messages of at least `min_ui_words` (3)
      English words, placeholders and markup dropped, accelerators removed.
en<->fr (9.6k distinct pairs: train 8,891, dev 359, test 367), noticeably
weaker than en<->de: no French source as large or as general as Ding is in
any registry, and most of it is software UI text.
    * LibreOffice's French UI catalogs (`libreoffice-l10n-fr`): the same
      English messages as for German, in French.
    * The transcripts of Asterisk's English and French voice prompts (Debian
      `asterisk-core-sounds-en` / `-fr`, CC-BY-SA-3.0, 23 kB each without the
      audio): 266 telephony sentences of 3+ words, paired by prompt name.
    Not taken: the .mo catalogs of whatever is installed on the machine
    (data-sources §3.3: not reproducible from one machine to the next), Tux
    Paint's 950 short stamp descriptions (a 153 MB package for 3-word
    captions; the captioning problem uses them) and CLDR emoji names (noun
    phrases, not sentences).

Splits: a pair's English side, reduced to its lower-cased words, is hashed
(MD5) into 100 buckets: `dev_percent` go to dev, `test_percent` to test, the
rest to train, so one English sentence (with all its translations) lands in
one split, en->X and X->en agree, and so do en-de and en-fr (LibreOffice's
English messages are the same in both), so a mixture never trains on
another direction's dev sentences. Dev and
test pairs whose translation also occurs in train are dropped; exact
duplicates are removed. Pairs are ordered by their hash, so every shard and
the head of the dev split mix the sources.

All four directions share one SentencePiece vocabulary
(`vocab.translate_offline.4096.subwords`, learned from the English, German
and French train text), so the MultiModel shares one symbol net between them
as T2T's multimodel did; the command token (target space id) names the
target language. 2**12 pieces, measured on this data: 15.8 pieces per dev
sentence (8.3 words), every piece seen 10+ times in train; 2**13 gives 13.8
pieces but 543 pieces seen fewer than 10 times (embeddings a small CPU run
cannot learn), 2**11 18.5 pieces.
"""

import gzip
import hashlib
import os
import re
import sys
import time

from t2t_multimodel import problem, registry, translate_problems
from t2t_multimodel.data import ding, gettext_catalogs

DING = ("trans-de-en", "usr/share/trans/de-en")
_LO_DIR = "usr/lib/libreoffice/program/resource/{}/LC_MESSAGES"
_ASTERISK = "usr/share/doc/asterisk-core-sounds-{0}/core-sounds-{0}.txt.gz"
# Placeholders, markup, escapes and entities: not text to translate.
_UI_BAD_RE = re.compile(r"%|\$\w+\$|[{}<>\\\n\t]|&\w+;")
_ACCELERATOR_RE = re.compile(r"~|_(?=\w)")
_WORDS_RE = re.compile(r"\w+")
_CACHE = {}


def _debian_path(package, relpath, tmp_dir):
    from t2t_multimodel.data.system_packages import debian_path

    return debian_path(package, relpath, tmp_dir)


def ui_pairs(english_to_foreign, min_words):
    """Clean `(english, foreign)` pairs of a gettext catalog (see the module doc)."""
    pairs = []
    for en, xx in english_to_foreign.items():
        if _UI_BAD_RE.search(en + xx):
            continue
        en, xx = (re.sub(r"\s+", " ", _ACCELERATOR_RE.sub("", s)).strip() for s in (en, xx))
        if en and xx and en != xx and len(en.split()) >= min_words:
            pairs.append((en, xx))
    return pairs


def read_prompt_transcripts(path):
    """`{prompt name: transcript}` of an Asterisk `core-sounds-<lang>.txt(.gz)` file."""
    opener = gzip.open if path.endswith(".gz") else open
    transcripts = {}
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith(";") or ": " not in line:
                continue
            name, text = line.rstrip("\n").split(": ", 1)
            text = text.strip().strip('"').strip()
            if text and not text.startswith("["):  # "[beep]" and other non-speech
                transcripts.setdefault(name.strip(), text)
    return transcripts


def split_key(english):
    """The text an English sentence is hashed by: words only, lower case."""
    return " ".join(_WORDS_RE.findall(english.lower()))


def _bucket(english):
    return int(hashlib.md5(split_key(english).encode("utf-8")).hexdigest()[:8], 16) % 100


def split_pairs(pairs, dev_percent, test_percent):
    """`{"train", "eval", "test"}` -> distinct `(english, foreign)` pairs, hash-ordered."""
    splits = {problem.DatasetSplit.TRAIN: [], problem.DatasetSplit.EVAL: [],
              problem.DatasetSplit.TEST: []}
    order = sorted(set(pairs), key=lambda p: (hashlib.md5(
        "\t".join(p).encode("utf-8")).hexdigest(), p))
    for pair in order:
        bucket = _bucket(pair[0])
        if bucket < dev_percent:
            splits[problem.DatasetSplit.EVAL].append(pair)
        elif bucket < dev_percent + test_percent:
            splits[problem.DatasetSplit.TEST].append(pair)
        else:
            splits[problem.DatasetSplit.TRAIN].append(pair)
    seen = {split_key(xx) for _, xx in splits[problem.DatasetSplit.TRAIN]}
    for split in (problem.DatasetSplit.EVAL, problem.DatasetSplit.TEST):
        splits[split] = [p for p in splits[split] if split_key(p[1]) not in seen]
    return splits


def ende_sources(tmp_dir, min_ui_words):
    """`{source name: [(english, german)]}` from Ding and LibreOffice."""
    sentences = ding.sentence_pairs(_debian_path(*DING, tmp_dir))
    catalog = gettext_catalogs.read_catalogs(
        _debian_path("libreoffice-l10n-de", _LO_DIR.format("de"), tmp_dir))
    return {"ding": [(en, de) for en, de in sentences if " / " not in en + de],
            "libreoffice": ui_pairs(catalog, min_ui_words)}


def enfr_sources(tmp_dir, min_ui_words):
    """`{source name: [(english, french)]}` from LibreOffice and Asterisk."""
    catalog = gettext_catalogs.read_catalogs(
        _debian_path("libreoffice-l10n-fr", _LO_DIR.format("fr"), tmp_dir))
    english = read_prompt_transcripts(_debian_path(
        "asterisk-core-sounds-en", _ASTERISK.format("en"), tmp_dir))
    french = read_prompt_transcripts(_debian_path(
        "asterisk-core-sounds-fr", _ASTERISK.format("fr"), tmp_dir))
    prompts = [(en, french[name]) for name, en in sorted(english.items())
               if name in french and len(en.split()) >= min_ui_words]
    return {"libreoffice": ui_pairs(catalog, min_ui_words), "asterisk": prompts}


class TranslateOfflineProblem(translate_problems.TranslateProblem):
    """Translation between English and `language` on offline real data.

    Subclasses set `language` ("de" or "fr") and `reverse` (True: from
    `language` into English). Class attributes cap and shape the data:
    `max_train_pairs` (None: all), `dev_percent`, `test_percent`,
    `min_ui_words` (shortest UI message kept, in English words).
    """

    language = None
    reverse = False
    max_train_pairs = None
    dev_percent = 4
    test_percent = 4
    min_ui_words = 3
    sources = {"de": ende_sources, "fr": enfr_sources}

    approx_vocab_size = 2**12

    @property
    def vocab_filename(self):
        return f"vocab.translate_offline.{self.approx_vocab_size}.subwords"

    @property
    def source_lang(self):
        return self.language if self.reverse else "en"

    @property
    def target_lang(self):
        return "en" if self.reverse else self.language

    def pair_splits(self, tmp_dir, language=None):
        """The `(english, foreign)` pairs of every split (cached per process)."""
        language = language or self.language
        key = (type(self).sources[language], tmp_dir, os.environ.get("T2T_DEB_ROOT"),
               self.min_ui_words, self.dev_percent, self.test_percent, self.max_train_pairs)
        if key not in _CACHE:
            start = time.time()
            sources = type(self).sources[language](tmp_dir, self.min_ui_words)
            splits = split_pairs([p for pairs in sources.values() for p in pairs],
                                 self.dev_percent, self.test_percent)
            if self.max_train_pairs is not None:
                splits["train"] = splits["train"][:self.max_train_pairs]
            counts = ", ".join(f"{name} {len(pairs)}" for name, pairs in sources.items())
            print(f"en-{language} offline pairs: {counts}; distinct train "
                  f"{len(splits['train'])}, dev {len(splits['eval'])}, test "
                  f"{len(splits['test'])} ({time.time() - start:.1f}s)",
                  file=sys.stderr, flush=True)
            _CACHE[key] = splits
        return _CACHE[key]

    def generate_samples(self, data_dir, tmp_dir, dataset_split):
        del data_dir
        for en, xx in self.pair_splits(tmp_dir)[dataset_split]:
            yield {"inputs": xx, "targets": en} if self.reverse else {"inputs": en,
                                                                      "targets": xx}

    def generate_text_for_vocab(self, data_dir, tmp_dir):
        """English, German and French train text: one vocabulary for all four."""
        del data_dir
        for language in ("de", "fr"):
            for en, xx in self.pair_splits(tmp_dir, language)[problem.DatasetSplit.TRAIN]:
                yield en
                yield xx


@registry.register_problem
class TranslateEndeOffline(TranslateOfflineProblem):
    """English -> German on Ding example sentences + LibreOffice (module doc)."""

    language = "de"


@registry.register_problem
class TranslateDeenOffline(TranslateOfflineProblem):
    """German -> English on Ding example sentences + LibreOffice (module doc)."""

    language, reverse = "de", True


@registry.register_problem
class TranslateEnfrOffline(TranslateOfflineProblem):
    """English -> French on LibreOffice + Asterisk prompts (module doc)."""

    language = "fr"


@registry.register_problem
class TranslateFrenOffline(TranslateOfflineProblem):
    """French -> English on LibreOffice + Asterisk prompts (module doc)."""

    language, reverse = "fr", True
