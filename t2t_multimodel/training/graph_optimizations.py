"""`graph_optimizations`: turn TensorFlow's graph optimizer (grappler) off in a block."""

import contextlib


@contextlib.contextmanager
def graph_optimizations(enabled):
    """Turns grappler off inside the block when not `enabled` (process-wide).

    Grappler rewrites every newly traced function before its first run. For
    the MultiModel on a 2-core CPU it is about half of each train step's
    build (~8 of ~17 s per problem of a mixture) and the steps ran no faster
    with it (translation 327 vs 329 ms, speech 170 vs 185 ms per step,
    `multimodel_tiny`); results are equal up to float rounding. Short runs
    (`--quick`, the demo) gain; on GPUs its layout pass matters, so it stays
    on by default.
    """
    if enabled:
        yield
        return
    import tensorflow as tf

    before = tf.config.optimizer.get_experimental_options()
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options(
            {"disable_meta_optimizer": before.get("disable_meta_optimizer", False)})
