"""Patient record pages for staff, and the patient's own portal pages."""

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from backcare.accounts.context import clinic_context
from backcare.accounts.queries import require_roles
from backcare.core.errors import InvalidInputError
from backcare.core.http import UNPROCESSABLE, render_form, render_refusal
from backcare.patients import queries, services
from backcare.patients.forms import (
    ConsentForm,
    ContactForm,
    PatientForm,
    PatientSearchForm,
    PreferencesForm,
)
from backcare.patients.models import ConsentMethod
from backcare.patients.queries import SEE_ALL_ROLES, PatientRecord

# --- Staff pages ----------------------------------------------------------------------------------


@login_required
def patient_list(request: HttpRequest) -> HttpResponse:
    ctx = clinic_context(request)
    form = PatientSearchForm(request.GET or None)
    search = form.cleaned_data["q"] if form.is_valid() else ""
    patients = queries.list_patients(request.user, ctx.clinic, search=search)
    context = {
        "form": form,
        "patients": patients,
        "search": search,
        "can_add": ctx.has(*SEE_ALL_ROLES),
    }
    template = "patients/patient_list.html"
    if request.headers.get("HX-Request") == "true":
        template += "#results"
    status = 200 if form.is_valid() or not form.is_bound else 400
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def patient_create(request: HttpRequest) -> HttpResponse:
    clinic = require_roles(
        request.user, clinic_context(request).clinic, SEE_ALL_ROLES, action="patient.create"
    )
    form = PatientForm(request.POST if request.method == "POST" else None, clinic=clinic)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.create_patient(
                actor=request.user, clinic=clinic, **form.cleaned_data
            )
        except InvalidInputError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, f"Record created for {patient.display_name}.")
            return redirect("patient_detail", patient_id=patient.pk)
    return render_form(
        request,
        "patients/patient_form.html",
        {"form": form, "record": None},
        invalid=request.method == "POST",
    )


