"""The shared "did you mean" hint of every unknown-name error."""

from t2t_multimodel.errors import did_you_mean


def test_names_the_close_choices_in_order():
    assert did_you_mean("adm", ["adam", "sgd", "adafactor"]) == "did you mean adam? "
    hint = did_you_mean("translate_ende", ["translate_ende_offline", "translate_deen_offline",
                                           "image_fashion_mnist"], n=2, cutoff=0.5)
    assert hint.startswith("did you mean translate_ende_offline or ")


def test_says_nothing_when_no_choice_is_close():
    assert did_you_mean("zzz", ["adam", "sgd"]) == ""
    assert did_you_mean("x", []) == ""


def test_accepts_any_iterable_of_names():
    assert did_you_mean(12, {"12": 1, "13": 2}, n=1) == "did you mean 12? "
