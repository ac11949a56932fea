"""Patient record and portal pages: three actors per view, exactly one audit event per read,
write and denied attempt, bad input refused with nothing lost, and constant query counts."""

import uuid
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from backcare.accounts.models import Clinic, Role
from backcare.core.models import AuditEvent
from backcare.patients.models import Consent, ConsentMethod, Patient, PatientPreferences
from conftest import client_for
from tests.factories import (
    make_clinic,
    make_consent_text,
    make_member,
    make_patient,
    make_user,
)

pytestmark = pytest.mark.django_db


class World:
    """Home clinic: front desk (the owner of staff pages), a patient with a portal login and a
    consent; another clinic with its own front desk (the colleague) and a patient; a stranger."""

    def __init__(self) -> None:
        self.clinic = make_clinic("Home")
        self.desk = make_member(self.clinic, Role.FRONT_DESK)
        self.patient_user = make_user(full_name="Pat Home")
        self.patient = make_patient(self.clinic, user=self.patient_user, given_name="Harriet")
        self.text = make_consent_text(self.clinic)
        self.consent = Consent.objects.create(
            clinic=self.clinic,
            patient=self.patient,
            text=self.text,
            method=ConsentMethod.PAPER,
            given_at=self.text.published_at,
            given_by=self.desk,
        )
        self.other_clinic = make_clinic("Other")
        self.colleague = make_member(self.other_clinic, Role.FRONT_DESK)
        self.other_patient_user = make_user(full_name="Olly Other")
        self.other_patient = make_patient(
            self.other_clinic,
            user=self.other_patient_user,
            given_name="Olly",
            email="olly@example.test",
            phone="+44 20 7946 0999",
        )
        self.other_text = make_consent_text(self.other_clinic)
        self.stranger = make_user(full_name="Stranger")
        self.clinician = make_member(self.clinic, Role.REFERRING_CLINICIAN)
        self.newcomer = make_patient(self.clinic, given_name="Nell", email="nell@example.test")


@pytest.fixture
def world() -> World:
    return World()


def events(**filters: object) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


STAFF_PAGES = [
    # method, the patient concerned, url, status for staff of the patient's clinic
    ("GET", lambda w: w.patient, lambda w: reverse("patient_detail", args=[w.patient.pk]), 200),
    ("GET", lambda w: w.patient, lambda w: reverse("patient_edit", args=[w.patient.pk]), 200),
    (
        "GET",
        lambda w: w.patient,
        lambda w: reverse("patient_preferences", args=[w.patient.pk]),
        200,
    ),
    ("GET", lambda w: w.patient, lambda w: reverse("consent_add", args=[w.patient.pk]), 200),
    (
        "POST",
        lambda w: w.patient,
        lambda w: reverse("consent_withdraw", args=[w.patient.pk, w.consent.pk]),
        302,
    ),
    ("POST", lambda w: w.newcomer, lambda w: reverse("patient_invite", args=[w.newcomer.pk]), 302),
]


def request(client, method, url):
    return client.get(url) if method == "GET" else client.post(url)


@pytest.mark.parametrize(("method", "patient", "url", "status"), STAFF_PAGES)
def test_staff_of_the_patients_clinic_reach_the_page(world, method, patient, url, status):
    response = request(client_for(world.desk), method, url(world))
    assert response.status_code == status


