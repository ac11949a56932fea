"""Holds, safety summaries, the triage queue and the other reads of triage: who may read what,
one audit event per read, and the hold rule of the module docstring."""

from datetime import timedelta

import pytest
import time_machine

from backcare.accounts.models import Role
from backcare.core.errors import NotFoundError
from backcare.core.models import AuditEvent
from backcare.triage import queries, services
from backcare.triage.queries import HoldState, hold_status
from backcare.triage.tests.factories import make_clearance, make_screening
from tests.factories import make_clinic, make_member, make_patient, make_user

pytestmark = pytest.mark.django_db


class World:
    """A clinic with a therapist, front desk and a referring clinician; a patient they referred
    (with a portal login); another clinic's therapist; a stranger."""

    def __init__(self) -> None:
        self.clinic = make_clinic("Home")
        self.therapist = make_member(self.clinic, Role.THERAPIST)
        self.desk = make_member(self.clinic, Role.FRONT_DESK)
        self.clinician = make_member(self.clinic, Role.REFERRING_CLINICIAN)
        self.patient_user = make_user(full_name="Pat Home")
        self.patient = make_patient(
            self.clinic, user=self.patient_user, referred_by=self.clinician, given_name="Harriet"
        )
        self.colleague = make_member(make_clinic("Other"), Role.THERAPIST)
        self.stranger = make_user(full_name="Stranger")


@pytest.fixture
def world() -> World:
    return World()


def denied(**filters: object) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(outcome="denied", **filters))


# --- The hold rule --------------------------------------------------------------------------------


def test_a_patient_never_screened_may_not_be_booked(world):
    status = hold_status(world.patient)
    assert (status.state, status.may_book, status.level) == (HoldState.NOT_SCREENED, False, "")
    assert "have not been answered" in status.reason


def test_an_incomplete_screening_holds_the_patient_until_the_answers_come(world):
    make_screening(world.therapist, world.patient, unanswered=("saddle_numbness",))
    status = hold_status(world.patient)
    assert (status.state, status.level, status.may_book) == (
        HoldState.INCOMPLETE,
        "incomplete",
        False,
    )
    assert "unanswered" in status.reason


def test_a_screening_without_flags_clears_the_patient(world):
    make_screening(world.therapist, world.patient)
    status = hold_status(world.patient)
    assert (status.state, status.level, status.may_book) == (HoldState.CLEAR, "proceed", True)
    assert status.reason == ""


def test_a_referral_level_finding_holds_the_patient_until_a_clearance(world):
    make_screening(world.therapist, world.patient, yes=("history_of_cancer",))
    status = hold_status(world.patient)
    assert (status.state, status.level) == (HoldState.ON_HOLD, "refer_before_massage")
    assert [need.code for need in status.waiting_for] == ["RF-MAL-3"]
    assert "RF-MAL-3 History of cancer" in status.reason
    make_clearance(world.clinician, world.patient)
    cleared = hold_status(world.patient)
    assert (cleared.state, cleared.may_book) == (HoldState.CLEAR, True)
    assert [c.clinician_name for c in cleared.clearances] == ["Dr Ada Lovelace"]


def test_a_rescreen_with_the_same_referral_level_history_stays_cleared(world):
    make_screening(world.therapist, world.patient, yes=("history_of_cancer",))
    make_clearance(world.therapist, world.patient)
    services.record_rescreen(
        actor=world.therapist,
        patient_id=world.patient.pk,
        answers={"night_pain_preventing_sleep": False},
        conditions={"suspected_dvt": False},
    )
    status = hold_status(world.patient)
    assert status.assessment is not None
    assert status.assessment.kind == "rescreen"
    assert "RF-MAL-3" in status.assessment.triggered  # the history is carried forward
    assert status.may_book


@pytest.mark.parametrize(
    ("answers", "conditions", "level"),
    [
        ({"fever_or_systemically_unwell": True}, {}, "urgent_medical"),
        ({"saddle_numbness": True}, {}, "emergency"),
        ({}, {"suspected_dvt": True}, "urgent_medical"),
        ({}, {"suspected_dvt": True, "dvt_chest_pain_or_breathless": True}, "emergency"),
    ],
)
def test_a_new_urgent_or_emergency_flag_on_rescreen_holds_despite_a_clearance_in_force(
    world, answers, conditions, level
):
    make_screening(world.therapist, world.patient, yes=("history_of_cancer",))
    make_clearance(world.therapist, world.patient)
    services.record_rescreen(
        actor=world.therapist, patient_id=world.patient.pk, answers=answers, conditions=conditions
    )
    status = hold_status(world.patient)
    assert (status.state, status.level) == (HoldState.ON_HOLD, level)
    assert all(need.acute for need in status.waiting_for)


