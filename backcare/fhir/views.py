"""FHIR endpoints under /fhir/: a patient's `$everything`, the clinic's bulk export (kick-off,
status, files) and the import of a Bundle, for the session or a personal access token. Errors
are OperationOutcomes (decision 0023)."""

import functools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from ninja.utils import check_csrf

from backcare.accounts.context import clinic_context
from backcare.accounts.models import ApiScope, Clinic, User, all_api_groups
from backcare.accounts.services import authenticate_api_token
from backcare.core.audit import record_event
from backcare.core.errors import DomainError, NotFoundError, http_status_for
from backcare.core.models import AuditEvent
from backcare.fhir import importing, queries, services
from backcare.fhir.models import ExportStatus

FHIR_JSON = "application/fhir+json"
View = Callable[..., HttpResponseBase]


def outcome(status: int, message: str, code: str = "processing") -> HttpResponse:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": message}],
    }
    return JsonResponse(body, status=status, content_type=FHIR_JSON)


@dataclass(frozen=True)
class Caller:
    """Who calls: the person, the clinic they act in and whether they may write. A personal
    access token (`Authorization: Bearer`, decision 0019) acts in its own clinic with its
    scopes; the session acts in the clinic chosen on the site, unsafe methods with CSRF."""

    user: User
    clinic: Clinic | None
    may_write: bool


def _caller(request: HttpRequest) -> Caller | HttpResponse:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        try:
            row = authenticate_api_token(header.removeprefix("Bearer ").strip())
        except NotFoundError as error:
            return outcome(401, error.message, "login")
        request.user = row.user
        missing = sorted(set(all_api_groups()) - set(row.groups))
        if missing:  # a patient's FHIR record spans every resource group of the JSON API
            record_event(
                actor=row.user,
                action="api.scope",
                clinic_id=row.clinic_id,
                outcome=AuditEvent.Outcome.DENIED,
                detail={"needs": missing, "method": request.method or ""},
            )
            return outcome(
                403, "FHIR records span every resource group; this token has some.", "forbidden"
            )
        return Caller(row.user, row.clinic, ApiScope.WRITE in row.scopes)
    if not isinstance(request.user, User):
        return outcome(401, "Sign in or send a token.", "login")
    if check_csrf(request) is not None:
        return outcome(403, "CSRF check failed: send the X-CSRFToken header.", "security")
    return Caller(request.user, clinic_context(request).clinic, True)


def fhir_view(*, writes: bool = False) -> Callable[[View], View]:
    """Callers signed in or with a token (401 otherwise; a read-only token that writes, 403);
    domain errors become OperationOutcomes with the status of `core.errors`; FHIR responses
    are never cached."""

    def decorate(view: View) -> View:
        @csrf_exempt  # checked in `_caller` for the session; a bearer token needs none
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            who = _caller(request)
            if isinstance(who, HttpResponse):
                return who
            if writes and not who.may_write:
                return outcome(
                    403, "This token may not write: it needs the write scope.", "forbidden"
                )
            try:
                response = view(request, who, *args, **kwargs)
            except DomainError as error:
                code = "not-found" if http_status_for(error) == 404 else "invalid"
                response = outcome(http_status_for(error), error.message, code)
            patch_cache_control(response, private=True, no_store=True)
            return response

        return wrapped

    return decorate


@require_GET
@fhir_view()
def patient_everything(request: HttpRequest, who: Caller, patient_id: uuid.UUID) -> HttpResponse:
    """`GET /fhir/Patient/{id}/$everything`: the patient's record as a Bundle."""
    found = queries.everything(who.user, patient_id, now=timezone.now())
    return JsonResponse(found, content_type=FHIR_JSON)


@require_GET
@fhir_view()
def export_kickoff(request: HttpRequest, who: Caller) -> HttpResponse:
    """`GET /fhir/$export`: start a bulk export of the clinic; 202 with the status URL."""
    job = services.start_export(actor=who.user, clinic=who.clinic)
    response = HttpResponse(status=202)
    response["Content-Location"] = request.build_absolute_uri(
        reverse("fhir_export_status", args=[job.pk])
    )
    return response


@require_GET
@fhir_view()
def export_status(request: HttpRequest, who: Caller, job_id: uuid.UUID) -> HttpResponse:
    """202 with X-Progress while the export runs; 200 with the manifest once done."""
    job = queries.get_export_job(who.user, who.clinic, job_id)
    if job.status == ExportStatus.RUNNING:
        response = HttpResponse(status=202)
        response["X-Progress"] = f"{job.progress_percent}%"
        response["Retry-After"] = "5"
        return response
    if job.status == ExportStatus.FAILED:
        return outcome(500, f"The export failed: {job.error}", "exception")
    output = [
        {
            "type": name,
            "url": request.build_absolute_uri(reverse("fhir_export_file", args=[job.pk, name])),
            "count": count,
        }
        for name, count in job.counts.items()
    ]
    manifest = {
        "transactionTime": job.created_at.isoformat(),
        "request": request.build_absolute_uri(reverse("fhir_export_kickoff")),
        "requiresAccessToken": True,
        "output": output,
        "error": [],
    }
    return JsonResponse(manifest)


@require_GET
@fhir_view()
def export_file(
    request: HttpRequest, who: Caller, job_id: uuid.UUID, resource_type: str
) -> HttpResponseBase:
    """One NDJSON file of a finished export, streamed from disk (audited)."""
    job = queries.download_export_file(who.user, who.clinic, job_id, resource_type)
    if job.status != ExportStatus.DONE or resource_type not in job.counts:
        return outcome(404, "No such file in this export.", "not-found")
    path = services.export_folder(job) / f"{resource_type}.ndjson"
    if not path.is_file():
        return outcome(
            410, "This export's files have been removed: start a new export.", "not-found"
        )
    return FileResponse(path.open("rb"), content_type="application/fhir+ndjson")


@require_POST
@fhir_view(writes=True)
def import_bundle(request: HttpRequest, who: Caller) -> HttpResponse:
    """`POST /fhir/$import-bundle`: create a Bundle's patient in the admin's empty clinic."""
    try:
        document = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return outcome(400, "Send the Bundle as JSON.", "structure")
    patient_id = importing.import_bundle(actor=who.user, clinic=who.clinic, document=document)
    response = JsonResponse(
        {"resourceType": "Patient", "id": str(patient_id)}, status=201, content_type=FHIR_JSON
    )
    response["Location"] = request.build_absolute_uri(
        reverse("fhir_patient_everything", args=[patient_id])
    )
    return response


# --- Pages: open data ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def clinic_export(request: HttpRequest) -> HttpResponse:
    """The clinic's bulk exports for its admins: start one; the list polls (htmx) while one
    runs and links each finished file."""
    clinic = clinic_context(request).clinic
    if request.method == "POST":
        services.start_export(actor=request.user, clinic=clinic)
        return redirect("fhir_clinic_export")
    jobs = queries.list_export_jobs(request.user, clinic)
    context = {
        "jobs": jobs,
        "running": any(job.status == ExportStatus.RUNNING for job in jobs),
    }
    template = "fhir/clinic_export.html"
    if request.headers.get("HX-Request") == "true":
        template += "#jobs"
    return render(request, template, context)
