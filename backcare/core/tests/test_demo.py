import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from backcare.accounts.licensing import LicenceStatus
from backcare.accounts.models import Clinic, Licence, Membership, Role, Therapist, User
from backcare.accounts.queries import list_bookable_therapists, therapist_status_today
from backcare.core.demo import DEMO_PASSWORD
from backcare.patients.models import Consent, Patient

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
    models = (Clinic, User, Membership, Therapist, Licence, Patient, Consent)
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
    statuses = sorted(therapist_status_today(t, clinic) for t in therapists)
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