def test_an_urgent_finding_is_answered_only_by_a_clearance_of_that_very_screening(world):
    make_screening(world.therapist, world.patient, yes=("fever_or_systemically_unwell",))
    make_clearance(world.therapist, world.patient)
    assert hold_status(world.patient).may_book
    # The same finding a visit later describes the patient's state now: it holds again.
    services.record_rescreen(
        actor=world.therapist,
        patient_id=world.patient.pk,
        answers={"fever_or_systemically_unwell": True},
        conditions={},
    )
    status = hold_status(world.patient)
    assert status.state == HoldState.ON_HOLD
    assert [need.code for need in status.waiting_for] == ["RF-INF-1"]
    make_clearance(world.therapist, world.patient)
    assert hold_status(world.patient).may_book


def test_a_clearance_past_its_end_date_answers_nothing(world):
    make_screening(world.therapist, world.patient, yes=("history_of_cancer",))
    today = world.clinic.local_date()
    make_clearance(world.therapist, world.patient, valid_until=today)
    assert hold_status(world.patient).may_book
    with time_machine.travel(timedelta(days=2)):
        status = hold_status(world.patient)
    assert status.state == HoldState.ON_HOLD
    assert status.clearances == ()


def test_an_override_clears_the_hold_of_that_screening_only(world):
    make_screening(world.therapist, world.patient, yes=("history_of_cancer",))
    services.override_hold(
        actor=world.therapist, patient_id=world.patient.pk, reason="GP confirmed by phone today."
    )
    status = hold_status(world.patient)
    assert status.may_book
    assert status.override is not None
    assert status.override.overridden_by == world.therapist
    services.record_rescreen(
        actor=world.therapist, patient_id=world.patient.pk, answers={}, conditions={}
    )
    assert hold_status(world.patient).may_book  # the same history, carried forward
    services.record_rescreen(
        actor=world.therapist,
        patient_id=world.patient.pk,
        answers={"unexplained_weight_loss": True},
        conditions={},
    )
    again = hold_status(world.patient)
    assert (again.state, again.override) == (HoldState.ON_HOLD, None)


def test_a_contraindication_that_needs_a_clearance_holds_at_referral_level(world):
    make_screening(
        world.therapist,
        world.patient,
        conditions={"recent_surgery_region": "lumbar", "weeks_since_surgery": 3},
    )
    status = hold_status(world.patient)
    assert status.assessment is not None
    assert status.assessment.action == "proceed"  # red flags alone
    assert (status.state, status.level) == (HoldState.ON_HOLD, "refer_before_massage")
    assert [n.code for n in status.waiting_for] == ["CI-SURGERY:lumbar"]


def test_an_unsure_condition_that_could_change_the_result_makes_the_screening_incomplete(world):
    make_screening(world.therapist, world.patient, conditions={"suspected_dvt": None})
    status = hold_status(world.patient)
    assert (status.state, status.level) == (HoldState.INCOMPLETE, "incomplete")
    assert status.assessment is not None
    assert status.assessment.contraindication_result["unanswered"] == ["suspected_dvt"]


def test_an_unsure_condition_that_could_only_ease_the_result_changes_nothing(world):
    # Without a suspected DVT, chest pain changes no contraindication rule; the approval of
    # deep pressure could only lift a cap.
    make_screening(
        world.therapist,
        world.patient,
        conditions={
            "suspected_dvt": False,
            "dvt_chest_pain_or_breathless": None,
            "oncologist_approved_deep_pressure": None,
        },
    )
    status = hold_status(world.patient)
    assert (status.state, status.level) == (HoldState.CLEAR, "proceed")


def test_an_emergency_is_not_made_incomplete_by_an_unsure_condition(world):
    make_screening(
        world.therapist, world.patient, yes=("saddle_numbness",), conditions={"fever": None}
    )
    assert hold_status(world.patient).level == "emergency"


# --- Safety summary -------------------------------------------------------------------------------


