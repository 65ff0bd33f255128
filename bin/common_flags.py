"""Flags shared by the binaries, and the wrapper that turns errors into one line.

Flags live only in `bin/`; each binary turns them into arguments of a library
function. Defining the shared flags here (imported once per process) keeps
their spelling identical across binaries and avoids `DuplicateFlagError` when
tests import several binaries into one process.
"""

import os
import sys

from absl import flags

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

flags.DEFINE_string("t2t_usr_dir", None,
                    "A directory (Python package) of your own problems, models and "
                    "hparams sets, imported before any name is looked up.")
flags.DEFINE_string("problem", None, "Registered problem name (or a,b,c / a mixture).")
flags.DEFINE_string("model", None, "Registered model name.")
flags.DEFINE_string("hparams_set", None, "Registered hparams set name.")
flags.DEFINE_string("hparams", "", 'Overrides, e.g. "hidden_size=64,dropout=0.1".')
flags.DEFINE_string("data_dir", None, "Directory of the problem's data and vocabulary.")
flags.DEFINE_string("output_dir", None, "Directory of the training run.")
flags.DEFINE_string("tmp_dir", None, "Scratch directory for downloads and raw files.")
flags.DEFINE_bool("optimize_graphs", True,
                  "Run TensorFlow's graph optimizer (grappler) on each newly traced function. "
                  "--nooptimize_graphs saves ~6 s per MultiModel step build on a 2-core CPU, "
                  "where the steps measured no slower without it, but each unoptimised "
                  "step holds more memory (the demo's 8-problem trainer: 3.9 GiB instead "
                  "of 2.6 GiB), so the demo uses it for decoding and export only.")


def multimodel_cpu_kernels():
    """Turns TF's oneDNN CPU kernels off, unless `TF_ENABLE_ONEDNN_OPTS` is set.

    For binaries that train only the MultiModel (`t2t-experiments`); it must
    run before TensorFlow is imported. On the demo's 8-problem mixture
    (variable-length batches, 2 cores) oneDNN off trained 7.78 instead of 5.13
    steps/s and each traced step held ~0.45 GiB less; on fixed-shape batches
    and for the Transformer oneDNN is faster (`transformer_tiny` on en->de:
    4.87 vs 4.06 steps/s), so the other binaries keep TF's default.
    """
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

FLAGS = flags.FLAGS


def run_main(main):
    """Runs `main(argv)` under absl; a `T2TError` becomes one line and exit 1."""
    from absl import app

    from t2t_multimodel.errors import T2TError

    def wrapped(argv):
        try:
            from t2t_multimodel import usr_dir
            from t2t_multimodel.training.graph_optimizations import graph_optimizations

            usr_dir.import_usr_dir(FLAGS.t2t_usr_dir)
            with graph_optimizations(FLAGS.optimize_graphs):
                return main(argv)
        except T2TError as e:
            print(f"Error: {e}", file=sys.stderr)
            sys.exit(1)
        except KeyboardInterrupt:
            print("Interrupted.", file=sys.stderr)
            sys.exit(130)

    app.run(wrapped)


def require(*names):
    """Exits with one line when a required flag is missing."""
    from t2t_multimodel.errors import T2TError

    missing = [n for n in names if not getattr(FLAGS, n)]
    if missing:
        raise T2TError(f"missing required flag(s): {', '.join('--' + n for n in missing)}. "
                       f"Received: {', '.join(n + '=None' for n in missing)}")
