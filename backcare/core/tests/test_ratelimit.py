"""Rate limits on public pages: 429 with Retry-After above the budget, counted per client
address and page; a patient's ordinary visit is never limited."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backcare.outcomes import services as outcome_services
from backcare.scheduling.models import Appointment
from backcare.scheduling.tests.test_views import PortalWorld
from conftest import client_for

pytestmark = pytest.mark.django_db

ALICE = "203.0.113.7"
BOB = "198.51.100.9"


@pytest.fixture
def low_limit(settings):
    settings.BACKCARE_PUBLIC_RATE = "3/min"


def _get(client: Client, url: str, ip: str = ALICE, **headers: str):
    return client.get(url, REMOTE_ADDR=ip, headers=headers)


def test_a_public_page_answers_429_with_retry_after_above_the_limit(low_limit):
    client = Client()
    url = reverse("learn")
    assert [_get(client, url).status_code for _ in range(3)] == [200, 200, 200]
    refused = _get(client, url)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "Too many requests from your connection" in refused.content.decode()
    assert "Please slow down" in refused.content.decode()


@pytest.mark.parametrize(
    ("url_name", "args"),
    [
        ("check_in", ["not-a-real-token"]),
        ("calendar_feed", ["not-a-real-token"]),
        ("waitlist_offer", ["not-a-real-token"]),
        ("portal_booking", []),
        ("portal_intake", []),
    ],
)
def test_links_booking_and_intake_start_are_limited_for_guessers(low_limit, url_name, args):
    client = Client()
    url = reverse(url_name, args=args)
    for _ in range(3):
        assert _get(client, url).status_code != 429
    refused = _get(client, url)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0


def test_starting_another_intake_is_limited(low_limit):
    client = Client()
    url = reverse("portal_intake_again")
    for _ in range(3):
        assert client.post(url, REMOTE_ADDR=ALICE).status_code != 429
    assert client.post(url, REMOTE_ADDR=ALICE).status_code == 429


def test_htmx_and_json_callers_get_the_api_error_body(low_limit):
    client = Client()
    url = reverse("learn")
    for _ in range(3):
        _get(client, url)
    for headers in ({"HX-Request": "true"}, {"Accept": "application/json"}):
        refused = _get(client, url, **headers)
        assert refused.status_code == 429
        assert refused["Content-Type"] == "application/json"
        assert refused.json()["code"] == "too_many_requests"
        assert "Retry-After" in refused


def test_another_client_is_not_affected(low_limit):
    client = Client()
    url = reverse("learn")
    for _ in range(4):
        _get(client, url, ALICE)
    assert _get(client, url, ALICE).status_code == 429
    assert _get(client, url, BOB).status_code == 200


def test_each_page_has_its_own_budget(low_limit):
    client = Client()
    for _ in range(4):
        _get(client, reverse("learn"))
    assert _get(client, reverse("check_in", args=["x"])).status_code != 429


def test_the_limit_lifts_after_the_window(low_limit):
    client = Client()
    url = reverse("learn")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(3):
            _get(client, url)
        refused = _get(client, url)
        assert refused.status_code == 429
        clock.shift(timedelta(seconds=int(refused["Retry-After"])))
        assert _get(client, url).status_code == 200


def test_a_forwarded_address_is_ignored_unless_behind_a_proxy(low_limit, settings):
    client = Client()
    url = reverse("learn")
    for n in range(4):
        spoofed = {"X-Forwarded-For": f"192.0.2.{n}"}
        last = client.get(url, REMOTE_ADDR=ALICE, headers=spoofed)
    assert last.status_code == 429
    settings.BEHIND_PROXY = True
    proxied = client.get(url, REMOTE_ADDR=ALICE, headers={"X-Forwarded-For": f"1.1.1.1, {BOB}"})
    assert proxied.status_code == 200


def test_a_patients_ordinary_visit_is_never_limited():
    """With the default budget: read about massage, open the intake, search free times in
    several weeks, book, look at the appointments, and answer a check-in, from one address."""
    world = PortalWorld()
    client = client_for(world.patient_user)
    statuses = [_get(client, reverse("learn")).status_code for _ in range(5)]
    statuses += [_get(client, reverse("portal_intake")).status_code for _ in range(5)]
    for week in range(12):
        for therapist in ("any", str(world.therapist.pk)):
            search = {
                **world.search(therapist),
                "week": (world.monday + timedelta(weeks=week)).isoformat(),
            }
            statuses.append(
                client.get(reverse("portal_booking"), search, REMOTE_ADDR=ALICE).status_code
            )
    booked = client.post(reverse("portal_booking"), world.slot(10), REMOTE_ADDR=ALICE)
    assert booked.status_code == 302
    assert Appointment.objects.filter(patient=world.portal_patient).count() == 1
    check_in = outcome_services.create_check_in(
        patient=world.portal_patient,
        visit_ref=uuid.uuid4(),
        visit_ended_at=timezone.now() - timedelta(hours=1),
    )
    assert check_in is not None
    link = reverse("check_in", args=[outcome_services.check_in_token(check_in)])
    statuses += [_get(Client(), link).status_code for _ in range(3)]
    answered = Client().post(
        link, {"pain_now": 3, "global_change": 2, "soreness": "none"}, REMOTE_ADDR=ALICE
    )
    assert answered.status_code == 200
    assert set(statuses) <= {200, 302}
