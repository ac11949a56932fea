import pytest
from django.test import Client, override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok_without_login():
    response = Client().get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_page_gets_the_404_page():
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content


@override_settings(DEBUG=False)
def test_server_error_page_renders_without_context():
    from backcare.core.views import server_error

    response = server_error(None)  # type: ignore[arg-type]
    assert response.status_code == 500
    assert b"Nothing you saved before is lost" in response.content


def test_csrf_failure_explains_what_to_do():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"login": "a@example.test", "password": "x"})
    assert response.status_code == 403
    assert b"reload the page" in response.content


@pytest.mark.urls("config.bench_urls")
def test_bench_hello_answers_through_the_middleware_when_the_bench_urls_are_served():
    response = Client().get(reverse("bench_hello"))
    assert response.status_code == 200
    assert response.content == b"Hello, world"
    assert "Content-Security-Policy" in response.headers  # the full middleware stack ran


def test_bench_hello_is_not_served_by_the_site_urls():
    assert Client().get("/bench/hello").status_code == 404
