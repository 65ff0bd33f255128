"""Mean ± std over seeds and the claim verdicts, on hand-made numbers."""

import math

import pytest

from t2t_multimodel.experiments import verdicts

HOLDS = "**holds**"
FAILS = "**does not hold at this scale**"


def test_mean_std_uses_the_sample_deviation_and_skips_missing_seeds():
    mean, std, n = verdicts.mean_std([0.5, 0.7, None, 0.6])
    assert (round(mean, 9), n) == (0.6, 3)
    assert std == pytest.approx(0.1)
    assert verdicts.mean_std([0.4]) == (0.4, 0.0, 1)
    assert verdicts.mean_std([None]) == (None, None, 0)


def test_format_mean_std():
    assert verdicts.format_mean_std([0.5, 0.7, 0.6]) == "0.600 ± 0.100"
    assert verdicts.format_mean_std([12.345], 2) == "12.35"
    assert verdicts.format_mean_std([]) == "–"


def test_better_needs_more_than_the_seeds_spread():
    assert verdicts.better([0.60, 0.62, 0.61], [0.50, 0.51, 0.52])
    # Ahead on the mean, but by less than the spread of the seeds.
    assert not verdicts.better([0.60, 0.40, 0.50], [0.48, 0.50, 0.46])
    assert verdicts.noise([0.5, 0.7], [0.1, 0.1]) == pytest.approx(math.sqrt(0.02))


def test_not_worse_allows_five_percent_or_the_spread():
    assert verdicts.not_worse([0.76], [0.80])      # 5% of 0.80 = 0.04
    assert not verdicts.not_worse([0.75], [0.80])
    assert verdicts.not_worse([0.70, 0.80], [0.80, 0.80])  # within the spread (0.07)


def test_table2_joint_as_good_on_rich_and_better_on_poor():
    joint = {"image": [0.80, 0.81], "ende": [0.50, 0.51], "parsing": [0.70, 0.71]}
    single = {"image": [0.82, 0.82], "ende": [0.52, 0.51], "parsing": [0.60, 0.61]}
    lines = verdicts.table2_claims(joint, single, "parsing")
    assert len(lines) == 2 and all(HOLDS in line for line in lines), lines
    assert "parsing" in lines[1] and "0.705 vs single 0.605" in lines[1]


def test_table2_does_not_hold_and_names_the_problem_that_got_worse():
    joint = {"image": [0.50], "ende": [0.50], "parsing": [0.60]}
    single = {"image": [0.80], "ende": [0.51], "parsing": [0.60]}
    rich, poor = verdicts.table2_claims(joint, single, "parsing")
    assert FAILS in rich and "(worse on image)" in rich, rich
    assert FAILS in poor, poor


def test_equal_updates_compares_the_mixture_end_with_the_single_run_as_far():
    line = verdicts.equal_updates_line([
        ("image", [0.60, 0.62], 375, [0.80, 0.80], 750),
        ("ende", [0.30, 0.30], 375, [0.30, 0.29], 750),
        ("parsing", [0.5], 375, [], None)])  # no single run yet: left out
    assert "the mixture about as good or better on 1 of 2 (ende)." in line, line
    assert ("Accuracy: image 0.610 after about 375 updates vs 0.800 at step 750 alone; "
            "ende 0.300 after about 375 updates vs 0.295 at step 750 alone.") in line, line
    assert verdicts.equal_updates_line([("parsing", [0.5], 375, [], None)]) is None


def test_a_missing_cell_is_not_decided():
    lines = verdicts.table2_claims({"a": [0.5], "p": [0.4]}, {"a": [], "p": [0.3]}, "p")
    assert lines == ["- Not decided: no results for single a."]


def test_table3_image_helps_parsing():
    helps, all_help = verdicts.table3_claims([0.50, 0.52], [0.60, 0.61], [0.51, 0.52], "img")
    assert HOLDS in helps and "with img 0.605 vs alone 0.510" in helps, helps
    assert FAILS in all_help, all_help


def test_table4_blocks_and_attention_for_language():
    full = {"ende": [0.60], "image": [0.80]}
    no_moe = {"ende": [0.58], "image": [0.79]}
    no_attention = {"ende": [0.40], "image": [0.79]}
    never_hurt, language = verdicts.table4_claims(full, no_moe, no_attention, ["ende"], "image")
    assert HOLDS in never_hurt and HOLDS in language, (never_hurt, language)
    assert "+0.200 on average vs image +0.010" in language
    # Attention hurting the language problem: both claims fail.
    never_hurt, language = verdicts.table4_claims(
        full, no_moe, {"ende": [0.70], "image": [0.79]}, ["ende"], "image")
    assert FAILS in never_hurt and "(hurt: attention on ende)" in never_hurt
    assert FAILS in language


def test_one_seed_says_its_spread_is_unknown():
    [line] = verdicts.table3_claims([0.50], [0.51], [0.52], "img")[:1]
    assert HOLDS in line and "One seed: the spread over seeds is unknown" in line, line
    line = verdicts.table3_claims([0.50, 0.52], [0.60, 0.61], [0.51, 0.52], "img")[0]
    assert "One seed" not in line
