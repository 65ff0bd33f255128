#!/usr/bin/env bash
# The embedded demo: datagen -> train -> decode -> export -> decode from the
# SavedModel in a Python process that cannot import t2t_multimodel.
# About 4 minutes on 2 cores. Override the location with DEMO_DIR=...
# The problem is T2T's algorithmic_reverse_binary40_test (reverse binary
# strings of length 1-10): a 2-layer Transformer learns it in about 800 steps.
set -euo pipefail
export TF_CPP_MIN_LOG_LEVEL=3
DEMO_DIR=${DEMO_DIR:-$HOME/t2t_demo}
STEPS=${STEPS:-1000}
PROBLEM=algorithmic_reverse_binary40_test
DATA=$DEMO_DIR/data
TRAIN=$DEMO_DIR/train/reverse_transformer_tiny

t2t-datagen --problem=$PROBLEM --data_dir="$DATA"
# Algorithmic tasks need no regularisation, and a short run a short warmup.
t2t-trainer --problem=$PROBLEM --model=transformer --hparams_set=transformer_tiny \
  --hparams="learning_rate=0.003,learning_rate_warmup_steps=100,batch_size=1024,dropout=0.0,attention_dropout=0.0,relu_dropout=0.0,label_smoothing=0.0" \
  --data_dir="$DATA" --output_dir="$TRAIN" --train_steps="$STEPS" \
  --save_checkpoints_steps=500 --local_eval_frequency=500 --eval_steps=0
t2t-decoder --output_dir="$TRAIN" --decode_hparams="beam_size=4,alpha=0.6,num_samples=100"
printf '1 0 1 1 0 0 0 1 1 1\n0 0 0 1\n1 1 0\n' > "$DEMO_DIR/inputs.txt"
t2t-decoder --output_dir="$TRAIN" --decode_from_file="$DEMO_DIR/inputs.txt" \
  --decode_to_file="$DEMO_DIR/outputs.txt"
paste -d'>' "$DEMO_DIR/inputs.txt" "$DEMO_DIR/outputs.txt" | sed 's/>/  ->  /'
t2t-exporter --output_dir="$TRAIN"
# Decode from the SavedModel in an isolated interpreter (-I) in another
# directory, where importing t2t_multimodel is refused: only tensorflow and
# tensorflow_text are used.
cd /tmp && python -I -c "
import sys
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] == 't2t_multimodel':
            raise ImportError('t2t_multimodel is not available in this process')
sys.meta_path.insert(0, Refuse())
import tensorflow as tf, tensorflow_text  # noqa: F401 (registers the text ops)
m = tf.saved_model.load('$TRAIN/export')
out = m.signatures['serving_default'](inputs=tf.constant(['1 1 0 1 0 0 1 1 1 0', '0 1']))
print('SavedModel:', [o.decode() for o in out['outputs'].numpy()])
assert 't2t_multimodel' not in sys.modules
"
