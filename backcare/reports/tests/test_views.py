import uuid
from datetime import timedelta

import pytest
from django.urls import reverse

from backcare.accounts.models import Role
from backcare.core.audit import record_event
from backcare.core.models import AuditEvent
from conftest import client_for
from tests.factories import (
    make_clinic,
    make_consent_text,
    make_licence,
    make_member,
    make_patient,
    make_therapist,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic_world():
    clinic = make_clinic("Home")
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    patient = make_patient(clinic, given_name="Harriet")
    other = make_clinic("Other")
    return clinic, admin, patient, other


def test_staff_dashboard_shows_today_and_licences_needing_attention(clinic_world):
    clinic, admin, _, _ = clinic_world
    make_therapist(clinic, expires_in_days=-2)
    make_therapist(clinic, expires_in_days=15)
    page = client_for(admin).get(reverse("dashboard")).content.decode()
    assert f"Today at {clinic.name}" in page
    assert "1 expired" in page
    assert "1 expiring within 60 days" in page


def test_therapist_dashboard_shows_their_own_licence(clinic_world):
    clinic, _, _, _ = clinic_world
    therapist = make_therapist(clinic, expires_in_days=None)
    make_licence(therapist, expires_on=clinic.local_date() + timedelta(days=10))
    page = client_for(therapist.user).get(reverse("dashboard")).content.decode()
    assert "My licence" in page
    assert "Expiring within 60 days" in page


def test_patient_dashboard_lists_next_steps(clinic_world):
    clinic, _, _, _ = clinic_world
    user = make_user()
    make_patient(clinic, user=user, emergency_contact_phone="")
    make_consent_text(clinic)
    page = client_for(user).get(reverse("dashboard")).content.decode()
    assert "Read and give your consent" in page
    assert "Complete your contact details" in page
    assert "Tell us your massage preferences" in page


def test_a_person_without_a_clinic_is_told_to_contact_their_clinic():
    page = client_for(make_user()).get(reverse("dashboard")).content.decode()
    assert "not linked to a clinic yet" in page


def test_audit_log_is_for_clinic_admins_only(clinic_world):
    clinic, admin, _, _other = clinic_world
    assert client_for(admin).get(reverse("audit_log")).status_code == 200
    for outsider in (make_member(clinic, Role.FRONT_DESK), make_user()):
        assert client_for(outsider).get(reverse("audit_log")).status_code == 404


def test_audit_log_shows_only_the_admins_clinic_and_filters_by_patient_and_person(clinic_world):
    clinic, admin, patient, other = clinic_world
    desk = make_member(clinic, Role.FRONT_DESK)
    record_event(actor=desk, action="patient.view", clinic_id=clinic.pk, patient_id=patient.pk)
    record_event(actor=desk, action="secret.elsewhere", clinic_id=other.pk)
    client = client_for(admin)
    page = client.get(reverse("audit_log")).content.decode()
    assert "patient.view" in page
    assert "Harriet" in page
    assert "secret.elsewhere" not in page
    by_patient = client.get(reverse("audit_log"), {"patient": str(patient.pk)}).content.decode()
    assert "patient.view" in by_patient
    by_admin = client.get(reverse("audit_log"), {"actor": str(admin.pk)}).content.decode()
    assert "patient.view" not in by_admin.split("<tbody>")[1]


def test_viewing_the_audit_log_is_itself_audited(clinic_world):
    clinic, admin, patient, _ = clinic_world
    client_for(admin).get(reverse("audit_log"), {"patient": str(patient.pk)})
    event = AuditEvent.objects.get(action="audit.view")
    assert (event.clinic_id, event.patient_id) == (clinic.pk, patient.pk)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"patient": "not-a-uuid"}, "Enter a valid UUID"),
        ({"actor": "not-a-uuid"}, "Enter a valid UUID"),
        ({"page": "zero"}, "Enter a whole number"),
        ({"patient": "foreign"}, "not on this clinic"),
        ({"actor": "outsider"}, "no role at this clinic"),
        ({"patient": str(uuid.UUID(int=1))}, "not on this clinic"),
    ],
)
def test_audit_log_filters_with_bad_or_foreign_ids_are_refused_with_a_message(
    clinic_world, params, message
):
    _clinic, admin, _, other = clinic_world
    foreign = {
        "foreign": str(make_patient(other).pk),
        "outsider": str(make_member(other, Role.FRONT_DESK).pk),
    }
    params = {key: foreign.get(value, value) for key, value in params.items()}
    response = client_for(admin).get(reverse("audit_log"), params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_audit_log_finds_a_patient_by_name_to_filter_by(clinic_world):
    _, admin, patient, other = clinic_world
    make_patient(other, given_name="Harriet")  # another clinic's namesake is not offered
    page = client_for(admin).get(reverse("audit_log"), {"patient_search": "harr"}).content.decode()
    assert f'href="?patient={patient.pk}"' in page
    assert page.count("?patient=") == 1


def test_a_stranger_gets_404_on_the_audit_log_and_it_is_audited():
    before = AuditEvent.objects.filter(outcome="denied").count()
    assert client_for(make_user()).get(reverse("audit_log")).status_code == 404
    assert AuditEvent.objects.filter(outcome="denied", action="audit.view").count() == before + 1


def test_filtering_the_log_by_another_clinics_patient_is_refused_and_audited(clinic_world):
    _, admin, _, other = clinic_world
    foreign = make_patient(other)
    client_for(admin).get(reverse("audit_log"), {"patient": str(foreign.pk)})
    denied = AuditEvent.objects.get(outcome="denied")
    assert (denied.action, denied.patient_id) == ("audit.view", foreign.pk)


def test_audit_log_person_filter_lists_staff_but_not_patients(clinic_world):
    clinic, admin, _, _ = clinic_world
    portal_user = make_user(full_name="Portal Person")
    make_patient(clinic, user=portal_user)
    page = client_for(admin).get(reverse("audit_log")).content.decode()
    assert admin.email in page
    assert "Portal Person" not in page


def test_a_therapist_without_a_profile_still_gets_a_dashboard(clinic_world):
    clinic, _, _, _ = clinic_world
    therapist = make_member(clinic, Role.THERAPIST)
    therapist.therapist.delete()
    assert client_for(therapist).get(reverse("dashboard")).status_code == 200
