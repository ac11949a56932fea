"""Health check and error pages."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness and database reachability, for load balancers and `make demo`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def bench_hello(request: HttpRequest) -> HttpResponse:
    """The benchmarks' baseline: the cheapest page through the full middleware stack, served only
    with BACKCARE_BENCH=1 (config/bench_urls.py)."""
    return HttpResponse("Hello, world", content_type="text/plain")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    context = {"status": 400, "message": "The request could not be understood. Please try again."}
    return render(request, "error.html", context, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Pages answer 404 to people who may not see them; this covers Django's own refusals.
    context = {"status": 403, "message": "You do not have access to this page."}
    return render(request, "error.html", context, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", {"status": 404}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered without the request: the failure may lie in a context processor.
    return HttpResponseServerError(loader.get_template("500.html").render())


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    context = {
        "status": 403,
        "message": "Your form expired or came from another site. Go back, reload the page and "
        "submit it again; nothing was saved.",
    }
    return render(request, "error.html", context, status=403)