def test_staff_posts_take_effect(world, django_capture_on_commit_callbacks):
    client = client_for(world.desk)
    client.post(reverse("consent_withdraw", args=[world.patient.pk, world.consent.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("patient_invite", args=[world.newcomer.pk]))
    assert Consent.objects.get(pk=world.consent.pk).withdrawn_by == world.desk
    world.newcomer.refresh_from_db()
    assert world.newcomer.user is not None
    assert world.newcomer.user.email == "nell@example.test"


@pytest.mark.parametrize(("method", "patient", "url", "status"), STAFF_PAGES)
@pytest.mark.parametrize("actor", ["colleague", "stranger", "other_patient_user"])
def test_others_get_404_and_exactly_one_denied_event_naming_the_patient(
    world, method, patient, url, status, actor
):
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = request(client_for(getattr(world, actor)), method, url(world))
    assert response.status_code == 404
    [event] = events(id__gt=last)
    assert event.outcome == "denied"
    assert (event.patient_id, event.clinic_id) == (patient(world).pk, world.clinic.pk)
    assert patient(world).given_name not in response.content.decode()
    assert Consent.objects.get(pk=world.consent.pk).withdrawn_at is None
    assert Patient.objects.get(pk=world.newcomer.pk).user is None


@pytest.mark.parametrize(("method", "patient", "url", "status"), STAFF_PAGES)
def test_anonymous_visitors_are_sent_to_login(world, method, patient, url, status):
    response = request(client_for(None), method, url(world))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_withdrawing_another_clinics_consent_through_ones_own_patient_is_404_and_audited(world):
    foreign = Consent.objects.create(
        clinic=world.other_clinic,
        patient=world.other_patient,
        text=world.other_text,
        method=ConsentMethod.PAPER,
        given_at=world.other_text.published_at,
        given_by=world.colleague,
    )
    url = reverse("consent_withdraw", args=[world.patient.pk, foreign.pk])
    response = client_for(world.desk).post(url)
    assert response.status_code == 404
    [event] = events(outcome="denied")
    assert (event.action, event.object_id) == ("consent.withdraw", str(foreign.pk))
    assert Consent.objects.get(pk=foreign.pk).withdrawn_at is None


def test_withdrawing_twice_is_refused_with_a_message(world):
    client = client_for(world.desk)
    url = reverse("consent_withdraw", args=[world.patient.pk, world.consent.pk])
    client.post(url)
    response = client.post(url)
    assert response.status_code == 422
    assert b"already withdrawn" in response.content


def test_inviting_a_patient_without_an_email_is_refused_with_a_message(world):
    Patient.objects.filter(pk=world.newcomer.pk).update(email="")
    response = client_for(world.desk).post(reverse("patient_invite", args=[world.newcomer.pk]))
    assert response.status_code == 422
    assert b"Add the patient&#x27;s email address first" in response.content


def test_inviting_a_patient_whose_email_has_an_account_waits_for_them_to_accept(world):
    Patient.objects.filter(pk=world.newcomer.pk).update(email=world.colleague.email)
    client_for(world.desk).post(reverse("patient_invite", args=[world.newcomer.pk]))
    colleague = client_for(world.colleague)
    # Linked, but nothing is visible to the account until its owner accepts.
    assert colleague.get(reverse("patient_detail", args=[world.newcomer.pk])).status_code == 404
    assert "invites you to join as patient" in colleague.get(reverse("dashboard")).content.decode()


def test_edit_links_follow_the_viewers_role_at_the_patients_clinic(world):
    make_member(world.other_clinic, Role.REFERRING_CLINICIAN, user=world.colleague)
    referred = make_patient(world.other_clinic, referred_by=world.colleague, given_name="Rita")
    # The colleague works at the other clinic as front desk and as referrer: may edit.
    page = client_for(world.colleague).get(reverse("patient_detail", args=[referred.pk]))
    assert b"Edit record" in page.content
    # A referrer without a staff role there sees the record but no edit link.
    elsewhere = make_patient(world.clinic, referred_by=world.clinician, given_name="Ed")
    page = client_for(world.clinician).get(reverse("patient_detail", args=[elsewhere.pk]))
    assert page.status_code == 200
    assert b"Edit record" not in page.content


def test_record_times_are_shown_in_the_patients_clinic_zone(world):
    tokyo = make_clinic("Tokyo", time_zone="Asia/Tokyo")
    Clinic.objects.filter(pk=world.clinic.pk).update(time_zone="America/Toronto")
    make_member(tokyo, Role.FRONT_DESK, user=world.desk)
    moment = datetime(2026, 1, 9, 16, 0, tzinfo=UTC)  # 11:00 in Toronto, 01:00 next day in Tokyo
    Consent.objects.filter(pk=world.consent.pk).update(given_at=moment)
    client = client_for(world.desk)
    client.post(reverse("clinic_switch"), {"clinic": str(tokyo.pk)})  # working in Tokyo today
    page = client.get(reverse("patient_detail", args=[world.patient.pk])).content.decode()
    assert "9 Jan 2026 11:00" in page


@pytest.mark.parametrize("name", ["patient_edit", "patient_preferences", "consent_add"])
def test_a_patient_cannot_use_the_staff_pages_even_for_their_own_record(world, name):
    response = client_for(world.patient_user).get(reverse(name, args=[world.patient.pk]))
    assert response.status_code == 404


def test_a_patient_may_open_their_own_record_page(world):
    response = client_for(world.patient_user).get(
        reverse("patient_detail", args=[world.patient.pk])
    )
    assert response.status_code == 200
    assert b"Edit record" not in response.content


def test_a_referring_clinician_sees_only_the_patients_they_referred(world):
    clinician = make_member(world.clinic, Role.REFERRING_CLINICIAN)
    referred = make_patient(world.clinic, referred_by=clinician, given_name="Referred")
    client = client_for(clinician)
    assert client.get(reverse("patient_detail", args=[referred.pk])).status_code == 200
    assert client.get(reverse("patient_detail", args=[world.patient.pk])).status_code == 404
    listing = client.get(reverse("patient_list")).content.decode()
    assert "Referred" in listing
    assert "Harriet" not in listing


def test_patient_list_shows_only_the_viewers_clinic_and_a_stranger_gets_404(world):
    mine = client_for(world.desk).get(reverse("patient_list")).content.decode()
    theirs = client_for(world.colleague).get(reverse("patient_list")).content.decode()
    assert "Harriet" in mine
    assert "Olly" not in mine
    assert "Olly" in theirs
    assert "Harriet" not in theirs
    assert client_for(world.stranger).get(reverse("patient_list")).status_code == 404


def test_patient_search_narrows_the_list_and_htmx_gets_only_the_results(world):
    make_patient(world.clinic, given_name="Zelda")
    client = client_for(world.desk)
    full = client.get(reverse("patient_list"), {"q": "zel"})
    partial = client.get(reverse("patient_list"), {"q": "zel"}, headers={"HX-Request": "true"})
    assert "Zelda" in full.content.decode()
    assert "Harriet" not in full.content.decode()
    assert partial.content.decode().lstrip().startswith('<div id="patient-results"')
    assert "Zelda" in partial.content.decode()


def test_an_overlong_search_is_refused(world):
    response = client_for(world.desk).get(reverse("patient_list"), {"q": "x" * 101})
    assert response.status_code == 400
    assert "at most 100 characters" in response.content.decode()


# --- Audit: exactly one event per view, per edit, per denied attempt ---


def test_viewing_a_patient_record_leaves_exactly_one_event(world):
    client_for(world.desk).get(reverse("patient_detail", args=[world.patient.pk]))
    [event] = events()
    assert (event.action, event.outcome, event.actor_id, event.patient_id) == (
        "patient.view",
        "allowed",
        world.desk.pk,
        world.patient.pk,
    )
    assert event.ip_address == "127.0.0.1"


def record_data(patient: Patient, **changes: str) -> dict[str, str]:
    data = {
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        "email": patient.email,
        "phone": patient.phone,
    }
    data.update(changes)
    return data


def test_editing_a_patient_record_leaves_exactly_one_event_naming_the_changed_fields(world):
    url = reverse("patient_edit", args=[world.patient.pk])
    response = client_for(world.desk).post(url, record_data(world.patient, phone="+44 1"))
    assert response.status_code == 302
    [event] = events()
    assert (event.action, event.patient_id, event.detail) == (
        "patient.update",
        world.patient.pk,
        {"fields": ["phone"]},
    )
    world.patient.refresh_from_db()
    assert world.patient.phone == "+44 1"


def test_a_denied_attempt_leaves_exactly_one_event(world):
    client_for(world.colleague).get(reverse("patient_detail", args=[world.patient.pk]))
    [event] = events()
    assert (event.action, event.outcome, event.actor_id) == (
        "patient.view",
        "denied",
        world.colleague.pk,
    )


def test_a_denied_write_is_audited_even_though_nothing_is_written(world):
    url = reverse("patient_edit", args=[world.patient.pk])
    client_for(world.colleague).post(url, record_data(world.patient, phone="+1 555"))
    [event] = events()
    assert (event.action, event.outcome) == ("patient.update", "denied")
    world.patient.refresh_from_db()
    assert world.patient.phone != "+1 555"


def test_an_unknown_patient_id_is_a_404_and_audited(world):
    response = client_for(world.desk).get(reverse("patient_detail", args=[uuid.uuid4()]))
    assert response.status_code == 404
    assert events()[0].outcome == "denied"


def test_patient_page_query_count_does_not_grow_with_consents(world, django_assert_max_num_queries):
    client = client_for(world.desk)
    url = reverse("patient_detail", args=[world.patient.pk])
    client.get(url)  # warm the session
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    for kind in ("privacy", "communication"):
        text = make_consent_text(world.clinic, kind=kind)
        Consent.objects.create(
            clinic=world.clinic,
            patient=world.patient,
            text=text,
            method=ConsentMethod.PAPER,
            given_at=text.published_at,
            given_by=world.desk,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


# --- Bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"given_name": ""}, "This field is required."),
        ({"family_name": "x" * 101}, "at most 100 characters"),
        ({"date_of_birth": "last spring"}, "Enter a valid date"),
        ({"date_of_birth": "2999-01-01"}, "cannot be in the future"),
        ({"email": "not-email"}, "valid email address"),
        ({"sex": "other"}, "Select a valid choice"),
    ],
)
def test_bad_patient_record_input_is_refused_and_nothing_saved_is_lost(world, changes, message):
    url = reverse("patient_edit", args=[world.patient.pk])
    data = record_data(world.patient, phone="+44 999", **changes)
    response = client_for(world.desk).post(url, data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert "+44 999" in response.content.decode()  # what the user typed is shown again
    saved = Patient.objects.get(pk=world.patient.pk)
    assert (saved.given_name, saved.phone) == (world.patient.given_name, world.patient.phone)


def test_a_referrer_from_another_clinic_is_refused(world):
    outsider = make_member(world.other_clinic, Role.REFERRING_CLINICIAN)
    url = reverse("patient_edit", args=[world.patient.pk])
    response = client_for(world.desk).post(
        url, record_data(world.patient, referred_by=str(outsider.pk))
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert Patient.objects.get(pk=world.patient.pk).referred_by is None


def test_creating_a_patient_with_bad_input_saves_nothing(world):
    count = Patient.objects.count()
    response = client_for(world.desk).post(reverse("patient_create"), {"given_name": "Ann"})
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert Patient.objects.count() == count


def test_creating_a_patient_files_it_at_the_current_clinic(world):
    data = {
        "given_name": "Nia",
        "family_name": "New",
        "date_of_birth": "1990-02-03",
        "sex": "female",
    }
    response = client_for(world.desk).post(reverse("patient_create"), data)
    patient = Patient.objects.get(given_name="Nia")
    assert response.url == reverse("patient_detail", args=[patient.pk])
    assert patient.clinic == world.clinic
    assert PatientPreferences.objects.filter(patient=patient).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"pressure": "9"}, "Select a valid choice"),
        ({"pressure": "firm"}, "Select a valid choice"),
        ({"avoid_areas": ["tail"]}, "Select a valid choice"),
        ({"language": "l" * 61}, "at most 60 characters"),
        ({"therapist_gender": "robot"}, "Select a valid choice"),
    ],
)
def test_bad_preferences_are_refused_and_keep_the_saved_ones(world, data, message):
    PatientPreferences.objects.filter(patient=world.patient).update(
        pressure=2, avoid_areas=["feet"]
    )
    response = client_for(world.desk).post(
        reverse("patient_preferences", args=[world.patient.pk]), data
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    saved = PatientPreferences.objects.get(patient=world.patient)
    assert (saved.pressure, saved.avoid_areas) == (2, ["feet"])


def test_consent_to_another_clinics_text_is_refused(world):
    url = reverse("consent_add", args=[world.patient.pk])
    response = client_for(world.desk).post(
        url, {"text": str(world.other_text.pk), "method": "paper"}
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not Consent.objects.filter(text=world.other_text).exists()


def test_staff_cannot_record_online_consent_for_a_patient(world):
    text = make_consent_text(world.clinic, kind="privacy")
    url = reverse("consent_add", args=[world.patient.pk])
    response = client_for(world.desk).post(url, {"text": str(text.pk), "method": "portal"})
    assert response.status_code == 422
    assert not Consent.objects.filter(text=text).exists()


# --- Portal -------------------------------------------------------------------------------------


PORTAL_PAGES = ["portal_details", "portal_contact_edit", "portal_preferences", "portal_consents"]


@pytest.mark.parametrize("name", PORTAL_PAGES)
def test_a_patient_sees_only_their_own_portal_pages(world, name):
    mine = client_for(world.patient_user).get(reverse(name))
    theirs = client_for(world.other_patient_user).get(reverse(name))
    assert mine.status_code == theirs.status_code == 200
    assert "Olly" not in mine.content.decode()
    assert "Harriet" not in theirs.content.decode()


@pytest.mark.parametrize("name", PORTAL_PAGES)
@pytest.mark.parametrize("actor", ["desk", "stranger"])
def test_the_portal_is_404_for_people_without_a_patient_record(world, name, actor):
    before = AuditEvent.objects.filter(outcome="denied").count()
    assert client_for(getattr(world, actor)).get(reverse(name)).status_code == 404
    assert AuditEvent.objects.filter(outcome="denied").count() == before + 1


def test_a_patient_changes_their_contact_details_in_the_portal(world):
    data = {
        "email": "new@example.test",
        "phone": "+44 7700 900000",
        "emergency_contact_name": "Kim",
    }
    response = client_for(world.patient_user).post(reverse("portal_contact_edit"), data)
    assert response.status_code == 302
    world.patient.refresh_from_db()
    assert (world.patient.phone, world.patient.emergency_contact_name) == ("+44 7700 900000", "Kim")
    assert events(action="patient.update")[0].actor_id == world.patient_user.pk


def test_the_portal_contact_form_cannot_change_the_name(world):
    data = {"given_name": "Hacked", "email": "new@example.test"}
    response = client_for(world.patient_user).post(reverse("portal_contact_edit"), data)
    assert response.status_code == 302
    world.patient.refresh_from_db()
    assert (world.patient.given_name, world.patient.email) == ("Harriet", "new@example.test")


def test_bad_portal_contact_input_is_refused_and_keeps_the_details(world):
    data = {"email": "nope", "phone": "1" * 41}
    response = client_for(world.patient_user).post(reverse("portal_contact_edit"), data)
    assert response.status_code == 422
    page = response.content.decode()
    assert "valid email address" in page
    assert "at most 40 characters" in page
    world.patient.refresh_from_db()
    assert world.patient.email == "pat@example.test"


def test_a_patient_sets_preferences_in_the_portal(world):
    data = {"pressure": "4", "avoid_areas": ["feet", "abdomen"], "therapist_gender": "female"}
    response = client_for(world.patient_user).post(reverse("portal_preferences"), data)
    assert response.url == reverse("portal_details")
    saved = PatientPreferences.objects.get(patient=world.patient)
    assert (saved.pressure, saved.avoid_areas, saved.therapist_gender) == (
        4,
        ["feet", "abdomen"],
        "female",
    )


def test_a_patient_gives_and_withdraws_consent_in_the_portal(world):
    privacy = make_consent_text(world.clinic, kind="privacy")
    client = client_for(world.patient_user)
    assert client.post(reverse("portal_consents"), {"text": str(privacy.pk)}).status_code == 302
    consent = Consent.objects.get(text=privacy)
    assert (consent.method, consent.given_by) == ("portal", world.patient_user)
    url = reverse("consent_withdraw", args=[world.patient.pk, consent.pk])
    assert client.post(url, {"from": "portal"}).url == reverse("portal_consents")
    consent.refresh_from_db()
    assert consent.withdrawn_by == world.patient_user


@pytest.mark.parametrize(
    "text", [lambda w: "", lambda w: "not-a-uuid", lambda w: str(w.other_text.pk)]
)
def test_portal_consent_to_an_unknown_or_foreign_text_is_refused(world, text):
    value = text(world)
    response = client_for(world.patient_user).post(reverse("portal_consents"), {"text": value})
    assert response.status_code == 422
    assert Consent.objects.filter(patient=world.patient).count() == 1


def test_a_colleague_creates_patients_only_in_their_own_clinic(world):
    data = {
        "given_name": "Cleo",
        "family_name": "Col",
        "date_of_birth": "1990-02-03",
        "sex": "female",
    }
    client_for(world.colleague).post(reverse("patient_create"), data)
    assert Patient.objects.get(given_name="Cleo").clinic == world.other_clinic


@pytest.mark.parametrize("actor", ["stranger", "patient_user", "clinician"])
def test_patient_create_is_404_and_audited_without_a_staff_role(world, actor):
    user = getattr(world, actor)
    count = Patient.objects.count()
    for response in (
        client_for(user).get(reverse("patient_create")),
        client_for(user).post(reverse("patient_create"), {"given_name": "X"}),
    ):
        assert response.status_code == 404
    assert AuditEvent.objects.filter(action="patient.create", outcome="denied").count() == 2
    assert Patient.objects.count() == count


def test_portal_consent_to_a_superseded_version_is_refused(world):
    newer = make_consent_text(world.clinic, kind=world.text.kind, version=2)
    Consent.objects.filter(pk=world.consent.pk).update(
        withdrawn_at=newer.published_at, withdrawn_by=world.desk
    )
    client = client_for(world.patient_user)
    response = client.post(reverse("portal_consents"), {"text": str(world.text.pk)})
    assert response.status_code == 422
    assert client.post(reverse("portal_consents"), {"text": str(newer.pk)}).status_code == 302
    assert (
        Consent.objects.filter(patient=world.patient, withdrawn_at__isnull=True).get().text == newer
    )


def test_a_stranger_gets_404_on_the_patient_list_and_it_is_audited(world):
    client_for(world.stranger).get(reverse("patient_list"))
    [event] = events()
    assert (event.action, event.outcome) == ("patient.list", "denied")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"pressure": "7"}, "Select a valid choice"),
        ({"avoid_areas": ["elbow"]}, "Select a valid choice"),
        ({"notes": "n" * 2001}, "at most 2000 characters"),
    ],
)
def test_bad_portal_preferences_are_refused_and_keep_the_saved_ones(world, data, message):
    PatientPreferences.objects.filter(patient=world.patient).update(pressure=3)
    response = client_for(world.patient_user).post(reverse("portal_preferences"), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert PatientPreferences.objects.get(patient=world.patient).pressure == 3
