"""Reads of people, clinics and licences, scoped to the acting user.

Access is decided here: a viewer without the role gets `NotFoundError` (a 404, never a 403 with
details) and the denied attempt is audited.
"""

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, Max, OuterRef, Prefetch, Q, QuerySet

from backcare.accounts.licensing import (
    EXPIRING_WITHIN_DAYS,
    LicenceStatus,
    therapist_status,
)
from backcare.accounts.models import (
    STAFF_ROLES,
    ApiToken,
    Clinic,
    Licence,
    Membership,
    Role,
    Room,
    Technique,
    Therapist,
    User,
    in_force,
)
from backcare.core import webhooks
from backcare.core.audit import Outcome, record_event
from backcare.core.errors import NotFoundError
from backcare.core.export import ExportTable, table_of
from backcare.core.models import WebhookDelivery, WebhookEndpoint
from backcare.core.paging import page_after

Viewer = User | AnonymousUser

ADMIN_ROLES = frozenset({Role.CLINIC_ADMIN})
OFFICE_ROLES = frozenset({Role.CLINIC_ADMIN, Role.FRONT_DESK})
CLINIC_STAFF_ROLES = frozenset({Role.CLINIC_ADMIN, Role.FRONT_DESK, Role.THERAPIST})


_MEMBERSHIP_CACHE = "_backcare_memberships"


def memberships_of(user: Viewer) -> list[Membership]:
    """The user's active memberships with their clinics: one query, then cached on the user
    object for the rest of the request (`forget_memberships` clears it after a change)."""
    if not user.is_authenticated:
        return []
    cached: list[Membership] | None = getattr(user, _MEMBERSHIP_CACHE, None)
    if cached is None:
        cached = list(
            Membership.objects.in_force()
            .filter(user_id=user.pk)
            .select_related("clinic")
            .order_by("clinic__name", "role")
        )
        setattr(user, _MEMBERSHIP_CACHE, cached)
    return cached


def act_in_clinic_only(user: User, clinic_id: uuid.UUID) -> None:
    """Narrow the user's roles, for the rest of the request, to those held at one clinic: an API
    token acts in its own clinic only, whatever else its owner may see (decision 0019)."""
    kept = [m for m in memberships_of(user) if m.clinic_id == clinic_id]
    setattr(user, _MEMBERSHIP_CACHE, kept)


def forget_memberships(user: Viewer) -> None:
    if hasattr(user, _MEMBERSHIP_CACHE):
        delattr(user, _MEMBERSHIP_CACHE)


def acting_user(viewer: Viewer) -> User:
    """The signed-in user behind `viewer`; anonymous visitors get a 404 (login is required
    before any page that calls this)."""
    if not isinstance(viewer, User):
        raise NotFoundError("We could not find that page.")
    return viewer


def has_staff_role(user: Viewer) -> bool:
    """True when the user holds any non-patient role anywhere (MFA applies to them)."""
    return any(m.role in STAFF_ROLES for m in memberships_of(user))


def deny(
    viewer: Viewer,
    *,
    action: str,
    clinic_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    object_type: str = "",
    object_id: str = "",
) -> NotFoundError:
    """Audit a denied attempt and return the error to raise (the viewer sees a plain 404)."""
    record_event(
        actor=viewer,
        action=action,
        clinic_id=clinic_id,
        patient_id=patient_id,
        object_type=object_type,
        object_id=object_id,
        outcome=Outcome.DENIED,
    )
    return NotFoundError("We could not find that page.")


def roles_in(user: Viewer, clinic: Clinic | None) -> frozenset[Role]:
    if clinic is None:
        return frozenset()
    return frozenset(Role(m.role) for m in memberships_of(user) if m.clinic_id == clinic.pk)


def require_roles(
    viewer: Viewer, clinic: Clinic | None, allowed: Collection[Role], *, action: str
) -> Clinic:
    """Return `clinic` if the viewer holds one of `allowed` there; else audit and raise 404."""
    if clinic is None or not roles_in(viewer, clinic) & set(allowed):
        raise deny(viewer, action=action, clinic_id=clinic.pk if clinic else None)
    return clinic


