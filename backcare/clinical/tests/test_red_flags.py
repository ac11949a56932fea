"""Every red-flag rule of RULES.md §1.2, table-driven with its source; unanswered items; the
monotonicity property; settings."""

from dataclasses import fields, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backcare.clinical.errors import ClinicalInputError
from backcare.clinical.red_flags import (
    BOOLEAN_ITEMS,
    CES_ITEMS,
    RULES,
    RULES_VERSION,
    Action,
    TriageAnswers,
    action_of_findings,
    contributing_items,
    ordered_actions,
    patient_text,
    rule_text,
    settings_with,
    triage,
)

NO = dict.fromkeys(BOOLEAN_ITEMS, False)


def answers(age: int = 40, **items: object) -> TriageAnswers:
    """Every item answered "no" unless given (the RULES.md §8 vector convention)."""
    values: dict[str, object] = {**NO, "age": age, "ng65_criteria": frozenset()}
    values.update(items)
    return TriageAnswers(**values)  # type: ignore[arg-type]


# (items, expected action, expected triggered IDs, source)
RULE_TABLE = [
    ({}, Action.PROCEED, (), "RULES.md §1.2: no rule fires"),
    *[
        ({item: True}, Action.EMERGENCY, ("RF-CES-1",), "NICE CKS; AHCPR 1994; Finucane 2020")
        for item in CES_ITEMS
    ],
    (
        {"progressive_leg_weakness_or_foot_drop": True},
        Action.EMERGENCY,
        ("RF-NEURO-1",),
        "ACR 2016; NHS Lothian",
    ),
    (
        {"bilateral_leg_radicular_symptoms": True},
        Action.URGENT_MEDICAL,
        ("RF-NEURO-2",),
        "NHS Lothian; level ⚙",
    ),
    (
        {"new_limb_weakness_or_sensory_loss": True},
        Action.REFER_BEFORE_MASSAGE,
        ("RF-NEURO-3",),
        "⚙ RULES.md §1.2",
    ),
    (
        {"history_of_cancer": True, "night_pain_preventing_sleep": True},
        Action.URGENT_MEDICAL,
        ("RF-MAL-1", "RF-MAL-3"),
        "NICE CG75",
    ),
    (
        {"history_of_cancer": True, "radicular_pain": True},
        Action.EMERGENCY,
        ("RF-MAL-2", "RF-MAL-3"),
        "NICE CG75 (oncological emergency)",
    ),
    (
        {"history_of_cancer": True, "difficulty_walking": True},
        Action.EMERGENCY,
        ("RF-MAL-2", "RF-MAL-3"),
        "NICE CG75 (difficulty walking is a neuro item)",
    ),
    (
        {"history_of_cancer": True},
        Action.REFER_BEFORE_MASSAGE,
        ("RF-MAL-3",),
        "Verhagen 2016; AHCPR",
    ),
    (
        {"unexplained_weight_loss": True},
        Action.REFER_BEFORE_MASSAGE,
        ("RF-MAL-4",),
        "Verhagen 2016",
    ),
    (
        {"age": 50},
        Action.PROCEED_WITH_PRECAUTIONS,
        ("RF-SOFT-1",),
        "AHCPR (age > 50); one soft flag ⚙",
    ),
    (
        {"age": 49, "no_improvement_after_4_weeks": True},
        Action.PROCEED_WITH_PRECAUTIONS,
        ("RF-SOFT-2",),
        "Chou 2007; one soft flag ⚙",
    ),
    (
        {"age": 49, "constant_night_pain_not_eased_by_position": True},
        Action.PROCEED_WITH_PRECAUTIONS,
        ("RF-SOFT-3",),
        "RULES.md §1.2 soft flags ⚙",
    ),
    (
        {
            "age": 60,
            "no_improvement_after_4_weeks": True,
            "constant_night_pain_not_eased_by_position": True,
        },
        Action.REFER_BEFORE_MASSAGE,
        ("RF-SOFT-1", "RF-SOFT-2", "RF-SOFT-3"),
        "Two or more soft flags ⚙ (Finucane 2020: single flags are weak)",
    ),
    ({"major_trauma": True}, Action.URGENT_MEDICAL, ("RF-FX-1",), "AHCPR 1994; ACR 2016"),
    (
        {"major_trauma": True, "radicular_pain": True},
        Action.EMERGENCY,
        ("RF-FX-1",),
        "AHCPR; ACR (escalate with any neuro item)",
    ),
    (
        {"minor_trauma_or_lift": True, "prolonged_corticosteroids": True},
        Action.REFER_BEFORE_MASSAGE,
        ("RF-FX-2",),
        "ACR variant 6; AHCPR",
    ),
    (
        {"age": 70, "minor_trauma_or_lift": True},
        Action.REFER_BEFORE_MASSAGE,
        ("RF-FX-2", "RF-SOFT-1"),
        "ACR variant 6 (age 70 ⚙)",
    ),
    (
        {"age": 69, "minor_trauma_or_lift": True},
        Action.PROCEED_WITH_PRECAUTIONS,
        ("RF-SOFT-1",),
        "ACR variant 6: 69 is under the ⚙ fracture age",
    ),
    (
        {"fever_or_systemically_unwell": True},
        Action.URGENT_MEDICAL,
        ("RF-INF-1",),
        "AHCPR; ACR variant 7",
    ),
    (
        {"immunosuppression": True},
        Action.REFER_BEFORE_MASSAGE,
        ("RF-INF-2",),
        "AHCPR; ACR variant 7",
    ),
    (
        {"recent_spinal_procedure": True},
        Action.REFER_BEFORE_MASSAGE,
        ("RF-INF-2",),
        "ACR variant 7; ⚙ window",
    ),
    (
        {"recent_bacterial_infection": True},
        Action.REFER_BEFORE_MASSAGE,
        ("RF-INF-2",),
        "AHCPR 1994",
    ),
    (
        {"age": 50, "sudden_severe_pain_unchanged_by_movement": True},
        Action.EMERGENCY,
        ("RF-AAA-1", "RF-SOFT-1"),
        "BMJ Best Practice AAA; age ⚙",
    ),
    (
        {"age": 49, "sudden_severe_pain_unchanged_by_movement": True},
        Action.PROCEED,
        (),
        "BMJ Best Practice AAA: under the ⚙ age alone it does not fire",
    ),
    ({"pulsatile_abdominal_mass": True}, Action.EMERGENCY, ("RF-AAA-1",), "BMJ Best Practice AAA"),
    ({"collapse_or_faintness": True}, Action.EMERGENCY, ("RF-AAA-1",), "BMJ Best Practice AAA"),
    (
        {"known_aaa": True, "new_or_changed_pain": True},
        Action.EMERGENCY,
        ("RF-AAA-1",),
        "BMJ Best Practice AAA",
    ),
    ({"known_aaa": True}, Action.PROCEED_WITH_PRECAUTIONS, ("RF-AAA-2",), "⚙ mechanical caution"),
    (
        {
            "lbp_onset_age": 30,
            "lbp_duration_months": 4,
            "ng65_criteria": frozenset({"buttock_pain", "enthesitis", "psoriasis"}),
        },
        Action.PROCEED_WITH_PRECAUTIONS,
        ("RF-INFL-2",),
        "NICE NG65 (exactly 3 criteria)",
    ),
    (
        {
            "lbp_onset_age": 44,
            "lbp_duration_months": 4,
            "ng65_criteria": frozenset(
                {"buttock_pain", "enthesitis", "psoriasis", "improves_with_movement"}
            ),
        },
        Action.PROCEED_WITH_PRECAUTIONS,
        ("RF-INFL-1",),
        "NICE NG65 (onset before 45, > 3 months, 4 or more criteria)",
    ),
    (
        {
            "lbp_onset_age": 30,
            "lbp_duration_months": 3,
            "ng65_criteria": frozenset(
                {"buttock_pain", "enthesitis", "psoriasis", "improves_with_movement"}
            ),
        },
        Action.PROCEED,
        (),
        "NICE NG65: 3 months is not more than 3 months",
    ),
    ({"structural_deformity": True}, Action.REFER_BEFORE_MASSAGE, ("RF-OTHER-1",), "AHCPR 1994"),
    (
        {"widespread_or_non_dermatomal_neurology": True},
        Action.REFER_BEFORE_MASSAGE,
        ("RF-OTHER-2",),
        "AHCPR 1994",
    ),
    ({"age": 19}, Action.REFER_BEFORE_MASSAGE, ("RF-OTHER-3",), "AHCPR 1994 (under 20)"),
]


