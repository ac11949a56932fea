"""Safety pages: the triage queue, a screening's findings, referral letters, clearances,
hold overrides and the re-screen before a visit."""

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backcare.accounts.context import clinic_context
from backcare.accounts.models import Clinic, Role
from backcare.accounts.queries import CLINIC_STAFF_ROLES, require_roles
from backcare.core.errors import InvalidInputError, NotFoundError
from backcare.core.http import render_form
from backcare.core.pdf import render_pdf
from backcare.patients.models import Patient
from backcare.patients.queries import find_patient, own_patient_id
from backcare.triage import queries, services
from backcare.triage.forms import ClearanceForm, OverrideForm, ReferralLetterForm, RescreenForm


def _render_in_zone(
    request: HttpRequest,
    clinic: Clinic,
    template: str,
    context: dict[str, Any],
    *,
    invalid: bool = False,
) -> HttpResponse:
    """Render with times in the clinic's zone (the viewer may be working in another clinic of
    the group, or be a referring clinician of several)."""
    with timezone.override(clinic.zone):
        return render_form(request, template, context, invalid=invalid)


# --- Staff: queue, summary, screening -------------------------------------------------------------


@login_required
@require_GET
def triage_queue(request: HttpRequest) -> HttpResponse:
    entries = queries.list_triage_queue(request.user, clinic_context(request).clinic)
    return render(request, "triage/triage_queue.html", {"entries": entries})


@login_required
@require_GET
def patient_safety(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    summary = queries.get_safety_summary(request.user, patient_id)
    context = {
        "summary": summary,
        "patient": summary.patient,
        "actions": queries.safety_actions(request.user, summary.hold),
        "hold": summary.hold,
    }
    # The patient record loads the hold banner with htmx (patients cannot import triage).
    template = (
        "triage/includes/hold_banner.html"
        if request.headers.get("HX-Request") == "true"
        else "triage/patient_safety.html"
    )
    return _render_in_zone(request, summary.patient.clinic, template, context)


@login_required
@require_GET
def assessment_detail(request: HttpRequest, assessment_id: uuid.UUID) -> HttpResponse:
    detail = queries.get_assessment_detail(request.user, assessment_id)
    context = {
        "detail": detail,
        "assessment": detail.assessment,
        "patient": detail.assessment.patient,
    }
    return _render_in_zone(
        request, detail.assessment.patient.clinic, "triage/assessment_detail.html", context
    )


@login_required
@require_POST
def assessment_review(request: HttpRequest, assessment_id: uuid.UUID) -> HttpResponse:
    services.review_screening(actor=request.user, assessment_id=assessment_id)
    messages.success(request, "Screening marked as reviewed.")
    return redirect("assessment_detail", assessment_id=assessment_id)


# --- Referral letters -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def referral_letter_create(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = find_patient(
        request.user,
        patient_id,
        roles=CLINIC_STAFF_ROLES,
        allow_self=False,
        action="referral_letter.create",
    )
    referrer = patient.referred_by
    form = ReferralLetterForm(
        request.POST if request.method == "POST" else None,
        referrer_name=referrer.full_name if referrer else "",
    )
    if request.method == "POST" and form.is_valid():
        try:
            letter = services.write_referral_letter(
                actor=request.user,
                patient_id=patient_id,
                recipient_name=form.cleaned_data["recipient_name"],
                recipient_address=form.cleaned_data["recipient_address"],
                note=form.cleaned_data["note"],
                send_to_referrer=bool(form.cleaned_data.get("send_to_referrer")),
            )
        except InvalidInputError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, f"Referral letter to {letter.recipient_name} written.")
            return redirect("referral_letter_detail", letter_id=letter.pk)
    summary = queries.get_safety_summary(request.user, patient_id)
    context = {"form": form, "summary": summary, "patient": summary.patient}
    return _render_in_zone(
        request,
        patient.clinic,
        "triage/referral_letter_form.html",
        context,
        invalid=request.method == "POST",
    )


@login_required
@require_GET
def referral_letter_detail(request: HttpRequest, letter_id: uuid.UUID) -> HttpResponse:
    detail = queries.get_letter_detail(request.user, letter_id)
    context = {"detail": detail, "letter": detail.letter, "patient": detail.letter.patient}
    return _render_in_zone(request, detail.letter.clinic, "triage/referral_letter.html", context)


@login_required
@require_GET
def referral_letter_pdf(request: HttpRequest, letter_id: uuid.UUID) -> HttpResponse:
    detail = queries.get_letter_detail(request.user, letter_id)
    letter = detail.letter
    with timezone.override(letter.clinic.zone):
        html = render_to_string(
            "triage/referral_letter_pdf.html",
            {"detail": detail, "letter": letter, "patient": letter.patient},
        )
        written_on = timezone.localdate(letter.written_at)
    pdf = render_pdf(html)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="referral-letter-{written_on:%Y-%m-%d}.pdf"'
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
@require_GET
def referral_letter_list(request: HttpRequest) -> HttpResponse:
    require_roles(
        request.user,
        clinic_context(request).clinic,
        {Role.REFERRING_CLINICIAN},
        action="referral_letter.list",
    )
    letters = queries.list_letters_for_clinician(request.user)
    return render(request, "triage/referral_letter_list.html", {"letters": letters})


