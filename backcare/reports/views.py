"""The dashboard each role lands on, and the clinic's audit log."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from backcare.accounts.context import clinic_context
from backcare.accounts.models import Role
from backcare.accounts.queries import list_invitations
from backcare.core.errors import InvalidInputError
from backcare.reports import queries
from backcare.reports.forms import AuditFilterForm


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
