"""Change from baseline and responder status (RULES.md §3.8), with each threshold's source."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backcare.clinical.change import DEFAULT_THRESHOLDS, change, psfs_change, thresholds_with
from backcare.clinical.errors import ClinicalInputError

# (instrument, baseline, followup, improvement, pct, meets_abs, meets_pct, source)
CHANGE_TABLE = [
    (
        "odi",
        40,
        28,
        Fraction(12),
        Fraction(30),
        True,
        True,
        "Ostelo 2008: 10 points or 30 % (inclusive)",
    ),
    ("odi", 20, 14, Fraction(6), Fraction(30), False, True, "Ostelo 2008: low baseline"),
    ("odi", 0, 0, Fraction(0), None, False, False, "no percent from a zero baseline"),
    ("rmdq", 12, 7, Fraction(5), Fraction(125, 3), True, True, "Ostelo 2008: 5 points"),
    (
        "rmdq",
        14,
        12,
        Fraction(2),
        Fraction(100, 7),
        False,
        False,
        "Cherkin 2011: 2 is between-group only",
    ),
    ("pain_nrs", 10, 7, Fraction(3), Fraction(30), True, True, "Farrar 2001; Ostelo 2008"),
    ("pain_nrs", 8, 6, Fraction(2), Fraction(25), True, False, "Ostelo 2008: 2 points, 25 %"),
    ("pain_nrs", 4, 6, Fraction(-2), Fraction(-50), False, False, "worse is never a responder"),
    ("peg", "6", "4", Fraction(2), Fraction(100, 3), None, True, "Krebs 2009; 30 % by analogy ⚙"),
]


@pytest.mark.parametrize(
    ("code", "before", "after", "improvement", "pct", "abs_", "pct_met", "source"), CHANGE_TABLE
)
def test_change_and_responder_thresholds(
    code, before, after, improvement, pct, abs_, pct_met, source
):
    result = change(code, before, after)
    assert (result.improvement, result.pct_improvement) == (improvement, pct), source
    assert (result.meets_abs, result.meets_pct) == (abs_, pct_met), source


def test_odi_change_is_computed_on_exact_percentages():
    result = change("odi", {"raw_total": 16, "answered": 9}, {"raw_total": 8, "answered": 10})
    assert result.improvement == Fraction(176, 9)
    assert result.pct_improvement == 55


def test_pain_substantial_and_rmdq_recovered():
    assert change("pain_nrs", 10, 5).meets_substantial is True
    assert change("pain_nrs", 10, 6).meets_substantial is False
    assert change("rmdq", 9, 2).recovered is True
    assert change("rmdq", 9, 3).recovered is False


def test_higher_is_better_for_psfs_and_schober():
    result = psfs_change([3, 4, 5], [5, 6, 7])
    assert (result.mean_change, result.meets_average) == (2, True)
    assert psfs_change([3], [6]).meets_single == (True,)
    assert psfs_change([3], [5]).meets_single == (False,)
    assert change("schober", 3, 5).improvement == 2
    assert change("schober", 3, 5).real_change is True
    assert change("schober", 3, "4.7").real_change is False


@pytest.mark.parametrize(
    ("code", "before", "after", "error"),
    [
        ("pain_nrs", 7, 4.5, "non_integer"),
        ("pain_nrs", 11, 4, "value_out_of_range"),
        ("odi", 101, 10, "value_out_of_range"),
        ("rmdq", 25, 2, "value_out_of_range"),
        ("odi", {"raw_total": 46, "answered": 9}, 10, "value_out_of_range"),
    ],
)
def test_invalid_scores_are_refused(code, before, after, error):
    with pytest.raises(ClinicalInputError) as raised:
        change(code, before, after)
    assert raised.value.code == error


def test_psfs_needs_the_same_activities_at_follow_up():
    with pytest.raises(ClinicalInputError) as raised:
        psfs_change([3, 4], [5])
    assert raised.value.code == "wrong_number_of_items"


def test_a_clinic_may_change_thresholds_and_results_carry_them():
    strict = thresholds_with("pain_nrs", pct=50, abs_points=3)
    result = change("pain_nrs", 10, 7, strict)
    assert (result.meets_pct, result.meets_abs) == (False, True)
    assert result.thresholds is strict
    assert "changed by the clinic" in strict.source
    with pytest.raises(ClinicalInputError):
        thresholds_with("pain_nrs", pct=0)
    with pytest.raises(ClinicalInputError):
        thresholds_with("pain_nrs", pcent=30)


def test_every_default_cites_its_source():
    assert all(t.source for t in DEFAULT_THRESHOLDS.values())


@given(baseline=st.integers(0, 10), followup=st.integers(0, 10))
def test_percent_threshold_equals_the_integer_comparison(baseline, followup):
    result = change("pain_nrs", baseline, followup)
    assert result.meets_pct == (baseline > 0 and 100 * (baseline - followup) >= 30 * baseline)
    assert result.meets_abs == (baseline - followup >= 2)


@given(baseline=st.integers(0, 24), followup=st.integers(0, 24))
def test_worsening_is_never_a_responder(baseline, followup):
    result = change("rmdq", baseline, followup)
    assert not (followup > baseline and (result.meets_abs or result.meets_pct))
