"""Scoring of every instrument, table-driven with sources; invalid input never clamped;
properties over every valid and invalid input."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backcare.clinical.errors import ClinicalInputError
from backcare.clinical.instruments import (
    INSTRUMENTS,
    ODI_SECTIONS,
    START_BACK_CONSTRUCTS,
    TextLicence,
    get_instrument,
    odi_band,
    score,
    score_odi,
    score_rmdq,
    score_start_back,
)
from backcare.clinical.numbers import half_up

# (instrument, answers, exact value, band, source)
SCORE_TABLE = [
    (
        "odi",
        {"sections": [2, 2, 2, 2, 2, 2, 1, 1, 1, 1]},
        Fraction(32),
        "moderate",
        "Fairbank 2000 worked example",
    ),
    (
        "odi",
        {"sections": [2, 2, 2, 2, 2, 2, 1, None, 2, 1]},
        Fraction(320, 9),
        "moderate",
        "ODI-04: 16/45",
    ),
    (
        "odi",
        {"sections": [[1, 3], 0, 0, 0, 0, 0, 0, 0, 0, 0]},
        Fraction(6),
        "minimal",
        "Fairbank: highest mark",
    ),
    ("odi", {"sections": [5] * 10}, Fraction(100), "bed_bound", "Fairbank 2000 (81-100)"),
    ("rmdq", {"ticked_items": [1, 2, 3, 5, 8, 13, 21]}, Fraction(7), None, "Roland & Morris 1983"),
    ("rmdq", {"ticked_items": []}, Fraction(0), None, "Roland & Morris 1983"),
    (
        "start_back",
        {f"q{n}": 1 for n in range(1, 9)} | {"q9": "extremely"},
        Fraction(9),
        "high",
        "Hill 2008",
    ),
    (
        "start_back",
        dict.fromkeys(START_BACK_CONSTRUCTS[:-1], 0)
        | {"bothersomeness": "very_much", "fear": 1, "anxiety": 1},
        Fraction(3),
        "low",
        "Hill 2008: total <= 3 is low whatever the subscale",
    ),
    ("psfs", {"ratings": [3, 4, 5]}, Fraction(4), None, "Stratford 1995: mean"),
    ("psfs", {"ratings": [2, 7]}, Fraction(9, 2), None, "Stratford 1995: mean"),
    (
        "peg",
        {"pain": 6, "enjoyment": 6, "general_activity": 5},
        Fraction(17, 3),
        None,
        "Krebs 2009 (PEG-02)",
    ),
    ("pain_nrs", {"now": 7, "worst": 9}, Fraction(7), None, "Farrar 2001 (0-10 integers)"),
    ("pain_nrs", {"average": 0}, Fraction(0), None, "Farrar 2001"),
    ("stress_nrs", {"stress": 10}, Fraction(10), None, "0-10 single item ⚙"),
    ("sleep_nrs", {"sleep": 3}, Fraction(3), None, "0-10 single item ⚙"),
    ("analgesic_days", {"days": 7}, Fraction(7), None, "days per week ⚙"),
    ("pgic", {"change": 2}, Fraction(2), "improved", "Guy 1976 (CGI-I)"),
    ("pgic", {"change": 4}, Fraction(4), "unchanged", "Guy 1976 (CGI-I)"),
    (
        "schober",
        {"flexed_span_cm": "21.5"},
        Fraction(13, 2),
        "normal",
        "Macrae & Wright 1969 (>= 5 cm)",
    ),
    ("schober", {"flexed_span_cm": 19}, Fraction(4), "reduced", "Macrae & Wright 1969"),
    (
        "fingertip_floor",
        {"distance_cm": "-3.5"},
        Fraction(-7, 2),
        None,
        "Robinson & Mengshoel 2014",
    ),
]


@pytest.mark.parametrize(("code", "answers", "value", "band", "source"), SCORE_TABLE)
def test_each_instrument_scores_exactly(code, answers, value, band, source):
    result = score(code, answers)
    assert (result.value, result.band) == (value, band), source
    assert result.version == INSTRUMENTS[code].version


def test_every_instrument_is_in_the_score_table():
    assert {row[0] for row in SCORE_TABLE} == set(INSTRUMENTS)


# (instrument, answers, error code, source)
INVALID_TABLE = [
    (
        "odi",
        {"sections": [6, 2, 2, 2, 2, 2, 1, 1, 1, 1]},
        "value_out_of_range",
        "ODI-23: no clamping",
    ),
    ("odi", {"sections": [2] * 9}, "wrong_number_of_sections", "ODI-27"),
    ("odi", {"sections": [2.5] + [2] * 9}, "non_integer", "ODI sections are 0-5 statements"),
    ("rmdq", {"ticked_items": [3, 25]}, "item_out_of_range", "RMDQ-05"),
    ("rmdq", {"ticked_items": [3, 3]}, "duplicate_item", "a statement is ticked once"),
    ("start_back", {"q1": 2}, "value_out_of_range", "agree/disagree only"),
    ("start_back", {"bothersomeness": "a lot"}, "value_out_of_range", "five answers (Hill 2008)"),
    ("start_back", ["q1"], "not_a_mapping", "items by name"),
    ("start_back", {"q10": 1}, "unknown_item", "nine items"),
    ("psfs", {"ratings": [3, 11]}, "value_out_of_range", "0-10 (Stratford 1995)"),
    ("psfs", {"ratings": []}, "wrong_number_of_items", "one to five activities"),
    (
        "peg",
        {"pain": 11, "enjoyment": 1, "general_activity": 1},
        "value_out_of_range",
        "0-10 (Krebs 2009)",
    ),
    ("pain_nrs", {"now": 4.5}, "non_integer", "NRS-11 integers only"),
    ("pain_nrs", {}, "missing_item", "at least one rating"),
    ("pain_nrs", {"now": True}, "not_a_number", "a yes/no is not a rating"),
    ("analgesic_days", {"days": 8}, "value_out_of_range", "a week has 7 days"),
    ("pgic", {"change": 0}, "value_out_of_range", "1-7"),
    ("schober", {"flexed_span_cm": 14}, "value_out_of_range", "span starts at 15 cm"),
    ("schober", {"flexed_span_cm": "20.25"}, "too_precise", "to the millimetre"),
    ("fingertip_floor", {"distance_cm": "far"}, "not_a_number", "a number of cm"),
    ("peg", {"pain": 1}, "missing_item", "three items"),
    ("no_such_thing", {}, "unknown_instrument", "twelve instruments"),
]


@pytest.mark.parametrize(("code", "answers", "error", "source"), INVALID_TABLE)
def test_invalid_input_raises_a_named_error_naming_the_item(code, answers, error, source):
    with pytest.raises(ClinicalInputError) as raised:
        score(code, answers)
    assert raised.value.code == error, source
    assert raised.value.message


def test_odi_missing_sections_follow_the_policy():
    two_missing = [2, 2, 2, 2, 2, 2, None, None, 2, 2]
    assert score_odi(two_missing).reason == "too_many_missing"
    allowed = score_odi(two_missing, max_missing=2)
    assert (allowed.valid, allowed.value, allowed.policy) == (
        True,
        Fraction(40),
        {"max_missing": 2},
    )
    assert score_odi([None] * 10, max_missing=2).valid is False


def test_odi_bands_use_the_unrounded_value():
    assert odi_band(Fraction(20)) == "minimal"
    assert odi_band(Fraction(2001, 100)) == "moderate"
    assert odi_band(Fraction(80)) == "very_severe"
    assert odi_band(Fraction(8001, 100)) == "bed_bound"


def test_odi_display_rounds_half_up_not_to_even():
    result = score_odi([2, 1, 1, 1, 1, 1, 1, None, None, 1], max_missing=2)
    assert result.value == Fraction(45, 2)
    assert half_up(result.value, 0) == 23


def test_start_back_missing_item_is_not_classifiable():
    answers = {f"q{n}": 0 for n in range(1, 9)}
    result = score_start_back(answers)
    assert (result.valid, result.reason, result.details["missing"]) == (
        False,
        "missing_item",
        ["bothersomeness"],
    )


def test_licensed_text_is_not_shipped_and_free_text_is_attributed():
    for code in ("odi", "start_back", "rmdq", "peg"):
        definition = get_instrument(code)
        assert definition.text_licence == TextLicence.LOADED
        assert all(item.text is None for item in definition.items)
        assert definition.licence_note
    for code in ("pain_nrs", "stress_nrs", "sleep_nrs", "analgesic_days", "pgic"):
        definition = get_instrument(code)
        assert definition.text_licence == TextLicence.SHIPPED
        assert all(item.text for item in definition.items)
        assert definition.attribution


SECTION = st.one_of(
    st.none(), st.integers(0, 5), st.lists(st.integers(0, 5), min_size=1, max_size=3)
)


@given(sections=st.lists(SECTION, min_size=10, max_size=10), max_missing=st.sampled_from([1, 2]))
def test_odi_percent_is_within_0_and_100_for_every_valid_input(sections, max_missing):
    result = score_odi(sections, max_missing=max_missing)
    assert result.value is None or 0 <= result.value <= 100
    assert result.valid == (sections.count(None) <= max_missing)


@given(
    position=st.integers(0, 9),
    bad=st.one_of(st.integers(max_value=-1), st.integers(min_value=6)),
)
def test_odi_never_accepts_a_section_out_of_range(position, bad):
    sections: list[object] = [1] * 10
    sections[position] = bad
    with pytest.raises(ClinicalInputError) as raised:
        score_odi(sections)
    assert raised.value.item == ODI_SECTIONS[position]


@given(
    code=st.sampled_from(["stress_nrs", "sleep_nrs", "pgic", "analgesic_days"]),
    value=st.one_of(st.integers(max_value=-1), st.integers(min_value=11)),
)
def test_single_items_never_accept_out_of_range_values(code, value):
    item = get_instrument(code).items[0].id
    with pytest.raises(ClinicalInputError):
        score(code, {item: value})


@given(items=st.lists(st.one_of(st.integers(max_value=0), st.integers(min_value=25)), min_size=1))
def test_rmdq_never_accepts_an_item_number_outside_1_to_24(items):
    with pytest.raises(ClinicalInputError):
        score_rmdq(items)


@given(ratings=st.lists(st.integers(0, 10), min_size=1, max_size=5), bad=st.integers(min_value=11))
def test_psfs_never_accepts_a_rating_above_10(ratings, bad):
    with pytest.raises(ClinicalInputError):
        score("psfs", {"ratings": [*ratings[:4], bad]})


@given(
    value=st.floats(allow_nan=True, allow_infinity=True).filter(
        lambda v: not (0 <= v <= 10) or v != int(v)
    )
)
def test_pain_nrs_never_accepts_non_integers_or_values_outside_0_to_10(value):
    with pytest.raises(ClinicalInputError):
        score("pain_nrs", {"now": value})
