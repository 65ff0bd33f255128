"""The one way runs are checkpointed: model variables by path, optimizer, step.

Keras 3 layers kept in Python lists (`self.encoder_layers = [...]`) are
`TrackedList`s, which `tf.train.Checkpoint` does not follow: checkpointing
the model object would silently save only its non-list sublayers. So the
model's variables are checkpointed as a dictionary keyed by their Keras path
below the model's own name (`encoder_layer_0/self_attention/query/kernel`),
which does not depend on how many models the process has built. The optimizer
object tracks its own variables.
"""

import tensorflow as tf

from t2t_multimodel.errors import T2TError


def model_variables(model):
    """`{path below the model name: variable}` for every model weight.

    `model.weights` (trainable and not), not `model.variables`: the latter
    also holds the dropout layers' random seed states, whose paths carry
    process-global counters (`seed_generator_3`).
    """
    variables = {}
    for variable in model.weights:
        key = variable.path.split("/", 1)[1] if "/" in variable.path else variable.path
        if key in variables:
            raise T2TError(f"two variables of {type(model).__name__} share the path {key!r}: "
                           f"give the sublayers distinct names. Received: path={key}")
        variables[key] = variable
    return variables


def make_checkpoint(model, optimizer=None, step=None):
    """A `tf.train.Checkpoint` of `model` (and the optimizer and step if given)."""
    objects = {"model": model_variables(model)}
    if optimizer is not None:
        objects["optimizer"] = optimizer
    if step is not None:
        objects["step"] = step
    return tf.train.Checkpoint(**objects)


def restore(checkpoint, checkpoint_path):
    """Restores `checkpoint` from `checkpoint_path`; a mismatch is a `T2TError`.

    Every object of `checkpoint` must find its values in the file (a model
    of another architecture does not); values in the file that `checkpoint`
    does not hold (an optimizer's slots, when only the model is restored)
    are allowed.
    """
    status = checkpoint.restore(checkpoint_path)
    try:
        status.assert_existing_objects_matched()
    except AssertionError as e:
        raise T2TError(f"checkpoint {checkpoint_path} does not hold this model's variables "
                       f"({str(e).splitlines()[0]}); was it written by another model or "
                       f"hparams? Received: checkpoint_path={checkpoint_path}") from e
    status.expect_partial()
    return checkpoint


def restore_model(model, checkpoint_path, step=None):
    """Restores every weight of `model` (and `step`) from `checkpoint_path`."""
    return restore(make_checkpoint(model, step=step), checkpoint_path)
