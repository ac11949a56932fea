"""Reads of patient records, always scoped to the viewer and audited.

Who sees a patient:
- clinic admins, front desk and therapists: every patient of their clinic;
- a referring clinician: the patients of that clinic they referred;
- a patient: their own record (with an active patient membership at that clinic).
Anyone else gets `NotFoundError` (404) and the attempt is audited against the patient's clinic,
so that its admins see it in their log.
"""

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from backcare.accounts.models import Clinic, Role
from backcare.accounts.queries import (
    ADMIN_ROLES,
    Viewer,
    clinics_where,
    deny,
    require_roles,
)
from backcare.core.audit import record_event
from backcare.core.export import ExportTable, table_of
from backcare.core.paging import page_after
from backcare.patients.models import Consent, ConsentText, Patient, PatientPreferences

SEE_ALL_ROLES = frozenset({Role.CLINIC_ADMIN, Role.FRONT_DESK, Role.THERAPIST})
LIST_ROLES = SEE_ALL_ROLES | {Role.REFERRING_CLINICIAN}


def visible_patients(viewer: Viewer) -> QuerySet[Patient]:
    """Every patient record the viewer may read (not audited: callers audit what they show)."""
    if not viewer.is_authenticated:
        return Patient.objects.none()
    return Patient.objects.filter(
        Q(clinic_id__in=clinics_where(viewer, SEE_ALL_ROLES))
        | Q(clinic_id__in=clinics_where(viewer, {Role.REFERRING_CLINICIAN}), referred_by=viewer.pk)
        | Q(clinic_id__in=clinics_where(viewer, {Role.PATIENT}), user=viewer.pk)
    )


def _deny_patient(viewer: Viewer, patient_id: uuid.UUID, action: str) -> Exception:
    clinic_id = Patient.objects.filter(pk=patient_id).values_list("clinic_id", flat=True).first()
    return deny(
        viewer,
        action=action,
        clinic_id=clinic_id,
        patient_id=patient_id,
        object_type="patients.patient",
        object_id=str(patient_id),
    )


def find_patient(
    viewer: Viewer,
    patient_id: uuid.UUID,
    *,
    action: str,
    roles: Collection[Role] | None = None,
    allow_self: bool = True,
) -> Patient:
    """The patient if visible to the viewer; with `roles`, only if the viewer holds one of them
    at the patient's clinic or (with `allow_self`) is the patient. Audits only a denial: callers
    record the read or write they then perform."""
    patient = (
        visible_patients(viewer)
        .filter(pk=patient_id)
        .select_related("clinic", "preferences", "referred_by", "user")
        .first()
    )
    if patient is not None and roles is not None:
        is_self = allow_self and patient.user_id == viewer.pk
        if not is_self and patient.clinic_id not in clinics_where(viewer, roles):
            patient = None
    if patient is None:
        raise _deny_patient(viewer, patient_id, action)
    return patient


@dataclass(frozen=True)
class PatientRecord:
    patient: Patient
    preferences: PatientPreferences | None
    consents: list[Consent]
    can_edit: bool  # the viewer is staff at the patient's clinic (not only its patient or referrer)


def get_patient(viewer: Viewer, patient_id: uuid.UUID) -> PatientRecord:
    """The patient record with preferences and consents; records one `patient.view` event."""
    patient = find_patient(viewer, patient_id, action="patient.view")
    consents = list(
        Consent.objects.filter(clinic_id=patient.clinic_id, patient=patient).select_related(
            "text", "given_by", "withdrawn_by"
        )
    )
    record_event(
        actor=viewer,
        action="patient.view",
        clinic_id=patient.clinic_id,
        patient_id=patient.pk,
        obj=patient,
    )
    can_edit = patient.clinic_id in clinics_where(viewer, SEE_ALL_ROLES)
    return PatientRecord(patient, getattr(patient, "preferences", None), consents, can_edit)


def list_patients(viewer: Viewer, clinic: Clinic | None, *, search: str = "") -> list[Patient]:
    """The clinic's patients the viewer may see, by family name; one `patient.list` event."""
    return page_of_patients(viewer, clinic, search=search, offset=0, limit=200)[1]


def _search_patients(viewer: Viewer, clinic: Clinic, search: str) -> QuerySet[Patient]:
    patients = visible_patients(viewer).filter(clinic=clinic)
    for word in search.split()[:4]:
        patients = patients.filter(
            Q(given_name__icontains=word)
            | Q(family_name__icontains=word)
            | Q(preferred_name__icontains=word)
            | Q(email__icontains=word)
        )
    return patients.order_by("family_name", "given_name", "pk")


def page_of_patients(
    viewer: Viewer, clinic: Clinic | None, *, search: str = "", offset: int, limit: int
) -> tuple[int, list[Patient]]:
    """How many of the clinic's patients the viewer may see match `search`, and the `limit`
    of them from `offset`, by family name; one `patient.list` event."""
    clinic = require_roles(viewer, clinic, LIST_ROLES, action="patient.list")
    patients = _search_patients(viewer, clinic, search)
    rows = list(patients[offset : offset + limit])
    total = len(rows) if offset == 0 and len(rows) < limit else patients.count()
    record_event(
        actor=viewer,
        action="patient.list",
        clinic_id=clinic.pk,
        detail={"count": len(rows), "searched": bool(search.strip())},
    )
    return total, rows


