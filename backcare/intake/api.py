"""JSON API: a patient's intakes (in progress or sent) with the level their screening gave,
through the same query, scoping and audit as the intake pages."""

import uuid
from datetime import date, datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema

from backcare.accounts.api_auth import caller
from backcare.accounts.models import ApiGroup
from backcare.core.api import DEFAULT_LIMIT, ERRORS, MAX_LIMIT, MAX_OFFSET, Page
from backcare.intake import queries
from backcare.intake.models import Intake
from backcare.triage.queries import overall_level

router = Router(tags=["intake"])


class IntakeOut(Schema):
    id: uuid.UUID
    patient_id: uuid.UUID
    status: str
    method: str
    saved_at: datetime
    submitted_at: datetime | None
    assessment_id: uuid.UUID | None
    level: str


def _out(row: Intake) -> IntakeOut:
    return IntakeOut(
        id=row.pk,
        patient_id=row.patient_id,
        status=row.status,
        method=row.method,
        saved_at=row.saved_at,
        submitted_at=row.submitted_at,
        assessment_id=row.assessment_id,
        level=overall_level(row.assessment) if row.assessment else "",
    )


@router.get(
    "/patients/{patient_id}/intakes",
    response={200: Page[IntakeOut], **ERRORS},
    url_name="intake_list",
)
def intake_list(
    request: HttpRequest,
    patient_id: uuid.UUID,
    saved_from: date | None = Query(None, description="First day, the clinic's calendar."),
    saved_to: date | None = Query(None, description="Last day (inclusive)."),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> Page[IntakeOut]:
    """The patient's intakes, newest first (`status` draft or submitted); a sent one carries
    its screening and the `level` it gave (the hold itself: GET .../triage)."""
    rows = queries.list_intakes(
        caller(request, ApiGroup.CLINICAL).user,
        patient_id,
        first_day=saved_from,
        last_day=saved_to,
    )
    page = rows[offset : offset + limit]
    return Page[IntakeOut](
        items=[_out(r) for r in page], count=len(rows), limit=limit, offset=offset
    )
