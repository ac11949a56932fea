import json
from fractions import Fraction
from pathlib import Path

import pytest

from backcare.accounts.models import Role
from backcare.core.errors import InvalidInputError, NotFoundError
from backcare.core.models import AuditEvent
from backcare.outcomes import queries, services
from backcare.outcomes.models import InstrumentText, OutcomeMeasurement
from tests.factories import make_clinic, make_member, make_patient, make_user

pytestmark = pytest.mark.django_db
EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "odi-text.example.json"


@pytest.fixture
def setup():
    clinic = make_clinic()
    return clinic, make_member(clinic, Role.THERAPIST), make_patient(clinic)


def test_a_measurement_stores_answers_exact_score_version_policy_and_who(setup):
    _, therapist, patient = setup
    stored = services.record_measurement(
        actor=therapist,
        patient_id=patient.pk,
        instrument="odi",
        answers={"sections": [2, 2, 2, 2, 2, 2, 1, None, 2, 1]},
        method="paper",
    )
    stored.refresh_from_db()
    assert (stored.score_exact, str(stored.score_display), stored.band) == (
        "320/9",
        "35.56",
        "moderate",
    )
    assert (stored.instrument_version, stored.policy, stored.valid) == (
        "ODI 2.1a",
        {"max_missing": 1},
        True,
    )
    assert stored.answers == {"sections": [2, 2, 2, 2, 2, 2, 1, None, 2, 1]}
    assert (stored.entered_by, stored.method) == (therapist, "paper")
    assert AuditEvent.objects.filter(action="measurement.create").count() == 1


def test_an_unscorable_measurement_is_kept_with_its_reason(setup):
    _, therapist, patient = setup
    stored = services.record_measurement(
        actor=therapist,
        patient_id=patient.pk,
        instrument="odi",
        answers={"sections": [2, 2, 2, 2, 2, 2, None, None, 2, 2]},
        method="paper",
    )
    assert (stored.valid, stored.reason, stored.score_exact) == (False, "too_many_missing", "")


def test_the_clinics_odi_policy_is_applied_and_stored(setup):
    clinic, therapist, patient = setup
    services.save_outcome_settings(
        actor=make_member(clinic, Role.CLINIC_ADMIN),
        clinic=clinic,
        odi_max_missing=2,
        thresholds={},
    )
    stored = services.record_measurement(
        actor=therapist,
        patient_id=patient.pk,
        instrument="odi",
        answers={"sections": [2, 2, 2, 2, 2, 2, None, None, 2, 2]},
        method="paper",
    )
    assert (stored.valid, stored.policy) == (True, {"max_missing": 2})


@pytest.mark.parametrize(
    ("instrument", "answers", "field"),
    [
        ("pain_nrs", {"now": 11}, "now"),
        ("rmdq", {"ticked_items": [25]}, "ticked_items"),
        ("odi", {"sections": [1] * 9}, "sections"),
        ("nonsense", {}, "answers"),
    ],
)
def test_invalid_answers_are_refused_naming_the_item_and_nothing_is_stored(
    setup, instrument, answers, field
):
    _, therapist, patient = setup
    with pytest.raises(InvalidInputError) as raised:
        services.record_measurement(
            actor=therapist,
            patient_id=patient.pk,
            instrument=instrument,
            answers=answers,
            method="paper",
        )
    assert field in raised.value.field_errors
    assert not OutcomeMeasurement.objects.exists()


def test_patients_record_their_own_answers_online_and_staff_say_how(setup):
    clinic, therapist, _ = setup
    user = make_user()
    own = make_patient(clinic, user=user)
    stored = services.record_measurement(
        actor=user, patient_id=own.pk, instrument="pain_nrs", answers={"now": 4}
    )
    assert stored.method == "portal"
    with pytest.raises(InvalidInputError):
        services.record_measurement(
            actor=therapist, patient_id=own.pk, instrument="pain_nrs", answers={"now": 4}
        )
    with pytest.raises(NotFoundError):
        services.record_measurement(
            actor=make_member(make_clinic(), Role.THERAPIST),
            patient_id=own.pk,
            instrument="pain_nrs",
            answers={"now": 4},
            method="paper",
        )