def group_clinics(viewer: Viewer) -> list[Clinic]:
    """The clinics the viewer administers, by name (no query once memberships are loaded)."""
    found = {m.clinic_id: m.clinic for m in memberships_of(viewer) if m.role in ADMIN_ROLES}
    return sorted(found.values(), key=lambda c: (c.name, str(c.pk)))


def require_group_admin(viewer: Viewer, *, action: str) -> list[Clinic]:
    """The clinics of a group admin (clinic admin of two or more clinics), by name; anyone
    else is audited and gets `NotFoundError`."""
    clinics = group_clinics(viewer)
    if len(clinics) < 2:
        raise deny(viewer, action=action)
    return clinics


def require_roles_in_all(
    viewer: Viewer, clinics: Collection[Clinic], allowed: Collection[Role], *, action: str
) -> list[uuid.UUID]:
    """The clinics' ids when the viewer holds one of `allowed` in every one of them; else audit
    the first refused clinic and raise `NotFoundError`."""
    return [require_roles(viewer, c, allowed, action=action).pk for c in clinics]


def clinics_where(user: Viewer, roles: Collection[Role]) -> set[uuid.UUID]:
    """Ids of the clinics where the user holds one of `roles`."""
    return {m.clinic_id for m in memberships_of(user) if m.role in roles}


# --- Clinic, rooms, team ------------------------------------------------------------------------


def get_clinic_for_admin(viewer: Viewer, clinic: Clinic | None) -> Clinic:
    return require_roles(viewer, clinic, ADMIN_ROLES, action="clinic.settings")


def list_rooms(viewer: Viewer, clinic: Clinic | None) -> QuerySet[Room]:
    clinic = require_roles(viewer, clinic, CLINIC_STAFF_ROLES, action="clinic.rooms")
    return Room.objects.filter(clinic=clinic).order_by("-is_active", "name")


def get_room(viewer: Viewer, clinic: Clinic | None, room_id: uuid.UUID) -> Room:
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="room.change")
    room = Room.objects.filter(clinic=clinic, pk=room_id).first()
    if room is None:
        raise deny(viewer, action="room.change", clinic_id=clinic.pk, object_id=str(room_id))
    return room


@dataclass(frozen=True)
class TeamMember:
    """A person on the team. Until they accept an invitation, only the email the admin typed is
    shown (an existing account's name is theirs to reveal)."""

    user: User
    roles: tuple[Role, ...]
    memberships: tuple[Membership, ...]

    @property
    def name(self) -> str:
        accepted = any(m.accepted_at for m in self.memberships)
        return self.user.full_name if accepted else ""


def list_team(viewer: Viewer, clinic: Clinic | None) -> list[TeamMember]:
    """Everyone with a staff role in the clinic, with their roles (patients are not listed)."""
    clinic = require_roles(viewer, clinic, OFFICE_ROLES, action="clinic.team")
    rows = (
        Membership.objects.filter(clinic=clinic, role__in=STAFF_ROLES)
        .select_related("user")
        .order_by("user__full_name", "role")
    )
    by_user: dict[uuid.UUID, list[Membership]] = {}
    for membership in rows:
        by_user.setdefault(membership.user_id, []).append(membership)
    return [
        TeamMember(
            user=ms[0].user,
            roles=tuple(Role(m.role) for m in ms if m.is_active and m.accepted_at),
            memberships=tuple(ms),
        )
        for ms in by_user.values()
    ]


def get_membership(viewer: Viewer, clinic: Clinic | None, membership_id: uuid.UUID) -> Membership:
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="membership.change")
    membership = (
        Membership.objects.filter(clinic=clinic, pk=membership_id).select_related("user").first()
    )
    if membership is None:
        raise deny(
            viewer, action="membership.change", clinic_id=clinic.pk, object_id=str(membership_id)
        )
    return membership


