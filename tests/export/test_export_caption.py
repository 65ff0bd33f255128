"""A grey and an RGB problem share one image net; a caption SavedModel works without the package.

One tiny MultiModel trains on a mixture of a grey 8x8 classification problem
and a 32x32 RGB captioning problem (`image_caption_shapes` with few scenes),
then its captioning problem is exported and decoded from PNG bytes in a
process that cannot import t2t_multimodel.
"""

import json

import numpy as np
import pytest
import tensorflow as tf
from cli import run_standalone
from grey_bars import GreyBars

from t2t_multimodel import registry
from t2t_multimodel.decoding import decoder, loading
from t2t_multimodel.export import exporter
from t2t_multimodel.problems import caption
from t2t_multimodel.training import trainer

GREY, SHAPES = "grey_bars_for_export_test", "shapes_for_export_test"
HPARAMS = ("hidden_size=32,num_heads=2,moe_num_experts=4,moe_hidden_size=32,large_kernel_size=5,"
           "encoder_blocks=1,decoder_blocks=1,batch_size=256,learning_rate=3e-3,"
           "learning_rate_warmup_steps=20")
STEPS = 60


class FewShapes(caption.ImageCaptionShapes):
    train_size, dev_size = 300, 8


for _name, _cls in ((GREY, type("ExportTestGreyBars", (GreyBars,), {})), (SHAPES, FewShapes)):
    if _name not in registry.Registries.problems:
        registry.register_problem(_name)(_cls)


@pytest.fixture(scope="module")
def mixture_run(tmp_path_factory):
    data_dir = str(tmp_path_factory.mktemp("data"))
    for name in (GREY, SHAPES):
        registry.problem(name).generate_data(data_dir, None)
    output_dir = str(tmp_path_factory.mktemp("run") / "out")
    lines = []
    result = trainer.train(f"{GREY},{SHAPES}", "multimodel", "multimodel_tiny", data_dir,
                           output_dir, hparams_overrides=HPARAMS, train_steps=STEPS,
                           eval_steps=0, save_checkpoints_steps=STEPS,
                           local_eval_frequency=0, log_fn=lines.append,
                           log_step_count_steps=STEPS)
    return data_dir, output_dir, result, lines


def test_grey_and_rgb_problems_train_one_shared_image_net(mixture_run):
    _, output_dir, result, lines = mixture_run
    assert result["global_step"] == STEPS
    for name in (GREY, SHAPES):
        assert any(line.startswith(f"  {name}: loss ") for line in lines), lines
    model = loading.load_run(output_dir, SHAPES).model
    grey_net, rgb_net = model.modality_set.input(GREY), model.modality_set.input(SHAPES)
    assert grey_net is rgb_net
    assert [layer for layer in model.modality_set.layers.values()
            if type(layer).__name__ == "ImageModality"] == [grey_net]
    # The one net encodes both: 8x8 grey -> 2x2 positions, 32x32 RGB -> 8x8.
    assert tuple(grey_net.bottom(np.zeros([1, 8, 8, 1], np.uint8)).shape) == (1, 4, 32)
    assert tuple(grey_net.bottom(np.zeros([1, 32, 32, 3], np.uint8)).shape) == (1, 64, 32)


@pytest.fixture(scope="module")
def exported(mixture_run, tmp_path_factory):
    data_dir, output_dir, _, _ = mixture_run
    run = loading.load_run(output_dir, SHAPES)
    dhp = decoder.decode_hparams("beam_size=1")
    export_dir = str(tmp_path_factory.mktemp("export") / "saved")
    exporter.export(run, export_dir, dhp)
    files = [ex["image/encoded"].numpy()
             for ex in registry.problem(SHAPES).decode_examples("eval", data_dir)][:3]
    # A 64x64 rendering of the first scene: served images of another size are resized.
    first = tf.io.decode_png(files[0]).numpy()
    files.append(tf.io.encode_png(first.repeat(2, axis=0).repeat(2, axis=1)).numpy())
    expected, _ = decoder.decode_lines(decoder.serving_module(run, dhp), files, dhp)
    return export_dir, files, expected


def test_caption_saved_model_decodes_png_bytes_without_the_package(exported, tmp_path):
    export_dir, files, expected = exported
    paths = []
    for i, data in enumerate(files):
        paths.append(str(tmp_path / f"{i}.png"))
        with open(paths[-1], "wb") as f:
            f.write(data)
    code = f"""
import json
m = tf.saved_model.load({export_dir!r})
images = [open(p, "rb").read() for p in {paths!r}]
r = m.signatures["serving_default"](inputs=tf.constant(images))
print(json.dumps([o.decode() for o in r["outputs"].numpy()]))
"""
    outputs = json.loads(run_standalone(code, cwd=str(tmp_path)).strip().splitlines()[-1])
    assert outputs == expected
    assert all(isinstance(o, str) and o.strip() for o in outputs), outputs
    # The 64x64 copy is resized in the graph back to the pixels of the original (a
    # 60-step model's caption may flip on tiny pixel differences, so compare pixels).
    images, _ = registry.problem(SHAPES).serving_inputs(tf.constant([files[0], files[3]]))
    difference = np.abs(images[0].numpy().astype(int) - images[1].numpy().astype(int))
    assert images.shape[1:3] == (32, 32) and difference.mean() < 2.0, difference.mean()
