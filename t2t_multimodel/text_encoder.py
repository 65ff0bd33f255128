"""Text encoders with Tensor2Tensor's names, whose vocabularies run in the graph.

`from tensor2tensor.data_generators import text_encoder` becomes
`from t2t_multimodel import text_encoder`. Each encoder keeps T2T's Python
interface (`encode`, `decode`, `decode_list`, `vocab_size`) and adds the
in-graph `encode_tf` / `decode_tf` the data pipeline, the decoder and the
exported SavedModel use, so all three share one tokenizer:

* `TextEncoder`: space-separated integers (ids = int + 2).
* `ByteTextEncoder`: UTF-8 bytes (ids = byte + 2, vocabulary 258).
* `TokenTextEncoder`: whitespace tokens from a vocabulary file or list.
* `SubwordTextEncoder`: a SentencePiece unigram model with byte fallback, run by
  `tensorflow_text.SentencepieceTokenizer` (why: see its module docstring).
* `ClassLabelEncoder`: class label strings.

Every encoder is a `tf.Module` (and `encoder.tf_module()` returns it): assign
it to an attribute of the `tf.Module` you export and the SavedModel carries
its tables and model, loadable where only `tensorflow` and `tensorflow_text`
are installed. A saved encoder also has `tokenize(texts [B])` and
`detokenize(ids [B, L])` functions.

Ids 0 and 1 are PAD and EOS in every vocabulary (`PAD_ID`, `EOS_ID`).
"""

from t2t_multimodel.encoders.byte_text_encoder import ByteTextEncoder
from t2t_multimodel.encoders.class_label_encoder import ClassLabelEncoder
from t2t_multimodel.encoders.reserved import (
    EOS,
    EOS_ID,
    NUM_RESERVED_TOKENS,
    PAD,
    PAD_ID,
    RESERVED_TOKENS,
    RESERVED_TOKENS_BYTES,
    strip_ids,
)
from t2t_multimodel.encoders.subword_text_encoder import SubwordTextEncoder
from t2t_multimodel.encoders.text_encoder_base import TextEncoder
from t2t_multimodel.encoders.token_text_encoder import TokenTextEncoder

__all__ = [
    "EOS", "EOS_ID", "NUM_RESERVED_TOKENS", "PAD", "PAD_ID", "RESERVED_TOKENS",
    "RESERVED_TOKENS_BYTES", "ByteTextEncoder", "ClassLabelEncoder", "SubwordTextEncoder",
    "TextEncoder", "TokenTextEncoder", "strip_ids",
]
