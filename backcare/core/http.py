"""Small helpers for views: status codes for re-rendered forms."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from backcare.core.errors import DomainError, http_status_for

UNPROCESSABLE = 422


def render_form(
    request: HttpRequest, template: str, context: dict[str, Any], *, invalid: bool
) -> HttpResponse:
    """Render a form page; 422 when it is shown again because of bad input."""
    return render(request, template, context, status=UNPROCESSABLE if invalid else 200)


def render_refusal(request: HttpRequest, error: DomainError, *, back_url: str) -> HttpResponse:
    """Show why an action was refused, with the status of the error table and a way back."""
    status = http_status_for(error)
    context = {"message": error.message, "status": status, "back_url": back_url}
    return render(request, "error.html", context, status=status)
