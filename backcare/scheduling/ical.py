"""iCalendar (RFC 5545) text for appointment feeds and attachments, from plain rows: no Django.

Events carry the time, the service, the therapist's name (patient feeds) and the clinic; never
the patient's name in a therapist's feed, and never clinical text.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from icalendar import Calendar, Event

PRODID = "-//BackCare//Appointments//EN"


@dataclass(frozen=True)
class FeedEvent:
    """One appointment as a calendar shows it."""

    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str
    tentative: bool = False
    cancelled: bool = False


def calendar_bytes(name: str, events: Iterable[FeedEvent], *, stamp: datetime) -> bytes:
    """A VCALENDAR with one VEVENT per event, times in UTC. Raises `ValueError` for a naive
    time."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for item in events:
        calendar.add_component(_event(item, stamp))
    return bytes(calendar.to_ical())


def _event(item: FeedEvent, stamp: datetime) -> Event:
    for moment in (item.starts_at, item.ends_at, stamp):
        if moment.tzinfo is None:
            raise ValueError("Calendar times must carry a time zone.")
    event = Event()
    event.add("uid", item.uid)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", item.starts_at.astimezone(UTC))
    event.add("dtend", item.ends_at.astimezone(UTC))
    event.add("summary", item.summary)
    event.add("location", item.location)
    status = "CANCELLED" if item.cancelled else "TENTATIVE" if item.tentative else "CONFIRMED"
    event.add("status", status)
    return event