@pytest.mark.parametrize(("items", "action", "triggered", "source"), RULE_TABLE)
def test_each_rule_fires_with_its_action(items, action, triggered, source):
    result = triage(answers(**items))
    assert (result.action, result.triggered) == (action, triggered), source


def test_every_rule_id_is_exercised_by_the_table():
    exercised = {rule_id for _, _, ids, _ in RULE_TABLE for rule_id in ids}
    assert {rule.id for rule in RULES} | {"RF-SOFT-1", "RF-SOFT-2", "RF-SOFT-3"} <= exercised


def test_ng65_rules_carry_their_referral_kind():
    four = frozenset({"onset_before_35", "buttock_pain", "enthesitis", "psoriasis"})
    three = frozenset({"buttock_pain", "enthesitis", "psoriasis"})
    base = {"lbp_onset_age": 30, "lbp_duration_months": 12}
    assert triage(answers(**base, ng65_criteria=four)).referral == "routine_gp_rheumatology"
    assert triage(answers(**base, ng65_criteria=three)).referral == "gp_consider_hla_b27"
    assert triage(answers()).referral is None


@pytest.mark.parametrize("item", CES_ITEMS)
def test_an_unanswered_cauda_equina_item_makes_triage_incomplete(item):
    result = triage(replace(answers(), **{item: None}))
    assert result.action == Action.INCOMPLETE
    assert item in result.unanswered


