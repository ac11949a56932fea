"""The online intake (the patient in the portal, or staff entering a paper intake), its result
in plain words, and the patient education page."""

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_http_methods, require_POST

from backcare.accounts.context import clinic_context
from backcare.core.errors import DomainError, NotFoundError
from backcare.core.http import render_form, render_refusal
from backcare.core.ratelimit import rate_limited
from backcare.intake import queries, services
from backcare.intake.forms import (
    STEP_CODES,
    STEPS,
    DocumentForm,
    StepForm,
    answer_sections,
    intake_form,
)
from backcare.intake.models import Intake, IntakeStatus
from backcare.patients.queries import own_patient_id
from backcare.triage.services import DOCUMENT_CONTENT_TYPES


@rate_limited
def learn(request: HttpRequest) -> HttpResponse:
    """Patient education about massage for back pain: public, no patient data."""
    return render(request, "intake/learn.html")


@rate_limited
@login_required
def portal_intake(request: HttpRequest) -> HttpResponse:
    """The patient's intake: resume the one in progress, show the result of the one sent, or
    start one."""
    patient_id = own_patient_id(request.user, clinic_context(request).clinic)
    intakes = queries.list_intakes(request.user, patient_id)
    if intakes and not queries.has_draft(intakes):
        return redirect("intake_result", intakes[0].pk)
    intake = services.start_intake(actor=request.user, patient_id=patient_id)
    return redirect("intake_step", intake.pk, STEP_CODES[0])


@rate_limited
@login_required
@require_POST
def portal_intake_again(request: HttpRequest) -> HttpResponse:
    """A new intake (to answer what was left unsure, or after a long break): history and
    preferences come from the last one; symptoms are asked again."""
    patient_id = own_patient_id(request.user, clinic_context(request).clinic)
    intake = services.start_intake(actor=request.user, patient_id=patient_id)
    return redirect("intake_step", intake.pk, STEP_CODES[0])


