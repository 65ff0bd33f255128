"""t2t_multimodel: Tensor2Tensor-style problems, models and binaries on Keras 3."""

__version__ = "0.1.0"