# --- Clearances and overrides ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def clearance_create(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = find_patient(
        request.user,
        patient_id,
        roles=queries.CLEARANCE_ROLES,
        allow_self=False,
        action="clearance.create",
    )
    initial = {}
    referrer = patient.referred_by
    if referrer is not None and referrer.pk == request.user.pk:
        initial = {"clinician_name": referrer.full_name, "clinician_role": "Referring clinician"}
    form = ClearanceForm(
        request.POST if request.method == "POST" else None, request.FILES or None, initial=initial
    )
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.record_clearance(
                    actor=request.user,
                    patient_id=patient_id,
                    clinician_name=data["clinician_name"],
                    clinician_role=data["clinician_role"],
                    cleared_on=data["cleared_on"],
                    valid_until=data["valid_until"],
                    restricted_regions=data["restricted_regions"],
                    excluded_techniques=data["excluded_techniques"],
                    max_pressure_level=data["max_pressure_level"],
                    conditions=data["conditions"],
                    document=data["document"],
                )
            except InvalidInputError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, "Clearance recorded.")
                return redirect("patient_safety", patient_id=patient_id)
        elif "document" not in form.errors:
            _add_document_error(form, request)
    summary = queries.get_safety_summary(request.user, patient_id)
    context = {"form": form, "summary": summary, "patient": summary.patient}
    return _render_in_zone(
        request,
        patient.clinic,
        "triage/clearance_form.html",
        context,
        invalid=request.method == "POST",
    )


def _add_document_error(form: ClearanceForm, request: HttpRequest) -> None:
    """Say what is wrong with the document too when other fields are refused, so that the
    whole form is corrected in one go."""
    try:
        services.check_document(request.FILES.get("document"))
    except InvalidInputError as error:
        form.add_error("document", error.message)


@login_required
@require_GET
def clearance_document(request: HttpRequest, clearance_id: uuid.UUID) -> FileResponse:
    clearance = queries.get_clearance(request.user, clearance_id)
    try:
        stored = clearance.document.open("rb")
    except OSError as error:
        raise NotFoundError(
            "The document file is missing; ask the clinic to upload it again."
        ) from error
    response = FileResponse(
        stored,
        as_attachment=True,
        filename=f"clearance-{clearance.cleared_on:%Y-%m-%d}.{clearance.document_type}",
        content_type=services.DOCUMENT_CONTENT_TYPES.get(
            clearance.document_type, "application/octet-stream"
        ),
    )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def hold_override(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = find_patient(
        request.user,
        patient_id,
        roles=queries.OVERRIDE_ROLES,
        allow_self=False,
        action="hold.override",
    )
    form = OverrideForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.override_hold(
                actor=request.user, patient_id=patient_id, reason=form.cleaned_data["reason"]
            )
        except InvalidInputError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, "Hold overridden; the reason is kept in the record.")
            return redirect("patient_safety", patient_id=patient_id)
    summary = queries.get_safety_summary(request.user, patient_id)
    context = {"form": form, "summary": summary, "patient": summary.patient}
    return _render_in_zone(
        request,
        patient.clinic,
        "triage/override_form.html",
        context,
        invalid=request.method == "POST",
    )


# --- Re-screen before a visit ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def rescreen(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = find_patient(
        request.user,
        patient_id,
        roles=CLINIC_STAFF_ROLES,
        allow_self=False,
        action="triage.create",
    )
    return _rescreen_page(request, patient, portal=False)


@login_required
@require_http_methods(["GET", "POST"])
def portal_rescreen(request: HttpRequest) -> HttpResponse:
    patient_id = own_patient_id(request.user, clinic_context(request).clinic)
    patient = find_patient(request.user, patient_id, action="triage.create")
    return _rescreen_page(request, patient, portal=True)


def _rescreen_page(request: HttpRequest, patient: Patient, *, portal: bool) -> HttpResponse:
    form = RescreenForm(request.POST if request.method == "POST" else None, for_patient=portal)
    if request.method == "POST" and form.is_valid():
        items, conditions = form.rule_inputs()
        try:
            assessment = services.record_rescreen(
                actor=request.user,
                patient_id=patient.pk,
                answers=items,
                conditions=conditions,
                changes_since_last=form.cleaned_data["changes_since_last"],
            )
        except InvalidInputError as error:
            form.add_domain_error(error)
        else:
            # Redirect, so that reloading the page does not record the screening again.
            return redirect("screening_outcome", assessment.pk)
    hold = queries.get_hold_status(request.user, patient.pk)
    context = {"form": form, "patient": patient, "hold": hold, "portal": portal}
    return _render_in_zone(
        request, patient.clinic, "triage/rescreen.html", context, invalid=request.method == "POST"
    )


@login_required
def screening_outcome(request: HttpRequest, assessment_id: uuid.UUID) -> HttpResponse:
    """What a re-screen found: go ahead (with precautions) or stop."""
    outcome = queries.get_screening_outcome(request.user, assessment_id)
    patient = outcome.assessment.patient
    context = {"outcome": outcome, "patient": patient, "portal": patient.user_id == request.user.pk}
    return _render_in_zone(request, patient.clinic, "triage/rescreen_outcome.html", context)
