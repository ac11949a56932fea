"""Plan pages: the patient's plan beside their precautions and preferences; starting a plan;
adding and removing techniques; ending it."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from backcare.core.errors import DomainError, http_status_for
from backcare.core.http import UNPROCESSABLE, render_refusal
from backcare.plans import queries, services
from backcare.plans.forms import PlanForm, TechniqueForm
from backcare.plans.queries import PlanPage


@login_required
def plan_detail(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """The patient's active plan, with the screening's limits and the patient's preferences."""
    page = queries.get_plan_page(request.user, patient_id)
    return _render_plan(request, page, TechniqueForm(techniques=page.offered, limits=page.limits))


def _render_plan(
    request: HttpRequest, page: PlanPage, form: TechniqueForm, status: int = 200
) -> HttpResponse:
    context = {"page": page, "form": form, "plan": page.plan, "patient": page.patient}
    return render(request, "plans/plan_detail.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Start a new plan for the patient (the active one ends)."""
    page = queries.get_plan_page(request.user, patient_id)
    form = PlanForm(request.POST if request.method == "POST" else None, advice=page.home_care)
    status = 200
    if request.method == "POST":
        status = UNPROCESSABLE
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.start_plan(
                    actor=request.user,
                    patient_id=page.patient.pk,
                    focus=data["focus"],
                    session_minutes=data["session_minutes"],
                    every_weeks=data["every_weeks"],
                    sessions_planned=data["sessions_planned"],
                    reassess_at_sessions=data["reassess_at_sessions"],
                    pain_target=data["pain_target"],
                    disability_target_points=data["disability_target_points"],
                    home_care_codes=data["home_care"],
                    home_care_note=data["home_care_note"],
                    goals=[
                        services.GoalInput(activity=a, baseline_score=b, target_score=t)
                        for a, b, t in form.goals()
                    ],
                )
            except DomainError as error:
                form.add_domain_error(error)
                status = http_status_for(error)
            else:
                messages.success(request, "The plan is started.")
                return redirect("plan_detail", patient_id=page.patient.pk)
    context = {"page": page, "form": form, "patient": page.patient}
    return render(request, "plans/plan_form.html", context, status=status)


@login_required
@require_POST
def plan_technique_add(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Add a technique to the active plan; a refusal shows the plan again with the reason."""
    page = queries.get_plan_page(request.user, patient_id)
    form = TechniqueForm(request.POST, techniques=page.offered, limits=page.limits)
    if page.plan is None:
        return redirect("plan_create", patient_id=patient_id)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.add_plan_technique(
                actor=request.user,
                plan_id=page.plan.pk,
                technique_code=data["technique"],
                muscle=data["muscle"],
                side=data["side"],
                pressure_level=data["pressure_level"],
                minutes=data["minutes"],
                acknowledged_reason=data["acknowledged_reason"],
            )
        except DomainError as error:
            form.add_domain_error(error)
            return _render_plan(request, page, form, http_status_for(error))
        messages.success(request, "Technique added to the plan.")
        return redirect("plan_detail", patient_id=patient_id)
    return _render_plan(request, page, form, UNPROCESSABLE)


@login_required
@require_POST
def plan_technique_remove(request: HttpRequest, technique_id: uuid.UUID) -> HttpResponse:
    row = services.remove_plan_technique(actor=request.user, technique_id=technique_id)
    messages.success(request, "Technique taken off the plan.")
    return redirect("plan_detail", patient_id=row.plan.patient_id)


@login_required
@require_POST
def plan_end(request: HttpRequest, plan_id: uuid.UUID) -> HttpResponse:
    try:
        plan = services.end_plan(actor=request.user, plan_id=plan_id)
    except DomainError as error:
        return render_refusal(request, error, back_url=reverse("dashboard"))
    messages.success(request, "The plan has ended.")
    return redirect("plan_detail", patient_id=plan.patient_id)
