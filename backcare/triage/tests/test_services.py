import pytest

from backcare.accounts.models import Role
from backcare.clinical.red_flags import BOOLEAN_ITEMS, RULES_VERSION
from backcare.core.errors import InvalidInputError, NotFoundError
from backcare.core.models import AuditEvent
from backcare.triage import queries, services
from backcare.triage.models import TriageAssessment
from tests.factories import make_clinic, make_member, make_patient, make_user

pytestmark = pytest.mark.django_db

ALL_NO = dict.fromkeys(BOOLEAN_ITEMS, False)


@pytest.fixture
def setup():
    clinic = make_clinic()
    therapist = make_member(clinic, Role.THERAPIST)
    patient = make_patient(clinic)
    return clinic, therapist, patient


def test_a_screening_stores_inputs_result_version_settings_and_who(setup):
    clinic, therapist, patient = setup
    stored = services.record_triage(
        actor=therapist,
        patient_id=patient.pk,
        answers={**ALL_NO, "history_of_cancer": True, "ng65_criteria": []},
        contraindication_answers={"osteoporosis": True},
    )
    stored.refresh_from_db()
    assert (stored.action, stored.triggered, stored.rules_version) == (
        "refer_before_massage",
        ["RF-MAL-3"],
        RULES_VERSION,
    )
    assert stored.answers["history_of_cancer"] is True
    assert stored.answers["age"] == patient.age_on(clinic.local_date())
    assert stored.rule_settings["soft_flag_age"] == 50
    assert stored.contraindication_result["max_pressure_level"] == 3
    assert stored.entered_by == therapist
    assert stored.method == "staff"
    assert AuditEvent.objects.filter(action="triage.create", patient_id=patient.pk).count() == 1


def test_an_item_left_out_is_unanswered_not_no(setup):
    _, therapist, patient = setup
    answers = {**ALL_NO, "ng65_criteria": []}
    del answers["saddle_numbness"]
    stored = services.record_triage(actor=therapist, patient_id=patient.pk, answers=answers)
    assert stored.action == "incomplete"
    assert stored.unanswered == ["saddle_numbness"]


def test_the_clinics_settings_are_used_and_stored(setup):
    clinic, therapist, patient = setup
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    services.save_rule_settings(
        actor=admin, clinic=clinic, triage={"soft_flag_age": 30}, contraindication={}
    )
    stored = services.record_triage(
        actor=therapist, patient_id=patient.pk, answers={**ALL_NO, "ng65_criteria": []}
    )
    assert "RF-SOFT-1" in stored.triggered  # the factory patient is in their 40s
    assert stored.rule_settings["soft_flag_age"] == 30


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"saddle_numbness": "maybe"}, "saddle_numbness"),
        ({"sadle_numbness": True}, "sadle_numbness"),
        ({"ng65_criteria": ["feels_stiff"]}, "ng65_criteria"),
    ],
)
def test_invalid_answers_are_refused_naming_the_item_and_nothing_is_stored(setup, answers, field):
    _, therapist, patient = setup
    with pytest.raises(InvalidInputError) as raised:
        services.record_triage(actor=therapist, patient_id=patient.pk, answers=answers)
    assert field in raised.value.field_errors
    assert not TriageAssessment.objects.exists()


def test_a_patient_screens_themself_and_others_cannot(setup):
    clinic, _, _ = setup
    user = make_user()
    own = make_patient(clinic, user=user)
    stored = services.record_triage(
        actor=user, patient_id=own.pk, answers={**ALL_NO, "ng65_criteria": []}
    )
    assert stored.method == "portal"
    with pytest.raises(NotFoundError):
        services.record_triage(
            actor=make_member(make_clinic(), Role.THERAPIST), patient_id=own.pk, answers={}
        )


def test_screenings_are_listed_newest_first_and_the_read_is_audited(setup):
    _, therapist, patient = setup
    first = services.record_triage(
        actor=therapist, patient_id=patient.pk, answers={**ALL_NO, "ng65_criteria": []}
    )
    second = services.record_triage(
        actor=therapist, patient_id=patient.pk, answers={**ALL_NO, "ng65_criteria": []}
    )
    assert queries.list_assessments(therapist, patient.pk)[:2] == [second, first]
    assert AuditEvent.objects.filter(action="triage.list").count() == 1


def test_rule_settings_refuse_bad_values_and_drop_defaults(setup):
    clinic, _, _ = setup
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    with pytest.raises(InvalidInputError) as raised:
        services.save_rule_settings(
            actor=admin, clinic=clinic, triage={}, contraindication={"osteoporosis_max_pressure": 9}
        )
    assert "osteoporosis_max_pressure" in raised.value.field_errors
    stored = services.save_rule_settings(
        actor=admin, clinic=clinic, triage={"soft_flag_age": 50}, contraindication={}
    )
    assert stored.triage == {}
    with pytest.raises(NotFoundError):
        services.save_rule_settings(
            actor=make_member(clinic, Role.FRONT_DESK),
            clinic=clinic,
            triage={},
            contraindication={},
        )
