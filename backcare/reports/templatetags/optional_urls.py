"""Links to pages another app may provide (the FHIR exports): shown only when the URL exists,
so nothing fake ships before that app is wired in."""

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.simple_tag
def optional_url(name: str, *args: Any) -> str:
    """`reverse(name, args)`, else `reverse(name)` (a URL that takes no arguments), or "" when
    no such URL is installed."""
    for tried in (args, ()):
        try:
            return reverse(name, args=tried)
        except NoReverseMatch:
            continue
    return ""
