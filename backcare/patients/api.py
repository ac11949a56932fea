"""JSON API: the clinic's patients (list with search, one record), scoped and audited by the
same queries as the pages."""

import uuid
from datetime import date

from django.http import HttpRequest
from ninja import Query, Router, Schema

from backcare.accounts.api_auth import caller
from backcare.accounts.models import ApiGroup
from backcare.core.api import DEFAULT_LIMIT, ERRORS, MAX_LIMIT, MAX_OFFSET, Page
from backcare.patients import queries
from backcare.patients.models import Patient

router = Router(tags=["patients"])


class PatientOut(Schema):
    id: uuid.UUID
    clinic_id: uuid.UUID
    given_name: str
    family_name: str
    preferred_name: str
    date_of_birth: date
    sex: str
    email: str
    phone: str


def _out(patient: Patient) -> PatientOut:
    return PatientOut.model_validate(patient, from_attributes=True)


@router.get("/patients", response={200: Page[PatientOut], **ERRORS}, url_name="patient_list")
def patient_list(
    request: HttpRequest,
    search: str = Query("", max_length=200, description="Words matched in names and email."),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> Page[PatientOut]:
    """The patients of the caller's clinic they may see, by family name."""
    who = caller(request, ApiGroup.PATIENTS)
    total, rows = queries.page_of_patients(
        who.user, who.clinic, search=search, offset=offset, limit=limit
    )
    return Page[PatientOut](items=[_out(p) for p in rows], count=total, limit=limit, offset=offset)


@router.get(
    "/patients/{patient_id}", response={200: PatientOut, **ERRORS}, url_name="patient_detail"
)
def patient_detail(request: HttpRequest, patient_id: uuid.UUID) -> PatientOut:
    """One patient record (404 for anyone who may not see it)."""
    return _out(queries.get_patient(caller(request, ApiGroup.PATIENTS).user, patient_id).patient)
