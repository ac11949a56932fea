from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from backcare.accounts.models import Membership, Role
from backcare.core.errors import InvalidInputError, NotFoundError
from backcare.core.models import AuditEvent
from backcare.patients import services
from backcare.patients.models import Consent, Patient
from tests.factories import make_clinic, make_consent_text, make_member, make_patient, make_user

pytestmark = pytest.mark.django_db


def test_services_refuse_fields_they_do_not_own():
    clinic = make_clinic()
    patient_user = make_user()
    patient = make_patient(clinic, user=patient_user)
    with pytest.raises(InvalidInputError, match="cannot be changed here: given_name"):
        services.update_contact_details(actor=patient_user, patient_id=patient.pk, given_name="X")
    with pytest.raises(InvalidInputError, match="clinic"):
        services.update_patient(
            actor=make_member(clinic, Role.FRONT_DESK), patient_id=patient.pk, clinic=make_clinic()
        )
    assert Patient.objects.get(pk=patient.pk).given_name == patient.given_name


def test_the_same_consent_version_cannot_be_recorded_twice_while_in_force():
    clinic = make_clinic()
    desk = make_member(clinic, Role.FRONT_DESK)
    patient = make_patient(clinic)
    text = make_consent_text(clinic)
    services.record_consent(actor=desk, patient_id=patient.pk, text_id=text.pk, method="paper")
    with pytest.raises(InvalidInputError, match="already recorded"):
        services.record_consent(actor=desk, patient_id=patient.pk, text_id=text.pk, method="verbal")
    assert Consent.objects.filter(patient=patient).count() == 1


def test_a_withdrawn_consent_cannot_be_withdrawn_again_and_may_be_given_anew():
    clinic = make_clinic()
    desk = make_member(clinic, Role.FRONT_DESK)
    patient = make_patient(clinic)
    text = make_consent_text(clinic)
    consent = services.record_consent(
        actor=desk, patient_id=patient.pk, text_id=text.pk, method="paper"
    )
    services.withdraw_consent(actor=desk, patient_id=patient.pk, consent_id=consent.pk)
    with pytest.raises(InvalidInputError, match="already withdrawn"):
        services.withdraw_consent(actor=desk, patient_id=patient.pk, consent_id=consent.pk)
    services.record_consent(actor=desk, patient_id=patient.pk, text_id=text.pk, method="verbal")
    assert Consent.objects.filter(patient=patient, withdrawn_at__isnull=True).count() == 1


def test_a_referring_clinician_cannot_change_the_record():
    clinic = make_clinic()
    clinician = make_member(clinic, Role.REFERRING_CLINICIAN)
    patient = make_patient(clinic, referred_by=clinician)
    with pytest.raises(NotFoundError):
        services.update_preferences(actor=clinician, patient_id=patient.pk, pressure=5)
    assert AuditEvent.objects.get().outcome == "denied"


def test_invite_to_portal_links_a_login_and_sends_the_link(django_capture_on_commit_callbacks):
    clinic = make_clinic()
    desk = make_member(clinic, Role.FRONT_DESK)
    patient = make_patient(clinic, email="harriet@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        services.invite_to_portal(actor=desk, patient_id=patient.pk, site_url="https://bc.example/")
    patient.refresh_from_db()
    assert patient.user is not None
    assert patient.user.email == "harriet@example.test"
    assert Membership.objects.filter(user=patient.user, clinic=clinic, role=Role.PATIENT).exists()
    assert "https://bc.example/accounts/password/reset/key/" in mail.outbox[0].body
    with pytest.raises(InvalidInputError, match="already has a portal login"):
        services.invite_to_portal(actor=desk, patient_id=patient.pk, site_url="https://bc.example/")


def test_invite_to_portal_needs_an_email_address():
    clinic = make_clinic()
    patient = make_patient(clinic, email="")
    with pytest.raises(InvalidInputError, match="email address first"):
        services.invite_to_portal(
            actor=make_member(clinic, Role.FRONT_DESK), patient_id=patient.pk, site_url="x"
        )


def test_an_imported_consent_uses_the_clinics_text_of_that_version_or_makes_it():
    clinic = make_clinic()
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    patient = make_patient(clinic)
    own = make_consent_text(clinic, version=2)
    given = timezone.now() - timedelta(days=40)
    kept = services.import_consent(
        actor=admin,
        patient_id=patient.pk,
        kind="treatment",
        title="Other",
        version=2,
        given_at=given,
        withdrawn_at=given + timedelta(days=1),
    )
    made = services.import_consent(
        actor=admin,
        patient_id=patient.pk,
        kind="privacy",
        title="Privacy",
        version=4,
        given_at=given,
    )
    assert kept.text == own
    assert (kept.given_at, kept.withdrawn_by, kept.method) == (given, admin, "paper")
    assert (made.text.title, made.text.version, made.text.published_at) == ("Privacy", 4, given)


def test_only_the_clinics_admins_import_a_consent():
    clinic = make_clinic()
    desk = make_member(clinic, Role.FRONT_DESK)
    patient = make_patient(clinic)
    with pytest.raises(NotFoundError):
        services.import_consent(
            actor=desk,
            patient_id=patient.pk,
            kind="treatment",
            title="T",
            version=1,
            given_at=timezone.now(),
        )
    assert not Consent.objects.filter(patient=patient).exists()
