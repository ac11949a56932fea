"""Every rule input is asked (RULES.md §1.2 and §2.2), and answers reach the rules as the
rules need them: "not sure" stays unanswered (RULES.md §0.2)."""

from dataclasses import fields
from datetime import date

import pytest

from backcare.clinical.contraindications import ContraindicationAnswers
from backcare.clinical.numbers import months_between
from backcare.clinical.red_flags import NG65_CRITERIA, TriageAnswers
from backcare.intake.questions import (
    BY_CODE,
    DERIVED,
    NG65_LABELS,
    QUESTIONS,
    episode_phase,
    fed_items,
    rule_inputs,
)

TODAY = date(2026, 11, 24)


@pytest.mark.parametrize("item", [f.name for f in fields(TriageAnswers)])
def test_every_red_flag_input_is_asked_or_derived(item):
    assert ("triage", item) in fed_items()


@pytest.mark.parametrize("item", [f.name for f in fields(ContraindicationAnswers)])
def test_every_contraindication_input_is_asked(item):
    assert ("ci", item) in fed_items()


def test_questions_feed_only_items_the_rules_know():
    triage = {f.name for f in fields(TriageAnswers)}
    ci = {f.name for f in fields(ContraindicationAnswers)}
    for target, item in fed_items():
        assert item in (triage if target == "triage" else ci), (target, item)
    assert set(DERIVED) <= fed_items()


def test_every_ng65_criterion_is_asked_or_derived_from_the_onset_age():
    assert set(NG65_LABELS) | {"onset_before_35"} == NG65_CRITERIA


def test_question_codes_are_unique_and_worded():
    assert len(BY_CODE) == len(QUESTIONS)
    for question in QUESTIONS:
        assert len(question.text) > 10
        assert question.text.endswith("?") or question.kind == "choices", question.code


def test_not_sure_on_a_cauda_equina_question_stays_unanswered():
    triage, _ = rule_inputs(
        {"saddle_numbness": "not_sure", "bowel_incontinence": "no"}, today=TODAY
    )
    assert "saddle_numbness" not in triage
    assert triage["bowel_incontinence"] is False


def test_a_yes_reaches_both_rule_sets_when_both_need_it():
    triage, ci = rule_inputs(
        {"known_aaa": "yes", "fever_or_systemically_unwell": "yes"}, today=TODAY
    )
    assert triage["known_aaa"] is True
    assert ci["known_aaa"] is True
    assert triage["fever_or_systemically_unwell"] is True
    assert ci["fever"] is True


@pytest.mark.parametrize(
    ("onset", "expected"),
    [
        (
            "major",
            {
                "major_trauma": True,
                "minor_trauma_or_lift": False,
                "sudden_onset_without_trauma": False,
            },
        ),
        (
            "minor",
            {
                "major_trauma": False,
                "minor_trauma_or_lift": True,
                "sudden_onset_without_trauma": False,
            },
        ),
        (
            "sudden",
            {
                "major_trauma": False,
                "minor_trauma_or_lift": False,
                "sudden_onset_without_trauma": True,
            },
        ),
        (
            "gradual",
            {
                "major_trauma": False,
                "minor_trauma_or_lift": False,
                "sudden_onset_without_trauma": False,
            },
        ),
        ("unknown", {}),
    ],
)
def test_how_the_pain_started_answers_the_three_trauma_items(onset, expected):
    triage, _ = rule_inputs({"onset_how": onset}, today=TODAY)
    found = {
        k: triage[k]
        for k in ("major_trauma", "minor_trauma_or_lift", "sudden_onset_without_trauma")
        if k in triage
    }
    assert found == expected


def test_onset_age_and_start_date_give_the_ng65_items():
    triage, _ = rule_inputs(
        {
            "first_back_pain_age": 30,
            "pain_started_on": date(2026, 5, 25),
            "ng65_criteria": ["psoriasis", "buttock_pain"],
        },
        today=TODAY,
    )
    assert triage["lbp_onset_age"] == 30
    assert triage["lbp_duration_months"] == 5
    assert triage["ng65_criteria"] == ["buttock_pain", "onset_before_35", "psoriasis"]


def test_conditions_keep_regions_and_weeks():
    _, ci = rule_inputs(
        {
            "recent_surgery_region": "lumbar",
            "weeks_since_surgery": 4,
            "skin_lesion_regions": ["leg_left"],
            "pregnant": "no",
        },
        today=TODAY,
    )
    assert ci == {
        "recent_surgery_region": "lumbar",
        "weeks_since_surgery": 4,
        "skin_lesion_regions": ["leg_left"],
    }


@pytest.mark.parametrize(
    ("start", "months", "phase"),
    [
        (date(2026, 11, 1), 0, "acute"),
        (date(2026, 10, 1), 1, "subacute"),
        (date(2026, 8, 24), 3, "chronic"),
        (date(2026, 8, 25), 2, "chronic"),
    ],
)
def test_episode_length_in_months_and_phase(start, months, phase):
    # Acute under 6 weeks, chronic over 12 weeks (issue 4; the bands of ACP 2017).
    assert months_between(start, TODAY) == months
    assert episode_phase(start, TODAY) == phase


def test_not_sure_on_a_question_that_feeds_a_contraindication_stays_unanswered_there_too():
    triage, ci = rule_inputs({"osteoporosis": "not_sure"}, today=TODAY)
    assert "osteoporosis" not in triage
    assert ci == {"osteoporosis": None}


def test_cancer_now_or_severe_osteoporosis_imply_the_history_items():
    triage, ci = rule_inputs(
        {"history_of_cancer": "no", "active_cancer": "yes", "severe_osteoporosis": "yes"},
        today=TODAY,
    )
    assert triage["history_of_cancer"] is True
    assert triage["osteoporosis"] is True
    assert ci["osteoporosis"] is True
