"""Metric names problems return from `eval_metrics()` (T2T's `metrics.Metrics`).

The trainer and decoder compute the metrics a problem names; the names are
T2T's so that ported problems keep working.
"""


class Metrics:
    """Available evaluation metric names."""

    ACC = "accuracy"
    ACC_TOP5 = "accuracy_top5"
    ACC_PER_SEQ = "accuracy_per_sequence"
    NEG_LOG_PERPLEXITY = "neg_log_perplexity"
    APPROX_BLEU = "approx_bleu_score"
    ROUGE_2_F = "rouge_2_fscore"
    ROUGE_L_F = "rouge_L_fscore"
    EDIT_DISTANCE = "edit_distance"
    WORD_ERROR_RATE = "word_error_rate"
