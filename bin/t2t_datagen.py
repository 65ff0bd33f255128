"""t2t-datagen: generates a problem's TFRecord shards and vocabulary.

    t2t-datagen --problem=algorithmic_reverse_binary40 --data_dir=~/t2t_data
    t2t-datagen --problem=a,b --data_dir=...                  # several problems
    t2t-datagen --problem=multimodel_paper_offline --data_dir=...   # a mixture's problems
"""

import os

from absl import flags

from t2t_multimodel.bin import common_flags

FLAGS = flags.FLAGS


def main(argv):
    del argv
    from t2t_multimodel import mixture, registry

    common_flags.require("problem", "data_dir")
    data_dir = os.path.expanduser(FLAGS.data_dir)
    tmp_dir = os.path.expanduser(FLAGS.tmp_dir or os.path.join(data_dir, "tmp"))
    os.makedirs(data_dir, exist_ok=True)
    os.makedirs(tmp_dir, exist_ok=True)
    for name in mixture.resolve(FLAGS.problem).problems:
        problem = registry.problem(name)
        print(f"Generating data for {problem.name} into {data_dir}")
        problem.generate_data(data_dir, tmp_dir)


def run():
    common_flags.run_main(main)


if __name__ == "__main__":
    run()
