import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from backcare.accounts.licensing import LicenceStatus, therapist_status
from backcare.accounts.models import Clinic, Licence, Membership, Role, Therapist, User
from backcare.accounts.queries import list_bookable_therapists
from backcare.core.demo import DEMO_PASSWORD
from backcare.outcomes.models import CheckIn, OutcomeMeasurement
from backcare.patients.models import Consent, Patient
from backcare.triage.models import TriageAssessment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _demo_runs_with_debug_on(settings):
    settings.DEBUG = True


LOGINS = {
    "patient@demo.backcare.example": Role.PATIENT,
    "admin@demo.backcare.example": Role.CLINIC_ADMIN,
    "frontdesk@demo.backcare.example": Role.FRONT_DESK,
    "therapist@demo.backcare.example": Role.THERAPIST,
    "clinician@demo.backcare.example": Role.REFERRING_CLINICIAN,
}


def counts() -> tuple[int, ...]:
    models = (
        Clinic,
        User,
        Membership,
        Therapist,
        Licence,
        Patient,
        Consent,
        TriageAssessment,
        OutcomeMeasurement,
    )
    return tuple(model.objects.count() for model in models)


def test_load_demo_is_idempotent(capsys):
    call_command("load_demo")
    first = counts()
    call_command("load_demo")
    assert counts() == first
    assert "admin@demo.backcare.example" in capsys.readouterr().out


@pytest.mark.parametrize(("email", "role"), LOGINS.items())
def test_every_printed_demo_login_works_and_has_its_role(email, role):
    call_command("load_demo")
    user = authenticate(email=email, password=DEMO_PASSWORD)
    assert user is not None
    assert Membership.objects.filter(user=user, role=role, is_active=True).exists()


def test_demo_clinic_has_four_therapists_one_expiring_one_expired_and_thirty_patients():
    call_command("load_demo")
    clinic = Clinic.objects.get(name="Riverside Back Care")
    therapists = Therapist.objects.filter(
        user__memberships__clinic=clinic, user__memberships__role=Role.THERAPIST
    )
    today = clinic.local_date()
    statuses = sorted(
        therapist_status((lic.facts for lic in t.licences.all()), on=today) for t in therapists
    )
    assert statuses == sorted(
        [LicenceStatus.VALID, LicenceStatus.VALID, LicenceStatus.EXPIRING, LicenceStatus.EXPIRED]
    )
    admin = User.objects.get(email="admin@demo.backcare.example")
    assert list_bookable_therapists(admin, clinic, on=clinic.local_date()).count() == 3
    assert Patient.objects.filter(clinic=clinic).count() == 30
    assert Patient.objects.get(user__email="patient@demo.backcare.example").clinic == clinic


def test_load_demo_refuses_to_run_without_debug(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="runs only with DEBUG=1"):
        call_command("load_demo")
    assert not User.objects.filter(email__endswith="@demo.backcare.example").exists()


def test_demo_has_safety_screenings_and_measurements_with_their_versions():
    call_command("load_demo")
    actions = set(TriageAssessment.objects.values_list("action", flat=True))
    assert {"proceed", "proceed_with_precautions", "refer_before_massage"} <= actions
    maria = Patient.objects.get(user__email="patient@demo.backcare.example")
    nrs = OutcomeMeasurement.objects.filter(patient=maria, instrument="pain_nrs").order_by(
        "measured_at"
    )
    # The intake baseline, then pain before and after each of her three signed sessions.
    assert [m.score_exact for m in nrs] == ["7", "7", "5", "5", "4", "4", "3"]
    assert all(m.instrument_version == "NRS-11" for m in nrs)


def test_demo_has_a_course_that_ended_with_follow_ups_showing_relief():
    from django.utils import timezone

    from backcare.reports.queries import get_progress

    call_command("load_demo")
    therapist = User.objects.get(email="therapist@demo.backcare.example")
    [patient_id] = {
        c.patient_id for c in CheckIn.objects.filter(plan_ref__isnull=False, flare_up=False)
    }
    page = get_progress(therapist, patient_id, now=timezone.now())
    assert page.after_course is not None
    assert page.after_course.summary.startswith("Relief has lasted at least 8 weeks since")