def test_the_safety_summary_shows_findings_clearances_overrides_letters_and_history(world):
    first = make_screening(world.therapist, world.patient, yes=("history_of_cancer",))
    services.override_hold(
        actor=world.therapist, patient_id=world.patient.pk, reason="Oncologist letter on file."
    )
    second = make_screening(
        world.therapist,
        world.patient,
        yes=("history_of_cancer", "unexplained_weight_loss"),
        conditions={"osteoporosis": True},
    )
    letter = services.write_referral_letter(
        actor=world.desk, patient_id=world.patient.pk, recipient_name="Dr Who"
    )
    make_clearance(world.clinician, world.patient, max_pressure_level=2)
    before = AuditEvent.objects.count()
    summary = queries.get_safety_summary(world.clinician, world.patient.pk)
    assert summary.hold.may_book
    assert summary.assessment == second
    assert [row[0] for row in summary.findings] == ["RF-MAL-3", "RF-MAL-4"]
    assert summary.findings[1][3] == ("unexplained_weight_loss",)
    assert summary.precautions["max_pressure_level"] == 3
    assert [r.condition for r in summary.restrictions] == ["CI-OSTEOPOROSIS"]
    assert [c.max_pressure_level for c in summary.hold.clearances] == [2]
    assert [o.assessment_id for o in summary.overrides] == [first.pk]
    assert list(summary.letters) == [letter]
    assert list(summary.history) == [second, first]
    [event] = AuditEvent.objects.order_by("id")[before:]
    assert (event.action, event.outcome, event.patient_id) == (
        "safety.view",
        "allowed",
        world.patient.pk,
    )


@pytest.mark.parametrize("actor", ["colleague", "stranger", "patient_user"])
def test_the_safety_summary_is_not_for_other_clinics_strangers_or_the_patient(world, actor):
    with pytest.raises(NotFoundError):
        queries.get_safety_summary(getattr(world, actor), world.patient.pk)
    [event] = denied()
    assert (event.action, event.patient_id) == ("safety.view", world.patient.pk)


def test_a_referring_clinician_sees_only_the_summaries_of_patients_they_referred(world):
    other = make_patient(world.clinic)
    with pytest.raises(NotFoundError):
        queries.get_safety_summary(world.clinician, other.pk)


# --- Screenings and findings ----------------------------------------------------------------------


def test_findings_name_the_rule_its_level_words_sources_and_the_answers_that_fired_it(world):
    assessment = make_screening(
        world.therapist, world.patient, yes=("history_of_cancer", "night_pain_preventing_sleep")
    )
    by_rule = {f.rule_id: f for f in queries.finding_details(assessment)}
    assert set(by_rule) == {"RF-MAL-1", "RF-MAL-3"}
    mal1 = by_rule["RF-MAL-1"]
    assert mal1.level == "urgent_medical"
    assert mal1.items == ("history_of_cancer", "night_pain_preventing_sleep")
    assert "24 hours" in mal1.patient_text
    assert "NICE CG75" in mal1.sources
    assert by_rule["RF-MAL-3"].level == "refer_before_massage"


def test_a_screening_is_for_clinic_staff_and_the_referring_clinician(world):
    assessment = make_screening(world.therapist, world.patient)
    assert queries.get_assessment(world.clinician, assessment.pk) == assessment
    assert queries.get_assessment_detail(world.desk, assessment.pk).level == "proceed"
    for outsider in (world.patient_user, world.colleague, world.stranger):
        with pytest.raises(NotFoundError):
            queries.get_assessment(outsider, assessment.pk)
    assert len(denied(action="triage.view")) == 3


def test_the_actions_offered_follow_the_role_the_hold_and_the_screening(world):
    make_screening(world.therapist, world.patient, yes=("history_of_cancer",))
    hold = hold_status(world.patient)
    therapist = queries.safety_actions(world.therapist, hold)
    desk = queries.safety_actions(world.desk, hold)
    clinician = queries.safety_actions(world.clinician, hold)
    assert therapist == queries.SafetyActions(True, True, True, True, True)
    assert (desk.override, desk.write_letter, desk.record_clearance) == (False, True, True)
    assert clinician == queries.SafetyActions(record_clearance=True)


def test_an_emergency_offers_no_override(world):
    make_screening(world.therapist, world.patient, yes=("saddle_numbness",))
    actions = queries.safety_actions(world.therapist, hold_status(world.patient))
    assert (actions.override, actions.record_clearance) == (False, True)


