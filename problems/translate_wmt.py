"""The paper's translation problems on WMT data the user has on disk.

`translate_ende_wmt`, `translate_deen_wmt`, `translate_enfr_wmt` and
`translate_fren_wmt` read WMT's files from `--tmp_dir` (any sub-directory), as
WMT distributes them: the plain parallel training files or their archives
(extracted into `--tmp_dir` once), newstest2013 as dev and newstest2014 as
test (SGML, or newstest2013's plain text from WMT's dev.tgz). Nothing is
downloaded. The training corpora are T2T's lists (`translate_ende.py`,
`translate_enfr.py`); every one found is used, those missing are named on
stderr, and with none found datagen stops with a `DataError` naming every
file, its archive and URL.

Like T2T, both directions of a language pair share one SentencePiece
vocabulary (`vocab.translate_ende_wmt.32768.subwords` for de-en,
`vocab.translate_enfr_wmt.32768.subwords` for fr-en), learned from the train
shards of whichever direction is generated first; with the same vocabulary
file the MultiModel shares one symbol net between the two directions.

Not read: TFDS's prepared `wmt14_translate` directories (the plain files are
what every WMT user has; reading TFDS here could not rule out a download).
"""

import sys

from t2t_multimodel import problem, registry, translate_problems
from t2t_multimodel.data import shards, wmt_files
from t2t_multimodel.data.wmt_files import Corpus
from t2t_multimodel.errors import DataError

_WMT13 = "http://www.statmt.org/wmt13/"
_DEV_URL = "http://data.statmt.org/wmt17/translation-task/dev.tgz"
_TEST_URL = "http://www.statmt.org/wmt14/test-full.tgz"

DEEN_TRAIN = (
    Corpus("news-commentary", r"news-commentary-v\d+\.de-en", "training-parallel-nc-v12.tgz",
           "http://data.statmt.org/wmt17/translation-task/training-parallel-nc-v12.tgz"),
    Corpus("commoncrawl", r"commoncrawl\.de-en", "training-parallel-commoncrawl.tgz",
           _WMT13 + "training-parallel-commoncrawl.tgz"),
    Corpus("europarl-v7", r"europarl-v7\.de-en", "training-parallel-europarl-v7.tgz",
           _WMT13 + "training-parallel-europarl-v7.tgz"),
)
FREN_TRAIN = (
    Corpus("commoncrawl", r"commoncrawl\.fr-en", "training-parallel-commoncrawl.tgz",
           _WMT13 + "training-parallel-commoncrawl.tgz"),
    Corpus("europarl-v7", r"europarl-v7\.fr-en", "training-parallel-europarl-v7.tgz",
           _WMT13 + "training-parallel-europarl-v7.tgz"),
    Corpus("news-commentary", r"news-commentary-v\d+\.fr-en", "training-parallel-nc-v9.tgz",
           "http://www.statmt.org/wmt14/training-parallel-nc-v9.tgz"),
    Corpus("giga-fren", r"giga-fren\.release2\.fixed", "training-giga-fren.tar",
           "http://www.statmt.org/wmt10/training-giga-fren.tar"),
    Corpus("undoc", r"undoc\.2000\.fr-en", "training-parallel-un.tgz",
           _WMT13 + "training-parallel-un.tgz"),
)
# Each split: alternatives, the first one present wins.
DEV_SETS = (Corpus("newstest2013", "newstest2013", "dev.tgz", _DEV_URL, kind="sgml"),
            Corpus("newstest2013", r"newstest2013", "dev.tgz", _DEV_URL))


def _test_sets(pair_tag):
    return (Corpus("newstest2014", f"newstest2014-{pair_tag}", "test-full.tgz", _TEST_URL,
                   kind="sgml"),
            Corpus("newstest2014", f"newstest2014-{pair_tag}", "dev.tgz", _DEV_URL,
                   kind="sgml"))


