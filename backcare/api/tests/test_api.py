"""The JSON API v1: tokens (scopes, revoked, expired, another clinic), error bodies, the
endpoints through the pages' own queries and services, a booking race, and the schema."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backcare.accounts.models import ApiToken, Role
from backcare.accounts.queries import forget_memberships
from backcare.accounts.services import create_api_token
from backcare.api.api import RATE_LIMIT
from backcare.core.models import AuditEvent
from backcare.outcomes.services import record_measurement
from backcare.scheduling.models import Appointment
from backcare.scheduling.tests.test_services import World
from tests.factories import make_clinic, make_member, make_patient


def token_for(user, clinic, scopes=("read",), **extra) -> str:
    return create_api_token(actor=user, clinic=clinic, name="script", scopes=scopes, **extra)[1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def call(token: str, method: str, url: str, body: dict | None = None):
    client = Client()
    if method == "get":
        return client.get(url, headers=bearer(token))
    return client.post(url, body or {}, content_type="application/json", headers=bearer(token))


@pytest.fixture
def world(db) -> World:
    return World()


def _booking(world: World, hour: int = 10, patient=None) -> dict:
    return {
        "patient_id": str((patient or world.patient).pk),
        "therapist_id": str(world.therapist.pk),
        "service_id": str(world.service.pk),
        "starts_at": world.at(hour).isoformat(),
    }


# --- Tokens ---------------------------------------------------------------------------------------


def test_a_read_token_lists_the_clinics_patients_with_a_page_envelope(world):
    token = token_for(world.desk, world.clinic)
    response = call(token, "get", reverse("api-v1:patient_list") + "?limit=1")
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["limit"], body["offset"]) == (2, 1, 0)
    assert len(body["items"]) == 1
    assert AuditEvent.objects.filter(action="patient.list", actor_id=world.desk.pk).exists()


def test_a_read_token_may_not_write_and_gets_a_403_with_an_error_body(world):
    token = token_for(world.desk, world.clinic, scopes=["read"])
    response = call(token, "post", reverse("api-v1:appointment_book"), _booking(world))
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert set(response.json()) >= {"code", "message", "field_errors"}
    assert not Appointment.objects.exists()
    assert AuditEvent.objects.filter(action="api.scope", outcome="denied").exists()


def test_a_revoked_token_is_a_401(world):
    row, token = create_api_token(actor=world.desk, clinic=world.clinic, name="x", scopes=["read"])
    row.revoked_at = timezone.now()
    row.save()
    response = call(token, "get", reverse("api-v1:patient_list"))
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert AuditEvent.objects.filter(action="api_token.use", outcome="denied").exists()


def test_an_expired_token_is_a_401(world):
    row, token = create_api_token(
        actor=world.desk, clinic=world.clinic, name="x", scopes=["read"], expires_in_days=1
    )
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert call(token, "get", reverse("api-v1:patient_list")).status_code == 401


def test_an_unknown_token_and_no_token_are_401s(world):
    assert call("not-a-token", "get", reverse("api-v1:patient_list")).status_code == 401
    response = Client().get(reverse("api-v1:patient_list"))
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_a_token_of_another_clinic_gets_404_for_this_clinics_patient(world):
    elsewhere = make_clinic("Elsewhere")
    stranger = make_member(elsewhere, Role.CLINIC_ADMIN)
    token = token_for(stranger, elsewhere)
    url = reverse("api-v1:patient_detail", args=[world.patient.pk])
    response = call(token, "get", url)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    denied = AuditEvent.objects.get(action="patient.view", outcome="denied")
    assert denied.clinic_id == world.clinic.pk


def test_a_token_acts_in_its_own_clinic_only_though_its_owner_works_in_two(world):
    second = make_clinic("Second")
    make_member(second, Role.CLINIC_ADMIN, user=world.desk)
    forget_memberships(world.desk)
    token = token_for(world.desk, second)
    url = reverse("api-v1:patient_detail", args=[world.patient.pk])
    assert call(token, "get", url).status_code == 404
    assert call(token_for(world.desk, world.clinic), "get", url).status_code == 200


def test_a_token_is_stored_only_as_its_hash_and_last_used_is_stamped(world):
    row, token = create_api_token(actor=world.desk, clinic=world.clinic, name="x", scopes=["read"])
    assert row.last_used_at is None
    assert token not in str(list(ApiToken.objects.values_list()))
    assert call(token, "get", reverse("api-v1:service_list")).status_code == 200
    row.refresh_from_db()
    assert row.last_used_at is not None
    first = row.last_used_at
    call(token, "get", reverse("api-v1:service_list"))
    row.refresh_from_db()
    assert row.last_used_at == first  # at most once a minute


def test_the_site_session_may_call_the_api_and_needs_csrf_to_write(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.desk)
    assert client.get(reverse("api-v1:therapist_list")).status_code == 200
    response = client.post(
        reverse("api-v1:appointment_book"), _booking(world), content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not Appointment.objects.exists()


# --- Endpoints and error bodies -------------------------------------------------------------------


def test_a_write_token_books_and_a_taken_slot_is_a_409_with_the_next_free_times(world):
    token = token_for(world.desk, world.clinic, scopes=["read", "write"])
    booked = call(token, "post", reverse("api-v1:appointment_book"), _booking(world))
    assert booked.status_code == 201
    taken = call(
        token,
        "post",
        reverse("api-v1:appointment_book"),
        _booking(world, patient=world.other_patient),
    )
    assert taken.status_code == 409
    body = taken.json()
    assert body["code"] == "slot_taken"
    assert body["field_errors"]["starts_at"]
    assert body["next_free"][0].startswith(
        world.at(11, 15).astimezone(timezone.UTC).isoformat()[:16]
    )


def test_cancelling_frees_the_time_and_lists_show_it(world):
    token = token_for(world.desk, world.clinic, scopes=["write"])
    booked = call(token, "post", reverse("api-v1:appointment_book"), _booking(world)).json()
    cancelled = call(token, "post", reverse("api-v1:appointment_cancel", args=[booked["id"]]))
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    listed = call(token, "get", reverse("api-v1:appointment_list", args=[world.patient.pk]))
    assert [a["status"] for a in listed.json()["items"]] == ["cancelled"]
    day = world.monday.isoformat()
    before = (world.monday - timedelta(days=1)).isoformat()
    url = reverse("api-v1:appointment_list", args=[world.patient.pk])
    assert call(token, "get", f"{url}?starts_from={day}&starts_to={day}").json()["count"] == 1
    assert call(token, "get", f"{url}?starts_to={before}").json()["count"] == 0


def test_invalid_input_is_a_422_naming_the_fields_never_a_500(world):
    token = token_for(world.desk, world.clinic, scopes=["write"])
    bad = {**_booking(world), "starts_at": "2030-01-07T09:00", "service_id": "nope"}
    response = call(token, "post", reverse("api-v1:appointment_book"), bad)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["field_errors"]) == {"starts_at", "service_id"}
    limit = call(token, "get", reverse("api-v1:patient_list") + "?limit=0")
    assert limit.status_code == 422
    assert "limit" in limit.json()["field_errors"]
    broken = Client().post(
        reverse("api-v1:appointment_book"),
        "{not json",
        content_type="application/json",
        headers=bearer(token),
    )
    assert broken.status_code in (400, 422)
    assert set(broken.json()) >= {"code", "message", "field_errors"}


def test_a_domain_refusal_keeps_its_field_errors(world):
    token = token_for(world.desk, world.clinic, scopes=["write"])
    past = {**_booking(world), "starts_at": "2001-01-01T09:00:00+00:00"}
    response = call(token, "post", reverse("api-v1:appointment_book"), past)
    assert response.status_code == 422
    assert response.json()["field_errors"] == {"starts_at": "In the past."}


def test_measurements_are_recorded_with_write_and_filtered_by_instrument_and_date(world):
    token = token_for(world.therapist.user, world.clinic, scopes=["write"])
    url = reverse("api-v1:measurement_create", args=[world.patient.pk])
    answers = {"sections": [2, 2, 2, 2, 2, 2, 1, 1, 2, 1]}
    created = call(token, "post", url, {"instrument": "odi", "answers": answers, "method": "paper"})
    assert created.status_code == 201
    assert created.json()["valid"] is True
    old = timezone.now() - timedelta(days=40)
    record_measurement(
        actor=world.therapist.user,
        patient_id=world.patient.pk,
        instrument="odi",
        answers=answers,
        measured_at=old,
        method="paper",
    )
    listed = reverse("api-v1:measurement_list", args=[world.patient.pk])
    assert call(token, "get", f"{listed}?instrument=odi").json()["count"] == 2
    since = (timezone.now() - timedelta(days=7)).date().isoformat()
    assert call(token, "get", f"{listed}?measured_from={since}").json()["count"] == 1
    assert call(token, "get", f"{listed}?instrument=nprs").json()["count"] == 0
    wrong = call(
        token, "post", url, {"instrument": "odi", "answers": {"sections": [9]}, "method": "paper"}
    )
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "invalid"


def test_therapists_show_their_licence_status_and_services_are_listed(world):
    token = token_for(world.desk, world.clinic)
    therapists = call(token, "get", reverse("api-v1:therapist_list")).json()
    assert [t["licence_status"] for t in therapists] == ["valid"]
    services = call(token, "get", reverse("api-v1:service_list")).json()
    assert [s["name"] for s in services] == ["Back massage 60"]


def test_a_patient_token_sees_their_own_record_only(world):
    from tests.factories import make_user

    user = make_user()
    own = make_patient(world.clinic, user=user)
    token = token_for(user, world.clinic)
    assert call(token, "get", reverse("api-v1:patient_detail", args=[own.pk])).status_code == 200
    other = reverse("api-v1:patient_detail", args=[world.patient.pk])
    assert call(token, "get", other).status_code == 404


def test_too_many_calls_are_a_429_with_an_error_body(world):
    throttle = RATE_LIMIT
    token = token_for(world.desk, world.clinic)
    old_rate = (throttle.num_requests, throttle.duration)
    throttle.num_requests, throttle.duration = 1, 60
    try:
        call(token, "get", reverse("api-v1:service_list"))
        response = call(token, "get", reverse("api-v1:service_list"))
    finally:
        throttle.num_requests, throttle.duration = old_rate
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_requests"


# --- The schema and docs --------------------------------------------------------------------------


def test_the_openapi_schema_lists_every_operation(db):
    schema = Client().get(reverse("api-v1:openapi-json")).json()
    operations = {(method, path) for path, item in schema["paths"].items() for method in item}
    assert operations == {
        ("get", "/api/v1/therapists"),
        ("get", "/api/v1/patients"),
        ("get", "/api/v1/patients/{patient_id}"),
        ("get", "/api/v1/patients/{patient_id}/measurements"),
        ("post", "/api/v1/patients/{patient_id}/measurements"),
        ("get", "/api/v1/services"),
        ("get", "/api/v1/patients/{patient_id}/appointments"),
        ("post", "/api/v1/appointments"),
        ("post", "/api/v1/appointments/{appointment_id}/cancel"),
        ("get", "/api/v1/availability"),
        ("post", "/api/v1/appointments/{appointment_id}/reschedule"),
        ("get", "/api/v1/patients/{patient_id}/triage"),
        ("get", "/api/v1/patients/{patient_id}/clearances"),
        ("get", "/api/v1/clearances/{clearance_id}"),
        ("get", "/api/v1/patients/{patient_id}/intakes"),
        ("get", "/api/v1/patients/{patient_id}/notes"),
        ("get", "/api/v1/visits/{visit_id}/note"),
        ("post", "/api/v1/appointments/{appointment_id}/note"),
    }
    assert "bearer" in str(schema["components"]["securitySchemes"]).lower()


def test_the_docs_page_loads_swagger_from_our_own_static_files(db):
    response = Client().get(reverse("api-v1:openapi-view"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert "script-src 'self'" in response["Content-Security-Policy"]


# --- A lost race over HTTP ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_eight_simultaneous_api_bookings_of_one_slot_give_one_201_and_seven_409s():
    world = World()
    patients = [world._screened() for _ in range(8)]
    token = token_for(world.desk, world.clinic, scopes=["write"])
    barrier = threading.Barrier(8)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt(patient) -> None:
        barrier.wait()
        try:
            response = call(
                token, "post", reverse("api-v1:appointment_book"), _booking(world, patient=patient)
            )
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    workers = [threading.Thread(target=attempt, args=(p,)) for p in patients]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(statuses) == [201] + [409] * 7


def test_the_api_root_and_unknown_paths_answer_the_json_404_body(db):
    # django-ninja names its root to build operation paths; it is no operation.
    assert reverse("api-v1:api-root") == reverse("api_root_not_found")
    for url in (
        reverse("api_root_not_found"),
        reverse("api_unknown_path", args=["no/such/thing"]),
        "/api/v1/patients/not-a-uuid/nothing",
    ):
        response = Client().get(url)
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == {
            "code": "not_found",
            "message": "No API operation has this path; see /api/v1/docs.",
            "field_errors": {},
        }
    unsafe = Client(enforce_csrf_checks=True).post("/api/v1/nothing", {})
    assert unsafe.status_code == 404
    assert unsafe.json()["code"] == "not_found"


def test_nul_characters_are_refused_as_bad_input_not_a_500(world):
    # PostgreSQL refuses NUL in text and in jsonb; the API must answer 4xx, never 500.
    token = token_for(world.therapist.user, world.clinic, scopes=["write"])
    search = call(token, "get", reverse("api-v1:patient_list") + "?search=a%00b")
    assert search.status_code in (400, 422)
    url = reverse("api-v1:measurement_create", args=[world.patient.pk])
    body = {"instrument": "od\u0000i", "answers": {"x\u0000": "\u0000"}, "method": "paper"}
    assert call(token, "post", url, body).status_code in (400, 422)
    listed = reverse("api-v1:measurement_list", args=[world.patient.pk]) + "?instrument=%00"
    assert call(token, "get", listed).status_code in (400, 422)


def test_the_patient_list_takes_the_same_queries_whatever_the_clinics_size(world):
    # A hot API page (issue 10, docs/performance.md): a full page of 50 costs the same queries
    # among 60 patients as among 160. The first call stamps the token's last use; left out.
    from django.test.utils import CaptureQueriesContext

    token = token_for(world.desk, world.clinic)
    url = reverse("api-v1:patient_list") + "?limit=50"

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert len(call(token, "get", url).json()["items"]) == 50
        return len(captured.captured_queries)

    for _ in range(58):
        make_patient(world.clinic)
    call(token, "get", url)
    among_60 = queries()
    for _ in range(100):
        make_patient(world.clinic)
    assert queries() == among_60 == 5


def test_the_appointment_list_reads_only_its_page_whatever_the_patients_history(world):
    # Issue 10: counted and sliced in SQL, so a page of 5 costs the same queries, and reads 5
    # rows, for a patient with 12 appointments as for one with 60; ordered by (starts_at, id).
    from django.test.utils import CaptureQueriesContext

    from backcare.scheduling.tests.test_queries import make_past_appointments

    token = token_for(world.desk, world.clinic)

    def page(patient) -> tuple[int, list[str], dict]:
        url = reverse("api-v1:appointment_list", args=[patient.pk]) + "?limit=5&offset=3"
        with CaptureQueriesContext(connection) as captured:
            body = call(token, "get", url).json()
        sql = [q["sql"] for q in captured.captured_queries]
        return len(sql), [q for q in sql if "scheduling_appointment" in q], body

    page(world.patient)
    make_past_appointments(world, 12)
    make_past_appointments(world, 60, patient=world.other_patient, hour=13)
    queries_12, _, body_12 = page(world.patient)
    queries_60, sql_60, body_60 = page(world.other_patient)
    assert queries_60 == queries_12
    assert (body_12["count"], body_60["count"]) == (12, 60)
    assert any("LIMIT 5" in q for q in sql_60)
    history = Appointment.objects.filter(patient=world.other_patient).order_by("starts_at", "pk")
    ordered = history.values_list("pk", flat=True)
    assert [a["id"] for a in body_60["items"]] == [str(pk) for pk in ordered[3:8]]
