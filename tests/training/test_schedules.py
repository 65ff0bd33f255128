"""Learning-rate schedules and the optimizer built from hparams."""

import itertools
import math

import keras
import pytest

from t2t_multimodel.errors import HParamsError
from t2t_multimodel.hparams_lib import HParams
from t2t_multimodel.training import optimizers, schedules
from t2t_multimodel.training.schedules import T2TLearningRateSchedule


def _lr(schedule, step):
    return float(keras.ops.convert_to_numpy(schedule(step)))


def test_constant():
    schedule = T2TLearningRateSchedule("constant", 0.3)
    for step in (0, 1, 10_000):
        assert _lr(schedule, step) == pytest.approx(0.3)


def test_rsqrt_decay_warms_up_linearly_then_decays():
    schedule = T2TLearningRateSchedule("rsqrt_decay", 0.2, warmup_steps=4000)
    assert _lr(schedule, 0) == 0.0
    assert _lr(schedule, 1000) == pytest.approx(0.05)
    assert _lr(schedule, 2000) == pytest.approx(0.1)
    assert _lr(schedule, 4000) == pytest.approx(0.2)  # the peak
    assert _lr(schedule, 16000) == pytest.approx(0.1)
    assert _lr(schedule, 64000) == pytest.approx(0.05)
    assert max(_lr(schedule, s) for s in range(0, 20000, 500)) == pytest.approx(0.2)


def test_cosine_decay_warms_up_then_reaches_zero_at_decay_steps():
    schedule = T2TLearningRateSchedule("cosine_decay", 0.2, warmup_steps=100, decay_steps=1100)
    assert _lr(schedule, 0) == 0.0
    assert _lr(schedule, 50) == pytest.approx(0.1)
    assert _lr(schedule, 100) == pytest.approx(0.2)  # the peak
    assert _lr(schedule, 600) == pytest.approx(0.1, abs=1e-6)  # half way down
    assert _lr(schedule, 350) == pytest.approx(0.1 * (1 + math.cos(math.pi / 4)), rel=1e-5)
    assert _lr(schedule, 1100) == pytest.approx(0.0, abs=1e-7)
    assert _lr(schedule, 5000) == pytest.approx(0.0, abs=1e-7)
    rates = [_lr(schedule, s) for s in range(100, 1101, 50)]
    assert all(a >= b for a, b in itertools.pairwise(rates))


def test_cosine_decay_needs_decay_steps_past_warmup():
    hparams = HParams(learning_rate=0.1, learning_rate_schedule="cosine_decay",
                      learning_rate_warmup_steps=200, learning_rate_decay_steps=0, hidden_size=8)
    with pytest.raises(HParamsError, match=r"--train_steps.*Received: learning_rate_decay_steps=0"):
        schedules.from_hparams(hparams)


def test_noam_matches_t2t_legacy_formula():
    schedule = T2TLearningRateSchedule("noam", 0.05, warmup_steps=3000, hidden_size=512)

    def t2t(step):  # T2T's legacy "noam" learning_rate_decay_scheme
        step += 1
        return 0.05 * 5000**0.5 * 512**-0.5 * min(step * 3000**-1.5, step**-0.5)

    for step in (0, 1, 100, 2999, 3000, 10_000, 100_000):
        assert _lr(schedule, step) == pytest.approx(t2t(step), rel=1e-5)
    # The paper's values: peak about 0.05 * sqrt(5000 / 512) / sqrt(3000).
    assert _lr(schedule, 2999) == pytest.approx(0.05 * math.sqrt(5000 / 512 / 3000), rel=1e-4)


@pytest.mark.parametrize("name", ["constant", "rsqrt_decay", "cosine_decay", "noam"])
def test_config_round_trips(name):
    schedule = T2TLearningRateSchedule(name, 0.1, warmup_steps=100, hidden_size=64,
                                       decay_steps=900)
    again = T2TLearningRateSchedule.from_config(schedule.get_config())
    assert again.get_config() == schedule.get_config()
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(schedule))
    assert isinstance(restored, T2TLearningRateSchedule)
    for step in (0, 50, 100, 1000):
        assert _lr(restored, step) == pytest.approx(_lr(schedule, step))


def test_unknown_schedule_name_suggests():
    hparams = HParams(learning_rate=0.1, learning_rate_schedule="rsqrt_decy",
                      learning_rate_warmup_steps=10, hidden_size=8)
    with pytest.raises(HParamsError, match=r"did you mean rsqrt_decay\b.*"
                                           r"Received: learning_rate_schedule=rsqrt_decy"):
        schedules.from_hparams(hparams)


def test_warmup_must_be_positive():
    with pytest.raises(HParamsError, match="learning_rate_warmup_steps=0"):
        T2TLearningRateSchedule("rsqrt_decay", 0.1, warmup_steps=0)


def _optimizer_hparams(**overrides):
    values = dict(optimizer="adam", optimizer_adam_beta1=0.85, optimizer_adam_beta2=0.997,
                  optimizer_adam_epsilon=1e-9, clip_grad_norm=0.0, weight_decay=0.0,
                  learning_rate=0.2, learning_rate_schedule="rsqrt_decay",
                  learning_rate_warmup_steps=100, hidden_size=16)
    values.update(overrides)
    return HParams(**values)


def test_adam_from_hparams():
    opt = optimizers.from_hparams(_optimizer_hparams())
    assert isinstance(opt, keras.optimizers.Adam) and not isinstance(opt, keras.optimizers.AdamW)
    assert opt.beta_1 == 0.85 and opt.beta_2 == 0.997 and opt.epsilon == 1e-9
    assert opt.global_clipnorm is None
    assert isinstance(opt._learning_rate, T2TLearningRateSchedule)


def test_adamw_and_clipping():
    opt = optimizers.from_hparams(_optimizer_hparams(weight_decay=0.01, clip_grad_norm=1.5))
    assert isinstance(opt, keras.optimizers.AdamW)
    assert opt.weight_decay == pytest.approx(0.01)
    assert opt.global_clipnorm == pytest.approx(1.5)


def test_unknown_optimizer():
    with pytest.raises(HParamsError, match=r"did you mean adam.*Received: optimizer=adan"):
        optimizers.from_hparams(_optimizer_hparams(optimizer="adan"))
