import re

import numpy as np
import pytest

from t2t_multimodel import mixture, registry
from t2t_multimodel.errors import RegistryError, T2TError
from t2t_multimodel.mixture import Mixture

REVERSE = "algorithmic_reverse_binary40_test"
DIGITS = "image_digits"


def _ends_with_received(error):
    message = str(error.value)
    assert re.search(r"Received: [^\n]+$", message), message
    return message


# ---- rates ------------------------------------------------------------------
def test_uniform_rates_ignore_sizes():
    mix = Mixture(["a", "b", "c"])
    assert not mix.needs_sizes
    assert mix.rates() == [1 / 3] * 3
    assert mix.rates({"a": 1, "b": 1000, "c": 10}) == [1 / 3] * 3


def test_proportional_rates_with_and_without_cap():
    sizes = {"a": 50000, "b": 2000}
    assert Mixture(["a", "b"], "proportional").rates(sizes) == pytest.approx(
        [50000 / 52000, 2000 / 52000], abs=1e-12)
    capped = Mixture(["a", "b"], "proportional", maximum_examples=10000)
    assert capped.rates(sizes) == pytest.approx([5 / 6, 1 / 6], abs=1e-12)
    # A cap above every size changes nothing; the order follows `problems`.
    assert Mixture(["b", "a"], "proportional", maximum_examples=10 ** 6).rates(
        sizes) == pytest.approx([2000 / 52000, 50000 / 52000], abs=1e-12)


def test_temperature_rates():
    sizes = {"a": 40000, "b": 10000}
    proportional = Mixture(["a", "b"], "proportional").rates(sizes)
    assert Mixture(["a", "b"], "temperature", temperature=1.0).rates(
        sizes) == pytest.approx(proportional, abs=1e-12)
    # sqrt(40000) : sqrt(10000) = 200 : 100.
    assert Mixture(["a", "b"], "temperature", temperature=2.0).rates(
        sizes) == pytest.approx([2 / 3, 1 / 3], abs=1e-12)
    # The cap applies before the power: min(40000, 22500) ** 0.5 = 150 : 100.
    assert Mixture(["a", "b"], "temperature", temperature=2.0, maximum_examples=22500).rates(
        sizes) == pytest.approx([0.6, 0.4], abs=1e-12)
    hot = Mixture(["a", "b"], "temperature", temperature=1e6).rates({"a": 10 ** 6, "b": 1})
    assert hot == pytest.approx([0.5, 0.5], abs=1e-5)
    assert hot[0] > hot[1]


def test_rates_sum_to_one_and_one_problem_needs_no_sizes():
    rates = Mixture(["a", "b", "c"], "proportional").rates({"a": 3, "b": 5, "c": 7})
    assert sum(rates) == pytest.approx(1.0, abs=1e-12)
    single = Mixture(["a"], "proportional")
    assert not single.needs_sizes and single.rates() == [1.0]


def test_weighted_schedule_follows_the_weights_without_sizes():
    mix = Mixture(["a", "b", "c"], "weighted", weights=[2, 1, 1])
    assert not mix.needs_sizes
    assert mix.rates() == pytest.approx([0.5, 0.25, 0.25])


@pytest.mark.parametrize("schedule, weights, fragment", [
    ("weighted", None, "weights go with the weighted schedule"),
    ("uniform", [1, 1], "weights go with the weighted schedule"),
    ("weighted", [1], "one number > 0 per problem (2)"),
    ("weighted", [1, 0], "one number > 0 per problem (2)")])
def test_bad_weights_are_refused(schedule, weights, fragment):
    with pytest.raises(T2TError) as error:
        Mixture(["a", "b"], schedule, weights=weights)
    assert fragment in _ends_with_received(error)
    assert "weights=" in str(error.value).rsplit("Received:", 1)[1]


def test_unknown_schedule_suggests_the_close_one():
    with pytest.raises(T2TError) as error:
        Mixture(["a", "b"], schedule="proportinal")
    message = _ends_with_received(error)
    assert "did you mean proportional?" in message
    assert message.endswith("Received: schedule='proportinal'")


@pytest.mark.parametrize("problems", [[], ["", "  "]])
def test_empty_mixture_is_refused(problems):
    with pytest.raises(T2TError, match="at least one problem") as error:
        Mixture(problems)
    assert _ends_with_received(error).endswith("Received: problems=[]")


def test_duplicate_problems_are_refused():
    with pytest.raises(T2TError, match="each problem once") as error:
        Mixture(["a", "b", "a"])
    assert "['a', 'b', 'a']" in _ends_with_received(error)


