"""t2t-trainer: trains a model on a problem, resuming from the last checkpoint.

    t2t-trainer --problem=algorithmic_reverse_binary40 --model=transformer \\
        --hparams_set=transformer_tiny --hparams="hidden_size=64" \\
        --data_dir=~/t2t_data --output_dir=~/t2t_train/reverse \\
        --train_steps=2000 --generate_data

Rerunning the same command continues from the latest checkpoint in
--output_dir (after a crash or kill too); a different model, problem or
hparams in an existing --output_dir is refused. `--registry_help` lists every
registered problem, model and hparams set. `--distribution_strategy=mirrored`
trains on the local GPUs, `=multi_worker_mirrored` on the machines that the
`TF_CONFIG` environment variable names (the same command on each).
"""

import os

from absl import flags, logging

from t2t_multimodel.bin import common_flags

flags.DEFINE_integer("train_steps", 1000, "Train until the global step reaches this.")
flags.DEFINE_integer("eval_steps", 20,
                     "Dev batches per evaluation; <= 0 evaluates the whole dev split.")
flags.DEFINE_integer("save_checkpoints_steps", 100, "Checkpoint every this many steps.")
flags.DEFINE_integer("local_eval_frequency", 500,
                     "Evaluate on the dev split every this many steps (0: only at the end).")
flags.DEFINE_integer("log_step_count_steps", 100, "A progress line every this many steps.")
flags.DEFINE_bool("generate_data", False, "Generate the problem's data into --data_dir first.")
flags.DEFINE_string("distribution_strategy", "",
                    'Train on several devices or machines: "mirrored" (the local GPUs, or '
                    '--cpu_replicas CPU devices) or "multi_worker_mirrored" (the cluster in '
                    "the TF_CONFIG environment variable; run the same command on every "
                    "worker). Empty: one device.")
flags.DEFINE_integer("cpu_replicas", 1,
                     "Without GPUs, --distribution_strategy=mirrored splits the CPU into "
                     "this many replicas (to try the distributed path on one machine).")
flags.DEFINE_bool("registry_help", False,
                  "Print the registered problems, models and hparams sets, and exit.")

FLAGS = flags.FLAGS


def _log(message):
    print(message, flush=True)


def main(argv):
    del argv
    from t2t_multimodel import registry

    if not FLAGS["verbosity"].present:  # TF's INFO lines (saver timings) are noise here
        logging.set_verbosity(logging.WARNING)

    if FLAGS.registry_help:
        print(registry.help_string())
        return 0
    common_flags.require("problem", "model", "hparams_set", "data_dir", "output_dir")
    from t2t_multimodel.training import distribution

    # Before any other TensorFlow call: the strategies configure the devices.
    strategy = distribution.make_strategy(FLAGS.distribution_strategy, FLAGS.cpu_replicas)
    from t2t_multimodel.training import trainer

    data_dir = os.path.expanduser(FLAGS.data_dir)
    tmp_dir = os.path.expanduser(FLAGS.tmp_dir) if FLAGS.tmp_dir else None
    result = trainer.train(
        FLAGS.problem, FLAGS.model, FLAGS.hparams_set, data_dir,
        os.path.expanduser(FLAGS.output_dir), hparams_overrides=FLAGS.hparams,
        train_steps=FLAGS.train_steps, eval_steps=FLAGS.eval_steps,
        save_checkpoints_steps=FLAGS.save_checkpoints_steps,
        local_eval_frequency=FLAGS.local_eval_frequency,
        generate_data=FLAGS.generate_data, tmp_dir=tmp_dir,
        t2t_usr_dir=FLAGS.t2t_usr_dir, log_fn=_log,
        log_step_count_steps=FLAGS.log_step_count_steps, distribution_strategy=strategy)
    if result["eval_history"]:
        step, values = result["eval_history"][-1]
        _log(f"Final eval (step {step}): " + "  ".join(f"{k} {v:.4f}" for k, v in values.items()))
    return 0


def run():
    common_flags.run_main(main)


if __name__ == "__main__":
    run()
