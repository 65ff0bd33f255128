"""t2t-decoder: decodes with a trained model, from `--output_dir` alone.

    t2t-decoder --output_dir=~/t2t_train/reverse                  # dev sample + metrics
    t2t-decoder --output_dir=~/t2t_train/mix --problem=all        # every problem of a mixture
    t2t-decoder --output_dir=... --decode_from_file=in.txt --decode_to_file=out.txt
    t2t-decoder --output_dir=... --decode_interactive
    t2t-decoder --output_dir=... --decode_hparams="beam_size=4,alpha=0.6,extra_length=50"
"""

import os

from absl import flags

from t2t_multimodel.bin import common_flags

flags.DEFINE_string("decode_hparams", "", 'e.g. "beam_size=4,alpha=0.6,extra_length=50"')
flags.DEFINE_string("decode_from_file", None, "Decode each line of this file.")
flags.DEFINE_string("decode_to_file", None,
                    "Where to write the decodes (default: <decode_from_file>.decoded).")
flags.DEFINE_bool("decode_interactive", False, "Decode lines read from stdin.")
flags.DEFINE_string("checkpoint_path", None, "A checkpoint other than the latest.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    from t2t_multimodel.decoding import decoder, loading
    from t2t_multimodel.errors import T2TError

    common_flags.require("output_dir")
    output_dir = os.path.expanduser(FLAGS.output_dir)
    dhp = decoder.decode_hparams(FLAGS.decode_hparams)
    if loading.several_problems(FLAGS.problem):
        if FLAGS.decode_interactive or FLAGS.decode_from_file:
            raise T2TError("--decode_from_file and --decode_interactive decode one problem; "
                           f"pick one with --problem. Received: problem={FLAGS.problem}")
        runs = loading.load_runs(output_dir, loading.problem_names(FLAGS.problem),
                                 FLAGS.checkpoint_path)
        results = {run.problem.name: decoder.decode_dev(run, decoder.serving_module(run, dhp),
                                                        dhp)
                   for run in runs}
        print(decoder.summary_table(results))
        return
    run = loading.load_run(output_dir, FLAGS.problem, FLAGS.checkpoint_path)
    module = decoder.serving_module(run, dhp)
    if FLAGS.decode_interactive:
        decoder.decode_interactive(module, dhp)
    elif FLAGS.decode_from_file:
        out = FLAGS.decode_to_file or FLAGS.decode_from_file + ".decoded"
        outputs = decoder.decode_from_file(module, FLAGS.decode_from_file, out, dhp)
        print(f"Wrote {len(outputs)} decodes to {out}")
    else:
        decoder.decode_dev(run, module, dhp)


def run():
    common_flags.run_main(main)


if __name__ == "__main__":
    run()
