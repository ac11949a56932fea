"""Visit pages: opening the visit from its appointment; the visit page with the patient's
precautions and preferences beside the SOAP note (autosaved while a draft); techniques applied;
signing; amendments and entered in error once signed."""

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from backcare.core.errors import DomainError, NotFoundError, http_status_for
from backcare.core.http import UNPROCESSABLE, render_refusal
from backcare.scheduling.queries import get_appointment_for_visit
from backcare.visits import queries, services
from backcare.visits.display import change_summary, note_summary
from backcare.visits.forms import (
    AmendForm,
    EnteredInErrorForm,
    NoteForm,
    TechniqueForm,
    palpation_rows_for,
)
from backcare.visits.queries import VisitPage, effective_values


@login_required
@require_http_methods(["GET", "POST"])
def visit_open(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    """Open the appointment's visit (POST) and go to it. A GET shows the visit if it is open,
    else a button to open it (opening writes a record, so it is never done by a link)."""
    if request.method == "POST":
        try:
            visit = services.open_visit(actor=request.user, appointment_id=appointment_id)
        except DomainError as error:
            return render_refusal(request, error, back_url=reverse("dashboard"))
        return redirect("visit_detail", visit_id=visit.pk)
    appointment = get_appointment_for_visit(request.user, appointment_id)
    opened = queries.visit_of_appointment(appointment)
    if opened is not None:
        return redirect("visit_detail", visit_id=opened.pk)
    queries.record_open_page_view(request.user, appointment)
    context = {"appointment": appointment, "patient": appointment.patient}
    return render(request, "visits/visit_open.html", context)


@login_required
def visit_detail(request: HttpRequest, visit_id: uuid.UUID) -> HttpResponse:
    """The visit: the note (a form while a draft, read-only once signed) beside the patient's
    precautions, preferences and last visits."""
    page = queries.get_visit_page(request.user, visit_id)
    return _render_visit(request, page)


def _render_visit(
    request: HttpRequest,
    page: VisitPage,
    *,
    note_form: NoteForm | None = None,
    technique_form: TechniqueForm | None = None,
    amend_form: AmendForm | None = None,
    error_form: EnteredInErrorForm | None = None,
    status: int = 200,
) -> HttpResponse:
    values = page.effective
    initial = NoteForm.initial_from(values)
    rows = palpation_rows_for(values)
    context: dict[str, Any] = {
        "page": page,
        "patient": page.patient,
        "note": page.note,
        "note_form": note_form or NoteForm(initial=initial, palpation_rows=rows),
        "technique_form": technique_form
        or TechniqueForm(techniques=page.offered, limits=page.limits),
        "amend_form": amend_form or AmendForm(initial=initial, palpation_rows=rows),
        "error_form": error_form or EnteredInErrorForm(),
        "summary": note_summary(effective_values(page.note, [])),
        "amendments": [(a, change_summary(a.changes)) for a in page.amendments],
        "saved_at_ms": int(page.note.updated_at.timestamp() * 1000),
        "show_amend": amend_form is not None,
    }
    return render(request, "visits/visit_detail.html", context, status=status)


def _note_form(request: HttpRequest) -> NoteForm:
    return NoteForm(request.POST)


def _unless_shown(error: DomainError, shown: bool) -> None:
    """Re-raise `error` (for its own page) unless the form it belongs to is on the page: a
    404 is never shown inside a page, and a signed note has no draft form to show it on."""
    if isinstance(error, NotFoundError) or not shown:
        raise error


@login_required
@require_POST
def visit_note_save(request: HttpRequest, visit_id: uuid.UUID) -> HttpResponse:
    """Save the draft (the button; the page also autosaves). Bad input: 422, the valid fields
    saved, everything typed shown again."""
    page = queries.get_visit_page_for_writing(request.user, visit_id, action="visit.note.save")
    form = _note_form(request)
    response = _save(request, page, form)
    if response is not None:
        return response
    messages.success(request, "The note is saved.")
    return redirect("visit_detail", visit_id=visit_id)


def _save(request: HttpRequest, page: VisitPage, form: NoteForm) -> HttpResponse | None:
    """Save what is valid; the page again (422, or the error's status) when anything is not."""
    valid = form.is_valid()
    try:
        services.save_note_draft(actor=request.user, note_id=page.note.pk, **form.note_fields())
    except DomainError as error:
        _unless_shown(error, page.may_edit)
        form.add_domain_error(error)
        return _render_visit(request, page, note_form=form, status=http_status_for(error))
    if not valid:
        return _render_visit(request, page, note_form=form, status=UNPROCESSABLE)
    return None


@login_required
@require_POST
def visit_note_sign(request: HttpRequest, visit_id: uuid.UUID) -> HttpResponse:
    """Save the draft as posted, then sign it; the note is read-only from then on."""
    page = queries.get_visit_page_for_writing(request.user, visit_id, action="visit.note.sign")
    form = _note_form(request)
    response = _save(request, page, form)
    if response is not None:
        return response
    try:
        services.sign_note(actor=request.user, note_id=page.note.pk)
    except DomainError as error:
        _unless_shown(error, page.may_edit)
        form.add_domain_error(error)
        return _render_visit(request, page, note_form=form, status=http_status_for(error))
    messages.success(request, "The note is signed. Corrections from now on are amendments.")
    return redirect("visit_detail", visit_id=visit_id)


@login_required
@require_POST
def visit_note_autosave(request: HttpRequest, note_id: uuid.UUID) -> HttpResponse:
    """Keep what was typed so far (htmx, on every change). Saves the fields that are valid and
    answers in words: 200 when all were saved, 422 naming what was not."""
    form = _note_form(request)
    valid = form.is_valid()
    try:
        note = services.save_note_draft(actor=request.user, note_id=note_id, **form.note_fields())
    except DomainError as error:
        return HttpResponse(f"Not saved: {error.message}", status=http_status_for(error))
    saved = timezone.localtime(note.updated_at, note.visit.patient.clinic.zone)
    if not valid:
        problems = "; ".join(
            f"{form[name].label}: {' '.join(str(e) for e in errors)}"
            for name, errors in form.errors.items()
            if name in form.fields
        )
        return HttpResponse(f"Saved at {saved:%H:%M}, except: {problems}", status=UNPROCESSABLE)
    return HttpResponse(f"Saved at {saved:%H:%M}.")


@login_required
@require_POST
def visit_technique_add(request: HttpRequest, visit_id: uuid.UUID) -> HttpResponse:
    """Record a technique applied; a refusal shows the page again with the reason."""
    page = queries.get_visit_page_for_writing(request.user, visit_id, action="visit.technique.add")
    form = TechniqueForm(request.POST, techniques=page.offered, limits=page.limits)
    if not form.is_valid():
        return _render_visit(request, page, technique_form=form, status=UNPROCESSABLE)
    data = form.cleaned_data
    try:
        services.add_applied_technique(
            actor=request.user,
            note_id=page.note.pk,
            technique_code=data["technique"],
            muscle=data["muscle"],
            side=data["side"],
            pressure_level=data["pressure_level"],
            minutes=data["minutes"],
            acknowledged_reason=data["acknowledged_reason"],
        )
    except DomainError as error:
        _unless_shown(error, page.may_edit)
        form.add_domain_error(error)
        return _render_visit(request, page, technique_form=form, status=http_status_for(error))
    messages.success(request, "Technique recorded.")
    return redirect(f"{reverse('visit_detail', args=[visit_id])}#techniques-heading")


@login_required
@require_POST
def visit_technique_remove(request: HttpRequest, technique_id: uuid.UUID) -> HttpResponse:
    try:
        row = services.remove_applied_technique(actor=request.user, technique_id=technique_id)
    except DomainError as error:
        return render_refusal(request, error, back_url=reverse("dashboard"))
    messages.success(request, "Technique taken off the note.")
    return redirect("visit_detail", visit_id=row.note.visit_id)


@login_required
@require_POST
def visit_note_amend(request: HttpRequest, visit_id: uuid.UUID) -> HttpResponse:
    """Amend a signed note: the corrected fields and the reason, as a new linked amendment."""
    page = queries.get_visit_page_for_writing(request.user, visit_id, action="visit.note.amend")
    form = AmendForm(request.POST)
    if not form.is_valid():
        return _render_visit(request, page, amend_form=form, status=UNPROCESSABLE)
    changes = form.note_fields()
    try:
        services.amend_note(
            actor=request.user,
            note_id=page.note.pk,
            reason=form.cleaned_data["reason"],
            **changes,
        )
    except DomainError as error:
        _unless_shown(error, page.may_amend)
        form.add_domain_error(error)
        return _render_visit(request, page, amend_form=form, status=http_status_for(error))
    messages.success(request, "The amendment is added beside the note.")
    return redirect("visit_detail", visit_id=visit_id)


@login_required
@require_POST
def visit_note_entered_in_error(request: HttpRequest, visit_id: uuid.UUID) -> HttpResponse:
    """Mark the note entered in error, with the reason."""
    page = queries.get_visit_page_for_writing(
        request.user, visit_id, action="visit.note.entered_in_error"
    )
    form = EnteredInErrorForm(request.POST)
    if form.is_valid():
        try:
            services.mark_entered_in_error(
                actor=request.user, note_id=page.note.pk, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            _unless_shown(error, page.may_mark_in_error)
            form.add_domain_error(error)
            return _render_visit(request, page, error_form=form, status=http_status_for(error))
        messages.success(request, "The note is marked entered in error.")
        return redirect("visit_detail", visit_id=visit_id)
    return _render_visit(request, page, error_form=form, status=UNPROCESSABLE)
