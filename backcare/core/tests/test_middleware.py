import pytest
from django.test import RequestFactory

from backcare.core.middleware import client_ip


@pytest.mark.parametrize(
    ("behind_proxy", "meta", "expected"),
    [
        (False, {"REMOTE_ADDR": "198.51.100.4"}, "198.51.100.4"),
        (False, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, "10.0.0.2"),
        (True, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, "203.0.113.9"),
        # A client may send its own X-Forwarded-For; only the hop our proxy appended is trusted.
        (
            True,
            {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.9"},
            "203.0.113.9",
        ),
        (True, {"REMOTE_ADDR": "10.0.0.2"}, "10.0.0.2"),
        # Malformed forwarded values (a port, garbage) are never stored.
        (True, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.9:4711"}, "10.0.0.2"),
        (True, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "not-an-ip"}, "10.0.0.2"),
        (True, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "2001:db8::1"}, "2001:db8::1"),
    ],
)
def test_client_ip_trusts_forwarded_header_only_behind_proxy(
    settings, behind_proxy, meta, expected
):
    settings.BEHIND_PROXY = behind_proxy
    request = RequestFactory().get("/", **meta)
    assert client_ip(request) == expected


@pytest.mark.django_db
def test_a_forged_forwarded_header_still_leaves_an_audited_404(settings):
    from django.test import Client
    from django.urls import reverse

    from backcare.core.models import AuditEvent
    from conftest import client_for
    from tests.factories import make_clinic, make_patient, make_user

    settings.BEHIND_PROXY = True
    patient = make_patient(make_clinic())
    client: Client = client_for(make_user())
    url = reverse("patient_detail", args=[patient.pk])
    response = client.get(url, headers={"X-Forwarded-For": "garbage:1234"}, REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 404
    assert AuditEvent.objects.get().ip_address == "10.0.0.2"