def test_an_unanswered_item_that_cannot_change_the_outcome_does_not_block():
    result = triage(replace(answers(saddle_numbness=True), bowel_incontinence=None))
    assert result.action == Action.EMERGENCY
    assert result.unanswered == ()


def test_an_unanswered_item_is_never_taken_as_no():
    result = triage(replace(answers(), history_of_cancer=None))
    assert result.action == Action.INCOMPLETE
    assert result.unanswered == ("history_of_cancer",)


def test_a_missing_age_blocks_the_age_rules():
    assert triage(replace(answers(), age=None)).action == Action.INCOMPLETE


def test_an_unknown_neurology_item_keeps_major_trauma_open_to_escalation():
    result = triage(replace(answers(major_trauma=True), radicular_pain=None))
    assert result.action == Action.INCOMPLETE


def test_building_from_a_vector_treats_left_out_keys_as_no_and_unknown_as_unanswered():
    built = TriageAnswers.from_mapping({"age": 35}, unknown=["saddle_numbness"])
    assert built.saddle_numbness is None
    assert built.bowel_incontinence is False


@pytest.mark.parametrize(
    ("mapping", "code"),
    [
        ({"age": 35, "sadle_numbness": True}, "unknown_item"),
        ({"age": 35, "saddle_numbness": "yes"}, "not_a_boolean"),
        ({"age": 150}, "value_out_of_range"),
        ({"age": 35.5}, "non_integer"),
        ({"age": 35, "ng65_criteria": ["feels_stiff"]}, "unknown_item"),
    ],
)
def test_invalid_answers_raise_a_named_error(mapping, code):
    with pytest.raises(ClinicalInputError) as raised:
        TriageAnswers.from_mapping(mapping)
    assert raised.value.code == code
    assert raised.value.item


