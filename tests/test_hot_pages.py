"""The pages and API calls the benchmark drives (bench/, issue 10) take a fixed number of queries
however much a clinic holds: counts are deterministic, so they are tested here instead of timed.
Each test measures one request, grows the clinic, and measures again.

Other hot paths hold their own counts next to their code: availability (three queries,
scheduling/tests/test_services.py), the patient record (patients/tests/test_views.py), clinic
analytics and progress (reports/tests), visit notes (visits/tests).
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backcare.accounts.services import create_api_token
from backcare.scheduling.models import Appointment, AppointmentStatus
from backcare.scheduling.tests.test_views import PortalWorld
from backcare.triage.tests.factories import make_screening
from conftest import client_for
from tests.factories import make_patient


@pytest.fixture
def world(db) -> PortalWorld:
    return PortalWorld()


def _queries(client: Client, url: str, **extra) -> int:
    client.get(url, **extra)  # once first: a token's last use is written at most every minute
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **extra)
    assert response.status_code == 200, response.content[:300]
    return len(captured.captured_queries)


def _grow(world: PortalWorld, *, patients: int, past_weeks: int, before_week: int = 0) -> None:
    """More patients in the clinic, and weeks of past appointments for both the portal
    patient and the others, all with the same therapist."""
    others = []
    for _ in range(patients):
        other = make_patient(world.clinic)
        make_screening(world.desk, other)
        others.append(other)
    rows = [
        Appointment(
            clinic=world.clinic,
            patient=patient,
            therapist=world.therapist,
            service=world.service,
            starts_at=world.at(9 + 2 * hour) - timedelta(days=7 * week),
            ends_at=world.at(10 + 2 * hour) - timedelta(days=7 * week),
            blocked_until=world.at(10 + 2 * hour, 15) - timedelta(days=7 * week),
            status=AppointmentStatus.COMPLETED,
            booked_by=world.desk,
        )
        for week in range(before_week + 1, before_week + past_weeks + 1)
        for hour, patient in enumerate([world.portal_patient, *others[:5]])
    ]
    Appointment.objects.bulk_create(rows)


# The portal booking page: session, user, memberships, the patient (once, with their clinic and
# preferences), the plan's techniques, the suitable therapists, the services, the hold (screenings,
# clearances, overrides) and its audit event. A search adds the week's availability for one
# therapist: working hours, time off, busy times and the last day each stays bookable (the
# service comes from the list already read).
BOOKING_PAGE_QUERIES = 11
BOOKING_SEARCH_QUERIES = BOOKING_PAGE_QUERIES + 4


@pytest.mark.parametrize("searched", [False, True])
def test_the_booking_page_takes_the_same_queries_whatever_the_clinics_history(world, searched):
    client = client_for(world.patient_user)
    url = reverse("portal_booking")
    if searched:
        url += "?" + "&".join(f"{k}={v}" for k, v in world.search().items())
    expected = BOOKING_SEARCH_QUERIES if searched else BOOKING_PAGE_QUERIES
    assert _queries(client, url) == expected
    _grow(world, patients=20, past_weeks=30)
    assert _queries(client, url) == expected


def _bearer(world: PortalWorld) -> dict:
    token = create_api_token(actor=world.desk, clinic=world.clinic, name="bench", scopes=["read"])
    return {"headers": {"Authorization": f"Bearer {token[1]}"}}


@pytest.mark.parametrize(
    "url_name",
    ["api-v1:patient_list", "api-v1:patient_detail", "api-v1:appointment_list"],
)
def test_an_api_read_takes_the_same_queries_whatever_the_clinics_size(world, url_name):
    auth = _bearer(world)
    if url_name == "api-v1:patient_list":
        url = reverse(url_name) + "?limit=50"
    else:
        url = reverse(url_name, kwargs={"patient_id": world.portal_patient.pk})
    client = Client()
    _grow(world, patients=55, past_weeks=2)  # a full page of 50: the count query is made
    small = _queries(client, url, **auth)
    _grow(world, patients=60, past_weeks=20, before_week=2)
    assert _queries(client, url, **auth) == small
