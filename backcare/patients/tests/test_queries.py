import pytest

from backcare.accounts.models import Membership, Role
from backcare.core.errors import NotFoundError
from backcare.core.models import AuditEvent
from backcare.patients import queries
from tests.factories import make_clinic, make_consent_text, make_member, make_patient, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.CLINIC_ADMIN, {"own", "referred", "someone"}),
        (Role.FRONT_DESK, {"own", "referred", "someone"}),
        (Role.THERAPIST, {"own", "referred", "someone"}),
        (Role.REFERRING_CLINICIAN, {"own", "referred"}),
        (Role.PATIENT, {"own"}),
    ],
)
def test_who_sees_which_patients_of_their_clinic(role, expected):
    clinic = make_clinic()
    viewer = make_member(clinic, role)
    patients = {
        # The viewer is also a patient of the clinic (staff have massage too).
        "own": make_patient(clinic, user=viewer),
        "referred": make_patient(clinic, referred_by=viewer),
        "someone": make_patient(clinic),
    }
    make_patient(make_clinic())  # another clinic's patient is never visible
    assert set(queries.visible_patients(viewer)) == {patients[name] for name in expected}


def test_a_former_member_sees_no_patients():
    clinic = make_clinic()
    desk = make_member(clinic, Role.FRONT_DESK)
    make_patient(clinic)
    Membership.objects.filter(user=desk).update(is_active=False)
    assert list(queries.visible_patients(desk)) == []


def test_anonymous_sees_no_patients():
    from django.contrib.auth.models import AnonymousUser

    make_patient(make_clinic())
    assert list(queries.visible_patients(AnonymousUser())) == []


def test_find_patient_denial_is_audited_against_the_patients_clinic():
    clinic, other = make_clinic(), make_clinic()
    patient = make_patient(clinic)
    outsider = make_member(other, Role.CLINIC_ADMIN)
    with pytest.raises(NotFoundError):
        queries.find_patient(outsider, patient.pk, action="patient.view")
    event = AuditEvent.objects.get()
    assert (event.clinic_id, event.patient_id, event.outcome) == (clinic.pk, patient.pk, "denied")


def test_find_patient_with_roles_refuses_a_referrer_write_but_allows_the_patient_self():
    clinic = make_clinic()
    clinician = make_member(clinic, Role.REFERRING_CLINICIAN)
    patient_user = make_user()
    patient = make_patient(clinic, user=patient_user, referred_by=clinician)
    with pytest.raises(NotFoundError):
        queries.find_patient(clinician, patient.pk, roles=queries.SEE_ALL_ROLES, action="x")
    assert (
        queries.find_patient(patient_user, patient.pk, roles=queries.SEE_ALL_ROLES, action="x")
        == patient
    )
    with pytest.raises(NotFoundError):
        queries.find_patient(
            patient_user, patient.pk, roles=queries.SEE_ALL_ROLES, allow_self=False, action="x"
        )


def test_list_patients_searches_names_and_email_and_records_one_list_event():
    clinic = make_clinic()
    desk = make_member(clinic, Role.FRONT_DESK)
    ada = make_patient(clinic, given_name="Ada", family_name="Lovelace", email="ada@example.test")
    make_patient(clinic, given_name="Grace", family_name="Hopper", email="grace@example.test")
    assert queries.list_patients(desk, clinic, search="love") == [ada]
    assert queries.list_patients(desk, clinic, search="ada@") == [ada]
    assert queries.list_patients(desk, clinic, search="ada hopper") == []
    assert AuditEvent.objects.filter(action="patient.list").count() == 3


def test_current_consent_texts_are_the_latest_version_of_each_kind():
    clinic = make_clinic()
    make_consent_text(clinic, kind="treatment", version=1)
    v2 = make_consent_text(clinic, kind="treatment", version=2)
    privacy = make_consent_text(clinic, kind="privacy", version=1)
    make_consent_text(make_clinic(), kind="treatment", version=3)
    assert set(queries.current_consent_texts(clinic)) == {v2, privacy}


def test_find_own_patient_reads_the_patients_own_record_with_its_relations_in_one_query(
    django_assert_num_queries,
):
    clinic = make_clinic()
    user = make_user()
    own = make_patient(clinic, user=user)
    make_patient(clinic)  # someone else at the same clinic
    from backcare.accounts.queries import roles_in

    roles_in(user, clinic)  # memberships are read once per request, then cached
    with django_assert_num_queries(1):
        found = queries.find_own_patient(user, clinic, action="portal.view")
        assert (found.clinic, found.preferences.patient_id) == (clinic, own.pk)
    assert found == own


def test_find_own_patient_is_a_404_audited_for_staff_strangers_and_patients_without_a_record():
    clinic = make_clinic()
    staff = make_member(clinic, Role.FRONT_DESK)
    no_record = make_member(clinic, Role.PATIENT)
    elsewhere = make_user()
    make_patient(make_clinic(), user=elsewhere)
    make_patient(clinic)
    for viewer in (staff, no_record, elsewhere):
        with pytest.raises(NotFoundError):
            queries.find_own_patient(viewer, clinic, action="portal.view")
    denied = AuditEvent.objects.filter(action="portal.view", outcome="denied")
    assert set(denied.values_list("actor_id", flat=True)) == {staff.pk, no_record.pk, elsewhere.pk}
