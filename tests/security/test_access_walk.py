"""The access walk (issue 9): every URL pattern and every OpenAPI operation, with every actor of
the seeded world (`tests/security/scenario.py`): clinic A's admin, front desk, therapist and
referring clinician, the patient who owns the records in the URLs, another patient of clinic A,
clinic B's admin and patient, a signed-in person with no role, and an anonymous visitor.

`tests/security/access.py` classifies each URL name; an unclassified URL fails the walk, so a
new URL is walked as soon as it is added. For each URL and actor:

- anonymous visitors are sent to sign in, or get 404 (200 only on public pages);
- the actors a URL allows get their page, which never shows clinic B's patient;
- everyone else gets 404 (never 200, never 403), and the denied attempt is audited;
- an allowed read of patient records leaves an allowed audit event.

Pages that only take a form (POST) are sent an empty POST by the actors they refuse: a 404 and
an audit event, and nothing is written. The actors they allow are not sent one (it would write).
"""

from typing import Any

import pytest
from django.urls import reverse

from backcare.api.api import api
from backcare.core.models import AuditEvent
from tests.security.access import ACCESS, API, PORTAL, PUBLIC, RECORD, our_routes
from tests.security.scenario import (
    ACTORS,
    ANONYMOUS,
    OTHER_CLINIC_ADMIN,
    OTHER_CLINIC_PATIENT,
    World,
    client_as,
    kwargs_for,
    query_for,
)

LOGIN_PATH = "/accounts/login/"


def _api_bodies(world: World) -> dict[str, dict[str, Any]]:
    """A well-formed body for each API operation that takes one, about clinic A's records, so
    that a refusal comes from the access check and not from the body's validation."""
    objects = world.objects
    return {
        "api-v1:appointment_book": {
            "patient_id": str(world.owner.pk),
            "therapist_id": str(objects["therapist_id"].pk),
            "service_id": str(objects["service_id"].pk),
            "starts_at": "2030-01-07T09:00Z",
        },
        "api-v1:appointment_cancel": {},
        "api-v1:appointment_reschedule": {"starts_at": "2030-01-14T09:00Z"},
        "api-v1:note_draft": {},
        "api-v1:measurement_create": {"instrument": "pain_nrs", "answers": {"pain": 3}},
        "fhir_import_bundle": {"resourceType": "Bundle", "type": "collection"},
    }


def api_operations() -> list[tuple[str, str]]:
    """(method, URL name) of every operation in the OpenAPI schema."""
    schema = api.get_openapi_schema()
    return [
        (method.upper(), "api-v1:" + operation["operationId"].split("_api_", 1)[1])
        for operations in schema["paths"].values()
        for method, operation in operations.items()
    ]


def test_every_api_operation_is_classified_with_its_method():
    unclassified = [
        (method, name)
        for method, name in api_operations()
        if name not in ACCESS or ACCESS[name].post_only != (method == "POST")
    ]
    assert unclassified == []


ROUTES = our_routes()


def test_every_url_is_classified():
    unclassified = sorted(set(ROUTES) - set(ACCESS))
    assert unclassified == [], f"Add these URL names to ACCESS in {__name__}: {unclassified}"


def test_the_classification_names_no_url_that_is_gone():
    assert sorted(set(ACCESS) - set(ROUTES)) == []


def body_of(response: Any) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def events_since(event_id: int, outcome: str) -> int:
    return AuditEvent.objects.filter(id__gt=event_id, outcome=outcome).count()


def sent_to_sign_in(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith(LOGIN_PATH)


CASES = [
    pytest.param(name, actor, id=f"{name}-{actor}")
    for name in sorted(ACCESS)
    for actor in ACTORS
    # An allowed actor is not sent the empty POST of a form-only page: it would write.
    if not (ACCESS[name].post_only and actor in ACCESS[name].allowed)
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "actor"), CASES)
def test_each_actor_gets_their_page_or_404_and_denials_are_audited(world, name, actor):
    access = ACCESS[name]
    url = reverse(name, kwargs=kwargs_for(ROUTES[name], world))
    before = last_event_id()
    client = client_as(world, actor)
    if access.kind == API and access.post_only:
        body = _api_bodies(world)[name]
        response = client.post(url, body, content_type="application/json")
    elif access.post_only:
        response = client.post(url)
    else:
        response = client.get(url, query_for(name, world))
    status = response.status_code

    if actor in (OTHER_CLINIC_ADMIN, OTHER_CLINIC_PATIENT):
        pass  # clinic B's own pages may name clinic B's patient
    else:
        leaked = [s for s in world.secrets() if s.encode() in body_of(response)]
        assert leaked == [], f"{name} showed clinic B's patient to {actor}"

    if actor in access.allowed:
        # 202 Accepted is the success of an asynchronous kick-off (FHIR bulk export).
        accepted = (200, 202, 302) if access.kind == API else (200, 302)
        assert status in accepted, f"{name}: {actor} got {status}"
        assert not sent_to_sign_in(response)
        if access.kind in (RECORD, PORTAL) and status == 200 and not access.post_only:
            assert events_since(before, AuditEvent.Outcome.ALLOWED) >= 1, (
                f"{name}: read not audited"
            )
    elif access.kind == PUBLIC:
        assert status == 404, f"{name}: {actor} got {status}"
    elif actor == ANONYMOUS and access.kind == API:
        assert status == 401
    elif actor == ANONYMOUS and sent_to_sign_in(response):
        pass
    else:
        assert status == 404, f"{name}: {actor} got {status}"
        assert events_since(before, AuditEvent.Outcome.DENIED) >= 1, f"{name}: denial not audited"


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ACTORS)
def test_the_django_admin_sends_every_walker_to_its_own_sign_in(world, actor):
    response = client_as(world, actor).get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
