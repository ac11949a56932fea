"""JSON API: a patient's visit notes as the visit page shows them (amendments applied), and
drafts written for a visit. A signed note is never changed here: amendments stay on the site.
Same queries, services, scoping and audit as the visit pages."""

import uuid
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from backcare.accounts.api_auth import caller, require_scope
from backcare.accounts.models import ApiGroup, ApiScope
from backcare.core.api import DEFAULT_LIMIT, ERRORS, MAX_LIMIT, MAX_OFFSET, WRITE_ERRORS, Page
from backcare.visits import queries, services

router = Router(tags=["visit notes"])


class NoteOut(Schema):
    id: uuid.UUID
    visit_id: uuid.UUID
    patient_id: uuid.UUID
    appointment_id: uuid.UUID
    therapist_id: uuid.UUID
    therapist_name: str
    starts_at: datetime
    status: str
    signed_at: datetime | None
    amendments: int
    values: dict[str, Any] = Field(description="The note's fields, amendments applied.")


class DraftIn(Schema):
    """The free-text and pain fields of a draft; the structured ones (body map, palpation,
    posture, adverse events, techniques) are written on the visit page."""

    subjective: str | None = Field(None, max_length=2000)
    changes_since_last: str | None = Field(None, max_length=2000)
    pain_before: int | None = Field(None, ge=0, le=10)
    analgesic_days: int | None = Field(None, ge=0, le=7)
    posture_note: str | None = Field(None, max_length=300)
    assessment: str | None = Field(None, max_length=4000)
    pain_after: int | None = Field(None, ge=0, le=10)
    next_focus: str | None = Field(None, max_length=2000)
    home_care: str | None = Field(None, max_length=2000)
    plan_changes: str | None = Field(None, max_length=2000)


def _out(row: queries.NoteRow) -> NoteOut:
    visit = row.note.visit
    return NoteOut(
        id=row.note.pk,
        visit_id=visit.pk,
        patient_id=visit.patient_id,
        appointment_id=visit.appointment_id,
        therapist_id=visit.therapist_id,
        therapist_name=visit.therapist.user.full_name,
        starts_at=visit.appointment.starts_at,
        status=row.note.status,
        signed_at=row.note.signed_at,
        amendments=row.amendments,
        values=row.values,
    )


@router.get(
    "/patients/{patient_id}/notes", response={200: Page[NoteOut], **ERRORS}, url_name="note_list"
)
def note_list(
    request: HttpRequest,
    patient_id: uuid.UUID,
    visited_from: date | None = Query(None, description="First day, the clinic's calendar."),
    visited_to: date | None = Query(None, description="Last day (inclusive)."),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> Page[NoteOut]:
    """The patient's visit notes, newest visit first, for the clinic's therapists and admins."""
    rows = queries.list_notes(
        caller(request, ApiGroup.CLINICAL).user,
        patient_id,
        first_day=visited_from,
        last_day=visited_to,
    )
    page = rows[offset : offset + limit]
    return Page[NoteOut](items=[_out(r) for r in page], count=len(rows), limit=limit, offset=offset)


@router.get("/visits/{visit_id}/note", response={200: NoteOut, **ERRORS}, url_name="note_detail")
def note_detail(request: HttpRequest, visit_id: uuid.UUID) -> NoteOut:
    """The note of one visit, amendments applied."""
    return _out(queries.get_note(caller(request, ApiGroup.CLINICAL).user, visit_id))


@router.post(
    "/appointments/{appointment_id}/note",
    response={200: NoteOut, **WRITE_ERRORS},
    url_name="note_draft",
)
def note_draft(request: HttpRequest, appointment_id: uuid.UUID, payload: DraftIn) -> Status:
    """Open the appointment's visit if needed and save the given fields into its draft note
    (write scope; the visit's therapist or a clinic admin). A signed note or one entered in
    error is a 409: it never changes through the API."""
    who = require_scope(request, ApiScope.WRITE, ApiGroup.CLINICAL)
    note = services.start_note_draft(
        actor=who.user, appointment_id=appointment_id, **payload.model_dump(exclude_none=True)
    )
    return Status(200, _out(queries.get_note(who.user, note.visit_id)))
