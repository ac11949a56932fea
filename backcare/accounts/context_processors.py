from typing import Any

from django.http import HttpRequest

from backcare.accounts.context import clinic_context as _clinic_context
from backcare.accounts.models import Role


def clinic_context(request: HttpRequest) -> dict[str, Any]:
    """Expose the current clinic and roles to every template (navigation per role)."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"Role": Role}
    return {"ctx": _clinic_context(request), "Role": Role}
