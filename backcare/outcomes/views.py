"""The clinical settings page: rule and threshold values in use, beside their defaults."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from backcare.accounts.context import clinic_context
from backcare.core.errors import ConflictError, DomainError, InvalidInputError, http_status_for
from backcare.core.http import UNPROCESSABLE, render_form, render_refusal
from backcare.core.ratelimit import rate_limited
from backcare.outcomes import queries, services
from backcare.outcomes.forms import (
    ANSWERABLE,
    AnswerForm,
    CheckInForm,
    FlareUpForm,
    OutcomeSettingsForm,
    RuleSettingsForm,
)
from backcare.patients.queries import own_patient_id
from backcare.triage import queries as triage_queries
from backcare.triage import services as triage_services


def _page(
    request: HttpRequest, rules: RuleSettingsForm, outcomes: OutcomeSettingsForm, *, invalid: bool
) -> HttpResponse:
    context = {"rules_form": rules, "outcomes_form": outcomes}
    return render_form(request, "outcomes/clinical_settings.html", context, invalid=invalid)


@login_required
@require_http_methods(["GET"])
def clinical_settings(request: HttpRequest) -> HttpResponse:
    clinic = clinic_context(request).clinic
    rules = RuleSettingsForm(in_use=triage_queries.get_rule_settings(request.user, clinic))
    outcomes = OutcomeSettingsForm(in_use=queries.get_outcome_settings(request.user, clinic))
    return _page(request, rules, outcomes, invalid=False)


@login_required
@require_POST
def rule_settings_save(request: HttpRequest) -> HttpResponse:
    clinic = clinic_context(request).clinic
    form = RuleSettingsForm(
        request.POST, in_use=triage_queries.get_rule_settings(request.user, clinic)
    )
    if form.is_valid():
        try:
            triage_services.save_rule_settings(
                actor=request.user,
                clinic=clinic,
                triage=form.overrides("triage"),
                contraindication=form.overrides("ci"),
            )
        except InvalidInputError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, "Safety rule settings saved.")
            return redirect("clinical_settings")
    outcomes = OutcomeSettingsForm(in_use=queries.get_outcome_settings(request.user, clinic))
    return _page(request, form, outcomes, invalid=True)


@login_required
@require_POST
def outcome_settings_save(request: HttpRequest) -> HttpResponse:
    clinic = clinic_context(request).clinic
    form = OutcomeSettingsForm(
        request.POST, in_use=queries.get_outcome_settings(request.user, clinic)
    )
    if form.is_valid():
        try:
            services.save_outcome_settings(
                actor=request.user,
                clinic=clinic,
                odi_max_missing=form.cleaned_data["odi_max_missing"],
                thresholds=form.thresholds(),
            )
        except InvalidInputError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, "Outcome settings saved.")
            return redirect("clinical_settings")
    rules = RuleSettingsForm(in_use=triage_queries.get_rule_settings(request.user, clinic))
    return _page(request, rules, form, invalid=True)


@rate_limited
@require_http_methods(["GET", "POST"])
def check_in(request: HttpRequest, token: str) -> HttpResponse:
    """The check-in after a visit or the follow-up after a course, from the emailed link: no
    login, answered once. A link altered, answered or expired gets a page saying so, and
    nothing is written."""
    try:
        found = services.open_check_in(token)
    except DomainError as error:
        return render(
            request,
            "outcomes/check_in_closed.html",
            {"message": error.message},
            status=http_status_for(error),
        )
    form = CheckInForm(
        request.POST if request.method == "POST" else None, follow_up=found.is_follow_up
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.answer_check_in(token=token, **form.cleaned_data)
        except DomainError as error:
            form.add_domain_error(error)
        else:
            return render(request, "outcomes/check_in_done.html", {"clinic": found.clinic})
    status = UNPROCESSABLE if form.errors else 200
    context = {"form": form, "clinic": found.clinic, "follow_up": found.is_follow_up}
    return render(request, "outcomes/check_in.html", context, status=status)


@login_required
@require_POST
def progress_send(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Send the progress report's link to the patient's referring clinician."""
    try:
        to = services.send_progress_report(
            actor=request.user, patient_id=patient_id, site_url=request.build_absolute_uri("/")
        )
    except ConflictError as error:
        return render_refusal(
            request, error, back_url=reverse("patient_progress", args=[patient_id])
        )
    messages.success(request, f"The progress report's link was sent to {to}.")
    return redirect("patient_progress", patient_id=patient_id)


@login_required
@require_http_methods(["GET", "POST"])
def flare_up_add(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Clinic staff record a flare-up of the patient's back pain; it shows on the progress."""
    patient = queries.flare_up_patient(request.user, patient_id)
    form = FlareUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_flare_up(actor=request.user, patient_id=patient_id, **form.cleaned_data)
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, "The flare-up is recorded.")
            return redirect("patient_progress", patient_id=patient_id)
    status = UNPROCESSABLE if form.errors else 200
    context = {"form": form, "patient": patient}
    return render(request, "outcomes/flare_up_add.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def portal_questionnaire(request: HttpRequest, instrument: str) -> HttpResponse:
    """The patient answers a questionnaire online."""
    patient_id = own_patient_id(request.user, clinic_context(request).clinic)
    return _answer(request, patient_id, instrument, portal=True)


@login_required
@require_http_methods(["GET", "POST"])
def patient_questionnaire(
    request: HttpRequest, patient_id: uuid.UUID, instrument: str
) -> HttpResponse:
    """Clinic staff enter a patient's answers from a paper form."""
    return _answer(request, patient_id, instrument, portal=False)


def _answer(
    request: HttpRequest, patient_id: uuid.UUID, instrument: str, *, portal: bool
) -> HttpResponse:
    if instrument not in ANSWERABLE:
        raise Http404("No such questionnaire.")
    activities = queries.questionnaire_activities(request.user, patient_id, instrument)
    form = AnswerForm(
        request.POST if request.method == "POST" else None,
        instrument=instrument,
        activities=activities,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.record_measurement(
                actor=request.user,
                patient_id=patient_id,
                instrument=instrument,
                answers=form.answers(),
                method=None if portal else "paper",
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, "Thank you: your answers are saved." if portal else "Saved.")
            if portal:
                return redirect("portal_questionnaires")
            return redirect("patient_questionnaires", patient_id=patient_id)
    context = {"form": form, "instrument": form.instrument, "portal": portal}
    status = UNPROCESSABLE if form.errors else 200
    return render(request, "outcomes/questionnaire.html", context, status=status)
