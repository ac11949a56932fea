"""JSON API: a patient's outcome measurements (read with filters; record with the write
scope), through the same queries and services as the pages."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import AwareDatetime, Field

from backcare.accounts.api_auth import caller, require_scope
from backcare.accounts.models import ApiGroup, ApiScope
from backcare.core.api import DEFAULT_LIMIT, ERRORS, MAX_LIMIT, MAX_OFFSET, WRITE_ERRORS, Page
from backcare.outcomes import queries, services
from backcare.outcomes.models import OutcomeMeasurement

router = Router(tags=["outcomes"])


class MeasurementOut(Schema):
    id: uuid.UUID
    patient_id: uuid.UUID
    instrument: str
    instrument_version: str
    measured_at: datetime
    method: str
    valid: bool
    reason: str
    score_exact: str
    score_display: Decimal | None
    band: str
    answers: dict[str, Any]


class MeasurementIn(Schema):
    instrument: str = Field(max_length=40, description="An instrument code, e.g. nprs or odi.")
    answers: dict[str, Any] = Field(description="Item id to answer, as on the questionnaire.")
    measured_at: AwareDatetime | None = Field(None, description="Default: now.")
    method: Literal["portal", "paper", "therapist"] | None = Field(
        None,
        description="Staff: paper (from a paper form) or therapist (at a visit); a patient's "
        "own answers are portal (the default for them).",
    )


def _out(row: OutcomeMeasurement) -> MeasurementOut:
    return MeasurementOut.model_validate(row, from_attributes=True)


@router.get(
    "/patients/{patient_id}/measurements",
    response={200: Page[MeasurementOut], **ERRORS},
    url_name="measurement_list",
)
def measurement_list(
    request: HttpRequest,
    patient_id: uuid.UUID,
    instrument: str | None = Query(None, max_length=40),
    measured_from: date | None = Query(None, description="First day, the clinic's calendar."),
    measured_to: date | None = Query(None, description="Last day (inclusive)."),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> Page[MeasurementOut]:
    """The patient's measurements in force, newest first."""
    rows = queries.list_measurements(
        caller(request, ApiGroup.OUTCOMES).user,
        patient_id,
        instrument=instrument,
        first_day=measured_from,
        last_day=measured_to,
    )
    page = rows[offset : offset + limit]
    return Page[MeasurementOut](
        items=[_out(m) for m in page], count=len(rows), limit=limit, offset=offset
    )


@router.post(
    "/patients/{patient_id}/measurements",
    response={201: MeasurementOut, **WRITE_ERRORS},
    url_name="measurement_create",
)
def measurement_create(
    request: HttpRequest, patient_id: uuid.UUID, payload: MeasurementIn
) -> Status:
    """Score and store one administration of an instrument (write scope)."""
    who = require_scope(request, ApiScope.WRITE, ApiGroup.OUTCOMES)
    row = services.record_measurement(
        actor=who.user,
        patient_id=patient_id,
        instrument=payload.instrument,
        answers=payload.answers,
        measured_at=payload.measured_at,
        method=payload.method,
    )
    return Status(201, _out(row))
