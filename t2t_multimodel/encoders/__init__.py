"""Package-private implementation of `t2t_multimodel.text_encoder`.

One encoder class per module; import them from `t2t_multimodel.text_encoder`,
which re-exports the Tensor2Tensor names.
"""
