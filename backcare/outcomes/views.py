"""The clinical settings page: rule and threshold values in use, beside their defaults."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from backcare.accounts.context import clinic_context
from backcare.core.errors import InvalidInputError
from backcare.core.http import render_form
from backcare.outcomes import queries, services
from backcare.outcomes.forms import OutcomeSettingsForm, RuleSettingsForm
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
