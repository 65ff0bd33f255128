"""`TranslateProblem`: translation from `source_lang` to `target_lang`.

`from tensor2tensor.data_generators import translate` becomes
`from t2t_multimodel import translate_problems`. The base of the WMT loaders
and of their offline stand-ins: raw-string shards of train, dev and test,
one SentencePiece vocabulary (subclasses share one file per language pair
through `vocab_filename`), the space ids of the two languages (the target's
is the MultiModel's command token, "to-German"), and BLEU and chrF of real
decodes as its metrics.
"""

from t2t_multimodel import problem, text_problems

SPACE_IDS = {"en": problem.SpaceID.EN_TOK, "de": problem.SpaceID.DE_TOK,
             "fr": problem.SpaceID.FR_TOK}


class TranslateProblem(text_problems.Text2TextProblem):
    """Text from `source_lang` to `target_lang` ("en", "de" or "fr").

    Subclasses set `source_lang` and `target_lang` (attributes or
    properties), `vocab_filename`, and generate the splits with
    `generate_samples`; `num_train_shards` sets the train shards.

    Args:
        was_reversed: bool. Kept for T2T compatibility; must be False.
        was_copy: bool. Kept for T2T compatibility; must be False.

    Example:

    ```python
    class TranslateTinyEnde(translate_problems.TranslateProblem):
        source_lang, target_lang = "en", "de"
        vocab_filename = "vocab.tiny_ende.4096.subwords"

        def generate_samples(self, data_dir, tmp_dir, dataset_split):
            yield {"inputs": "Good morning.", "targets": "Guten Morgen."}
    ```
    """

    source_lang = None
    target_lang = None
    num_train_shards = 10
    is_generate_per_split = True

    @property
    def dataset_splits(self):
        return [{"split": problem.DatasetSplit.TRAIN, "shards": self.num_train_shards},
                {"split": problem.DatasetSplit.EVAL, "shards": 1},
                {"split": problem.DatasetSplit.TEST, "shards": 1}]

    @property
    def input_space_id(self):
        return SPACE_IDS[self.source_lang]

    @property
    def target_space_id(self):
        return SPACE_IDS[self.target_lang]

    def decode_metrics(self):
        return ["bleu", "chrf"]
