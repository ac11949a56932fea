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
    ],
)
def test_client_ip_trusts_forwarded_header_only_behind_proxy(
    settings, behind_proxy, meta, expected
):
    settings.BEHIND_PROXY = behind_proxy
    request = RequestFactory().get("/", **meta)
    assert client_ip(request) == expected
