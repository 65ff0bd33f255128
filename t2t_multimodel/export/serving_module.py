"""`ServingModule`: text in, text out, with the whole decode in the graph.

One `tf.Module` serves both `t2t-decoder` (in process) and the SavedModel
`t2t-exporter` writes, so what a user decodes on the command line is exactly
what the exported model returns. Tokenization (the problem's in-graph
encoders), the model, greedy/beam search and detokenization are all traced
into its `tf.function`s; loading the SavedModel needs only `tensorflow` and
`tensorflow_text`:

```python
import tensorflow as tf, tensorflow_text  # noqa: F401  (registers the text ops)
m = tf.saved_model.load("t2t_train/reverse/export")
m.signatures["serving_default"](inputs=tf.constant(["1 0 1 1"]))["outputs"]
```
"""

import tensorflow as tf

from t2t_multimodel.decoding.beam_search import beam_search
from t2t_multimodel.decoding.greedy import greedy_search


class ServingModule(tf.Module):
    """Decodes raw input lines with a trained model.

    Args:
        model: a `T2TModel` with its weights loaded.
        input_fn: callable. `[B]` raw strings -> `(inputs feature, int32
            length)`, traced into the graph: the problem's `serving_inputs`
            (text, image or WAV bytes).
        input_encoder: the problem's encoder of the `inputs` feature (text
            inputs, those with `encode_tf`, are checked for UTF-8 and
            truncated; it is tracked so its resources are saved).
        target_encoder: the problem's encoder of the `targets` feature (has
            `decode_tf`).
        target_space_id: int. The command token (the problem's target space).
        beam_size: int. Default beam size of `serving_default` (1: greedy).
        alpha: float. Default length penalty exponent of `serving_default`.
        extra_length: int. Decode at most `input length + extra_length`
            tokens when `max_decode_length` is 0.
        problem: str or None. The problem's name in a mixture's model.
        constraint: None or a callable `(prefix, index, inputs) -> allowed
            ids` applied at every decode step (`Problem.decode_constraint`,
            e.g. `TreeConstraint`); it becomes part of the exported graph.

    Call arguments (signature `decode`):
        inputs: `tf.string` `[B]` raw inputs (text lines, or encoded image
            or WAV files, as the problem's `serving_inputs` takes them).
        beam_size: int32 scalar. 1 decodes greedily.
        alpha: float32 scalar. GNMT length penalty exponent.
        max_decode_length: int32 scalar. 0: input length + `extra_length`.
            A larger value than the decode bound, the larger of that default
            and the model's `max_length` hparam (`batch_size` when it is 0),
            is capped to it: the search allocates its output and cache for
            this many steps, so a client asking for 10^9 would exhaust memory.

    Bad inputs never take the serving process down. A non-string tensor is
    refused by the signature; a text input that is not valid UTF-8 raises
    `InvalidArgumentError` "serving inputs must be UTF-8 text ..." with the
    batch indices of the bad lines; an empty line decodes like any other
    (its input is EOS alone); an empty batch returns empty outputs. Token
    ids longer than the model's `max_length` hparam (the longest input it
    trained on) are truncated to it before the model runs, and the default
    decode budget shrinks in proportion, so a 100k-character line costs
    what a `max_length` one does instead of exhausting memory. Undecodable
    image bytes raise the problem's `serving_inputs` error
    (`InvalidArgumentError`).

    Example:

    ```python
    module = ServingModule(model, problem.serving_inputs, encoders["inputs"],
                           encoders["targets"], 11)
    module.decode(tf.constant(["1 0 0"]), 4, 0.6, 0)["outputs"]  # [b"0 0 1"]
    ```

    A classification problem's module (and its SavedModel) also carries
    `class_labels`, a string variable of every label in id order, so that a
    client can list what the model may answer: `m.class_labels.numpy()`.
    """

    def __init__(self, model, input_fn, input_encoder, target_encoder, target_space_id,
                 beam_size=1, alpha=0.6, extra_length=50, problem=None, constraint=None):
        super().__init__()
        self.model = model
        # The model with its problem bound (a mixture's model serves one of
        # its problems; the command token is `target_space_id`).
        self._view = model.for_problem(problem)
        self.problem = problem
        self.input_encoder = input_encoder
        self.target_encoder = target_encoder
        self.target_space_id = int(target_space_id)
        self.default_beam_size = int(beam_size)
        self.default_alpha = float(alpha)
        self.extra_length = int(extra_length)
        self._input_fn = input_fn
        self.constraint = constraint
        labels = getattr(target_encoder, "class_labels", None)
        if labels and not model.targets_are_sequences(problem):
            self.class_labels = tf.Variable(list(labels), trainable=False, dtype=tf.string,
                                            name="class_labels")
        hparams = getattr(model, "hparams", None)
        # Training drops examples longer than `max_length` (0: `batch_size`).
        self._max_input_length = int(getattr(hparams, "max_length", 0)
                                     or getattr(hparams, "batch_size", 0) or 0)

    def _encode_inputs(self, inputs):
        """Raw `[B]` strings → the model's `inputs` feature and its length."""
        is_text = hasattr(self.input_encoder, "encode_tf")
        if is_text:
            inputs = _checked_utf8(inputs)
        features, length = self._input_fn(inputs)
        if is_text and self._max_input_length > 0:
            features, length = _truncated(features, length, self._max_input_length)
        return features, length

    def _classify(self, features):
        """The best label, its log-probability, and the `top_k` best labels `[B, k]`."""
        logits = self._view(features, training=False)[:, 0, :]
        ids = tf.argmax(logits, axis=-1, output_type=tf.int32)
        scores = tf.reduce_max(tf.nn.log_softmax(logits, axis=-1), axis=-1)
        k = min(5, int(logits.shape[-1]))
        top_ids = tf.math.top_k(logits, k=k).indices
        top_labels = tf.reshape(
            self.target_encoder.decode_tf(tf.reshape(top_ids, [-1, 1])), [-1, k])
        return {"outputs": self.target_encoder.decode_tf(ids[:, None]), "scores": scores,
                "top_k": top_labels}

    def _decode(self, inputs, beam_size, alpha, max_decode_length):
        model_inputs, length = self._encode_inputs(inputs)
        batch = tf.shape(model_inputs)[0]
        features = {"inputs": model_inputs,
                    "target_space_id": tf.fill([batch], self.target_space_id)}
        if not self.model.targets_are_sequences(self.problem):
            features["targets"] = tf.zeros([batch, 1], tf.int32)
            return self._classify(features)
        default = length + self.extra_length
        bound = tf.maximum(default, self._max_input_length)
        max_length = tf.where(max_decode_length > 0, tf.minimum(max_decode_length, bound),
                              default)

        def greedy():
            return greedy_search(self._view, features, max_length, constraint=self.constraint)

        def beam():
            return beam_search(self._view, features, beam_size, alpha, max_length,
                               constraint=self.constraint)

        out_ids, scores = tf.cond(beam_size > 1, beam, greedy)
        return {"outputs": self.target_encoder.decode_tf(out_ids), "scores": scores}

    @tf.function(input_signature=[
        tf.TensorSpec([None], tf.string, name="inputs"),
        tf.TensorSpec([], tf.int32, name="beam_size"),
        tf.TensorSpec([], tf.float32, name="alpha"),
        tf.TensorSpec([], tf.int32, name="max_decode_length"),
    ])
    def decode(self, inputs, beam_size, alpha, max_decode_length):
        return self._decode(inputs, beam_size, alpha, max_decode_length)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
    def serve(self, inputs):
        # A call of `decode`'s own graph, not a second trace of the search.
        return self.decode(inputs, tf.constant(self.default_beam_size),
                           tf.constant(self.default_alpha), tf.constant(0))

    def signatures(self):
        """The SavedModel's signatures, for `tf.saved_model.save(signatures=...)`.

        The `tf.function`s themselves, not concrete functions: saving traces
        every function again under its save context anyway, so tracing them
        here first would only double an export's tracing time.
        """
        return {"serving_default": self.serve, "decode": self.decode}


def _checked_utf8(strings):
    """`strings`, after asserting that each is valid UTF-8 (names the bad indices)."""
    # Transcoding drops invalid sequences, so only invalid UTF-8 changes.
    bad = tf.not_equal(tf.strings.unicode_transcode(strings, "UTF-8", "UTF-8", errors="ignore"),
                       strings)
    check = tf.debugging.Assert(
        tf.logical_not(tf.reduce_any(bad)),
        ["serving inputs must be UTF-8 text; received bytes that are not valid UTF-8 at "
         "batch index", tf.where(bad)[:, 0]], summarize=10)
    with tf.control_dependencies([check]):
        return tf.identity(strings)


def _truncated(ids, length, max_length):
    """Token ids `[B, T]` cut to `max_length`; `length` shrunk in proportion."""
    full = tf.shape(ids)[1]
    ids = ids[:, :max_length]
    kept = tf.shape(ids)[1]
    return ids, tf.where(full > kept, length * kept // tf.maximum(full, 1), length)