def list_people_with_role(clinic: Clinic, role: Role) -> QuerySet[User]:
    """People holding `role` at `clinic` (active memberships), by name."""
    return User.objects.filter(
        in_force("memberships__"), memberships__clinic=clinic, memberships__role=role
    ).order_by("full_name")


def list_staff_of(clinic: Clinic) -> QuerySet[User]:
    """Everyone who holds or held an accepted staff role at `clinic`, by name (former staff stay
    in the audit log, so they stay choosable there). Patients are not listed."""
    return (
        User.objects.filter(
            memberships__clinic=clinic,
            memberships__role__in=STAFF_ROLES,
            memberships__accepted_at__isnull=False,
        )
        .distinct()
        .order_by("full_name", "email")
    )


def list_invitations(viewer: Viewer) -> list[Membership]:
    """Roles offered to the signed-in person that they have not yet accepted or declined."""
    if not viewer.is_authenticated:
        return []
    return list(
        Membership.objects.filter(user_id=viewer.pk, is_active=True, accepted_at__isnull=True)
        .select_related("clinic")
        .order_by("clinic__name", "role")
    )


def get_invitation(viewer: Viewer, membership_id: uuid.UUID) -> Membership:
    """One of the viewer's own pending invitations (404 and audited otherwise)."""
    invitation = next((m for m in list_invitations(viewer) if m.pk == membership_id), None)
    if invitation is None:
        raise deny(viewer, action="membership.accept", object_id=str(membership_id))
    return invitation


def list_techniques() -> QuerySet[Technique]:
    """The managed list of techniques that may be offered."""
    return Technique.objects.filter(is_active=True).order_by("sort_order", "name")


# --- Therapists and licences --------------------------------------------------------------------


def licence_status_q(status: LicenceStatus, *, on: date, prefix: str = "") -> Q:
    """Database condition equivalent to `licensing.licence_status(...) == status` on `on`.

    Kept beside the pure rule and tested against it, so that lists can be filtered in SQL.
    """
    expires = f"{prefix}expires_on"
    unverified = Q(**{f"{prefix}verified_at__isnull": True})
    not_expired = Q(**{f"{expires}__gte": on})
    horizon = on + timedelta(days=EXPIRING_WITHIN_DAYS)
    match status:
        case LicenceStatus.EXPIRED:
            return Q(**{f"{expires}__lt": on})
        case LicenceStatus.UNVERIFIED:
            return not_expired & unverified
        case LicenceStatus.EXPIRING:
            return not_expired & ~unverified & Q(**{f"{expires}__lte": horizon})
        case LicenceStatus.VALID:
            return ~unverified & Q(**{f"{expires}__gt": horizon})


def _therapists_of(clinic: Clinic) -> QuerySet[Therapist]:
    in_clinic = Membership.objects.in_force().filter(
        clinic=clinic, user_id=OuterRef("user_id"), role=Role.THERAPIST
    )
    return Therapist.objects.filter(Exists(in_clinic))


def list_bookable_therapists(
    viewer: Viewer, clinic: Clinic | None, *, on: date
) -> QuerySet[Therapist]:
    """Therapists of `clinic` who may be booked on `on`: a verified licence not yet expired.

    For scheduling, and for anyone with a role at the clinic (patients book online): one query,
    whatever the number of licences. Expired and unverified therapists are left out ("a lapsed
    licence makes a therapist unbookable").
    """
    clinic = require_roles(viewer, clinic, list(Role), action="therapist.bookable")
    return _bookable_therapists(clinic, on)


def _bookable_therapists(clinic: Clinic, on: date) -> QuerySet[Therapist]:
    bookable_licence = Licence.objects.filter(therapist_id=OuterRef("pk")).filter(
        licence_status_q(LicenceStatus.VALID, on=on)
        | licence_status_q(LicenceStatus.EXPIRING, on=on)
    )
    return (
        _therapists_of(clinic)
        .filter(Exists(bookable_licence))
        .select_related("user")
        .order_by("user__full_name")
    )


