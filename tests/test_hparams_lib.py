"""HParams: typed overrides, clear errors, JSON round-trip."""

import pytest

from t2t_multimodel.errors import HParamsError
from t2t_multimodel.hparams_lib import HParams


def make():
    return HParams(a=1, b=0.5, c=[1, 2], d=True, e="adam", f=None)


def test_parse_overrides_every_type():
    hp = make().parse("a=3,b=2,c=[4,5,6],d=false,e=sgd,f=0.25")
    assert (hp.a, hp.b, hp.c, hp.d, hp.e, hp.f) == (3, 2.0, [4, 5, 6], False, "sgd", 0.25)
    assert isinstance(hp.b, float)


def test_unknown_key_names_the_key_and_suggests():
    with pytest.raises(HParamsError, match=r"unknown hparam 'hiden_size': did you mean "
                                           r"hidden_size\?"):
        HParams(hidden_size=3).parse("hiden_size=4")


@pytest.mark.parametrize("override", ["a=0.5", "a=x", "d=maybe", "c=3", "c=[1,x]"])
def test_wrong_type_is_an_error_naming_the_key(override):
    key = override.split("=")[0]
    with pytest.raises(HParamsError, match=f"hparam '{key}' takes"):
        make().parse(override)


def test_malformed_override():
    with pytest.raises(HParamsError, match="name=value"):
        make().parse("a")


def test_attribute_assignment_is_type_checked_and_adds_new_names():
    hp = make()
    hp.b = 3  # int into float is fine
    assert hp.b == 3.0
    with pytest.raises(HParamsError):
        hp.a = "three"
    hp.new_name = 4
    assert hp.new_name == 4
    with pytest.raises(HParamsError, match="already exists"):
        hp.add_hparam("a", 2)


def test_json_round_trip():
    hp = make()
    assert HParams.from_json(hp.to_json()) == hp


def test_missing_attribute_is_attribute_error():
    with pytest.raises(AttributeError, match="did you mean"):
        make().aa  # noqa: B018
