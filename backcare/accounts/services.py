"""Use cases that change people, clinics, memberships, therapist profiles and licences.

Each service takes the acting user first, checks that they may act, writes, and records an audit
event. Errors are `DomainError`s whose message says what to fix.
"""

import hashlib
import secrets
import uuid
from collections.abc import Collection, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from backcare.accounts import queries, tasks
from backcare.accounts.models import (
    ApiGroup,
    ApiScope,
    ApiToken,
    Clinic,
    Licence,
    Membership,
    Role,
    Room,
    Technique,
    Therapist,
    User,
)
from backcare.accounts.queries import ADMIN_ROLES, Viewer, require_roles
from backcare.core import webhooks
from backcare.core.audit import Outcome, record_event
from backcare.core.changes import apply_changes, save_changes
from backcare.core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    full_clean_or_invalid,
)
from backcare.core.models import WebhookEndpoint

CLINIC_FIELDS = (
    "name",
    "time_zone",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "phone",
    "email",
)
LICENCE_FACT_FIELDS = ("number", "issuing_board", "jurisdiction", "licence_type", "expires_on")


def update_clinic(*, actor: Viewer, clinic: Clinic | None, **values: str) -> Clinic:
    """Change the clinic's name, time zone, address or contact details (clinic admins only)."""
    clinic = require_roles(actor, clinic, ADMIN_ROLES, action="clinic.update")
    with transaction.atomic():
        save_changes(
            clinic, values, CLINIC_FIELDS, actor=actor, action="clinic.update", clinic_id=clinic.pk
        )
        return clinic


def add_room(*, actor: Viewer, clinic: Clinic | None, name: str) -> Room:
    clinic = require_roles(actor, clinic, ADMIN_ROLES, action="room.create")
    with transaction.atomic():
        name = name.strip()
        if Room.objects.filter(clinic=clinic, name__iexact=name).exists():
            raise InvalidInputError(
                f"There is already a room called “{name}”. Choose another name.",
                field_errors={"name": "A room with this name already exists."},
            )
        room = Room(clinic=clinic, name=name)
        full_clean_or_invalid(room)
        try:
            with transaction.atomic():
                room.save()
        except IntegrityError as error:
            raise ConflictError(
                f"A room called “{name}” was just added. Reload the page."
            ) from error
        record_event(actor=actor, action="room.create", clinic_id=clinic.pk, obj=room)
        return room


def set_room_active(
    *, actor: Viewer, clinic: Clinic | None, room_id: uuid.UUID, active: bool
) -> Room:
    """Take a room out of use or back into use. Rooms are never deleted (bookings point at them)."""
    room = queries.get_room(actor, clinic, room_id)
    with transaction.atomic():
        room.is_active = active
        room.save(update_fields=["is_active", "updated_at"])
        record_event(
            actor=actor,
            action="room.update",
            clinic_id=room.clinic_id,
            obj=room,
            detail={"active": active},
        )
        return room


def add_member(
    *,
    actor: Viewer,
    clinic: Clinic | None,
    email: str,
    full_name: str,
    role: Role,
    site_url: str,
) -> Membership:
    """Offer a person a role in the clinic and email them an invitation.

    Admins offer any role; other clinic staff may give a patient a portal login. A new account is
    created without a usable password, and its role counts at once: the person joins by setting
    a password from the email. A person who already has an account must accept on their home
    page before the role counts, so that no clinic can claim someone else's profile or login by
    typing an email address. Raises `InvalidInputError` if the role is held or already offered,
    `ConflictError` if the account was created at the same moment by someone else.
    """
    granters = queries.CLINIC_STAFF_ROLES if role == Role.PATIENT else ADMIN_ROLES
    clinic = require_roles(actor, clinic, granters, action="membership.create")
    email = email.strip().lower()
    try:
        with transaction.atomic():
            return _offer_role(actor, clinic, email, full_name.strip(), role, site_url)
    except IntegrityError as error:
        raise ConflictError(
            f"An account for {email} was being created at the same time. Please try again."
        ) from error