def bookable_until(
    viewer: Viewer, clinic: Clinic | None, therapist_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, date]:
    """The last day on which each of `therapist_ids` who works at `clinic` may be booked, in
    one query whatever the number of therapists or days: a verified licence is bookable (valid
    or expiring, `licence_status_q`) on every day up to its expiry, so a therapist is bookable
    on `on` exactly when `on` is on or before the latest expiry of their verified licences.
    Therapists with none, or not at the clinic, are left out. For anyone with a role there."""
    clinic = require_roles(viewer, clinic, list(Role), action="therapist.bookable")
    rows = (
        Licence.objects.filter(
            therapist__in=_therapists_of(clinic).filter(pk__in=list(therapist_ids)),
            verified_at__isnull=False,
        )
        .values("therapist_id")
        .annotate(until=Max("expires_on"))
        .values_list("therapist_id", "until")
        .order_by()
    )
    return dict(rows)


def clinic_for_system(clinic_id: uuid.UUID) -> Clinic:
    """A clinic by id, for system jobs that act for nobody (background tasks). Not patient
    data; never for a request's viewer."""
    return Clinic.objects.get(pk=clinic_id)


def therapist_bookable_for_system(clinic: Clinic, therapist_id: uuid.UUID, *, on: date) -> bool:
    """For system jobs that act for nobody (offering a freed time to the waitlist): True when
    the therapist works at `clinic` and holds a bookable licence on `on`. Not patient data."""
    return _bookable_therapists(clinic, on).filter(pk=therapist_id).exists()


def is_bookable(viewer: Viewer, therapist: Therapist, clinic: Clinic | None, *, on: date) -> bool:
    """True when `therapist` works at `clinic` and holds a bookable licence on `on`."""
    return list_bookable_therapists(viewer, clinic, on=on).filter(pk=therapist.pk).exists()


@dataclass(frozen=True)
class LicenceRow:
    licence: Licence
    status: LicenceStatus
    days_left: int


@dataclass(frozen=True)
class TherapistRow:
    therapist: Therapist
    status: LicenceStatus


def list_licences(
    viewer: Viewer, clinic: Clinic | None, *, status: LicenceStatus | None = None
) -> list[LicenceRow]:
    """Licences of the clinic's therapists, worst status first, then soonest expiry."""
    clinic = require_roles(viewer, clinic, OFFICE_ROLES, action="licence.list")
    today = clinic.local_date()
    licences = Licence.objects.filter(therapist__in=_therapists_of(clinic)).select_related(
        "therapist__user", "verified_by"
    )
    if status is not None:
        licences = licences.filter(licence_status_q(status, on=today))
    rows = [
        LicenceRow(licence=lic, status=lic.status(today), days_left=(lic.expires_on - today).days)
        for lic in licences
    ]
    order = list(reversed(LicenceStatus))
    return sorted(rows, key=lambda r: (order.index(r.status), r.licence.expires_on))


def list_therapists(viewer: Viewer, clinic: Clinic | None) -> list[TherapistRow]:
    """The clinic's therapists with their derived licence status (two queries)."""
    clinic = require_roles(viewer, clinic, CLINIC_STAFF_ROLES, action="therapist.list")
    today = clinic.local_date()
    therapists = (
        _therapists_of(clinic)
        .select_related("user")
        .prefetch_related("licences", Prefetch("techniques", queryset=list_techniques()))
        .order_by("user__full_name")
    )
    return [
        TherapistRow(t, therapist_status((lic.facts for lic in t.licences.all()), on=today))
        for t in therapists
    ]


def _shares_clinic(viewer: Viewer, therapist: Therapist, roles: Iterable[Role]) -> bool:
    clinic_ids = clinics_where(viewer, frozenset(roles))
    return (
        Membership.objects.in_force()
        .filter(user_id=therapist.user_id, clinic_id__in=clinic_ids, role=Role.THERAPIST)
        .exists()
    )