@login_required
def patient_detail(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    record = queries.get_patient(request.user, patient_id)
    return _render_record(request, "patients/patient_detail.html", record)


def _render_record(
    request: HttpRequest, template: str, record: PatientRecord, status: int = 200, **extra: Any
) -> HttpResponse:
    """Render a page of one patient's record with times in that patient's clinic's zone (the
    viewer may be working in another clinic of the group)."""
    context = {"record": record, "patient": record.patient, "can_edit": record.can_edit, **extra}
    with timezone.override(record.patient.clinic.zone):
        return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = queries.find_patient(
        request.user, patient_id, roles=SEE_ALL_ROLES, allow_self=False, action="patient.update"
    )
    if request.method == "POST":
        form = PatientForm(request.POST, clinic=patient.clinic)
        if form.is_valid():
            try:
                services.update_patient(
                    actor=request.user, patient_id=patient_id, **form.cleaned_data
                )
            except InvalidInputError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, "Patient record saved.")
                return redirect("patient_detail", patient_id=patient_id)
    else:
        form = None
    record = queries.get_patient(request.user, patient_id)
    form = form or PatientForm(initial=model_to_dict(record.patient), clinic=patient.clinic)
    context = {"form": form, "record": record}
    return render_form(
        request, "patients/patient_form.html", context, invalid=request.method == "POST"
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_preferences(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    queries.find_patient(
        request.user, patient_id, roles=SEE_ALL_ROLES, allow_self=False, action="preferences.update"
    )
    return _preferences_page(request, patient_id, portal=False)


def _preferences_page(request: HttpRequest, patient_id: uuid.UUID, *, portal: bool) -> HttpResponse:
    done = reverse("portal_details") if portal else reverse("patient_detail", args=[patient_id])
    form = PreferencesForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_preferences(
                actor=request.user, patient_id=patient_id, **form.cleaned_data
            )
        except InvalidInputError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, "Preferences saved.")
            return redirect(done)
    record = queries.get_patient(request.user, patient_id)
    if request.method == "GET":
        form = PreferencesForm(
            initial=model_to_dict(record.preferences) if record.preferences else None
        )
    context = {"form": form, "record": record, "portal": portal}
    return render_form(
        request, "patients/preferences_form.html", context, invalid=request.method == "POST"
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent_add(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = queries.find_patient(
        request.user, patient_id, roles=SEE_ALL_ROLES, allow_self=False, action="consent.create"
    )
    texts = queries.current_consent_texts(patient.clinic)
    form = ConsentForm(request.POST if request.method == "POST" else None, texts=texts)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_consent(
                actor=request.user,
                patient_id=patient_id,
                text_id=form.cleaned_data["text"].pk,
                method=form.cleaned_data["method"],
            )
        except InvalidInputError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, "Consent recorded.")
            return redirect("patient_detail", patient_id=patient_id)
    record = queries.get_patient(request.user, patient_id)
    context = {"form": form, "record": record, "texts": texts}
    return render_form(
        request, "patients/consent_form.html", context, invalid=request.method == "POST"
    )


@login_required
@require_POST
def consent_withdraw(
    request: HttpRequest, patient_id: uuid.UUID, consent_id: uuid.UUID
) -> HttpResponse:
    own = request.POST.get("from") == "portal"
    back = reverse("portal_consents") if own else reverse("patient_detail", args=[patient_id])
    try:
        services.withdraw_consent(actor=request.user, patient_id=patient_id, consent_id=consent_id)
    except InvalidInputError as error:
        return render_refusal(request, error, back_url=back)
    messages.success(request, "Consent withdrawn.")
    return redirect(back)


@login_required
@require_POST
def patient_invite(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    back = reverse("patient_detail", args=[patient_id])
    try:
        patient = services.invite_to_portal(
            actor=request.user, patient_id=patient_id, site_url=request.build_absolute_uri("/")
        )
    except InvalidInputError as error:
        return render_refusal(request, error, back_url=back)
    messages.success(request, f"Portal invitation sent to {patient.email}.")
    return redirect(back)


# --- Patient portal -------------------------------------------------------------------------------


@login_required
def portal_details(request: HttpRequest) -> HttpResponse:
    record = queries.get_own_record(request.user, clinic_context(request).clinic)
    return _render_record(request, "patients/portal_details.html", record)


@login_required
@require_http_methods(["GET", "POST"])
def portal_contact_edit(request: HttpRequest) -> HttpResponse:
    patient_id = queries.own_patient_id(request.user, clinic_context(request).clinic)
    form = ContactForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_contact_details(
                actor=request.user, patient_id=patient_id, **form.cleaned_data
            )
        except InvalidInputError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, "Your details are saved.")
            return redirect("portal_details")
    record = queries.get_patient(request.user, patient_id)
    if request.method == "GET":
        form = ContactForm(initial=model_to_dict(record.patient))
    context = {"form": form, "record": record}
    return render_form(
        request, "patients/portal_contact_form.html", context, invalid=request.method == "POST"
    )


@login_required
@require_http_methods(["GET", "POST"])
def portal_preferences(request: HttpRequest) -> HttpResponse:
    patient_id = queries.own_patient_id(request.user, clinic_context(request).clinic)
    return _preferences_page(request, patient_id, portal=True)


@login_required
@require_http_methods(["GET", "POST"])
def portal_consents(request: HttpRequest) -> HttpResponse:
    clinic = clinic_context(request).clinic
    patient_id = queries.own_patient_id(request.user, clinic)
    invalid = False
    if request.method == "POST":
        try:
            text_id = uuid.UUID(request.POST.get("text", ""))
            services.record_consent(
                actor=request.user,
                patient_id=patient_id,
                text_id=text_id,
                method=ConsentMethod.PORTAL,
            )
        except ValueError:
            messages.error(request, "Choose a consent statement to agree to.")
            invalid = True
        except InvalidInputError as error:
            messages.error(request, error.message)
            invalid = True
        else:
            messages.success(request, "Thank you. Your consent is recorded.")
            return redirect("portal_consents")
    record = queries.get_patient(request.user, patient_id)
    given = {c.text_id for c in record.consents if c.is_active}
    texts = [(t, t.pk in given) for t in queries.current_consent_texts(record.patient.clinic)]
    status = UNPROCESSABLE if invalid else 200
    return _render_record(request, "patients/portal_consents.html", record, status, texts=texts)
