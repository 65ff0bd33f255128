"""t2t-exporter: writes a text-in/text-out SavedModel of a trained model.

    t2t-exporter --output_dir=~/t2t_train/reverse [--export_dir=...]
        [--decode_hparams="beam_size=4,alpha=0.6"]
    t2t-exporter --output_dir=~/t2t_train/mix --problem=a,b   # or all: <export_dir>/<problem>

The SavedModel's `serving_default` takes `inputs` (tf.string [B]) and returns
`outputs` and `scores`; `decode` also takes `beam_size`, `alpha` and
`max_decode_length`. Loading it needs tensorflow and tensorflow_text only.
"""

import os

from absl import flags, logging

from t2t_multimodel.bin import common_flags

flags.DEFINE_string("export_dir", None, "Default: <output_dir>/export.")
flags.DEFINE_string("decode_hparams", "", "Defaults of serving_default, e.g. beam_size=4.")
flags.DEFINE_string("checkpoint_path", None, "A checkpoint other than the latest.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    from t2t_multimodel.decoding import decoder, loading
    from t2t_multimodel.export import exporter

    common_flags.require("output_dir")
    if not FLAGS["verbosity"].present:  # TF's INFO lines (signature renames) are noise here
        logging.set_verbosity(logging.WARNING)
    output_dir = os.path.expanduser(FLAGS.output_dir)
    dhp = decoder.decode_hparams(FLAGS.decode_hparams)
    export_dir = os.path.expanduser(FLAGS.export_dir or loading.default_export_dir(output_dir))
    if loading.several_problems(FLAGS.problem):
        # One model restored, one SavedModel per problem.
        runs = loading.load_runs(output_dir, loading.problem_names(FLAGS.problem),
                                 FLAGS.checkpoint_path)
        for run in runs:
            path = os.path.join(export_dir, run.problem.name)
            exporter.export(run, path, dhp)
            print(f"Exported {run.problem.name} (step {run.step}) to {path}")
        return
    run = loading.load_run(output_dir, FLAGS.problem, FLAGS.checkpoint_path)
    exporter.export(run, export_dir, dhp)
    print(f"Exported {run.problem.name} (step {run.step}) to {export_dir}")


def run():
    common_flags.run_main(main)


if __name__ == "__main__":
    run()