def get_therapist(
    viewer: Viewer, therapist_id: uuid.UUID, *, for_change: bool = False
) -> Therapist:
    """A therapist profile: visible to the therapist and to staff of a clinic they work at;
    changeable by the therapist and by admins of such a clinic."""
    roles = ADMIN_ROLES if for_change else CLINIC_STAFF_ROLES | {Role.REFERRING_CLINICIAN}
    therapist = (
        Therapist.objects.filter(pk=therapist_id)
        .select_related("user")
        .prefetch_related("techniques", "licences__verified_by")
        .first()
    )
    if therapist is None or not (
        therapist.user_id == viewer.pk or _shares_clinic(viewer, therapist, roles)
    ):
        action = "therapist.change" if for_change else "therapist.view"
        raise _deny_therapist(
            viewer,
            therapist,
            action=action,
            object_type="accounts.therapist",
            object_id=therapist_id,
        )
    return therapist


def therapist_at_clinic(clinic: Clinic, therapist_id: uuid.UUID) -> Therapist | None:
    """The therapist if they currently work at `clinic` (a therapist role in force there), with
    their user; else None. Unscoped primitive: for queries and services that check the viewer
    themselves (scheduling's working hours and time off)."""
    return _therapists_of(clinic).filter(pk=therapist_id).select_related("user").first()


def therapist_clinic_ids(therapist: Therapist) -> list[uuid.UUID]:
    """The clinics where the therapist currently works (their admins follow the licence)."""
    return sorted(
        Membership.objects.in_force()
        .filter(user_id=therapist.user_id, role=Role.THERAPIST)
        .values_list("clinic_id", flat=True)
    )


def _deny_therapist(
    viewer: Viewer,
    therapist: Therapist | None,
    *,
    action: str,
    object_type: str,
    object_id: uuid.UUID,
) -> NotFoundError:
    """Audit a refused look at a therapist or licence in each clinic where the therapist works,
    so that those clinics' admins see it."""
    clinic_ids: list[uuid.UUID | None] = [None]
    if therapist is not None:
        clinic_ids = [*therapist_clinic_ids(therapist)] or [None]
    for clinic_id in clinic_ids:
        error = deny(
            viewer,
            action=action,
            clinic_id=clinic_id,
            object_type=object_type,
            object_id=str(object_id),
        )
    return error


@dataclass(frozen=True)
class TherapistProfile:
    therapist: Therapist
    status: LicenceStatus
    licences: list[LicenceRow]


def get_therapist_profile(viewer: Viewer, therapist_id: uuid.UUID, *, on: date) -> TherapistProfile:
    """A therapist with each licence's status on `on` (the clinic's date), soonest expiry first."""
    therapist = get_therapist(viewer, therapist_id)
    licences = sorted(therapist.licences.all(), key=lambda lic: lic.expires_on)
    rows = [LicenceRow(lic, lic.status(on), (lic.expires_on - on).days) for lic in licences]
    status = therapist_status((lic.facts for lic in licences), on=on)
    return TherapistProfile(therapist=therapist, status=status, licences=rows)


def own_therapist_id(viewer: Viewer) -> uuid.UUID | None:
    """Id of the signed-in person's therapist profile, if they have one (not audited: an id)."""
    if not isinstance(viewer, User):
        return None
    return Therapist.objects.filter(user=viewer).values_list("pk", flat=True).first()


def get_own_therapist(viewer: Viewer) -> Therapist:
    user = acting_user(viewer)
    therapist = Therapist.objects.filter(user=user).select_related("user").first()
    if therapist is None:
        raise deny(viewer, action="therapist.view_own", object_type="accounts.therapist")
    return therapist


def get_licence(viewer: Viewer, licence_id: uuid.UUID, *, admin_only: bool = False) -> Licence:
    """A licence, for its therapist (unless `admin_only`) or an admin of a clinic where the
    therapist works."""
    licence = (
        Licence.objects.filter(pk=licence_id)
        .select_related("therapist__user", "verified_by")
        .first()
    )
    own = licence is not None and licence.therapist.user_id == viewer.pk and not admin_only
    if licence is None or not (own or _shares_clinic(viewer, licence.therapist, ADMIN_ROLES)):
        raise _deny_therapist(
            viewer,
            licence.therapist if licence else None,
            action="licence.verify" if admin_only else "licence.change",
            object_type="accounts.licence",
            object_id=licence_id,
        )
    return licence


