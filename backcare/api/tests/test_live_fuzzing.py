"""schemathesis against a live server (issue 8's acceptance): the app on 127.0.0.1 (pytest-django's
`live_server`) with the seeded demo clinics, fuzzed from /api/v1/openapi.json as two tokens of
people in different clinics. No server error, no answer that breaks the schema, and nothing of
the other clinic's patients (ids or names) in any answer. Time-boxed: a few derandomised examples
per operation, each request with a timeout.

Generated path and query ids are, half the time, swapped for seeded ones (the caller's own
patients, appointments, visits and clearances, and the other clinic's), so the calls reach real
records instead of stopping at 404 for a random id.
"""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance

from backcare.accounts.models import Clinic, Role
from backcare.accounts.services import create_api_token
from backcare.core.demo import build_demo
from backcare.patients.models import Patient
from backcare.scheduling.models import Appointment, Service
from backcare.triage.models import Clearance
from backcare.visits.models import Visit
from tests.factories import make_member

EXAMPLES_PER_OPERATION = 5
# Generous: the machine may be busy; a hung request still fails the test.
REQUEST_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Caller:
    """One token, and what of the other clinic must never appear in its answers."""

    headers: dict[str, str]
    forbidden: frozenset[str]


def _patient_marks(clinic: Clinic, besides: Clinic) -> set[str]:
    """The other clinic's patient ids and names, as they would appear as JSON strings; names
    shared with a patient of `besides` would be no evidence, so they are left out."""
    rows = list(Patient.objects.filter(clinic=clinic))
    own_names = {
        name
        for p in Patient.objects.filter(clinic=besides)
        for name in (p.given_name, p.family_name, p.preferred_name)
    }
    names = {n for p in rows for n in (p.given_name, p.family_name) if n and n not in own_names}
    return {json.dumps(str(p.pk)) for p in rows} | {json.dumps(n) for n in names}


def _ids(clinic: Clinic) -> dict[str, list[str]]:
    """Seeded ids of one clinic by the parameter names the API uses."""

    def some(model: Any, **filters: Any) -> list[str]:
        return [str(pk) for pk in model.objects.filter(**filters).values_list("pk", flat=True)[:3]]

    return {
        "patient_id": some(Patient, clinic=clinic),
        "appointment_id": some(Appointment, clinic=clinic),
        "visit_id": some(Visit, clinic=clinic),
        "clearance_id": some(Clearance, clinic=clinic),
        "service_id": some(Service, clinic=clinic),
    }


def _token(user: Any, clinic: Clinic) -> dict[str, str]:
    token = create_api_token(actor=user, clinic=clinic, name="fuzz", scopes=["read", "write"])[1]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def seeded(
    migration_seeds: None, live_server: Any, settings: Any
) -> tuple[str, list[Caller], dict[str, list[str]]]:
    # pytest-django serves on "localhost"; call it by its IPv4 address (tests talk to 127.0.0.1
    # only), which the server must then accept as a host name.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    base_url = live_server.url.replace("://localhost:", "://127.0.0.1:")
    assert base_url.startswith("http://127.0.0.1:")
    state = build_demo()
    main: Clinic = state["clinic"]
    north: Clinic = state["second_clinic"]
    # The demo admin also works at the second clinic: their main-clinic token must still see
    # nothing of it. The second caller works at the second clinic only.
    north_admin = make_member(north, Role.CLINIC_ADMIN)
    callers = [
        Caller(_token(state["users"]["admin"], main), frozenset(_patient_marks(north, main))),
        Caller(_token(north_admin, north), frozenset(_patient_marks(main, north))),
    ]
    main_ids, north_ids = _ids(main), _ids(north)
    assert main_ids["patient_id"]
    assert north_ids["patient_id"]
    choices = {key: main_ids[key] + north_ids[key] for key in main_ids}
    return base_url, callers, choices


def _no_data_of_the_other_clinic(forbidden: frozenset[str]) -> Callable[..., None]:
    def no_data_of_the_other_clinic(ctx: Any, response: Any, case: Any) -> None:
        found = sorted(mark for mark in forbidden if mark in response.text)
        assert not found, f"{case.method} {case.formatted_path}: another clinic's {found[:3]}"

    return no_data_of_the_other_clinic


def _with_seeded_ids(case: Any, picked: dict[str, str], swap: bool) -> Any:
    if swap:
        for params in (case.path_parameters, case.query):
            if isinstance(params, dict):
                for key in params.keys() & picked.keys():
                    params[key] = picked[key]
    return case


def test_the_live_api_never_fails_breaks_its_schema_or_leaks_another_clinic(seeded, request):
    base_url, callers, choices = seeded
    schema = schemathesis.openapi.from_url(
        f"{base_url}/api/v1/openapi.json", timeout=REQUEST_TIMEOUT_SECONDS
    )
    session = requests.Session()
    request.addfinalizer(session.close)  # no kept-alive server thread holds the database open
    seeded_ids = st.fixed_dictionaries(
        {key: st.sampled_from(values or [str(uuid.uuid4())]) for key, values in choices.items()}
    )
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the schema itself is valid
        operations.append(result.ok())
    assert len(operations) >= 18

    for operation in operations:

        @given(case=st.builds(_with_seeded_ids, operation.as_strategy(), seeded_ids, st.booleans()))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,  # the same calls every run: a check, not a flaky one
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            for who in callers:
                response = case.call(
                    base_url=base_url,
                    session=session,
                    headers=who.headers,
                    timeout=REQUEST_TIMEOUT_SECONDS,
                )
                case.validate_response(
                    response,
                    checks=[
                        not_a_server_error,
                        response_schema_conformance,
                        _no_data_of_the_other_clinic(who.forbidden),
                    ],
                )

        fuzz()
