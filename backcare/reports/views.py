"""The dashboard each role lands on, and the clinic's audit log."""

import csv
import io
import itertools
import uuid
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_http_methods

from backcare.accounts.context import clinic_context
from backcare.accounts.models import Role
from backcare.accounts.queries import list_invitations
from backcare.core.errors import InvalidInputError, NotFoundError
from backcare.core.pdf import render_pdf
from backcare.outcomes.forms import ANSWERABLE
from backcare.outcomes.queries import MEASUREMENT_COLUMNS, export_measurements
from backcare.patients.queries import own_patient_id
from backcare.reports import analytics, group, queries, services
from backcare.reports.export import write_my_data
from backcare.reports.forms import AnalyticsPeriodForm, AuditFilterForm


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """One page per person, with a section for each role they hold in the current clinic."""
    ctx = clinic_context(request)
    context: dict[str, object] = {"invitations": list_invitations(request.user)}
    if ctx.has(Role.CLINIC_ADMIN, Role.FRONT_DESK, Role.THERAPIST):
        context["staff"] = queries.staff_dashboard(request.user, ctx.clinic)
    if ctx.has(Role.REFERRING_CLINICIAN):
        context["referred"] = queries.referrer_dashboard(request.user, ctx.clinic)
    if ctx.has(Role.PATIENT):
        context["portal"] = queries.patient_dashboard(request.user, ctx.clinic)
    return render(request, "reports/dashboard.html", context)


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    clinic = clinic_context(request).clinic
    form = AuditFilterForm(request.GET)
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        try:
            log = queries.audit_log(
                request.user,
                clinic,
                patient_id=data["patient"],
                actor_id=data["actor"],
                page_number=data["page"] or 1,
                patient_search=data["patient_search"].strip(),
            )
        except InvalidInputError as error:
            form.add_error(None, error.message)
            status = 400
    else:
        status = 400
    if status != 200:
        log = queries.audit_log(request.user, clinic, patient_id=None, actor_id=None, page_number=1)
    form.fields["actor"].widget.choices = [("", "Everyone"), *log.people]
    return render(request, "reports/audit_log.html", {"form": form, "log": log}, status=status)


@login_required
def portal_progress(request: HttpRequest) -> HttpResponse:
    """The patient's own progress: each measure over time, with what the change means."""
    patient_id = own_patient_id(request.user, clinic_context(request).clinic)
    return _progress(request, patient_id, portal=True)


