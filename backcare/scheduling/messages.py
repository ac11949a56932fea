"""The words of confirmations, reminders, change notices and waitlist offers, by email and text
message. Pure: built from `MessageFacts`, which hold only where and when, never anything
clinical (no reason for the visit, no condition, no notes), because email and text messages are
read on lock screens and shared devices.
"""

from dataclasses import dataclass
from datetime import datetime

KINDS = (
    "confirmation",
    "request",
    "reminder",
    "moved",
    "cancelled",
    "waitlist_offer",
    "check_in",
    "follow_up",
)


@dataclass(frozen=True)
class MessageFacts:
    kind: str
    clinic_name: str
    clinic_phone: str
    starts_local: datetime  # aware, in the clinic's time zone
    duration_minutes: int
    therapist_name: str
    link: str
    covers_course: bool = False
    offer_expires_local: datetime | None = None
    follow_up_number: int = 0  # a follow-up: months since the course ended

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown message kind {self.kind!r}")
        if self.kind == "waitlist_offer" and self.offer_expires_local is None:
            raise ValueError("a waitlist offer needs its expiry time")
        if self.kind == "follow_up" and self.follow_up_number < 1:
            raise ValueError("a follow-up needs its number")


def _when(at: datetime) -> str:
    return f"{at:%A} {at.day} {at:%B %Y} at {at:%H:%M}"


def _call(facts: MessageFacts) -> str:
    return f" or call {facts.clinic_phone}" if facts.clinic_phone else ""


_SUBJECTS = {
    "confirmation": "Your appointment is booked",
    "request": "We have your booking request",
    "reminder": "Reminder: your appointment",
    "moved": "Your appointment has moved",
    "cancelled": "Your appointment is cancelled",
    "waitlist_offer": "A time has become free",
    "check_in": "How are you since your massage?",
    "follow_up": "A follow-up after your massage course",
}


def email_subject(facts: MessageFacts) -> str:
    return f"{_SUBJECTS[facts.kind]}: {facts.clinic_name}"


def _headline(facts: MessageFacts) -> str:
    if facts.kind == "follow_up":
        months = "a month" if facts.follow_up_number == 1 else f"{facts.follow_up_number} months"
        return (
            f"It is {months} since your course of massage ended. How is your back? Three "
            "short questions show whether the relief has lasted."
        )
    when = _when(facts.starts_local)
    length = f"{facts.duration_minutes}-minute appointment"
    with_whom = f" with {facts.therapist_name}" if facts.therapist_name else ""
    course = " and the later sessions of your course" if facts.covers_course else ""
    lines = {
        "confirmation": f"Your {length}{with_whom} on {when}{course} is booked.",
        "request": f"We have your request for a {length}{with_whom} on {when}{course}. "
        "The clinic will confirm it; the time is kept for you meanwhile.",
        "reminder": f"A reminder of your {length}{with_whom} on {when}.",
        "moved": f"Your {length}{with_whom}{course} now starts on {when}.",
        "cancelled": f"Your {length}{with_whom} on {when}{course} is cancelled.",
        "waitlist_offer": f"A {length}{with_whom} on {when} has become free, and you are first "
        "on the waitlist.",
        "check_in": f"How have you been since your appointment{with_whom} on {when}? Three "
        "short questions help your therapist plan the next session.",
    }
    return lines[facts.kind]


def email_body(facts: MessageFacts) -> str:
    """Plain-text email: what happened, when, and where to see or change it."""
    lines = ["Hello,", "", _headline(facts), ""]
    if facts.kind == "waitlist_offer":
        assert facts.offer_expires_local is not None
        lines += [
            f"It is yours to book until {_when(facts.offer_expires_local)}:",
            facts.link,
            "",
            "If you do not want it, do nothing: it goes to the next person.",
        ]
    elif facts.kind == "check_in":
        lines += [
            f"Answer here (no login needed; the link works for three days): {facts.link}",
        ]
    elif facts.kind == "follow_up":
        lines += [f"Answer here (no login needed; the link works for two weeks): {facts.link}"]
    elif facts.kind == "cancelled":
        lines += [f"To book another time, visit {facts.link}{_call(facts)}."]
    else:
        lines += [f"To see, move or cancel it, visit {facts.link}{_call(facts)}."]
    lines += ["", facts.clinic_name]
    return "\n".join(lines) + "\n"


def text_message(facts: MessageFacts) -> str:
    """A short text: the headline and the link."""
    return f"{facts.clinic_name}: {_headline(facts)} {facts.link}"
