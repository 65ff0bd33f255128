"""t2t-decoder's library: files, stdin and the dev sample, on a trained run."""

import io

import pytest

from t2t_multimodel.decoding import decoder, loading
from t2t_multimodel.errors import DataError

LINES = ["1 2 3", "9 0 0 4", "7", "5 5 5 5 5", "3 1 4 1 5 9"]


@pytest.fixture(scope="module")
def run(trained_run):
    return loading.load_run(trained_run)


@pytest.mark.parametrize("beam_size", [1, 4])
def test_decode_from_file_keeps_order_and_copies(run, tmp_path, beam_size):
    dhp = decoder.decode_hparams(f"beam_size={beam_size},batch_size=2")
    module = decoder.serving_module(run, dhp)
    source = tmp_path / "in.txt"
    source.write_text("\n".join(LINES) + "\n")
    target = tmp_path / "out.txt"
    outputs = decoder.decode_from_file(module, str(source), str(target), dhp)
    assert target.read_text().splitlines() == outputs
    assert outputs == LINES  # the identity task, learned


def test_interactive_reads_stdin_until_eof(run):
    dhp = decoder.decode_hparams("beam_size=2")
    module = decoder.serving_module(run, dhp)
    out = io.StringIO()
    decoder.decode_interactive(module, dhp, stdin=io.StringIO("4 2\n\n8 8 1\n"), stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["4 2", "8 8 1"]
    assert all(float(line.split("\t")[1]) <= 0.0 for line in lines)  # log-probabilities


def test_dev_sample_accuracy(run):
    dhp = decoder.decode_hparams("beam_size=4,num_samples=100")
    logged = []
    values = decoder.decode_dev(run, decoder.serving_module(run, dhp), dhp, logged.append)
    assert values["accuracy_per_sequence"] >= 0.95
    assert "accuracy_per_sequence" in logged[-1]


def test_not_a_training_run_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="is not a training run"):
        loading.load_run(str(tmp_path))


def test_missing_input_file_is_a_clear_error(run, tmp_path):
    dhp = decoder.decode_hparams()
    with pytest.raises(DataError, match="decode_from_file does not exist"):
        decoder.decode_from_file(decoder.serving_module(run, dhp), str(tmp_path / "nope"),
                                 str(tmp_path / "out"), dhp)


def test_bad_decode_hparams_name_the_key():
    from t2t_multimodel.errors import HParamsError

    with pytest.raises(HParamsError, match="beam_sise"):
        decoder.decode_hparams("beam_sise=4")
