"""Licence status across the 60-day and expiry boundaries (project decision, see
docs/decisions/0005-licence-status.md)."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backcare.accounts.licensing import (
    EXPIRING_WITHIN_DAYS,
    LicenceFacts,
    LicenceStatus,
    licence_status,
    therapist_status,
)

TODAY = date(2026, 11, 24)


@pytest.mark.parametrize(
    ("days_to_expiry", "verified", "expected"),
    [
        (-365, True, LicenceStatus.EXPIRED),
        (-1, True, LicenceStatus.EXPIRED),  # expired yesterday
        (0, True, LicenceStatus.EXPIRING),  # the expiry date is the last valid day
        (1, True, LicenceStatus.EXPIRING),
        (EXPIRING_WITHIN_DAYS - 1, True, LicenceStatus.EXPIRING),
        (EXPIRING_WITHIN_DAYS, True, LicenceStatus.EXPIRING),  # "within 60 days" is inclusive
        (EXPIRING_WITHIN_DAYS + 1, True, LicenceStatus.VALID),
        (3650, True, LicenceStatus.VALID),
        (-1, False, LicenceStatus.EXPIRED),  # a date in the past is expired, verified or not
        (0, False, LicenceStatus.UNVERIFIED),
        (EXPIRING_WITHIN_DAYS, False, LicenceStatus.UNVERIFIED),
        (3650, False, LicenceStatus.UNVERIFIED),
    ],
)
def test_licence_status_at_boundaries(days_to_expiry, verified, expected):
    facts = LicenceFacts(expires_on=TODAY + timedelta(days=days_to_expiry), verified=verified)
    assert licence_status(facts, on=TODAY) is expected


def test_only_valid_and_expiring_are_bookable():
    assert {s for s in LicenceStatus if s.bookable} == {LicenceStatus.VALID, LicenceStatus.EXPIRING}


def test_therapist_without_licence_is_unverified():
    assert therapist_status([], on=TODAY) is LicenceStatus.UNVERIFIED


def test_therapist_status_is_the_best_licence_when_a_renewal_is_verified():
    old = LicenceFacts(expires_on=TODAY - timedelta(days=3), verified=True)
    renewed = LicenceFacts(expires_on=TODAY + timedelta(days=400), verified=True)
    assert therapist_status([old, renewed], on=TODAY) is LicenceStatus.VALID


def test_therapist_status_is_unverified_when_the_renewal_is_not_yet_verified():
    old = LicenceFacts(expires_on=TODAY - timedelta(days=3), verified=True)
    renewed = LicenceFacts(expires_on=TODAY + timedelta(days=400), verified=False)
    assert therapist_status([old, renewed], on=TODAY) is LicenceStatus.UNVERIFIED


@given(
    offsets=st.lists(st.integers(min_value=-800, max_value=800), min_size=1, max_size=4),
    verified=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_therapist_is_bookable_exactly_when_one_licence_is(offsets, verified):
    licences = [
        LicenceFacts(expires_on=TODAY + timedelta(days=o), verified=v)
        for o, v in zip(offsets, verified, strict=False)
    ]
    expected = any(licence_status(f, on=TODAY).bookable for f in licences)
    assert therapist_status(licences, on=TODAY).bookable is expected
