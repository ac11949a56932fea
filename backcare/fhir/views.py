"""FHIR endpoints under /fhir/: a patient's `$everything`, the clinic's bulk export (kick-off,
status, files) and the import of a Bundle. Errors are OperationOutcomes (decision 0023)."""

import functools
import json
import uuid
from collections.abc import Callable
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_POST

from backcare.accounts.context import clinic_context
from backcare.core.errors import DomainError, http_status_for
from backcare.fhir import queries, services
from backcare.fhir.models import ExportStatus

FHIR_JSON = "application/fhir+json"


def outcome(status: int, message: str, code: str = "processing") -> HttpResponse:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": message}],
    }
    return JsonResponse(body, status=status, content_type=FHIR_JSON)


def fhir_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Signed-in callers only (401 otherwise); domain errors become OperationOutcomes with the
    status of `core.errors`; FHIR responses are never cached."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return outcome(401, "Sign in first.", "login")
        try:
            response = view(request, *args, **kwargs)
        except DomainError as error:
            code = "not-found" if http_status_for(error) == 404 else "invalid"
            response = outcome(http_status_for(error), error.message, code)
        patch_cache_control(response, private=True, no_store=True)
        return response

    return wrapped


@require_GET
@fhir_view
def patient_everything(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """`GET /fhir/Patient/{id}/$everything`: the patient's record as a Bundle."""
    found = queries.everything(request.user, patient_id, now=timezone.now())
    return JsonResponse(found, content_type=FHIR_JSON)


@require_GET
@fhir_view
def export_kickoff(request: HttpRequest) -> HttpResponse:
    """`GET /fhir/$export`: start a bulk export of the clinic; 202 with the status URL."""
    job = services.start_export(actor=request.user, clinic=clinic_context(request).clinic)
    response = HttpResponse(status=202)
    response["Content-Location"] = request.build_absolute_uri(
        reverse("fhir_export_status", args=[job.pk])
    )
    return response


@require_GET
@fhir_view
def export_status(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    """202 with X-Progress while the export runs; 200 with the manifest once done."""
    job = queries.get_export_job(request.user, clinic_context(request).clinic, job_id)
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
@fhir_view
def export_file(request: HttpRequest, job_id: uuid.UUID, resource_type: str) -> HttpResponseBase:
    """One NDJSON file of a finished export, streamed from disk."""
    job = queries.get_export_job(request.user, clinic_context(request).clinic, job_id)
    if job.status != ExportStatus.DONE or resource_type not in job.counts:
        return outcome(404, "No such file in this export.", "not-found")
    path = services.export_folder(job) / f"{resource_type}.ndjson"
    return FileResponse(path.open("rb"), content_type="application/fhir+ndjson")


@require_POST
@fhir_view
def import_bundle(request: HttpRequest) -> HttpResponse:
    """`POST /fhir/$import-bundle`: create a Bundle's patient in the admin's empty clinic."""
    try:
        document = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return outcome(400, "Send the Bundle as JSON.", "structure")
    patient_id = services.import_bundle(
        actor=request.user, clinic=clinic_context(request).clinic, document=document
    )
    response = JsonResponse(
        {"resourceType": "Patient", "id": str(patient_id)}, status=201, content_type=FHIR_JSON
    )
    response["Location"] = request.build_absolute_uri(
        reverse("fhir_patient_everything", args=[patient_id])
    )
    return response