@login_required
@require_POST
def patient_intake_start(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Staff start (or resume) a paper intake for the patient."""
    intake = services.start_intake(actor=request.user, patient_id=patient_id)
    return redirect("intake_step", intake.pk, STEP_CODES[0])


def _typed(form: StepForm, data: Any) -> dict[str, Any]:
    """What was typed in this step's fields, valid or not, as the widgets read it."""
    return {
        name: field.widget.value_from_datadict(data, {}, form.add_prefix(name))
        for name, field in form.fields.items()
    }


@login_required
@require_http_methods(["GET", "POST"])
def intake_step(request: HttpRequest, intake_id: uuid.UUID, step: str) -> HttpResponse:
    if step not in STEP_CODES:
        step = STEP_CODES[0]
    intake = queries.get_intake(request.user, intake_id)
    if intake.status != IntakeStatus.DRAFT:
        return redirect("intake_result", intake.pk)
    if request.method == "GET":
        check = request.GET.get("check") == "1"
        form = intake_form(
            intake, step, data=intake.answers if check else None, initial=intake.answers
        )
        return _render_step(request, intake, step, form, invalid=check and not form.is_valid())
    form = intake_form(intake, step, data=request.POST)
    intake = services.save_answers(
        actor=request.user, intake_id=intake.pk, answers=_typed(form, request.POST)
    )
    index = STEP_CODES.index(step)
    if request.POST.get("go") == "back" and index > 0:
        return redirect("intake_step", intake.pk, STEP_CODES[index - 1])
    if request.POST.get("go") == "later":
        messages.success(request, "Your answers are saved. Come back at any time to finish.")
        return redirect("dashboard")
    if not form.is_valid():
        return _render_step(request, intake, step, form, invalid=True)
    if step != STEP_CODES[-1]:
        return redirect("intake_step", intake.pk, STEP_CODES[index + 1])
    return _submit(request, intake, form)


def _submit(request: HttpRequest, intake: Intake, last: StepForm) -> HttpResponse:
    cleaned: dict[str, Any] = {}
    for step in STEP_CODES:
        form = last if step == last.step else intake_form(intake, step, data=intake.answers)
        if not form.is_valid():
            messages.error(request, "Some answers on this page need your attention.")
            return redirect(f"{_step_url(intake, step)}?check=1")
        cleaned.update(form.cleaned_data)
    try:
        services.submit_intake(actor=request.user, intake_id=intake.pk, cleaned=cleaned)
    except DomainError as error:
        last.add_domain_error(error)
        return _render_step(request, intake, last.step, last, invalid=True)
    return redirect("intake_result", intake.pk)


def _step_url(intake: Intake, step: str) -> str:
    return reverse("intake_step", args=[intake.pk, step])


def _render_step(
    request: HttpRequest,
    intake: Intake,
    step: str,
    form: StepForm,
    *,
    invalid: bool,
    upload_form: DocumentForm | None = None,
) -> HttpResponse:
    index = STEP_CODES.index(step)
    context = {
        "intake": intake,
        "patient": intake.patient,
        "form": form,
        "step": STEPS[index],
        "steps": STEPS,
        "index": index,
        "is_first": index == 0,
        "is_last": index == len(STEPS) - 1,
        "portal": intake.patient.user_id == request.user.pk,
        "upload_form": upload_form or DocumentForm(),
        "saved_at_ms": int(intake.saved_at.timestamp() * 1000),
    }
    return render_form(request, "intake/intake_step.html", context, invalid=invalid)


@login_required
@require_POST
def intake_autosave(request: HttpRequest, intake_id: uuid.UUID, step: str) -> HttpResponse:
    """Keep what was typed so far (htmx, on every change): nothing is lost on a timeout."""
    if step not in STEP_CODES:
        step = STEP_CODES[0]
    intake = queries.find_intake(request.user, intake_id, action="intake.save")
    form = intake_form(intake, step, data=request.POST)
    try:
        services.save_answers(
            actor=request.user, intake_id=intake.pk, answers=_typed(form, request.POST)
        )
    except DomainError as error:
        return render_refusal(request, error, back_url="/")
    saved = timezone.localtime(timezone.now(), intake.patient.clinic.zone)
    return HttpResponse(f"Saved at {saved:%H:%M}.")


@login_required
def intake_result(request: HttpRequest, intake_id: uuid.UUID) -> HttpResponse:
    """What to do next, in plain words, after the intake was sent."""
    intake = queries.get_intake(request.user, intake_id)
    if intake.status != IntakeStatus.SUBMITTED or intake.assessment is None:
        return redirect("intake_step", intake.pk, STEP_CODES[0])
    result = queries.get_result(request.user, intake)
    context = {
        "intake": intake,
        "result": result,
        "portal": intake.patient.user_id == request.user.pk,
        # A patient who may not book is not offered booking, not even in the navigation.
        "hide_booking": not result.may_book,
    }
    template = "intake/emergency.html" if result.level == "emergency" else "intake/result.html"
    return render(request, template, context)


@login_required
def intake_detail(request: HttpRequest, intake_id: uuid.UUID) -> HttpResponse:
    """Every answer of an intake, read back step by step (patient and clinic staff)."""
    intake = queries.get_intake(request.user, intake_id)
    sections = answer_sections(intake)
    context = {
        "intake": intake,
        "sections": sections,
        "portal": intake.patient.user_id == request.user.pk,
    }
    return render(request, "intake/intake_detail.html", context)


@login_required
@require_POST
def intake_document_add(request: HttpRequest, intake_id: uuid.UUID) -> HttpResponse:
    """Attach a document; a refused file is explained and every answer stays as it was."""
    intake = queries.get_intake(request.user, intake_id)
    upload_form = DocumentForm(request.POST, request.FILES)
    if upload_form.is_valid():
        try:
            services.attach_document(
                actor=request.user,
                intake_id=intake.pk,
                upload=upload_form.cleaned_data["document"],
                description=upload_form.cleaned_data["description"],
            )
        except DomainError as error:
            upload_form.add_domain_error(error)
        else:
            messages.success(request, "Your document is attached.")
            return redirect("intake_step", intake.pk, "history")
    intake = queries.get_intake(request.user, intake_id)
    form = intake_form(intake, "history", initial=intake.answers)
    return _render_step(request, intake, "history", form, invalid=True, upload_form=upload_form)


@login_required
def intake_document(request: HttpRequest, document_id: uuid.UUID) -> FileResponse:
    """Download an attached document (the patient and their clinic's staff)."""
    document = queries.get_intake_document(request.user, document_id)
    try:
        stored = document.file.open("rb")
    except OSError as error:
        raise NotFoundError("The document file is missing; please upload it again.") from error
    response = FileResponse(
        stored,
        as_attachment=True,
        filename=f"intake-document-{document.uploaded_at:%Y-%m-%d}.{document.file_type}",
        content_type=DOCUMENT_CONTENT_TYPES.get(document.file_type, "application/octet-stream"),
    )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response
