"""The shared layer test harness: config round-trip, eager, symbolic, one fit step.

```python
from layer_harness import run_layer_test

run_layer_test(FeedForward, {"filter_size": 8}, np.ones((2, 3, 4), "float32"),
               expected_output_shape=(2, 3, 4))
```
"""

import json

import keras
import numpy as np


def _as_kwargs(input_data):
    """`input_data` is one array (the first argument) or a dict of named arguments."""
    if isinstance(input_data, dict):
        return {name: np.asarray(value) for name, value in input_data.items()}
    return {None: np.asarray(input_data)}


def _call(layer, tensors, call_kwargs):
    if None in tensors:
        return layer(tensors[None], **call_kwargs)
    return layer(**tensors, **call_kwargs)


def _shapes(output):
    if isinstance(output, (tuple, list)):
        return tuple(tuple(o.shape) for o in output)
    return tuple(output.shape)


def run_layer_test(layer_cls, init_kwargs, input_data, expected_output_shape,
                   expected_output_dtype="float32", call_kwargs=None,
                   run_training_check=True, expected_num_trainable_weights=None):
    """Checks a layer the way every layer test should, and returns its eager output.

    Args:
        layer_cls: the layer class.
        init_kwargs: dict. Constructor arguments.
        input_data: array, or dict of argument name -> array for layers called
            with several tensors (e.g. `{"query": q, "value": v}`).
        expected_output_shape: tuple, or tuple of tuples for several outputs.
        expected_output_dtype: str. The dtype of the (first) output.
        call_kwargs: dict. Extra non-tensor call arguments.
        run_training_check: bool. Whether to fit one step of a model wrapping
            the layer (skipped when the layer has no trainable weights).
        expected_num_trainable_weights: int or None.
    """
    call_kwargs = dict(call_kwargs or {})
    tensors = _as_kwargs(input_data)

    # 1. Config round-trip: equal configs, and the config is JSON.
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    json.dumps(config)
    revived = layer_cls.from_config(config)
    assert revived.get_config() == config
    for name, value in init_kwargs.items():
        assert name in config, f"constructor argument {name!r} missing from get_config()"
        if isinstance(value, (bool, int, float, str)):
            assert config[name] == value, (name, config[name], value)

    # 2. Eager call: shapes and dtype.
    output = _call(layer, tensors, call_kwargs)
    assert _shapes(output) == tuple(expected_output_shape), (
        _shapes(output), expected_output_shape)
    first = output[0] if isinstance(output, (tuple, list)) else output
    assert keras.backend.standardize_dtype(first.dtype) == expected_output_dtype
    if expected_num_trainable_weights is not None:
        assert len(layer.trainable_weights) == expected_num_trainable_weights

    # 3. Symbolic call on keras.Input (fixed batch, so the full shape is known).
    symbolic_layer = layer_cls(**init_kwargs)
    inputs = {
        name: keras.Input(shape=value.shape[1:], batch_size=value.shape[0],
                          dtype=str(value.dtype), name=name or "inputs")
        for name, value in tensors.items()
    }
    symbolic_output = _call(symbolic_layer, inputs, call_kwargs)
    assert _shapes(symbolic_output) == tuple(expected_output_shape)

    # 4. One fit step of a tiny model around the layer.
    if run_training_check and layer.trainable_weights:
        model_output = (symbolic_output[0] if isinstance(symbolic_output, (tuple, list))
                        else symbolic_output)
        model_inputs = inputs[None] if None in inputs else inputs
        model = keras.Model(model_inputs, model_output)
        model.compile(optimizer="sgd", loss="mse")
        x = tensors[None] if None in tensors else tensors
        target = np.zeros(tuple(model_output.shape), "float32")
        before = [np.array(w) for w in symbolic_layer.trainable_weights]
        history = model.fit(x, target, batch_size=target.shape[0], epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        after = [np.array(w) for w in symbolic_layer.trainable_weights]
        assert any(not np.array_equal(b, a) for b, a in zip(before, after, strict=True))
    return output
