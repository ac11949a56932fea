"""JSON API: a patient's triage result (the hold and the latest screening) and clearance status
(the clearances in force and what booking still waits for), through the same queries, scoping
and audit as the safety pages."""

import uuid
from datetime import date, datetime

from django.http import HttpRequest
from ninja import Router, Schema

from backcare.accounts.api_auth import caller
from backcare.accounts.models import ApiGroup
from backcare.core.api import ERRORS
from backcare.triage import queries
from backcare.triage.models import Clearance, TriageAssessment

router = Router(tags=["triage"])


class NeedOut(Schema):
    code: str
    label: str
    acute: bool


class ScreeningOut(Schema):
    id: uuid.UUID
    assessed_at: datetime
    kind: str
    method: str
    action: str
    triggered: list[str]
    unanswered: list[str]
    rules_version: str
    contraindication_version: str


class ClearanceOut(Schema):
    id: uuid.UUID
    patient_id: uuid.UUID
    assessment_id: uuid.UUID
    covers: list[str]
    clinician_name: str
    clinician_role: str
    cleared_on: date
    valid_until: date | None
    restricted_regions: list[str]
    excluded_techniques: list[str]
    max_pressure_level: int | None
    conditions: str
    recorded_at: datetime


class TriageOut(Schema):
    """The patient's screening result as booking sees it."""

    state: str
    level: str
    may_book: bool
    reason: str
    waiting_for: list[NeedOut]
    screening: ScreeningOut | None


class ClearanceStatusOut(Schema):
    state: str
    may_book: bool
    reason: str
    waiting_for: list[NeedOut]
    clearances_in_force: list[ClearanceOut]


def _screening(row: TriageAssessment | None) -> ScreeningOut | None:
    return ScreeningOut.model_validate(row, from_attributes=True) if row else None


def _clearance(row: Clearance) -> ClearanceOut:
    return ClearanceOut.model_validate(row, from_attributes=True)


def _needs(hold: queries.HoldStatus) -> list[NeedOut]:
    return [NeedOut(code=n.code, label=n.label, acute=n.acute) for n in hold.waiting_for]


@router.get(
    "/patients/{patient_id}/triage", response={200: TriageOut, **ERRORS}, url_name="triage_result"
)
def triage_result(request: HttpRequest, patient_id: uuid.UUID) -> TriageOut:
    """The triage result: whether the patient may be booked (`state`: not_screened,
    incomplete, on_hold, clear), the screening's level, what booking waits for, and the latest
    screening."""
    hold = queries.get_hold_status(caller(request, ApiGroup.CLINICAL).user, patient_id)
    return TriageOut(
        state=hold.state.value,
        level=hold.level,
        may_book=hold.may_book,
        reason=hold.reason,
        waiting_for=_needs(hold),
        screening=_screening(hold.assessment),
    )


@router.get(
    "/patients/{patient_id}/clearances",
    response={200: ClearanceStatusOut, **ERRORS},
    url_name="clearance_status",
)
def clearance_status(request: HttpRequest, patient_id: uuid.UUID) -> ClearanceStatusOut:
    """The patient's clearance status, for clinic staff and the patient's referring clinician:
    the clearances in force and the findings still waiting for one."""
    summary = queries.get_safety_summary(caller(request, ApiGroup.CLINICAL).user, patient_id)
    hold = summary.hold
    return ClearanceStatusOut(
        state=hold.state.value,
        may_book=hold.may_book,
        reason=hold.reason,
        waiting_for=_needs(hold),
        clearances_in_force=[_clearance(c) for c in hold.clearances],
    )


@router.get(
    "/clearances/{clearance_id}",
    response={200: ClearanceOut, **ERRORS},
    url_name="clearance_detail",
)
def clearance_detail(request: HttpRequest, clearance_id: uuid.UUID) -> ClearanceOut:
    """One clearance (its document stays on the site), for clinic staff and the referring
    clinician."""
    return _clearance(queries.get_clearance(caller(request, ApiGroup.CLINICAL).user, clearance_id))