@pytest.mark.parametrize(
    ("answers", "conditions", "stop", "level"),
    [
        ({}, {}, False, "proceed"),
        ({}, {"fever": True}, True, "proceed"),  # postponed this session, not a hold
        ({"bilateral_leg_radicular_symptoms": True}, {}, True, "urgent_medical"),
        ({"saddle_numbness": None}, {}, True, "incomplete"),
    ],
)
def test_the_outcome_of_a_rescreen_says_whether_to_stop(world, answers, conditions, stop, level):
    make_screening(world.therapist, world.patient)
    assessment = services.record_rescreen(
        actor=world.patient_user,
        patient_id=world.patient.pk,
        answers=answers,
        conditions=conditions,
    )
    outcome = queries.get_screening_outcome(world.patient_user, assessment.pk)
    assert (outcome.stop, outcome.level) == (stop, level)


def test_an_unanswered_rescreen_question_is_named_in_the_patients_words(world):
    make_screening(world.therapist, world.patient)
    assessment = services.record_rescreen(
        actor=world.patient_user,
        patient_id=world.patient.pk,
        answers={"fever_or_systemically_unwell": None},
        conditions={"fever": None},
    )
    outcome = queries.get_screening_outcome(world.patient_user, assessment.pk)
    assert outcome.level == "incomplete"
    assert set(outcome.unanswered) == {"fever_or_systemically_unwell", "fever"}
    [question] = outcome.unanswered_questions  # one question asked both
    assert question.startswith("Do you have a fever")


# --- Queue and letters ----------------------------------------------------------------------------


def test_the_queue_lists_what_waits_most_severe_first_then_oldest(world):
    calm = make_patient(world.clinic, given_name="Calm")
    old_refer = make_patient(world.clinic, given_name="Old")
    new_refer = make_patient(world.clinic, given_name="New")
    urgent = make_patient(world.clinic, given_name="Urgent")
    reviewed = make_patient(world.clinic, given_name="Reviewed")
    make_screening(world.therapist, calm)
    make_screening(world.therapist, old_refer, yes=("history_of_cancer",))
    make_screening(world.therapist, new_refer, yes=("unexplained_weight_loss",))
    make_screening(world.therapist, urgent, yes=("fever_or_systemically_unwell",))
    done = make_screening(world.therapist, reviewed)
    services.review_screening(actor=world.desk, assessment_id=done.pk)
    entries = queries.list_triage_queue(world.desk, world.clinic)
    assert [e.assessment.patient.given_name for e in entries] == ["Urgent", "Old", "New", "Calm"]
    assert entries[1].waiting_for == "A referral letter, then a clearance"
    assert entries[3].waiting_for == "A staff review of the screening"


@pytest.mark.parametrize("actor", ["colleague", "stranger", "clinician", "patient_user"])
def test_the_queue_is_for_clinic_staff_only(world, actor):
    with pytest.raises(NotFoundError):
        queries.list_triage_queue(getattr(world, actor), world.clinic)
    assert denied(action="triage.queue")


def test_a_clinician_lists_only_letters_about_patients_they_referred(world):
    make_screening(world.therapist, world.patient, yes=("history_of_cancer",))
    other = make_patient(world.clinic)
    make_screening(world.therapist, other, yes=("history_of_cancer",))
    mine = services.write_referral_letter(
        actor=world.desk, patient_id=world.patient.pk, recipient_name="", send_to_referrer=True
    )
    services.write_referral_letter(actor=world.desk, patient_id=other.pk, recipient_name="Dr B")
    assert queries.list_letters_for_clinician(world.clinician) == [mine]
    assert queries.list_letters_for_clinician(world.stranger) == []


# --- A hold outlives later screenings until a clearance answers it (review findings) -------------


