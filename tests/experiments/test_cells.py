"""The tables as cells: --table parsing, shared cells train once, role checks."""

import pytest

from t2t_multimodel.errors import T2TError
from t2t_multimodel.experiments import cells, roles

PROBLEMS = ["image_fashion_mnist", "image_caption_tuxpaint", "speech_recognition_espeak",
            "parsing_english_silver", "translate_ende_offline", "translate_deen_offline",
            "translate_enfr_offline", "translate_fren_offline"]


def test_parse_tables():
    assert cells.parse_tables("all") == ["2", "3", "4"]
    assert cells.parse_tables("4, 2") == ["2", "4"]
    assert cells.parse_tables("table3") == ["3"]


def test_an_unknown_table_says_did_you_mean():
    with pytest.raises(T2TError, match=r"unknown table '5': did you mean 4\? .*"
                                       r"Received: table='2,5'"):
        cells.parse_tables("2,5")
    with pytest.raises(T2TError, match="unknown table 'al': did you mean all"):
        cells.parse_tables("al")


def test_the_default_roles_are_the_eight_offline_problems_sampled_uniformly():
    default = roles.Roles()
    assert default.joint_problems == PROBLEMS
    assert default.mixture.schedule == "uniform"
    assert default.data_rich == [p for p in PROBLEMS if p != "parsing_english_silver"]


def test_every_table_trains_each_shared_cell_once():
    unique, entries = cells.unique_cells(["2", "3", "4"], roles.Roles())
    names = [c.name for c in unique]
    # joint + 8 singles + parsing with images + the two ablations.
    assert names == (["joint"] + [f"single-{p}" for p in PROBLEMS]
                     + ["parsing+image", "no_moe", "no_attention"])
    assert len(entries["2"]) == 16 and len(entries["4"]) == 24
    by_column = {column: cell for _, column, cell in entries["3"]}
    assert by_column["alone"].name == "single-parsing_english_silver"
    assert by_column["with image_fashion_mnist"].problems == ["image_fashion_mnist",
                                                              "parsing_english_silver"]
    assert by_column["with all"] is unique[0]
    overrides = {c.name: c.overrides for c in unique}
    assert overrides["no_moe"] == "use_moe=false"
    assert overrides["no_attention"] == "use_attention=false"
    assert unique[0].problem == "multimodel_paper_offline_uniform"


def test_parsing_with_image_is_the_joint_run_when_the_mixture_is_those_two():
    two = roles.Roles("parsing_english_silver,image_fashion_mnist",
                      language=["parsing_english_silver"])
    unique, entries = cells.unique_cells(["3"], two)
    assert [c.name for c in unique] == ["single-parsing_english_silver", "parsing+image"]
    assert entries["3"][1][2] is entries["3"][2][2]


def test_a_role_outside_the_mixture_is_refused():
    with pytest.raises(T2TError, match="the image_problem image_digits is not one of the "
                                       "joint problems .* Received: image_problem=image_digits"):
        roles.Roles(image="image_digits")
    with pytest.raises(T2TError, match="did you mean parsing_english_silver"):
        roles.Roles(parsing="parsing_english_silvr")


def test_the_runner_refuses_an_empty_budget():
    from t2t_multimodel.experiments import runner

    with pytest.raises(T2TError, match=r"--seeds must be >= 1. Received: seeds=0"):
        runner.Runner("data", "out", seeds=0)
    with pytest.raises(T2TError, match=r"--train_steps must be >= 1. Received: train_steps=0"):
        runner.Runner("data", "out", train_steps=0)
