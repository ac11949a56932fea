"""The JSON API's clinical and scheduling endpoints (issue 8): intake status and triage result,
clearances, availability, rescheduling, visit notes; per-resource-group scopes. Each answers
through the pages' own queries and services, so it is scoped and audited as they are."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backcare.accounts.models import ApiGroup, ApiToken, Role
from backcare.accounts.services import create_api_token
from backcare.core.models import AuditEvent
from backcare.intake.services import start_intake
from backcare.scheduling import queries as scheduling_queries
from backcare.scheduling.tests.test_services import World
from backcare.triage.models import Clearance
from backcare.triage.tests.factories import make_screening
from backcare.visits.models import NoteStatus, VisitNote
from backcare.visits.tests.factories import VisitWorld, make_signed_visit
from tests.factories import make_clinic, make_member, make_patient, make_therapist, make_user


def token_for(user, clinic, scopes=("read",), groups=None) -> str:
    return create_api_token(actor=user, clinic=clinic, name="script", scopes=scopes, groups=groups)[
        1
    ]


def call(token: str, method: str, url: str, body: dict | None = None):
    headers = {"Authorization": f"Bearer {token}"}
    if method == "get":
        return Client().get(url, headers=headers)
    return Client().post(url, body or {}, content_type="application/json", headers=headers)


@pytest.fixture
def world(db) -> World:
    return World()


@pytest.fixture
def visits(db) -> VisitWorld:
    return VisitWorld()


# --- Availability and rescheduling ----------------------------------------------------------------


def _free(world: World, token: str, **extra: str):
    day = world.monday.isoformat()
    query = {
        "therapist_id": str(world.therapist.pk),
        "service_id": str(world.service.pk),
        "first_day": day,
        "last_day": day,
        **extra,
    }
    return Client().get(
        reverse("api-v1:availability"), query, headers={"Authorization": f"Bearer {token}"}
    )


def test_availability_gives_the_booking_pages_free_starts_and_leaves_out_a_booked_time(world):
    token = token_for(world.desk, world.clinic)
    page_starts = scheduling_queries.get_availability(
        world.desk,
        world.clinic,
        therapist=world.therapist,
        service_id=world.service.pk,
        first_day=world.monday,
        last_day=world.monday,
        now=timezone.now(),
    )
    before = _free(world, token)
    assert before.status_code == 200
    listed = before.json()["free_starts"]
    assert len(listed) == len(page_starts) == 28  # 09:00 to 15:45, every 15 minutes
    assert listed[0].startswith(world.at(9).astimezone(timezone.UTC).isoformat()[:16])
    world.book(world.at(10))
    after = _free(world, token).json()
    starts = after["free_starts"]
    taken = world.at(10).astimezone(timezone.UTC).isoformat()[:16]
    assert not any(s.startswith(taken) for s in starts)
    assert len(starts) < len(listed)


def test_availability_refuses_days_out_of_order_or_too_many_with_a_422(world):
    token = token_for(world.desk, world.clinic)
    later = (world.monday + timedelta(days=40)).isoformat()
    earlier = (world.monday - timedelta(days=1)).isoformat()
    for last_day in (later, earlier):
        response = _free(world, token, last_day=last_day)
        assert response.status_code == 422
        assert "last_day" in response.json()["field_errors"]


def test_availability_of_a_therapist_of_another_clinic_is_a_404(world):
    elsewhere = make_clinic("Elsewhere")
    stranger = make_therapist(elsewhere)
    token = token_for(world.desk, world.clinic)
    response = _free(world, token, therapist_id=str(stranger.pk))
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action="availability.view", outcome="denied").exists()


def test_rescheduling_moves_the_appointment_and_a_taken_time_is_a_409_with_next_free(world):
    token = token_for(world.desk, world.clinic, scopes=["write"])
    mine = world.book(world.at(10))
    world.book(world.at(13), patient=world.other_patient)
    url = reverse("api-v1:appointment_reschedule", args=[mine.pk])
    moved = call(token, "post", url, {"starts_at": world.at(11).isoformat()})
    assert moved.status_code == 200
    assert moved.json()["id"] == str(mine.pk)
    mine.refresh_from_db()
    assert mine.starts_at == world.at(11)
    taken = call(token, "post", url, {"starts_at": world.at(13).isoformat()})
    assert taken.status_code == 409
    assert taken.json()["code"] == "slot_taken"
    assert taken.json()["next_free"]
    mine.refresh_from_db()
    assert mine.starts_at == world.at(11)
    assert AuditEvent.objects.filter(action="appointment.reschedule").exists()


def test_rescheduling_another_clinics_appointment_is_a_404(world):
    elsewhere = make_clinic("Elsewhere")
    token = token_for(make_member(elsewhere, Role.FRONT_DESK), elsewhere, scopes=["write"])
    mine = world.book(world.at(10))
    url = reverse("api-v1:appointment_reschedule", args=[mine.pk])
    assert call(token, "post", url, {"starts_at": world.at(11).isoformat()}).status_code == 404
    mine.refresh_from_db()
    assert mine.starts_at == world.at(10)


# --- Intake, triage and clearances ----------------------------------------------------------------


def test_the_triage_result_shows_the_hold_what_it_waits_for_and_the_latest_screening(world):
    held = make_patient(world.clinic)
    screening = make_screening(world.desk, held, yes=("history_of_cancer",))
    token = token_for(world.desk, world.clinic)
    body = call(token, "get", reverse("api-v1:triage_result", args=[held.pk])).json()
    assert (body["state"], body["may_book"]) == ("on_hold", False)
    assert body["waiting_for"]
    assert body["reason"].startswith("Booking waits")
    assert body["screening"]["id"] == str(screening.pk)
    unscreened = make_patient(world.clinic)
    body = call(token, "get", reverse("api-v1:triage_result", args=[unscreened.pk])).json()
    assert (body["state"], body["screening"]) == ("not_screened", None)
    assert AuditEvent.objects.filter(action="hold.view", patient_id=held.pk).exists()


def test_clearance_status_lists_the_clearances_in_force_for_staff_only(visits):
    token = token_for(visits.desk, visits.clinic)
    url = reverse("api-v1:clearance_status", args=[visits.patient.pk])
    body = call(token, "get", url).json()
    assert (body["state"], body["may_book"]) == ("clear", True)
    [clearance] = body["clearances_in_force"]
    assert clearance["restricted_regions"] == ["leg_left"]
    detail = call(token, "get", reverse("api-v1:clearance_detail", args=[clearance["id"]]))
    assert detail.json()["clinician_name"] == "Dr Ada Lovelace"
    assert AuditEvent.objects.filter(action="clearance.view").exists()
    own = make_user()
    themself = make_patient(visits.clinic, user=own)
    patient_token = token_for(own, visits.clinic)
    mine = reverse("api-v1:clearance_status", args=[themself.pk])
    assert call(patient_token, "get", mine).status_code == 404


def test_a_clearance_of_another_clinic_is_a_404(visits):
    clearance = Clearance.objects.get(patient=visits.patient)
    elsewhere = make_clinic("Elsewhere")
    token = token_for(make_member(elsewhere, Role.CLINIC_ADMIN), elsewhere)
    url = reverse("api-v1:clearance_detail", args=[clearance.pk])
    assert call(token, "get", url).status_code == 404


def test_intakes_list_their_status_and_the_level_of_the_sent_ones(world):
    draft = start_intake(actor=world.desk, patient_id=world.patient.pk)
    token = token_for(world.desk, world.clinic)
    body = call(token, "get", reverse("api-v1:intake_list", args=[world.patient.pk])).json()
    assert body["count"] == 1
    [row] = body["items"]
    assert (row["id"], row["status"], row["level"]) == (str(draft.pk), "draft", "")
    url = reverse("api-v1:intake_list", args=[world.patient.pk])
    today = world.clinic.local_date(draft.saved_at)
    same_day = f"{url}?saved_from={today.isoformat()}&saved_to={today.isoformat()}"
    assert call(token, "get", same_day).json()["count"] == 1
    before = (today - timedelta(days=1)).isoformat()
    assert call(token, "get", f"{url}?saved_to={before}").json()["count"] == 0
    assert AuditEvent.objects.filter(action="intake.list", patient_id=world.patient.pk).exists()


# --- Visit notes ----------------------------------------------------------------------------------


def test_notes_are_listed_as_the_visit_page_shows_them_with_amendments_applied(visits):
    old = make_signed_visit(visits, days_ago=30)
    make_signed_visit(visits, days_ago=3)
    token = token_for(visits.user, visits.clinic)
    url = reverse("api-v1:note_list", args=[visits.patient.pk])
    body = call(token, "get", url).json()
    assert body["count"] == 2
    assert body["items"][0]["values"]["next_focus"] == "Gluteals, visit 3"
    assert body["items"][0]["amendments"] == 1
    day = visits.clinic.local_date(old.appointment.starts_at).isoformat()
    dated = call(token, "get", f"{url}?visited_from={day}&visited_to={day}").json()
    assert [n["visit_id"] for n in dated["items"]] == [str(old.pk)]
    one = call(token, "get", reverse("api-v1:note_detail", args=[old.pk])).json()
    assert one["values"]["next_focus"] == "Gluteals, visit 30"
    assert AuditEvent.objects.filter(action="visit_note.list").exists()


def test_the_front_desk_may_not_read_visit_notes(visits):
    make_signed_visit(visits, days_ago=3)
    token = token_for(visits.desk, visits.clinic)
    url = reverse("api-v1:note_list", args=[visits.patient.pk])
    assert call(token, "get", url).status_code == 404
    assert AuditEvent.objects.filter(action="visit_note.list", outcome="denied").exists()


def test_a_draft_is_written_for_a_visit_and_a_signed_note_is_never_changed(visits):
    token = token_for(visits.user, visits.clinic, scopes=["write"])
    url = reverse("api-v1:note_draft", args=[visits.appointment.pk])
    made = call(token, "post", url, {"subjective": "Better since Tuesday", "pain_before": 4})
    assert made.status_code == 200
    body = made.json()
    assert body["status"] == "draft"
    assert (body["values"]["subjective"], body["values"]["pain_before"]) == (
        "Better since Tuesday",
        4,
    )
    assert call(token, "post", url, {"pain_before": 11}).status_code == 422
    VisitNote.objects.filter(pk=body["id"]).update(
        status=NoteStatus.SIGNED, signed_at=timezone.now(), signed_by=visits.user
    )
    refused = call(token, "post", url, {"subjective": "Changed"})
    assert refused.status_code == 409
    assert VisitNote.objects.get(pk=body["id"]).subjective == "Better since Tuesday"


def test_a_draft_by_someone_who_may_not_write_it_is_a_404(visits):
    token = token_for(visits.colleague.user, visits.clinic, scopes=["write"])
    url = reverse("api-v1:note_draft", args=[visits.appointment.pk])
    assert call(token, "post", url, {"subjective": "x"}).status_code == 404
    assert not VisitNote.objects.exists()


# --- Per-resource-group scopes --------------------------------------------------------------------


def test_a_token_limited_to_patients_gets_403_for_another_group_and_it_is_audited(visits):
    token = token_for(visits.admin, visits.clinic, groups=[ApiGroup.PATIENTS])
    assert call(token, "get", reverse("api-v1:patient_list")).status_code == 200
    for url in (
        reverse("api-v1:triage_result", args=[visits.patient.pk]),
        reverse("api-v1:note_list", args=[visits.patient.pk]),
        reverse("api-v1:measurement_list", args=[visits.patient.pk]),
        reverse("api-v1:service_list"),
    ):
        response = call(token, "get", url)
        assert response.status_code == 403
        assert response.json()["code"] == "insufficient_scope"
    denied = AuditEvent.objects.filter(action="api.scope", outcome="denied")
    assert {e.detail["needs"] for e in denied} == {"clinical", "outcomes", "scheduling"}


def test_a_write_token_of_one_group_may_not_write_another(visits):
    token = token_for(visits.user, visits.clinic, scopes=["write"], groups=[ApiGroup.SCHEDULING])
    url = reverse("api-v1:note_draft", args=[visits.appointment.pk])
    assert call(token, "post", url, {"subjective": "x"}).status_code == 403
    assert not VisitNote.objects.exists()


def test_a_token_made_without_groups_reaches_every_group(db):
    clinic = make_clinic()
    row, _ = create_api_token(
        actor=make_member(clinic, Role.FRONT_DESK), clinic=clinic, name="x", scopes=["read"]
    )
    assert sorted(row.groups) == sorted(ApiGroup.values)
    # A row written as before groups existed (the migration's default) reaches them all too.
    legacy = ApiToken(clinic=clinic, user=row.user, name="old", scopes=["read"])
    assert sorted(legacy.groups) == sorted(ApiGroup.values)


def test_unknown_groups_are_refused_naming_the_field(db):
    from backcare.core.errors import InvalidInputError

    clinic = make_clinic()
    with pytest.raises(InvalidInputError) as refused:
        create_api_token(
            actor=make_member(clinic, Role.FRONT_DESK),
            clinic=clinic,
            name="x",
            scopes=["read"],
            groups=["everything"],
        )
    assert "groups" in refused.value.field_errors


def test_the_last_possible_day_as_a_date_filter_is_no_server_error(world):
    # The day after 9999-12-31 does not exist: a filter to the end of the calendar must still
    # answer, not overflow into a 500.
    token = token_for(world.desk, world.clinic)
    end = "9999-12-31"
    for name, field in (
        ("api-v1:appointment_list", "starts_to"),
        ("api-v1:measurement_list", "measured_to"),
        ("api-v1:intake_list", "saved_to"),
        ("api-v1:note_list", "visited_to"),
    ):
        url = reverse(name, args=[world.patient.pk]) + f"?{field}={end}"
        response = call(token, "get", url)
        assert response.status_code in (200, 404), (name, response.status_code)