@login_required
def patient_progress(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """A patient's progress, for clinic staff and the referring clinician."""
    return _progress(request, patient_id, portal=False)


def _progress(request: HttpRequest, patient_id: uuid.UUID, *, portal: bool) -> HttpResponse:
    page = queries.get_progress(request.user, patient_id, now=timezone.now())
    context = {"page": page, "patient": page.patient, "portal": portal}
    return render(request, "reports/progress.html", context)


@login_required
@require_GET
def progress_pdf(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """The progress report as a PDF, for the patient, their clinic's staff and their referring
    clinician: the same charts and summaries as the page."""
    page = queries.get_progress(request.user, patient_id, now=timezone.now())
    clinic = page.patient.clinic
    with timezone.override(clinic.zone):
        html = render_to_string(
            "reports/progress_pdf.html",
            {"page": page, "patient": page.patient, "today": clinic.local_date()},
        )
    response = HttpResponse(render_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="progress-report-{clinic.local_date():%Y-%m-%d}.pdf"'
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


class _Echo:
    """A file-like object that hands each CSV line back (streamed, never held in memory)."""

    def write(self, value: str) -> str:
        return value


@login_required
@require_GET
def measurements_csv(request: HttpRequest) -> StreamingHttpResponse:
    """Every outcome measurement of the clinic as CSV, for clinic admins (audited)."""
    rows = export_measurements(request.user, clinic_context(request).clinic)
    writer = csv.writer(_Echo())
    lines = itertools.chain([writer.writerow(MEASUREMENT_COLUMNS)], map(writer.writerow, rows))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="measurements.csv"'
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
def portal_questionnaires(request: HttpRequest) -> HttpResponse:
    """The patient's questionnaires due now, each with its reason and a link to answer it."""
    patient_id = own_patient_id(request.user, clinic_context(request).clinic)
    return _due(request, patient_id, portal=True)


@login_required
def patient_questionnaires(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """A patient's questionnaires due now, for staff entering paper answers."""
    return _due(request, patient_id, portal=False)


def _due(request: HttpRequest, patient_id: uuid.UUID, *, portal: bool) -> HttpResponse:
    due = queries.list_due_questionnaires(request.user, patient_id, now=timezone.now())
    context = {"due": due, "patient": due.patient, "portal": portal, "online": ANSWERABLE}
    return render(request, "reports/questionnaires.html", context)


@login_required
@require_GET
def clinic_analytics(request: HttpRequest) -> HttpResponse:
    """Clinic analytics for admins: the courses started in a period (default the last 12
    months), the proportion reaching important improvement, completion, adverse events and
    pain medicine use, each figure with its n. Dates that cannot be used answer 400 with the
    form's message and no figures (like the audit log's filters)."""
    clinic = analytics.analytics_clinic(request.user, clinic_context(request).clinic)
    start, end = analytics.default_period(clinic)
    form, start, end = _chosen_period(request, start, end)
    page = None
    if not form.errors:
        page = analytics.clinic_analytics(request.user, clinic, start=start, end=end)
    status = 400 if form.errors else 200
    context = {"form": form, "page": page, "group": group.administers_group(request.user)}
    return render(request, "reports/clinic_analytics.html", context, status=status)


def _chosen_period(
    request: HttpRequest, start: date, end: date
) -> tuple[AnalyticsPeriodForm, date, date]:
    """The analytics period the query string chooses, each date defaulting to the given one;
    the form holds the errors of dates that cannot be used."""
    form = AnalyticsPeriodForm(request.GET or None, initial={"start": start, "end": end})
    if request.GET and form.is_valid():
        start = form.cleaned_data["start"] or start
        end = form.cleaned_data["end"] or end
        if start > end:
            form.add_error(None, "Choose a start date on or before the end date.")
    return form, start, end


@login_required
@require_GET
def group_analytics(request: HttpRequest) -> HttpResponse:
    """Whole-group analytics for a person who administers several clinics: each clinic's
    figures for all courses started in a period, and the group's total. Anyone else: 404.
    Dates that cannot be used answer 400 with the form's message and no figures."""
    start, end = group.group_period(request.user)
    form, start, end = _chosen_period(request, start, end)
    page = None
    status, refusal = (400 if form.errors else 200), ""
    if not form.errors:
        try:
            page = group.group_analytics(request.user, start=start, end=end)
        except InvalidInputError as too_many:  # a period of more courses than a request can take
            status, refusal = 422, too_many.message
    context = {"form": form, "page": page, "refusal": refusal}
    return render(request, "reports/group_analytics.html", context, status=status)


# --- Open data: the clinic's whole export, and the patient's own data --------------------------


@login_required
@require_http_methods(["GET", "POST"])
def clinic_export(request: HttpRequest) -> HttpResponse:
    """Export the whole clinic (admins): start a job, follow its progress, download the zip."""
    clinic = clinic_context(request).clinic
    if request.method == "POST":
        services.request_clinic_export(requested_by=request.user, clinic=clinic)
        messages.success(request, "The export has started. This page shows its progress.")
        return redirect("clinic_export")
    exports = queries.list_clinic_exports(request.user, clinic)
    context = {"exports": exports, "latest": exports[0] if exports else None}
    return render(request, "reports/clinic_export.html", context)


@login_required
@require_GET
def clinic_export_status(request: HttpRequest, export_id: uuid.UUID) -> HttpResponse:
    """The progress of one export (polled by the export page every 2 seconds until done)."""
    export = queries.get_clinic_export(request.user, clinic_context(request).clinic, export_id)
    return render(request, "reports/clinic_export.html#export_status", {"latest": export})


@login_required
@require_GET
def clinic_export_download(request: HttpRequest, export_id: uuid.UUID) -> FileResponse:
    """The finished export's zip (admins of its clinic; audited)."""
    export = queries.download_clinic_export(request.user, clinic_context(request).clinic, export_id)
    try:
        stored = export.file.open("rb")
    except OSError as error:
        raise NotFoundError("The export file is missing; start a new export.") from error
    when = timezone.localtime(export.created_at, export.clinic.zone)
    response = FileResponse(
        stored,
        as_attachment=True,
        filename=f"clinic-export-{when:%Y-%m-%d-%H%M}.zip",
        content_type="application/zip",
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
@require_GET
def portal_my_data(request: HttpRequest) -> HttpResponse:
    """The patient's "My data" page: download everything the portal shows about them."""
    patient_id = queries.own_data_patient_id(request.user, clinic_context(request).clinic)
    return render(request, "reports/my_data.html", {"patient_id": patient_id})


@login_required
@require_GET
def portal_my_data_zip(request: HttpRequest) -> FileResponse:
    """The patient's own data as a zip of CSV files (the patient only; audited)."""
    data = queries.get_my_data(request.user, clinic_context(request).clinic, now=timezone.now())
    out = io.BytesIO()  # one person's data: small
    write_my_data(out, data)
    out.seek(0)
    today = data.record.patient.clinic.local_date()
    response = FileResponse(
        out,
        as_attachment=True,
        filename=f"my-data-{today:%Y-%m-%d}.zip",
        content_type="application/zip",
    )
    patch_cache_control(response, private=True, no_store=True)
    return response