def test_results_carry_the_version_and_explanations_for_both_readers():
    result = triage(answers(history_of_cancer=True))
    assert result.rules_version == RULES_VERSION
    assert result.patient_explanation.startswith(
        "Please see your doctor before your first massage."
    )
    assert result.therapist_explanation[0].startswith("RF-MAL-3 History of cancer:")
    assert "Verhagen" in result.therapist_explanation[0]


def test_a_clinic_may_raise_the_soft_flag_age():
    later = settings_with(soft_flag_age=55)
    assert triage(answers(age=52), later).action == Action.PROCEED
    assert triage(answers(age=52)).action == Action.PROCEED_WITH_PRECAUTIONS
    with pytest.raises(ClinicalInputError):
        settings_with(soft_flag_age=-1)
    with pytest.raises(ClinicalInputError):
        settings_with(soft_fleg_age=55)


def test_actions_are_ordered_from_proceed_to_emergency():
    assert [a.value for a in ordered_actions()] == [
        "proceed",
        "proceed_with_precautions",
        "refer_before_massage",
        "urgent_medical",
        "emergency",
    ]


AGES = st.integers(min_value=16, max_value=100)
ITEM_SETS = st.sets(st.sampled_from(BOOLEAN_ITEMS))


@settings(max_examples=300, deadline=None)
@given(age=AGES, yes=ITEM_SETS, extra=st.sampled_from(BOOLEAN_ITEMS))
def test_adding_a_red_flag_never_lowers_the_triage_level(age, yes, extra):
    before = triage(answers(age=age, **dict.fromkeys(yes, True)))
    after = triage(answers(age=age, **dict.fromkeys(yes | {extra}, True)))
    assert after.action.severity >= before.action.severity


@settings(max_examples=200, deadline=None)
@given(age=AGES, yes=ITEM_SETS, unanswered=st.sets(st.sampled_from(BOOLEAN_ITEMS), min_size=1))
def test_unanswered_items_never_give_a_milder_result_than_any_way_of_answering_them(
    age, yes, unanswered
):
    partial = triage(
        replace(answers(age=age, **dict.fromkeys(yes, True)), **dict.fromkeys(unanswered))
    )
    all_yes = triage(answers(age=age, **dict.fromkeys(yes | unanswered, True)))
    assert partial.action == Action.INCOMPLETE or partial.action.severity >= all_yes.action.severity


def test_every_boolean_item_is_a_field():
    assert set(BOOLEAN_ITEMS) <= {f.name for f in fields(TriageAnswers)}


def test_ng65_criteria_accept_common_spellings():
    criteria = [
        "first_degree_relative_with_spa",
        "past_or_current_arthritis",
        "enthesitis",
        "psoriasis",
    ]
    built = TriageAnswers.from_mapping(
        {"age": 30, "lbp_onset_age": 25, "lbp_duration_months": 24, "ng65_criteria": criteria}
    )
    result = triage(built)
    assert (result.triggered, result.referral) == (("RF-INFL-1",), "routine_gp_rheumatology")


def test_a_known_aaa_with_acute_signs_is_not_also_called_stable():
    assert triage(answers(known_aaa=True, pulsatile_abdominal_mass=True)).triggered == ("RF-AAA-1",)
    assert triage(answers(known_aaa=True, collapse_or_faintness=True)).triggered == ("RF-AAA-1",)