@pytest.mark.parametrize("temperature", [0, -1.5])
def test_bad_temperature_is_refused(temperature):
    with pytest.raises(T2TError, match="temperature must be > 0") as error:
        Mixture(["a", "b"], "temperature", temperature=temperature)
    assert _ends_with_received(error).endswith(f"Received: temperature={temperature}")


def test_bad_maximum_examples_is_refused():
    with pytest.raises(T2TError, match="maximum_examples must be > 0") as error:
        Mixture(["a", "b"], "proportional", maximum_examples=0)
    assert _ends_with_received(error).endswith("Received: maximum_examples=0")


@pytest.mark.parametrize("sizes, missing", [(None, "a, b"), ({"a": 10}, "b"),
                                            ({"a": 10, "b": 0}, "b")])
def test_missing_sizes_name_the_problems(sizes, missing):
    with pytest.raises(T2TError, match="the proportional schedule needs the training set "
                                       f"size of {missing}. Received") as error:
        Mixture(["a", "b"], "proportional").rates(sizes)
    assert _ends_with_received(error).endswith(f"Received: sizes={sizes}")


# ---- resolve ----------------------------------------------------------------
def test_resolve_a_comma_list_is_a_uniform_mixture():
    mix = mixture.resolve(f" {REVERSE}, {DIGITS} ")
    assert isinstance(mix, Mixture)
    assert mix.problems == [REVERSE, DIGITS]
    assert mix.schedule == "uniform" and mix.rates() == [0.5, 0.5]
    assert mixture.resolve(REVERSE).problems == [REVERSE]
    assert mixture.resolve(mix) is mix


@pytest.mark.parametrize("spec", ["algorithmic_reverse_binary40_tset",
                                  f"{DIGITS},algorithmic_reverse_binary40_tset"])
def test_resolve_an_unknown_problem_suggests_close_names(spec):
    with pytest.raises(RegistryError) as error:
        mixture.resolve(spec)
    message = str(error.value)
    assert "did you mean" in message and REVERSE in message
    assert message.endswith("Received: problem='algorithmic_reverse_binary40_tset'")


@pytest.mark.parametrize("spec", ["", " , ", None])
def test_resolve_nothing_is_refused(spec):
    with pytest.raises(T2TError, match="--problem is required"):
        mixture.resolve(spec)


@pytest.fixture
def registered_mixture():
    name = "test_mixture_digits_and_reverse"
    made = Mixture([DIGITS, REVERSE], schedule="temperature", temperature=2.0)
    registry.register_mixture(name)(lambda: made)
    yield name, made
    registry.Registries.mixtures.unregister(name)


def test_resolve_a_registered_mixture(registered_mixture):
    name, made = registered_mixture
    assert name in registry.help_string()
    resolved = mixture.resolve(name)
    assert resolved is made
    assert resolved.schedule == "temperature" and resolved.problems == [DIGITS, REVERSE]


def test_resolve_a_mixture_function_that_returns_something_else():
    name = "test_mixture_not_a_mixture"
    registry.register_mixture(name)(lambda: [DIGITS, REVERSE])
    try:
        with pytest.raises(T2TError, match=f"the mixture {name} must be a Mixture") as error:
            mixture.resolve(name)
        assert _ends_with_received(error).endswith("Received: list")
    finally:
        registry.Registries.mixtures.unregister(name)
    assert name not in registry.Registries.mixtures


# ---- choices ----------------------------------------------------------------
def _draw(mix, rates, seed, count):
    return np.array(list(mix.choices(rates, seed=seed).take(count).as_numpy_iterator()))


def test_choices_follow_the_rates():
    mix = Mixture(["a", "b", "c"], "proportional")
    rates = mix.rates({"a": 7000, "b": 2000, "c": 1000})
    draws = _draw(mix, rates, seed=3, count=4000)
    assert set(draws.tolist()) == {0, 1, 2}
    frequencies = np.bincount(draws, minlength=3) / len(draws)
    np.testing.assert_allclose(frequencies, [0.7, 0.2, 0.1], atol=0.03)


def test_choices_are_deterministic_for_a_seed():
    mix = Mixture(["a", "b"])
    first = _draw(mix, mix.rates(), seed=7, count=200)
    np.testing.assert_array_equal(first, _draw(mix, mix.rates(), seed=7, count=200))
    assert not np.array_equal(first, _draw(mix, mix.rates(), seed=8, count=200))


def test_choices_of_one_problem_are_all_zero():
    mix = Mixture(["a"])
    np.testing.assert_array_equal(_draw(mix, mix.rates(), seed=0, count=50), np.zeros(50))