class TranslateWmtProblem(translate_problems.TranslateProblem):
    """WMT translation from `source_lang` to `target_lang`, read from `--tmp_dir`.

    Subclasses set `source_lang`, `target_lang`, `vocab_pair` (the problem
    whose name the shared vocabulary file carries), `train_corpora` and
    `test_sets`.
    """

    vocab_pair = None
    train_corpora = ()
    dev_sets = DEV_SETS
    test_sets = ()

    approx_vocab_size = 2**15

    num_train_shards = 100

    @property
    def vocab_filename(self):
        return f"vocab.{self.vocab_pair}.{self.approx_vocab_size}.subwords"

    def _requirements(self):
        return {problem.DatasetSplit.TRAIN: self.train_corpora,
                problem.DatasetSplit.EVAL: self.dev_sets,
                problem.DatasetSplit.TEST: self.test_sets}

    def missing_data_error(self, tmp_dir):
        """A `DataError` naming every file that is not under `tmp_dir`."""
        s, t = self.source_lang, self.target_lang
        needed = []
        for split, alternatives in self._requirements().items():
            if split == problem.DatasetSplit.TRAIN:
                if not any(wmt_files.locate(tmp_dir, [c], s, t) for c in alternatives):
                    needed.append("train: at least one of " + "; ".join(
                        c.describe(s, t) for c in alternatives))
            elif not wmt_files.locate(tmp_dir, alternatives, s, t):
                needed.append(f"{shards.SPLIT_FILE_NAMES[split]}: "
                              f"{alternatives[0].describe(s, t)}")
        return DataError(
            f"{self.name} reads WMT files from --tmp_dir (nothing is downloaded): put these "
            f"files, or the archives they come in, into {tmp_dir}: " + " | ".join(needed) +
            f". Received: tmp_dir={tmp_dir}")

    def generate_samples(self, data_dir, tmp_dir, dataset_split):
        del data_dir
        s, t = self.source_lang, self.target_lang
        if tmp_dir is None:
            raise DataError(f"{self.name} reads WMT files from --tmp_dir. Received: "
                            f"tmp_dir=None")
        alternatives = self._requirements()[dataset_split]
        if dataset_split == problem.DatasetSplit.TRAIN:
            found = [(c, wmt_files.locate(tmp_dir, [c], s, t)) for c in alternatives]
            located = [hit for _, hit in found if hit]
            missing = [c.name for c, hit in found if not hit]
            if missing and located:
                print(f"{self.name}: training without {', '.join(missing)} (not in "
                      f"{tmp_dir}; see the problem's docstring)", file=sys.stderr, flush=True)
        else:
            hit = wmt_files.locate(tmp_dir, alternatives, s, t)
            located = [hit] if hit else []
        if not located:
            raise self.missing_data_error(tmp_dir)
        for corpus, paths in located:
            print(f"{self.name} {dataset_split}: {corpus.name} from {paths[0]}, {paths[1]}",
                  file=sys.stderr, flush=True)
            for source, target in wmt_files.read_corpus(paths, corpus.kind):
                yield {"inputs": source, "targets": target}


@registry.register_problem
class TranslateEndeWmt(TranslateWmtProblem):
    """WMT English -> German (news-commentary, commoncrawl, europarl-v7;
    dev newstest2013, test newstest2014), the paper's en->de task."""

    source_lang, target_lang, vocab_pair = "en", "de", "translate_ende_wmt"
    train_corpora = DEEN_TRAIN
    test_sets = _test_sets("deen")


@registry.register_problem
class TranslateDeenWmt(TranslateWmtProblem):
    """WMT German -> English: `translate_ende_wmt`'s files and vocabulary, reversed."""

    source_lang, target_lang, vocab_pair = "de", "en", "translate_ende_wmt"
    train_corpora = DEEN_TRAIN
    test_sets = _test_sets("deen")


@registry.register_problem
class TranslateEnfrWmt(TranslateWmtProblem):
    """WMT English -> French (commoncrawl, europarl-v7, news-commentary, giga-fren,
    undoc; dev newstest2013, test newstest2014), the paper's en->fr task."""

    source_lang, target_lang, vocab_pair = "en", "fr", "translate_enfr_wmt"
    train_corpora = FREN_TRAIN
    test_sets = _test_sets("fren")


@registry.register_problem
class TranslateFrenWmt(TranslateWmtProblem):
    """WMT French -> English: `translate_enfr_wmt`'s files and vocabulary, reversed."""

    source_lang, target_lang, vocab_pair = "fr", "en", "translate_enfr_wmt"
    train_corpora = FREN_TRAIN
    test_sets = _test_sets("fren")