def test_measurements_are_listed_by_instrument_and_the_read_is_audited(setup):
    _, therapist, patient = setup
    for now in (6, 4):
        services.record_measurement(
            actor=therapist,
            patient_id=patient.pk,
            instrument="pain_nrs",
            answers={"now": now},
            method="paper",
        )
    services.record_measurement(
        actor=therapist,
        patient_id=patient.pk,
        instrument="stress_nrs",
        answers={"stress": 3},
        method="paper",
    )
    rows = queries.list_measurements(therapist, patient.pk, instrument="pain_nrs")
    assert [r.score_exact for r in rows] == ["4", "6"]
    assert AuditEvent.objects.filter(action="measurement.list").count() == 1


def test_loading_licensed_wording_from_the_documented_example():
    document = json.loads(EXAMPLE.read_text())
    assert services.load_instrument_text(document=document) == 10
    wording = queries.instrument_wording("odi", "ODI 2.1a")
    assert wording["pain_intensity"].text.startswith("[Placeholder]")
    assert len(wording["travelling"].options) == 6
    assert services.load_instrument_text(document=document) == 10  # a reload replaces
    assert InstrumentText.objects.count() == 10


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(version="ODI 2.0"), "version must be"),
        (lambda d: d["items"].pop(), "exactly once"),
        (lambda d: d["items"].append(dict(d["items"][0])), "exactly once"),
        (lambda d: d["items"][0].update(options=["only one"]), "6 answer options"),
        (lambda d: d.update(licence=""), "licence"),
        (lambda d: d.update(instrument="pain_nrs"), "ships this instrument"),
        (lambda d: d.update(instrument="mystery"), "No instrument"),
    ],
)
def test_a_bad_wording_file_is_refused_and_loads_nothing(change, message):
    document = json.loads(EXAMPLE.read_text())
    change(document)
    with pytest.raises(InvalidInputError, match=message):
        services.load_instrument_text(document=document)
    assert not InstrumentText.objects.exists()


def test_outcome_settings_keep_only_changes_and_refuse_bad_values(setup):
    clinic, _, _ = setup
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    stored = services.save_outcome_settings(
        actor=admin,
        clinic=clinic,
        odi_max_missing=1,
        thresholds={"pain_nrs": {"pct": 30, "abs_points": 3}},
    )
    assert stored.thresholds == {"pain_nrs": {"abs_points": "3"}}
    _, thresholds = queries.outcome_settings(clinic.pk)
    assert thresholds["pain_nrs"].abs_points == Fraction(3)
    with pytest.raises(InvalidInputError):
        services.save_outcome_settings(actor=admin, clinic=clinic, odi_max_missing=3, thresholds={})
    with pytest.raises(InvalidInputError):
        services.save_outcome_settings(
            actor=admin, clinic=clinic, odi_max_missing=1, thresholds={"pain_nrs": {"pct": 0}}
        )


def test_a_withdrawn_measurement_is_kept_left_out_of_lists_and_withdrawn_once(setup):
    _, therapist, patient = setup
    first = services.record_measurement(
        actor=therapist,
        patient_id=patient.pk,
        instrument="pain_nrs",
        answers={"now": 3},
        method="therapist",
    )
    with pytest.raises(NotFoundError):
        services.withdraw_measurement(
            actor=make_member(make_clinic("Other"), Role.THERAPIST),
            measurement_id=first.pk,
            reason="not mine",
        )
    done = services.withdraw_measurement(
        actor=therapist, measurement_id=first.pk, reason="Wrong patient"
    )
    again = services.withdraw_measurement(actor=therapist, measurement_id=first.pk, reason="x")
    assert again.withdrawn_at == done.withdrawn_at
    assert again.withdrawn_reason == "Wrong patient"
    assert queries.list_measurements(therapist, patient.pk) == []
    assert OutcomeMeasurement.objects.filter(pk=first.pk).exists()
    assert AuditEvent.objects.filter(action="measurement.withdraw", outcome="allowed").count() == 1
    assert AuditEvent.objects.filter(action="measurement.withdraw", outcome="denied").count() == 1
