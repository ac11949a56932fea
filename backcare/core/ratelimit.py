"""Rate limits for the pages anyone can reach: a budget of requests per client address and
page, over a sliding window (django-ninja's `SimpleRateThrottle`, the same counter the JSON API
uses), kept in the cache (`CACHE_URL`). More answer 429 with Retry-After. Decision 0026."""

import math
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from ninja.throttling import SimpleRateThrottle

from backcare.core.middleware import client_ip

TOO_MANY_REQUESTS = 429

View = Callable[..., HttpResponse]


class ClientRateThrottle(SimpleRateThrottle):
    """Counts requests per client address (`client_ip`: X-Forwarded-For is trusted only with
    BEHIND_PROXY) and scope. One instance per request: the counter keeps per-call state."""

    def __init__(self, scope: str, rate: str) -> None:
        self.scope = scope
        super().__init__(rate)

    def get_ident(self, request: HttpRequest) -> str:
        return client_ip(request) or "unknown"

    def get_cache_key(self, request: HttpRequest) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def retry_after_seconds(self) -> int:
        """Whole seconds until the oldest counted request leaves the window (at least 1)."""
        oldest = self.history[-1] if self.history else self.now
        return max(1, math.ceil(self.duration - (self.now - oldest)))  # type: ignore[operator]


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true" or "application/json" in request.headers.get(
        "Accept", ""
    )


def too_many_requests(request: HttpRequest, *, retry_after_seconds: int) -> HttpResponse:
    """429 with Retry-After: a page for people, the API's error body for htmx and JSON."""
    minutes = math.ceil(retry_after_seconds / 60)
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    message = f"Too many requests from your connection. Please wait {wait} and try again."
    response: HttpResponse
    if _wants_json(request):
        body = {"code": "too_many_requests", "message": message, "field_errors": {}}
        response = JsonResponse(body, status=TOO_MANY_REQUESTS)
    else:
        context = {"status": TOO_MANY_REQUESTS, "message": message}
        response = render(request, "error.html", context, status=TOO_MANY_REQUESTS)
    response["Retry-After"] = str(retry_after_seconds)
    return response


def rate_limited(view: View) -> View:
    """Limits a public page to BACKCARE_PUBLIC_RATE requests per client address; each page
    has its own count, so browsing one never uses up another."""

    @wraps(view)
    def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        throttle = ClientRateThrottle(f"public_{view.__name__}", settings.BACKCARE_PUBLIC_RATE)
        if not throttle.allow_request(request):
            return too_many_requests(request, retry_after_seconds=throttle.retry_after_seconds())
        return view(request, *args, **kwargs)

    return limited