def _offer_role(
    actor: Viewer, clinic: Clinic, email: str, full_name: str, role: Role, site_url: str
) -> Membership:
    user = User.objects.filter(email=email).first()
    created = user is None
    if user is None:
        user = User.objects.create_user(email=email, password=None, full_name=full_name)
    membership, made = Membership.objects.get_or_create(clinic=clinic, user=user, role=role)
    label = Role(role).label.lower()
    if not made and membership.is_active:
        state = "already has" if membership.accepted_at else "has already been offered"
        raise InvalidInputError(
            f"{email} {state} the role of {label} at {clinic.name}.",
            field_errors={"role": f"This person {state} this role here."},
        )
    membership.is_active = True
    membership.accepted_at = timezone.now() if created else None
    membership.save()
    if role == Role.THERAPIST:
        Therapist.objects.get_or_create(user=user)
    queries.forget_memberships(user)
    record_event(
        actor=actor,
        action="membership.create",
        clinic_id=clinic.pk,
        obj=membership,
        detail={"role": role, "new_account": created},
    )
    transaction.on_commit(lambda: tasks.send_invitation.enqueue(str(membership.pk), site_url))
    return membership


def answer_invitation(*, actor: Viewer, membership_id: uuid.UUID, accept: bool) -> Membership:
    """Accept or decline a role a clinic offered to the signed-in person."""
    membership = queries.get_invitation(actor, membership_id)
    with transaction.atomic():
        if accept:
            membership.accepted_at = timezone.now()
        else:
            membership.is_active = False
        membership.save(update_fields=["accepted_at", "is_active", "updated_at"])
        queries.forget_memberships(actor)
        record_event(
            actor=actor,
            action="membership.accept" if accept else "membership.decline",
            clinic_id=membership.clinic_id,
            obj=membership,
            detail={"role": membership.role},
        )
        return membership


def set_membership_active(
    *, actor: Viewer, clinic: Clinic | None, membership_id: uuid.UUID, active: bool
) -> Membership:
    """End or restore a person's role in the clinic. Refuses to end the last admin role, so a
    clinic is never left without an admin (checked under a lock on the admin roles)."""
    membership = queries.get_membership(actor, clinic, membership_id)
    with transaction.atomic():
        if not active and membership.role == Role.CLINIC_ADMIN:
            admins = Membership.objects.in_force().select_for_update()
            admins = admins.filter(clinic_id=membership.clinic_id, role=Role.CLINIC_ADMIN)
            if not admins.exclude(pk=membership.pk).exists():
                raise InvalidInputError(
                    "This is the clinic's last admin. Make someone else an admin first."
                )
        membership.is_active = active
        membership.save(update_fields=["is_active", "updated_at"])
        queries.forget_memberships(membership.user)
        record_event(
            actor=actor,
            action="membership.update",
            clinic_id=membership.clinic_id,
            obj=membership,
            detail={"active": active},
        )
        return membership


def save_therapist_profile(
    *,
    actor: Viewer,
    therapist_id: uuid.UUID,
    gender: str,
    years_of_experience: int,
    languages: str,
    bio: str,
    techniques: Iterable[Technique],
) -> Therapist:
    """Update the therapist's profile (the therapist themself or an admin of their clinic)."""
    therapist = queries.get_therapist(actor, therapist_id, for_change=True)
    with transaction.atomic():
        values = {
            "gender": gender,
            "years_of_experience": years_of_experience,
            "languages": ", ".join(p.strip() for p in languages.split(",") if p.strip()),
            "bio": bio,
        }
        changed = apply_changes(therapist, values, values.keys())
        full_clean_or_invalid(therapist)
        therapist.save()
        therapist.techniques.set(list(techniques))
        _record_for_therapist(
            actor, therapist, "therapist.update", therapist, {"fields": [*changed, "techniques"]}
        )
        return therapist


# Imported therapists get an address under the reserved `.invalid` domain (RFC 2606): no
# mail reaches it and no one can claim it, so the account cannot sign in or reset a password.
IMPORTED_EMAIL_DOMAIN = "imported.invalid"


def import_therapist(*, actor: Viewer, clinic: Clinic | None, full_name: str) -> Therapist:
    """A therapist of the clinic for the history of an imported record (clinic admins; others
    get `NotFoundError`, audited). Always a new account, never an existing person's: a bundle
    carries a name, not a login, and importing must not give anyone access to this clinic. The
    account has no usable password and an address no mail reaches, so it cannot sign in; its
    role counts at once so that the therapist's visits and licences belong to the clinic."""
    clinic = require_roles(actor, clinic, ADMIN_ROLES, action="therapist.import")
    name = full_name.strip()
    if not name or len(name) > 150:
        raise InvalidInputError("A therapist needs a name of at most 150 characters.")
    with transaction.atomic():
        user = User.objects.create_user(
            email=f"therapist-{uuid.uuid4()}@{IMPORTED_EMAIL_DOMAIN}", password=None, full_name=name
        )
        membership = Membership.objects.create(
            clinic=clinic, user=user, role=Role.THERAPIST, accepted_at=timezone.now()
        )
        therapist = Therapist.objects.create(user=user)
        record_event(
            actor=actor,
            action="therapist.import",
            clinic_id=clinic.pk,
            obj=membership,
            detail={"therapist": str(therapist.pk)},
        )
        return therapist


