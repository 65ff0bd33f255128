#!/usr/bin/env bash
# The embedded demo: one MultiModel learns a text task and an image task at
# once: datagen -> train on the mixture -> decode each problem with its own
# command token -> export -> decode from the SavedModels in a Python process
# that cannot import t2t_multimodel. About 7 minutes on 2 cores after the install.
# Override the location with DEMO_DIR=... and the length with STEPS=...
# The problems: T2T's algorithmic_reverse_binary40_test (reverse binary
# strings of length 1-10, generated) and image_digits (scikit-learn's 1,797
# real 8x8 handwritten digits, 300 held out).
set -euo pipefail
export TF_CPP_MIN_LOG_LEVEL=3
DEMO_DIR=${DEMO_DIR:-$HOME/t2t_demo}
STEPS=${STEPS:-800}
TEXT=algorithmic_reverse_binary40_test
IMAGE=image_digits
DATA=$DEMO_DIR/data
TRAIN=$DEMO_DIR/train/multimodel_tiny_mixture

t2t-datagen --problem=$TEXT --data_dir="$DATA"
t2t-datagen --problem=$IMAGE --data_dir="$DATA"
# Algorithmic tasks need no regularisation, and a short run a short warmup.
t2t-trainer --problem=$TEXT,$IMAGE --model=multimodel --hparams_set=multimodel_tiny \
  --hparams="learning_rate=0.003,learning_rate_warmup_steps=100,label_smoothing=0.0,image_downsample_steps=1" \
  --data_dir="$DATA" --output_dir="$TRAIN" --train_steps="$STEPS" \
  --save_checkpoints_steps=400 --local_eval_frequency=400 --eval_steps=0
t2t-decoder --output_dir="$TRAIN" --problem=$TEXT \
  --decode_hparams="beam_size=4,alpha=0.6,num_samples=100"
t2t-decoder --output_dir="$TRAIN" --problem=$IMAGE --decode_hparams="num_samples=300"
printf '1 0 1 1 0 0 0 1 1 1\n0 0 0 1\n1 1 0\n' > "$DEMO_DIR/inputs.txt"
t2t-decoder --output_dir="$TRAIN" --problem=$TEXT --decode_from_file="$DEMO_DIR/inputs.txt" \
  --decode_to_file="$DEMO_DIR/outputs.txt"
paste -d'>' "$DEMO_DIR/inputs.txt" "$DEMO_DIR/outputs.txt" | sed 's/>/  ->  /'
t2t-exporter --output_dir="$TRAIN" --problem=$TEXT --export_dir="$TRAIN/export_$TEXT"
t2t-exporter --output_dir="$TRAIN" --problem=$IMAGE --export_dir="$TRAIN/export_$IMAGE"
# Decode from the SavedModels in an isolated interpreter (-I) in another
# directory, where importing t2t_multimodel is refused: only tensorflow and
# tensorflow_text are used. The image model takes PNG bytes.
cd /tmp && python -I -c "
import glob, sys
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] == 't2t_multimodel':
            raise ImportError('t2t_multimodel is not available in this process')
sys.meta_path.insert(0, Refuse())
import tensorflow as tf, tensorflow_text  # noqa: F401 (registers the text ops)
text = tf.saved_model.load('$TRAIN/export_$TEXT')
out = text.signatures['serving_default'](inputs=tf.constant(['1 1 0 1 0 0 1 1 1 0', '0 1']))
print('SavedModel $TEXT:', [o.decode() for o in out['outputs'].numpy()])
image = tf.saved_model.load('$TRAIN/export_$IMAGE')
records = tf.data.TFRecordDataset(sorted(glob.glob('$DATA/$IMAGE-dev-*'))).take(8)
spec = {'image/encoded': tf.io.FixedLenFeature([], tf.string),
        'image/class/label': tf.io.FixedLenFeature([1], tf.int64)}
examples = [tf.io.parse_single_example(r, spec) for r in records]
pngs = tf.stack([e['image/encoded'] for e in examples])
out = image.signatures['serving_default'](inputs=pngs)
print('SavedModel $IMAGE: predicted', [o.decode() for o in out['outputs'].numpy()],
      'true', [int(e['image/class/label'][0]) for e in examples])
assert 't2t_multimodel' not in sys.modules
"
