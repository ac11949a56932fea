"""Typed `make_<thing>()` helpers for tests. Each builds a valid row with sensible defaults."""

import itertools
from datetime import date, timedelta
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.utils import timezone

from backcare.accounts.models import (
    STAFF_ROLES,
    Clinic,
    Licence,
    Membership,
    Role,
    Room,
    Therapist,
    User,
)
from backcare.core.models import WebhookEndpoint, WebhookEvent
from backcare.core.webhooks import create_endpoint
from backcare.patients.models import ConsentKind, ConsentText, Patient, PatientPreferences

PASSWORD = "correct-horse-battery-staple"
# Staff made here are enrolled in TOTP with this secret, as MFA requires of staff in production.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_seq = itertools.count(1)


def make_user(email: str | None = None, *, full_name: str = "Test Person", **extra: Any) -> User:
    n = next(_seq)
    return User.objects.create_user(
        email=email or f"person{n}@example.test", password=PASSWORD, full_name=full_name, **extra
    )


def make_clinic(name: str = "Test Clinic", *, time_zone: str = "Europe/London") -> Clinic:
    return Clinic.objects.create(name=f"{name} {next(_seq)}", time_zone=time_zone)


def make_room(clinic: Clinic, name: str = "Room") -> Room:
    return Room.objects.create(clinic=clinic, name=f"{name} {next(_seq)}")


def make_member(
    clinic: Clinic, role: Role, user: User | None = None, *, with_totp: bool = True
) -> User:
    """A person with `role` at `clinic`; staff get a TOTP authenticator unless told not to."""
    user = user or make_user(full_name=f"{role.label} {next(_seq)}")
    Membership.objects.create(clinic=clinic, user=user, role=role, accepted_at=timezone.now())
    if role == Role.THERAPIST:
        Therapist.objects.get_or_create(user=user)
    if with_totp and role in STAFF_ROLES and not Authenticator.objects.filter(user=user).exists():
        TOTP.activate(user, TOTP_SECRET)
    return user


def make_therapist(
    clinic: Clinic, *, expires_in_days: int | None = 365, verified: bool = True
) -> Therapist:
    user = make_member(clinic, Role.THERAPIST)
    therapist = Therapist.objects.get(user=user)
    if expires_in_days is not None:
        make_licence(
            therapist,
            expires_on=clinic.local_date() + timedelta(days=expires_in_days),
            verified=verified,
        )
    return therapist


def make_licence(
    therapist: Therapist,
    *,
    expires_on: date,
    verified: bool = True,
    verified_by: User | None = None,
) -> Licence:
    return Licence.objects.create(
        therapist=therapist,
        number=f"L-{next(_seq)}",
        issuing_board="Test Board",
        jurisdiction="Testshire",
        licence_type="Registered Massage Therapist",
        expires_on=expires_on,
        verified_by=(verified_by or therapist.user) if verified else None,
        verified_at=timezone.now() if verified else None,
    )


def make_patient(clinic: Clinic, *, user: User | None = None, **fields: Any) -> Patient:
    values: dict[str, Any] = {
        "given_name": "Pat",
        "family_name": f"Ient{next(_seq)}",
        "date_of_birth": date(1980, 5, 17),
        "email": "pat@example.test",
        "phone": "+44 20 7946 0000",
    }
    values.update(fields)
    patient = Patient.objects.create(clinic=clinic, user=user, **values)
    PatientPreferences.objects.create(clinic=clinic, patient=patient)
    if (
        user is not None
        and not Membership.objects.filter(clinic=clinic, user=user, role=Role.PATIENT).exists()
    ):
        Membership.objects.create(
            clinic=clinic, user=user, role=Role.PATIENT, accepted_at=timezone.now()
        )
    return patient


def make_consent_text(
    clinic: Clinic, kind: str = ConsentKind.TREATMENT, version: int = 1
) -> ConsentText:
    return ConsentText.objects.create(
        clinic=clinic,
        kind=kind,
        version=version,
        title=f"{ConsentKind(kind).label} v{version}",
        body="I agree.",
        published_at=timezone.now(),
    )


def make_webhook_endpoint(
    clinic: Clinic,
    events: list[WebhookEvent] | None = None,
    *,
    url: str = "https://hooks.example.org/backcare",
) -> WebhookEndpoint:
    """An active endpoint of the clinic for `events` (all of them by default); never called."""
    endpoint, _ = create_endpoint(
        clinic_id=clinic.pk, url=url, events=events or list(WebhookEvent), created_by_id=None
    )
    return endpoint