def add_licence(
    *,
    actor: Viewer,
    therapist_id: uuid.UUID,
    number: str,
    issuing_board: str,
    jurisdiction: str,
    licence_type: str,
    expires_on: date,
) -> Licence:
    """Record a licence. It starts unverified: someone must check it with the issuing board."""
    therapist = queries.get_therapist(actor, therapist_id, for_change=True)
    with transaction.atomic():
        licence = Licence(
            therapist=therapist,
            number=number.strip(),
            issuing_board=issuing_board.strip(),
            jurisdiction=jurisdiction.strip(),
            licence_type=licence_type.strip(),
            expires_on=expires_on,
        )
        _save_licence(licence)
        _record_for_therapist(actor, therapist, "licence.create", licence)
        return licence


def update_licence(*, actor: Viewer, licence_id: uuid.UUID, **facts: Any) -> Licence:
    """Correct or renew a licence. Changing any fact on it clears its verification, because
    what was verified is no longer what is recorded."""
    licence = queries.get_licence(actor, licence_id)
    with transaction.atomic():
        cleaned = {k: v.strip() if isinstance(v, str) else v for k, v in facts.items()}
        changed = apply_changes(licence, cleaned, LICENCE_FACT_FIELDS)
        if changed:
            licence.verified_by = None
            licence.verified_at = None
        _save_licence(licence)
        detail = {"fields": changed, "verification_cleared": bool(changed)}
        _record_for_therapist(actor, licence.therapist, "licence.update", licence, detail)
        return licence


def verify_licence(*, actor: Viewer, licence_id: uuid.UUID) -> Licence:
    """Mark a licence as checked against the issuing board's register, by `actor`, now.

    Only an admin of a clinic where the therapist works may verify. A sole practitioner who is
    their own admin may verify their own licence; the audit event says so.
    """
    licence = queries.get_licence(actor, licence_id, admin_only=True)
    with transaction.atomic():
        licence.verified_by = queries.acting_user(actor)
        licence.verified_at = timezone.now()
        licence.save(update_fields=["verified_by", "verified_at", "updated_at"])
        detail = {"self_verified": licence.therapist.user_id == actor.pk}
        _record_for_therapist(actor, licence.therapist, "licence.verify", licence, detail)
        return licence


def _record_for_therapist(
    actor: Viewer,
    therapist: Therapist,
    action: str,
    obj: Therapist | Licence,
    detail: dict[str, Any] | None = None,
) -> None:
    """One event in each clinic where the therapist works, so each clinic's admins see it."""
    clinic_ids: list[uuid.UUID | None] = [*queries.therapist_clinic_ids(therapist)] or [None]
    for clinic_id in clinic_ids:
        record_event(actor=actor, action=action, clinic_id=clinic_id, obj=obj, detail=detail)


def _save_licence(licence: Licence) -> None:
    full_clean_or_invalid(licence)
    try:
        with transaction.atomic():
            licence.save()
    except IntegrityError as error:
        raise InvalidInputError(
            "This therapist already has a licence with this number from this board.",
            field_errors={"number": "Already recorded for this board."},
        ) from error


# --- API tokens -----------------------------------------------------------------------------------

API_TOKEN_NAME_MAX = 80
# last_used_at is written at most once a minute per token, not on every call.
LAST_USED_EVERY = timedelta(minutes=1)