def has_own_record(viewer: Viewer, clinic: Clinic) -> bool:
    """Whether the signed-in person has a patient record at `clinic` (a yes or no, not data)."""
    return Patient.objects.filter(clinic=clinic, user=viewer.pk).exists()


def own_patient_id(viewer: Viewer, clinic: Clinic | None) -> uuid.UUID:
    """Id of the signed-in patient's own record at `clinic` (404 and audited if none)."""
    clinic = require_roles(viewer, clinic, {Role.PATIENT}, action="portal.view")
    patient_id = (
        Patient.objects.filter(clinic=clinic, user=viewer.pk).values_list("pk", flat=True).first()
    )
    if patient_id is None:
        raise deny(viewer, action="portal.view", clinic_id=clinic.pk)
    return patient_id


def find_own_patient(viewer: Viewer, clinic: Clinic | None, *, action: str) -> Patient:
    """The signed-in patient's own record at `clinic`, read as `find_patient` reads it (with
    its clinic, preferences, referrer and login) in one query: `own_patient_id` and
    `find_patient` together. 404 audited as `action` if none. Audits only a denial."""
    clinic = require_roles(viewer, clinic, {Role.PATIENT}, action=action)
    patient = (
        Patient.objects.filter(clinic=clinic, user=viewer.pk)
        .select_related("clinic", "preferences", "referred_by", "user")
        .first()
    )
    if patient is None:
        raise deny(viewer, action=action, clinic_id=clinic.pk)
    return patient


def get_own_record(viewer: Viewer, clinic: Clinic | None) -> PatientRecord:
    """The signed-in patient's own record at `clinic`, for the portal; audited as a view."""
    return get_patient(viewer, own_patient_id(viewer, clinic))


def current_consent_texts(clinic: Clinic) -> list[ConsentText]:
    """The latest published version of each kind of consent text of the clinic."""
    latest: dict[str, ConsentText] = {}
    for text in ConsentText.objects.filter(clinic=clinic).order_by("kind", "-version"):
        latest.setdefault(text.kind, text)
    return list(latest.values())


def count_patients(viewer: Viewer, clinic: Clinic | None) -> int:
    """How many patients of the clinic the viewer may see (a number, not patient data)."""
    clinic = require_roles(viewer, clinic, LIST_ROLES, action="patient.count")
    return visible_patients(viewer).filter(clinic=clinic).count()


def patient_names(
    viewer: Viewer, clinic: Clinic, ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Display names of the given patients of `clinic` that the viewer may see. Not audited:
    the caller audits the page that shows them."""
    rows = visible_patients(viewer).filter(clinic=clinic, pk__in=set(ids))
    return {
        p.pk: p.display_name for p in rows.only("pk", "given_name", "preferred_name", "family_name")
    }


def is_patient_of(viewer: Viewer, clinic: Clinic, patient_id: uuid.UUID) -> bool:
    return visible_patients(viewer).filter(clinic=clinic, pk=patient_id).exists()


def preferences_of(patient: Patient) -> PatientPreferences | None:
    """The patient's preferences, or None if never given. Not audited: for queries that
    checked the viewer and show them beside a plan or note."""
    return PatientPreferences.objects.filter(clinic_id=patient.clinic_id, patient=patient).first()


def patients_after(clinic: Clinic, after: uuid.UUID | None, *, limit: int) -> list[Patient]:
    """Up to `limit` patients of the clinic whose id follows `after`, by id: one page of a
    clinic-wide export, read in pages so memory stays flat. Not audited: the export's kick-off
    checked and audited the clinic admin."""
    return page_after(Patient.objects.filter(clinic=clinic), after, limit)


def patients_with_preferences_after(
    clinic: Clinic, after: uuid.UUID | None, *, limit: int
) -> list[Patient]:
    """`patients_after`, each with its preferences (or none) loaded in the same query."""
    rows = Patient.objects.filter(clinic=clinic).select_related("preferences")
    return page_after(rows, after, limit)


def consents_after(clinic: Clinic, after: uuid.UUID | None, *, limit: int) -> list[Consent]:
    """One page of the clinic's consents (with their texts) for a clinic-wide export; see
    `patients_after`."""
    return page_after(Consent.objects.filter(clinic=clinic).select_related("text"), after, limit)


def export_tables(viewer: Viewer, clinic: Clinic | None) -> list[ExportTable]:
    """Every patients table of the clinic, for its admins' whole-clinic export (`NotFoundError`,
    audited, for anyone else). Rows are read later, in chunks, by the export job."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="clinic.export")
    return [
        table_of(Patient.objects.filter(clinic=clinic)),
        table_of(PatientPreferences.objects.filter(clinic=clinic)),
        table_of(ConsentText.objects.filter(clinic=clinic)),
        table_of(Consent.objects.filter(clinic=clinic)),
    ]
