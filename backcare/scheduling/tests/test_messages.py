"""The words of messages: each kind says what happened and when, in the clinic's time, with the
link; the facts hold nothing clinical, so no message can carry it."""

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from backcare.scheduling import messages

LONDON = ZoneInfo("Europe/London")
FACTS = messages.MessageFacts(
    kind="confirmation",
    clinic_name="Riverside Massage",
    clinic_phone="020 7946 0000",
    starts_local=datetime(2026, 3, 30, 9, 30, tzinfo=LONDON),
    duration_minutes=60,
    therapist_name="Anna Berg",
    link="https://bc.example/portal/appointments/",
)


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("confirmation", "is booked"),
        ("request", "The clinic will confirm it"),
        ("reminder", "A reminder of your"),
        ("moved", "now starts on"),
        ("cancelled", "is cancelled"),
    ],
)
def test_each_kind_says_what_happened_when_and_where_to_change_it(kind, says):
    facts = dataclasses.replace(FACTS, kind=kind)
    body = messages.email_body(facts)
    assert says in body
    assert "Monday 30 March 2026 at 09:30" in body
    assert "60-minute appointment with Anna Berg" in body
    assert facts.link in body
    assert "020 7946 0000" in body
    assert says in messages.text_message(facts)
    assert messages.email_subject(facts).endswith(": Riverside Massage")


def test_a_course_notice_says_it_covers_the_later_sessions():
    facts = dataclasses.replace(FACTS, covers_course=True)
    assert "and the later sessions of your course is booked" in messages.email_body(facts)


def test_a_waitlist_offer_says_until_when_it_is_yours():
    facts = dataclasses.replace(
        FACTS,
        kind="waitlist_offer",
        offer_expires_local=datetime(2026, 3, 29, 21, 0, tzinfo=LONDON),
    )
    body = messages.email_body(facts)
    assert "until Sunday 29 March 2026 at 21:00" in body
    assert "goes to the next person" in body


def test_a_waitlist_offer_without_its_expiry_or_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="expiry"):
        dataclasses.replace(FACTS, kind="waitlist_offer")
    with pytest.raises(ValueError, match="unknown"):
        dataclasses.replace(FACTS, kind="diagnosis")


def test_the_facts_hold_only_where_and_when():
    names = {field.name for field in dataclasses.fields(messages.MessageFacts)}
    assert names == {
        "kind",
        "clinic_name",
        "clinic_phone",
        "starts_local",
        "duration_minutes",
        "therapist_name",
        "link",
        "covers_course",
        "offer_expires_local",
        "follow_up_number",
    }