@pytest.mark.parametrize(
    ("mapping", "unknown", "code"),
    [
        ({"age": 30, "ng65_criteria": 4}, [], "not_a_list"),
        ({"age": 30, "ng65_criteria": True}, [], "not_a_list"),
        ({"age": 30}, "saddle_numbness", "not_a_list"),
        ({"age": 30}, [3], "not_a_list"),
        (None, [], "not_a_mapping"),
    ],
)
def test_malformed_vectors_raise_named_errors_not_crashes(mapping, unknown, code):
    with pytest.raises(ClinicalInputError) as raised:
        TriageAnswers.from_mapping(mapping, unknown=unknown)
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("items", "rule_id", "expected"),
    [
        # RF-CES-1 is an "any": each yes is shown, the age is not.
        (
            {"age": 40, "saddle_numbness": True, "bowel_incontinence": True},
            "RF-CES-1",
            ("bowel_incontinence", "saddle_numbness"),
        ),
        # RF-MAL-1 is cancer history AND one MSCC pain item: both are shown, a stray yes is not.
        (
            {
                "age": 60,
                "history_of_cancer": True,
                "thoracic_spine_pain": True,
                "fever_or_systemically_unwell": True,
            },
            "RF-MAL-1",
            ("history_of_cancer", "thoracic_spine_pain"),
        ),
        # RF-FX-2 by age alone: the age counts, with the minor trauma.
        ({"age": 75, "minor_trauma_or_lift": True}, "RF-FX-2", ("age", "minor_trauma_or_lift")),
        ({"age": 55}, "RF-SOFT-1", ("age",)),
        # RF-AAA-1 fired twice over (sudden severe pain at 60, and a known AAA with new pain):
        # no single answer is needed or enough with the needed ones, yet all four are shown.
        (
            {
                "age": 60,
                "sudden_severe_pain_unchanged_by_movement": True,
                "known_aaa": True,
                "new_or_changed_pain": True,
            },
            "RF-AAA-1",
            ("age", "known_aaa", "new_or_changed_pain", "sudden_severe_pain_unchanged_by_movement"),
        ),
        # RF-FX-2 with two triggers and two risk factors: both pairs are shown.
        (
            {
                "age": 40,
                "minor_trauma_or_lift": True,
                "sudden_onset_without_trauma": True,
                "osteoporosis": True,
                "prolonged_corticosteroids": True,
            },
            "RF-FX-2",
            (
                "minor_trauma_or_lift",
                "osteoporosis",
                "prolonged_corticosteroids",
                "sudden_onset_without_trauma",
            ),
        ),
        ({"age": 40, "saddle_numbness": True}, "RF-MAL-2", ()),
    ],
)
def test_contributing_items_name_the_answers_that_fired_a_rule(items, rule_id, expected):
    answers = TriageAnswers.from_mapping(items)
    assert contributing_items(answers, rule_id) == expected


def test_rule_text_gives_title_and_sources_and_refuses_unknown_ids():
    title, _, sources = rule_text("RF-CES-1")
    assert "cauda equina" in title
    assert "NICE" in sources
    assert rule_text("RF-SOFT-2")[0] == "No improvement after 4 weeks"
    with pytest.raises(ClinicalInputError):
        rule_text("RF-NOPE")
    with pytest.raises(ClinicalInputError):
        contributing_items(TriageAnswers(), "RF-NOPE")


def test_patient_text_is_the_rules_plain_words_and_soft_flags_depend_on_their_count():
    assert patient_text("RF-CES-1").startswith("You told us about new changes in bladder")
    assert "doctor should review" in patient_text("RF-SOFT-1", soft_count=2)
    assert "extra care" in patient_text("RF-SOFT-1", soft_count=1)
    with pytest.raises(ClinicalInputError):
        patient_text("RF-NOPE")


# An imported screening is known by the rules it triggered only (RULES.md §0.1: the most severe
# action wins; §1.2: one soft flag gives precautions, two or more a referral).
@pytest.mark.parametrize(
    ("triggered", "expected"),
    [
        ((), "proceed"),
        (("RF-SOFT-1",), "proceed_with_precautions"),
        (("RF-SOFT-1", "RF-SOFT-3"), "refer_before_massage"),
        (("RF-INFL-1",), "proceed_with_precautions"),
        (("RF-NEURO-2", "RF-SOFT-1"), "urgent_medical"),
        (("RF-MAL-3", "RF-CES-1"), "emergency"),
    ],
)
def test_the_action_of_a_screening_known_by_its_findings(triggered, expected):
    assert action_of_findings(triggered).value == expected


def test_a_finding_that_names_no_rule_is_refused():
    with pytest.raises(KeyError):
        action_of_findings(("RF-NOPE-1",))
