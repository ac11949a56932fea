"""The header crawler (issue 9): every kind of response BackCare makes carries the security
headers. The pages come from the access walk's classification (`access.py`), each fetched by an
actor it lets in (so a new URL, a FHIR one too, is crawled as soon as it is classified), plus
the responses no URL names: API errors, a 404 for an unknown address, a 400 for a bad Host, a
403 for a missing CSRF token, a 405, and an iCal feed with a real token.

Each must have a CSP whose scripts come from our origin or carry the response's nonce (no
'unsafe-inline', no eval, no other host; Django names the nonce in the header only when the page
used it, and every inline script found in a page must carry it), object-src 'none' and
frame-ancestors 'none'; nosniff; a referrer policy; and frame denial. HSTS is checked under
production settings in a subprocess, since settings are read once per process.
"""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from backcare.scheduling.models import CalendarFeedKind
from backcare.scheduling.services import create_calendar_feed
from tests.security.access import ACCESS, our_routes
from tests.security.scenario import ACTORS, ANONYMOUS, THERAPIST, World, client_as, kwargs_for

ROOT = Path(__file__).resolve().parents[2]
ROUTES = our_routes()


def directives(policy: str) -> dict[str, list[str]]:
    found = {}
    for part in policy.split(";"):
        name, *values = part.split()
        found[name] = values
    return found


SCRIPT_SOURCES_ALLOWED = re.compile(r"^('self'|'nonce-[A-Za-z0-9+/=_-]+')$")
SCRIPT_TAG = re.compile(rb"<script\b([^>]*)>", re.IGNORECASE)
DATA_BLOCK = re.compile(rb'\btype="application/(ld\+)?json"')  # data, never run: CSP ignores it
NONCE_ATTRIBUTE = re.compile(rb'\bnonce="([^"]+)"')


def script_problems(scripts: list[str], body: bytes) -> list[str]:
    """Scripts come from our own origin, or carry the response's nonce: never inline script
    without one, never eval, never another host. An HTML body's inline scripts must carry the
    nonce the header names."""
    problems = [f"script-src allows {v}" for v in scripts if not SCRIPT_SOURCES_ALLOWED.match(v)]
    nonces = {v.removeprefix("'nonce-").rstrip("'") for v in scripts if v.startswith("'nonce-")}
    for attributes in SCRIPT_TAG.findall(body):
        if b"src=" in attributes or DATA_BLOCK.search(attributes):
            continue
        found = NONCE_ATTRIBUTE.search(attributes)
        if found is None or found.group(1).decode() not in nonces:
            problems.append(f"inline <script{attributes.decode()}> without the header's nonce")
    return problems


def header_problems(response: Any) -> list[str]:
    problems = []
    policy = response.get("Content-Security-Policy")
    if policy is None:
        return ["no Content-Security-Policy"]
    csp = directives(policy)
    scripts = csp.get("script-src", csp.get("default-src", []))
    body = b"" if response.streaming else response.content
    problems += script_problems(scripts, body)
    if csp.get("object-src") != ["'none'"]:
        problems.append(f"object-src {csp.get('object-src')}")
    if csp.get("frame-ancestors") != ["'none'"]:
        problems.append(f"frame-ancestors {csp.get('frame-ancestors')}")
    if response.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if not response.get("Referrer-Policy"):
        problems.append("no Referrer-Policy")
    if response.get("X-Frame-Options") != "DENY":
        problems.append(f"X-Frame-Options {response.get('X-Frame-Options')}")
    return problems


def crawler_actor(name: str) -> str:
    """The first actor the URL lets in, or the anonymous visitor (a 404 or sign-in page)."""
    allowed = ACCESS[name].allowed
    return next((actor for actor in ACTORS if actor in allowed), ANONYMOUS)


PAGES = sorted(name for name, access in ACCESS.items() if not access.post_only)


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_every_page_carries_the_security_headers(world: World, name: str):
    url = reverse(name, kwargs=kwargs_for(ROUTES[name], world))
    response = client_as(world, crawler_actor(name)).get(url)
    assert header_problems(response) == [], f"{url} ({response.status_code})"


def _feed(world: World, client: Client) -> Any:
    therapist = world.users[THERAPIST]
    assert therapist is not None
    _, token = create_calendar_feed(
        actor=therapist, clinic=world.clinic, kind=CalendarFeedKind.THERAPIST
    )
    return client.get(reverse("calendar_feed", args=[token]))


EXTRA_RESPONSES = {
    "ical-feed": (_feed, "text/calendar"),
    "api-401": (lambda w, c: c.get(reverse("api-v1:patient_list")), "application/json"),
    "api-404": (
        lambda w, c: c.get(reverse("api-v1:patient_detail", args=[w.other_clinic_patient.pk])),
        "application/json",
    ),
    "api-422": (
        lambda w, c: c.get(reverse("api-v1:patient_list"), {"limit": "0"}),
        "application/json",
    ),
    "unknown-address-404": (lambda w, c: c.get("/no/such/page/"), "text/html"),
    "bad-host-400": (lambda w, c: c.get("/", headers={"host": "evil.example"}), "text/html"),
    "csrf-403": (
        lambda w, c: Client(enforce_csrf_checks=True).post("/accounts/login/"),
        "text/html",
    ),
    "method-405": (lambda w, c: c.put(reverse("dashboard")), ""),
    "sign-in-page": (lambda w, c: Client().get(reverse("account_login")), "text/html"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(EXTRA_RESPONSES))
def test_errors_feeds_and_api_answers_carry_the_security_headers(world: World, kind: str):
    fetch, content_type = EXTRA_RESPONSES[kind]
    client = client_as(world, THERAPIST if kind != "api-401" else ANONYMOUS)
    response = fetch(world, client)
    assert response["Content-Type"].startswith(content_type), response["Content-Type"]
    assert header_problems(response) == [], f"{kind} ({response.status_code})"


# Static files are not collected here, so pages name them without the manifest's hashes.
PRODUCTION_CHECK = """
import json
from django.conf import settings
from django.test import Client, override_settings
storages = {**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
answers = {}
with override_settings(STORAGES=storages):
    for path in ["/accounts/login/", "/api/v1/openapi.json", "/no/such/page/",
                 "/api/v1/patients", "/healthz"]:
        response = Client().get(path, secure=True)
        answers[path] = [response.status_code, response.get("Strict-Transport-Security", "")]
print(json.dumps(answers))
"""


def test_production_settings_send_hsts_on_every_https_response(tmp_path):
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", PRODUCTION_CHECK],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "testserver",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'hsts.sqlite3'}",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    without = [path for path, (_, hsts) in answers.items() if not hsts.startswith("max-age=")]
    assert without == [], answers
