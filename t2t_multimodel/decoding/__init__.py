"""Greedy and beam search over the models' incremental decoding interface.

Both run in a `tf.while_loop`, so they work eagerly, inside a `tf.function`
and inside an exported SavedModel. `FullPrefixDecoder` (in `full_prefix`) is
the cache-free reference path for equivalence tests and benchmarks.
"""

from t2t_multimodel.decoding.beam_search import beam_search
from t2t_multimodel.decoding.full_prefix import FullPrefixDecoder
from t2t_multimodel.decoding.greedy import greedy_search

__all__ = ["FullPrefixDecoder", "beam_search", "greedy_search"]
