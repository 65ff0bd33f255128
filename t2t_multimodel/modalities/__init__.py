"""Registered modalities; importing this package registers them.

A modality is a Keras layer that converts one feature to and from the body's
`[B, L, hidden_size]` representation. Every modality implements:

```
Modality.from_hparams(hparams, vocabulary_size, feature, **kwargs) -> instance
bottom(x)                           -> [B, L, H]   (model inputs)
bottom_mask(x)                      -> [B, L] float32, 1 = real position, 0 = padding
targets_bottom(x)                   -> [B, L, H]   (teacher-forced targets)
top(body_output [B, L, H], mask=None) -> float32 logits
loss(logits, targets, label_smoothing) -> float32 scalar, padding masked out
```

plus a class attribute `targets_are_sequences` (True: decoded token by
token; False: one class per example, from the encoder output; None: not a
target modality), and is registered with `@registry.register_modality("name")`; problems name
it in `problem_hparams.modality`.
"""

from t2t_multimodel.modalities import audio, class_label, image, symbol  # noqa: F401