def api_token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(
    *,
    actor: Viewer,
    clinic: Clinic | None,
    name: str,
    scopes: Collection[str],
    groups: Collection[str] | None = None,
    expires_in_days: int | None = None,
) -> tuple[ApiToken, str]:
    """A personal access token for the actor, acting in `clinic` with `scopes` (read, write)
    over the resource `groups` (`ApiGroup`; None: every group).

    Returns the token row and the token itself, which is shown once and stored only as its
    SHA-256. Anyone with a role at the clinic may make one for themself; the token can do no more
    than they can on the pages there. Raises `NotFoundError` (audited) without a role there and
    `InvalidInputError` for a missing name, unknown scopes or a non-positive lifetime.
    """
    clinic = require_roles(actor, clinic, list(Role), action="api_token.create")
    user = queries.acting_user(actor)
    name = name.strip()
    chosen = sorted(set(scopes))
    errors: dict[str, str] = {}
    if not name or len(name) > API_TOKEN_NAME_MAX:
        errors["name"] = f"Give the token a name of 1 to {API_TOKEN_NAME_MAX} characters."
    if not chosen or not set(chosen) <= set(ApiScope.values):
        errors["scopes"] = "Choose read, or read and write."
    areas = sorted(set(ApiGroup.values if groups is None else groups))
    if not areas or not set(areas) <= set(ApiGroup.values):
        errors["groups"] = "Choose at least one of: " + ", ".join(ApiGroup.values) + "."
    if expires_in_days is not None and expires_in_days < 1:
        errors["expires_in_days"] = "Choose a lifetime of at least one day, or none."
    if errors:
        raise InvalidInputError("Please correct the highlighted fields.", field_errors=errors)
    if ApiScope.WRITE in chosen and ApiScope.READ not in chosen:
        chosen = sorted({*chosen, ApiScope.READ.value})
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        row = ApiToken.objects.create(
            clinic=clinic,
            user=user,
            name=name,
            scopes=chosen,
            groups=areas,
            token_sha256=api_token_sha256(token),
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        )
        record_event(
            actor=actor,
            action="api_token.create",
            clinic_id=clinic.pk,
            obj=row,
            detail={"scopes": chosen, "groups": areas},
        )
    return row, token


def revoke_api_token(*, actor: Viewer, token_id: uuid.UUID) -> ApiToken:
    """End a token at once: it authenticates nobody from now on. Only its owner may revoke it
    (`NotFoundError`, audited, for anyone else)."""
    owner = queries.acting_user(actor)
    row = ApiToken.objects.filter(pk=token_id, user=owner).first()
    if row is None:
        raise queries.deny(
            actor,
            action="api_token.revoke",
            object_type="accounts.apitoken",
            object_id=str(token_id),
        )
    with transaction.atomic():
        if row.revoked_at is None:
            row.revoked_at = timezone.now()
            row.save(update_fields=["revoked_at", "updated_at"])
        record_event(actor=actor, action="api_token.revoke", clinic_id=row.clinic_id, obj=row)
    return row


def authenticate_api_token(token: str, *, now: datetime | None = None) -> ApiToken:
    """The token row (with its user and clinic) for a presented token, its user narrowed to the
    token's clinic (`queries.act_in_clinic_only`). Stamps `last_used_at` at most once a minute.

    Raises `NotFoundError` for an unknown, revoked or expired token, or one whose owner's
    account is closed; a known token refused is audited in its clinic.
    """
    now = now or timezone.now()
    row = (
        ApiToken.objects.filter(token_sha256=api_token_sha256(token))
        .select_related("user", "clinic")
        .first()
    )
    if row is None:
        raise NotFoundError("Unknown token.")
    if not row.is_usable(now) or not row.user.is_active:
        record_event(
            actor=row.user,
            action="api_token.use",
            clinic_id=row.clinic_id,
            obj=row,
            outcome=Outcome.DENIED,
            detail={"revoked": row.revoked_at is not None},
        )
        raise NotFoundError("This token is revoked or expired.")
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    queries.act_in_clinic_only(row.user, row.clinic_id)
    return row


# --- Webhooks (decision 0022) --------------------------------------------------------------------


def register_webhook_endpoint(
    *, actor: Viewer, clinic: Clinic | None, url: str, events: Collection[str]
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint of the clinic for `events`; return it and its signing secret, which
    is shown this once. Clinic admins only (`NotFoundError`, audited, for others);
    `InvalidInputError` for a URL that is not http(s) or no known event."""
    clinic = require_roles(actor, clinic, ADMIN_ROLES, action="webhook.create")
    with transaction.atomic():
        endpoint, secret = webhooks.create_endpoint(
            clinic_id=clinic.pk, url=url, events=events, created_by_id=actor.pk
        )
        record_event(
            actor=actor,
            action="webhook.create",
            clinic_id=clinic.pk,
            obj=endpoint,
            detail={"events": endpoint.events},
        )
    return endpoint, secret


def set_webhook_endpoint_active(
    *, actor: Viewer, clinic: Clinic | None, endpoint_id: uuid.UUID, active: bool
) -> WebhookEndpoint:
    """Disable an endpoint (it gets nothing more; deliveries waiting are skipped) or enable it
    again. Endpoints are never deleted: their delivery log stays. Admins only (404 otherwise)."""
    endpoint = queries.get_webhook_endpoint(actor, clinic, endpoint_id, action="webhook.update")
    with transaction.atomic():
        webhooks.set_endpoint_active(endpoint, active=active)
        record_event(
            actor=actor,
            action="webhook.update",
            clinic_id=endpoint.clinic_id,
            obj=endpoint,
            detail={"active": active},
        )
    return endpoint