# --- API tokens -----------------------------------------------------------------------------------


def list_api_tokens(viewer: Viewer) -> list[ApiToken]:
    """The signed-in person's own API tokens that are not revoked, newest first (their own
    data, not patient data: not audited)."""
    if not viewer.is_authenticated:
        return []
    return list(
        ApiToken.objects.filter(user_id=viewer.pk, revoked_at__isnull=True).select_related("clinic")
    )


def licences_of(therapist_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[Licence]]:
    """The licences of the therapists, by therapist, oldest first; one query. Not audited: for
    reads that checked the viewer may see those therapists (their patients' appointments)."""
    found: dict[uuid.UUID, list[Licence]] = {pk: [] for pk in therapist_ids}
    for lic in Licence.objects.filter(therapist_id__in=found).order_by("created_at", "id"):
        found[lic.therapist_id].append(lic)
    return found


def rooms_after(clinic: Clinic, after: uuid.UUID | None, *, limit: int) -> list[Room]:
    """One page of the clinic's rooms for a clinic-wide export (not audited: the export's
    kick-off checked and audited the clinic admin)."""
    return page_after(Room.objects.filter(clinic=clinic), after, limit)


def therapists_after(clinic: Clinic, after: uuid.UUID | None, *, limit: int) -> list[Therapist]:
    """One page of the clinic's therapists, with their names and licences, for a clinic-wide
    export (not audited: the export's kick-off checked and audited the clinic admin)."""
    rows = _therapists_of(clinic).select_related("user").prefetch_related("licences")
    return page_after(rows, after, limit)


# --- Webhooks (decision 0022) --------------------------------------------------------------------


def list_webhook_endpoints(viewer: Viewer, clinic: Clinic | None) -> list[WebhookEndpoint]:
    """The clinic's webhook endpoints, active first, for its admins (audited; 404 for others)."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="webhook.list")
    record_event(actor=viewer, action="webhook.list", clinic_id=clinic.pk)
    return list(webhooks.endpoints_of(clinic.pk))


def get_webhook_endpoint(
    viewer: Viewer, clinic: Clinic | None, endpoint_id: uuid.UUID, *, action: str
) -> WebhookEndpoint:
    """One endpoint of the clinic for its admins; `NotFoundError` (audited as `action`) for
    anyone else and for an endpoint of another clinic."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action=action)
    endpoint = webhooks.endpoint_of(clinic.pk, endpoint_id)
    if endpoint is None:
        raise deny(
            viewer,
            action=action,
            clinic_id=clinic.pk,
            object_type="core.webhookendpoint",
            object_id=str(endpoint_id),
        )
    return endpoint


def list_webhook_deliveries(
    viewer: Viewer, clinic: Clinic | None, endpoint_id: uuid.UUID
) -> tuple[WebhookEndpoint, list[WebhookDelivery]]:
    """An endpoint and its newest deliveries (event, status, tries, last answer, next try), for
    the clinic's admins. Payloads hold patient ids, so the read is audited."""
    endpoint = get_webhook_endpoint(viewer, clinic, endpoint_id, action="webhook.deliveries")
    record_event(
        actor=viewer, action="webhook.deliveries", clinic_id=endpoint.clinic_id, obj=endpoint
    )
    return endpoint, webhooks.deliveries_of(endpoint)


def export_tables(viewer: Viewer, clinic: Clinic | None) -> list[ExportTable]:
    """Every accounts table of the clinic, for its admins' whole-clinic export (`NotFoundError`,
    audited, for anyone else). Rows are read later, in chunks, by the export job."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="clinic.export")
    return [
        table_of(Room.objects.filter(clinic=clinic)),
        table_of(Membership.objects.filter(clinic=clinic)),
        table_of(ApiToken.objects.filter(clinic=clinic)),
    ]
