"""Eval-time real decodes (`eval_decode_samples`) agree with t2t-decoder."""

from training import tiny_problem

from t2t_multimodel.decoding import decoder, loading
from t2t_multimodel.training import trainer


def test_eval_reports_decode_metrics_equal_to_the_decoders(tiny_usr_dir, tiny_data_dir,
                                                            tmp_path):
    output_dir = str(tmp_path / "out")
    lines = []
    result = trainer.train(
        tiny_problem.PROBLEM, tiny_problem.MODEL, tiny_problem.HPARAMS_SET, tiny_data_dir,
        output_dir, hparams_overrides="eval_decode_samples=24", train_steps=150,
        eval_steps=2, save_checkpoints_steps=150, local_eval_frequency=150,
        t2t_usr_dir=tiny_usr_dir, log_fn=lines.append, log_step_count_steps=50)
    step, values = result["eval_history"][-1]
    assert step == 150
    assert 0.0 <= values["decode_accuracy_per_sequence"] <= 1.0
    assert any("decode_accuracy_per_sequence" in line for line in lines), lines
    # The same 24 dev examples, greedy, through t2t-decoder's path.
    run = loading.load_run(output_dir)
    dhp = decoder.decode_hparams("beam_size=1,num_samples=24")
    decoded = decoder.decode_dev(run, decoder.serving_module(run, dhp), dhp, lambda _: None)
    assert decoded["accuracy_per_sequence"] == values["decode_accuracy_per_sequence"]


def test_eval_decode_final_only_decodes_at_the_last_evaluation_alone(
        tiny_usr_dir, tiny_data_dir, tmp_path):
    result = trainer.train(
        tiny_problem.PROBLEM, tiny_problem.MODEL, tiny_problem.HPARAMS_SET, tiny_data_dir,
        str(tmp_path / "out"),
        hparams_overrides="eval_decode_samples=4,eval_decode_final_only=true", train_steps=20,
        eval_steps=1, save_checkpoints_steps=20, local_eval_frequency=10,
        t2t_usr_dir=tiny_usr_dir, log_fn=lambda _: None, log_step_count_steps=10)
    history = dict(result["eval_history"])
    assert sorted(history) == [10, 20]
    assert "accuracy" in history[10] and "decode_accuracy_per_sequence" not in history[10]
    assert "decode_accuracy_per_sequence" in history[20]
