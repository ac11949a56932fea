"""Who is calling the JSON API: a personal access token (`Authorization: Bearer ...`) acting in
the token's clinic with its scopes, or the site's own pages through the session cookie (with
Django's CSRF check for unsafe methods), acting in the clinic chosen on the site, with every
scope and group. Decisions 0019 and 0024."""

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from backcare.accounts.context import clinic_context
from backcare.accounts.models import ApiGroup, ApiScope, Clinic, User
from backcare.accounts.services import authenticate_api_token
from backcare.core.audit import Outcome, record_event
from backcare.core.errors import NotFoundError, ScopeError

ALL_SCOPES = frozenset(ApiScope.values)
ALL_GROUPS = frozenset(ApiGroup.values)


@dataclass(frozen=True)
class ApiCaller:
    """The person behind an API call, the clinic they act in, and what they may do (`scopes`)
    over which resource `groups`."""

    user: User
    clinic: Clinic | None
    scopes: frozenset[str]
    by_token: bool
    groups: frozenset[str] = ALL_GROUPS

    def __str__(self) -> str:
        # The rate limit's key: one budget per person and clinic.
        return f"{self.user.pk}:{self.clinic.pk if self.clinic else ''}"


class TokenAuth(HttpBearer):
    """A personal access token. A bearer token that is unknown, revoked or expired is a 401 at
    once (the session is not tried: a script sent it, not the site)."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiCaller:
        try:
            row = authenticate_api_token(token)
        except NotFoundError as error:
            raise AuthenticationError(401, error.message) from error
        request.user = row.user
        return ApiCaller(
            user=row.user,
            clinic=row.clinic,
            scopes=frozenset(row.scopes),
            by_token=True,
            groups=frozenset(row.groups),
        )


class SessionAuth(APIKeyCookie):
    """The signed-in person of the site (session cookie). Unsafe methods need Django's CSRF
    token, as forms do; anonymous callers get a 401 before any CSRF check."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header.")
        return "session"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiCaller | None:
        if key is None or not isinstance(request.user, User):
            return None
        clinic = clinic_context(request).clinic
        return ApiCaller(user=request.user, clinic=clinic, scopes=ALL_SCOPES, by_token=False)


def _authenticated(request: HttpRequest) -> ApiCaller:
    auth = getattr(request, "auth", None)
    if not isinstance(auth, ApiCaller):
        raise AuthenticationError(401, "Sign in or send a token.")
    return auth


def _refuse(request: HttpRequest, who: ApiCaller, needs: str, message: str) -> ScopeError:
    record_event(
        actor=who.user,
        action="api.scope",
        clinic_id=who.clinic.pk if who.clinic else None,
        outcome=Outcome.DENIED,
        detail={"needs": needs, "method": request.method or ""},
    )
    return ScopeError(message)


def caller(request: HttpRequest, group: ApiGroup) -> ApiCaller:
    """The authenticated caller of an API operation of resource `group` (set by `TokenAuth` or
    `SessionAuth`); `ScopeError` (403, audited) if their token is limited to other groups."""
    who = _authenticated(request)
    if group not in who.groups:
        raise _refuse(request, who, str(group), f"This token may not reach {group.label.lower()}.")
    return who


def require_scope(request: HttpRequest, scope: ApiScope, group: ApiGroup) -> ApiCaller:
    """The caller, if their token has `scope` over `group`; else `ScopeError` (403)."""
    who = caller(request, group)
    if scope not in who.scopes:
        raise _refuse(
            request,
            who,
            str(scope),
            f"This token may not {scope.label.lower()}: it needs the {scope} scope.",
        )
    return who
