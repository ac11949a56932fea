"""Small helpers for views: status codes for re-rendered forms."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

UNPROCESSABLE = 422


def render_form(
    request: HttpRequest, template: str, context: dict[str, Any], *, invalid: bool
) -> HttpResponse:
    """Render a form page; 422 when it is shown again because of bad input."""
    return render(request, template, context, status=UNPROCESSABLE if invalid else 200)
