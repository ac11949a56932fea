"""Licence status, derived from the licence's expiry date and verification.

Pure rules, no Django. A licence is valid through its expiry date (the date printed on it is the
last day it may be used). Status precedence for one licence: expired (a fact of the calendar),
then unverified (no one has checked it against the issuing board), then expiring (60 days or
fewer left), then valid. A therapist's status is the best status among their licences, so a
renewed licence counts as soon as it is verified; with no licence on file it is unverified.
Only valid and expiring therapists are bookable (issue: "a lapsed licence makes a therapist
unbookable"). The 60-day window is a project decision (docs/decisions/0005-licence-status.md).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

EXPIRING_WITHIN_DAYS = 60


class LicenceStatus(StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"
    UNVERIFIED = "unverified"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def bookable(self) -> bool:
        return self in BOOKABLE_STATUSES


_LABELS = {
    LicenceStatus.VALID: "Valid",
    LicenceStatus.EXPIRING: f"Expiring within {EXPIRING_WITHIN_DAYS} days",
    LicenceStatus.UNVERIFIED: "Not verified",
    LicenceStatus.EXPIRED: "Expired",
}

BOOKABLE_STATUSES = frozenset({LicenceStatus.VALID, LicenceStatus.EXPIRING})

# Best first: the order in which a therapist's licences are preferred.
_PRECEDENCE = (
    LicenceStatus.VALID,
    LicenceStatus.EXPIRING,
    LicenceStatus.UNVERIFIED,
    LicenceStatus.EXPIRED,
)


@dataclass(frozen=True)
class LicenceFacts:
    """What the status depends on: the expiry date and whether anyone verified the licence."""

    expires_on: date
    verified: bool


def licence_status(facts: LicenceFacts, *, on: date) -> LicenceStatus:
    """Status of one licence on the calendar date `on` (the clinic's local date)."""
    if facts.expires_on < on:
        return LicenceStatus.EXPIRED
    if not facts.verified:
        return LicenceStatus.UNVERIFIED
    if facts.expires_on <= on + timedelta(days=EXPIRING_WITHIN_DAYS):
        return LicenceStatus.EXPIRING
    return LicenceStatus.VALID


def therapist_status(licences: Iterable[LicenceFacts], *, on: date) -> LicenceStatus:
    """Best status among a therapist's licences; unverified when none is on file."""
    statuses = {licence_status(facts, on=on) for facts in licences}
    return next((s for s in _PRECEDENCE if s in statuses), LicenceStatus.UNVERIFIED)


def days_left(facts: LicenceFacts, *, on: date) -> int:
    """Days from `on` to the expiry date; negative once expired."""
    return (facts.expires_on - on).days
