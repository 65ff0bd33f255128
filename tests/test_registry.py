"""Registry: names, decorators, duplicates and did-you-mean errors."""

import pytest

from t2t_multimodel import registry
from t2t_multimodel.errors import RegistryError


def test_camelcase_to_snakecase_matches_t2t():
    cases = {
        "AlgorithmicReverseBinary40": "algorithmic_reverse_binary40",
        "TranslateEndeWmt32k": "translate_ende_wmt32k",
        "ImageCifar10": "image_cifar10",
        "LSTMSeq2seq": "lstm_seq2seq",
        "Text2TextProblem": "text2_text_problem",
    }
    for camel, snake in cases.items():
        assert registry.camelcase_to_snakecase(camel) == snake


def test_register_three_ways_and_lookup():
    reg = registry.Registry("thing")

    @reg.register
    class FooBar:
        pass

    @reg.register()
    def baz_qux():
        return 1

    @reg.register("named")
    def other():
        return 2

    assert reg["foo_bar"] is FooBar
    assert reg["baz_qux"]() == 1 and reg["named"]() == 2
    assert reg.keys() == ["baz_qux", "foo_bar", "named"]


def test_duplicate_name_is_refused():
    reg = registry.Registry("thing")
    reg.register("a")(lambda: 1)
    with pytest.raises(RegistryError, match="already registered"):
        reg.register("a")(lambda: 2)


def test_unknown_name_suggests_close_matches():
    with pytest.raises(RegistryError) as info:
        registry.problem("algorithmic_reverse_binary4")
    message = str(info.value)
    assert "did you mean algorithmic_reverse_binary40" in message
    assert "\n" not in message
    assert message.endswith("Received: problem='algorithmic_reverse_binary4'")


def test_unknown_name_without_close_match_points_to_registry_help():
    with pytest.raises(RegistryError, match="--registry_help"):
        registry.hparams("zzzzzzzz")


def test_hparams_lookup_returns_the_function():
    fn = registry.hparams("basic_params1")
    assert callable(fn)
    first, second = fn(), fn()
    first.hidden_size = 7
    assert second.hidden_size == 512  # a new set per call


def test_problem_learns_its_registered_name():
    problem = registry.problem("algorithmic_reverse_binary40")
    assert problem.name == "algorithmic_reverse_binary40"


def test_help_string_lists_every_kind():
    text = registry.help_string()
    for section in ("Problems:", "Models:", "HParams sets:", "Modalities:"):
        assert section in text
    assert "algorithmic_sort_problem" in text and "basic_params1" in text
