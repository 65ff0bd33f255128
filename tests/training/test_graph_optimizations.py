import tensorflow as tf

from t2t_multimodel.training.graph_optimizations import graph_optimizations


def _disabled():
    return tf.config.optimizer.get_experimental_options().get("disable_meta_optimizer", False)


def test_off_inside_the_block_and_restored_after():
    assert not _disabled()
    with graph_optimizations(False):
        assert _disabled()
        # A function traced here runs and gives the same values.
        assert float(tf.function(lambda x: tf.reduce_sum(x * 2.0))(tf.ones(3))) == 6.0
    assert not _disabled()


def test_enabled_leaves_the_setting_alone():
    with graph_optimizations(True):
        assert not _disabled()
