"""The clinic a signed-in person is working in, and their roles there."""

from dataclasses import dataclass

from django.http import HttpRequest

from backcare.accounts.models import STAFF_ROLES, Clinic, Role
from backcare.accounts.queries import memberships_of

SESSION_KEY = "backcare_clinic_id"
_REQUEST_ATTR = "_backcare_clinic_context"


@dataclass(frozen=True)
class ClinicContext:
    """The current clinic (None for someone with no membership), the person's roles there, and
    every clinic they may switch to."""

    clinic: Clinic | None
    roles: frozenset[Role]
    clinics: tuple[Clinic, ...]

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    @property
    def role_labels(self) -> list[str]:
        return [role.label for role in Role if role in self.roles]


def clinic_context(request: HttpRequest) -> ClinicContext:
    """Compute once per request from the person's memberships and the clinic chosen in the
    session (the first clinic by name when none was chosen or the choice is no longer valid)."""
    cached: ClinicContext | None = getattr(request, _REQUEST_ATTR, None)
    if cached is not None:
        return cached
    memberships = memberships_of(request.user)
    clinics = tuple({m.clinic_id: m.clinic for m in memberships}.values())
    chosen = str(request.session.get(SESSION_KEY, "")) if hasattr(request, "session") else ""
    clinic = next((c for c in clinics if str(c.pk) == chosen), clinics[0] if clinics else None)
    roles = frozenset(Role(m.role) for m in memberships if clinic and m.clinic_id == clinic.pk)
    context = ClinicContext(clinic=clinic, roles=roles, clinics=clinics)
    setattr(request, _REQUEST_ATTR, context)
    return context
