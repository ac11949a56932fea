"""Calendar feeds: parse with icalendar, show no patient names or clinical text, answer 404 once
revoked or for an unknown token; tokens are stored hashed."""

import hashlib
import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from icalendar import Calendar

from backcare.core.models import AuditEvent
from backcare.scheduling import ical, services
from backcare.scheduling.models import CalendarFeed
from backcare.scheduling.tests.test_views import PortalWorld
from conftest import client_for
from tests.factories import make_user


@pytest.fixture
def world(db) -> PortalWorld:
    world = PortalWorld()
    world.book(world.at(10), patient=world.portal_patient)
    world.book(world.at(12))  # another patient, same therapist
    return world


def _link(client, kind: str) -> str:
    response = client.post(reverse("calendar_feeds"), {"kind": kind}, follow=True)
    assert response.status_code == 200
    url = re.search(r"(http://testserver/calendar/[^\s<]+\.ics)", response.content.decode())
    assert url, "the new link is shown once"
    path = url.group(1).removeprefix("http://testserver")
    token = path.removeprefix("/calendar/").removesuffix(".ics")
    assert path == reverse("calendar_feed", args=[token])
    return path


def _events(client, path: str) -> list:
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return list(Calendar.from_ical(response.content).walk("VEVENT"))


def test_a_patients_feed_lists_their_appointments_only(world):
    path = _link(client_for(world.patient_user), "patient")
    events = _events(client_for(None), path)  # a calendar app: no login
    assert len(events) == 1
    event = events[0]
    assert event.decoded("dtstart") == world.at(10).astimezone(UTC)
    assert "Back massage 60" in str(event["summary"])
    assert world.therapist.user.full_name in str(event["summary"])
    assert world.clinic.name in str(event["location"])
    assert AuditEvent.objects.filter(
        action="calendar_feed.read", patient_id=world.portal_patient.pk
    ).exists()


def test_a_therapists_feed_never_names_patients(world):
    path = _link(client_for(world.therapist.user), "therapist")
    response = client_for(None).get(path)
    events = list(Calendar.from_ical(response.content).walk("VEVENT"))
    assert len(events) == 2
    body = response.content.decode()
    for patient in (world.patient, world.portal_patient):
        assert patient.family_name not in body
        assert patient.given_name not in body


def test_a_revoked_or_unknown_token_gets_404_and_tokens_are_stored_hashed(world):
    client = client_for(world.patient_user)
    path = _link(client, "patient")
    token = path.removeprefix("/calendar/").removesuffix(".ics")
    feed = CalendarFeed.objects.get()
    assert feed.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(CalendarFeed.objects.values().get())
    client.post(reverse("calendar_feeds"), {"revoke": str(feed.pk)})
    assert client_for(None).get(path).status_code == 404
    assert client_for(None).get("/calendar/not-a-token.ics").status_code == 404


def test_only_the_owner_may_revoke_a_feed(world):
    _link(client_for(world.patient_user), "patient")
    feed = CalendarFeed.objects.get()
    response = client_for(make_user()).post(reverse("calendar_feeds"), {"revoke": str(feed.pk)})
    assert response.status_code == 404
    feed.refresh_from_db()
    assert feed.revoked_at is None
    assert AuditEvent.objects.filter(action="calendar_feed.revoke", outcome="denied").exists()


def test_someone_without_the_role_cannot_make_a_feed(world):
    response = client_for(world.desk).post(reverse("calendar_feeds"), {"kind": "therapist"})
    assert response.status_code == 404
    assert not CalendarFeed.objects.exists()


def test_the_page_lists_feeds_and_offers_the_right_kinds(world):
    page = client_for(world.patient_user).get(reverse("calendar_feeds")).content.decode()
    assert "Link to my appointments" in page
    assert "Link to my working calendar" not in page


def test_calendar_times_must_carry_a_zone():
    naive = datetime(2026, 1, 1, 10)  # noqa: DTZ001 - the mistake under test
    event = ical.FeedEvent("x@backcare", naive, naive.replace(hour=11), "a", "b")
    with pytest.raises(ValueError, match="time zone"):
        ical.calendar_bytes("test", [event], stamp=datetime.now(UTC))


def test_services_refuse_a_revoked_token(world):
    from backcare.core.errors import NotFoundError

    _, token = services.create_calendar_feed(
        actor=world.patient_user, clinic=world.clinic, kind="patient"
    )
    assert services.read_calendar_feed(token=token).startswith(b"BEGIN:VCALENDAR")
    services.revoke_calendar_feed(actor=world.patient_user, feed_id=CalendarFeed.objects.get().pk)
    with pytest.raises(NotFoundError):
        services.read_calendar_feed(token=token)
