"""A T2T `Text2ClassProblem` trains with the multimodel and decodes to its labels."""

import pytest
import tensorflow as tf

from t2t_multimodel import registry, text_problems
from t2t_multimodel.decoding import decoder, loading
from t2t_multimodel.export import exporter
from t2t_multimodel.training import trainer

NAME = "test_majority_bit"


class MajorityBit(text_problems.Text2ClassProblem):
    """Is a binary string mostly ones? Deterministic: every string of 7 bits."""

    is_generate_per_split = True
    vocab_type = text_problems.VocabType.CHARACTER
    num_classes = 2

    def class_labels(self, data_dir):
        return ["zeros", "ones"]

    def generate_samples(self, data_dir, tmp_dir, dataset_split):
        for n in range(128):
            bits = format(n, "07b")
            # A scattered quarter (37 is odd: n -> 37n mod 128 is a bijection). Holding
            # out n % 4 == 0 left only strings ending in "0 0" for dev, none in train.
            held_out = (37 * n) % 128 < 32
            if held_out == (dataset_split != "train"):
                yield {"inputs": " ".join(bits), "label": int(bits.count("1") > 3)}


@pytest.fixture
def registered():
    registry.register_problem(NAME)(MajorityBit)
    yield
    registry.Registries.problems.unregister(NAME)


def test_text_classification_trains_and_decodes_labels(registered, tmp_path):
    data_dir, output_dir = str(tmp_path / "data"), str(tmp_path / "out")
    result = trainer.train(
        NAME, "multimodel", "multimodel_tiny", data_dir, output_dir,
        hparams_overrides=("hidden_size=32,num_heads=2,moe_num_experts=4,moe_hidden_size=32,"
                           "encoder_blocks=1,decoder_blocks=1,large_kernel_size=5,"
                           "learning_rate=3e-3,learning_rate_warmup_steps=20,batch_size=256"),
        train_steps=600, eval_steps=0, local_eval_frequency=600, save_checkpoints_steps=600,
        generate_data=True, log_fn=lambda _: None)
    # The class-0 examples count: accuracy is over every example, not non-zero ids.
    assert result["eval_accuracy"] >= 0.8, result["eval_history"]
    run = loading.load_run(output_dir)
    dhp = decoder.decode_hparams("num_samples=32")
    module = decoder.serving_module(run, dhp)
    lines = []
    values = decoder.decode_dev(run, module, dhp, log_fn=lines.append)
    assert values["accuracy"] >= 0.8 and values["accuracy"] > values["baseline_accuracy"], lines
    assert any("32 examples decoded" in line for line in lines), lines
    assert "beaten" in lines[-1] and "NOT" not in lines[-1], lines
    outputs, _ = decoder.decode_lines(module, ["1 1 1 1 1 1 0", "0 0 0 0 0 0 1"], dhp)
    assert outputs == ["ones", "zeros"]
    # The SavedModel lists the labels a client may get back, in id order.
    export_dir = str(tmp_path / "export")
    exporter.export(run, export_dir, dhp)
    loaded = tf.saved_model.load(export_dir)
    assert [label.decode() for label in loaded.class_labels.numpy()] == ["zeros", "ones"]
    served = loaded.signatures["serving_default"](inputs=tf.constant(["1 1 1 1 1 1 0"]))
    assert served["outputs"].numpy().tolist() == [b"ones"]