@pytest.mark.parametrize(
    ("yes", "conditions", "actor"),
    [
        (("saddle_numbness",), {}, "patient_user"),  # emergency, the patient's own re-screen
        (("fever_or_systemically_unwell",), {}, "therapist"),  # urgent
        (("history_of_cancer",), {}, "patient_user"),  # refer
        ((), {"suspected_dvt": True}, "therapist"),  # a contraindication's urgent advice
    ],
)
def test_a_later_screening_without_the_flag_does_not_lift_the_hold(world, yes, conditions, actor):
    make_screening(world.therapist, world.patient, yes=yes, conditions=conditions)
    assert not hold_status(world.patient).may_book
    no = dict.fromkeys(services.RESCREEN_ITEMS, False)
    services.record_rescreen(
        actor=getattr(world, actor),
        patient_id=world.patient.pk,
        answers=no,
        conditions=dict.fromkeys(services.RESCREEN_CONDITIONS, False),
    )
    make_screening(world.therapist, world.patient)  # a new intake answering "no" everywhere
    status = hold_status(world.patient)
    assert status.state == HoldState.ON_HOLD
    assert not status.may_book
    make_clearance(world.therapist, world.patient)
    assert hold_status(world.patient).may_book


def test_a_rescreen_carries_the_latest_known_answers_even_from_an_incomplete_screening(world):
    make_screening(world.therapist, world.patient)
    make_screening(
        world.therapist,
        world.patient,
        yes=("history_of_cancer",),
        unanswered=("fever_or_systemically_unwell",),
    )
    rescreen = services.record_rescreen(
        actor=world.therapist,
        patient_id=world.patient.pk,
        answers={"fever_or_systemically_unwell": False},
        conditions={},
    )
    assert rescreen.answers["history_of_cancer"] is True
    assert "history_of_cancer" in rescreen.carried_items
    assert not hold_status(world.patient).may_book


def test_a_cleared_acute_answer_carried_forward_does_not_hold_every_visit(world):
    make_screening(world.therapist, world.patient, yes=("history_of_cancer", "thoracic_spine_pain"))
    make_clearance(world.therapist, world.patient)
    assert hold_status(world.patient).may_book
    services.record_rescreen(
        actor=world.therapist,
        patient_id=world.patient.pk,
        answers=dict.fromkeys(services.RESCREEN_ITEMS, False),
        conditions={},
    )
    assert hold_status(world.patient).may_book


def test_a_clearance_for_one_operation_does_not_clear_another(world):
    make_screening(
        world.therapist,
        world.patient,
        conditions={"recent_surgery_region": "lumbar", "weeks_since_surgery": 3},
    )
    make_clearance(world.therapist, world.patient)
    assert hold_status(world.patient).may_book
    make_screening(
        world.therapist,
        world.patient,
        conditions={"recent_surgery_region": "neck", "weeks_since_surgery": 1},
    )
    status = hold_status(world.patient)
    assert [need.code for need in status.waiting_for] == ["CI-SURGERY:neck"]


def test_a_condition_that_asks_for_a_gp_review_holds_until_cleared(world):
    make_screening(world.therapist, world.patient, conditions={"uncontrolled_hypertension": True})
    status = hold_status(world.patient)
    assert (status.state, status.level) == (HoldState.ON_HOLD, "refer_before_massage")
    make_clearance(world.therapist, world.patient)
    assert hold_status(world.patient).may_book


def test_an_emergency_contraindication_outranks_an_unanswered_question(world):
    make_screening(
        world.therapist,
        world.patient,
        unanswered=("fever_or_systemically_unwell",),
        conditions={"suspected_dvt": True, "dvt_chest_pain_or_breathless": True},
    )
    assert hold_status(world.patient).level == "emergency"


# --- limits_from: what treatment must keep --------------------------------------------------------


def test_limits_combine_the_screenings_result_with_the_clearances_in_force(world):
    make_screening(
        world.therapist,
        world.patient,
        yes=("history_of_cancer",),
        conditions={"anticoagulant_or_bleeding_disorder": True},
    )
    limits = queries.limits_from(hold_status(world.patient))
    assert limits.max_pressure_level == 3  # RULES.md §2: anticoagulants, level 3 default
    assert "deep_tissue" in limits.excluded_techniques
    make_clearance(
        world.therapist,
        world.patient,
        max_pressure_level=2,
        excluded_techniques=["cupping"],
        restricted_regions=["leg_left"],
    )
    limits = queries.limits_from(hold_status(world.patient))
    assert limits.max_pressure_level == 2
    assert {"deep_tissue", "cupping"} <= limits.excluded_techniques
    assert limits.avoid_regions == frozenset({"leg_left"})


def test_no_screening_means_no_limits_to_show(world):
    limits = queries.limits_from(hold_status(world.patient))
    assert limits == queries.contraindications.TreatmentLimits()
