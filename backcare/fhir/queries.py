"""Reads that build FHIR documents: a patient's record as a Bundle (`$everything`) and the
state of a clinic's bulk export. Data comes from the owning apps' queries, scoped and audited
there; this module only maps it (`fhir.mapping`)."""

import uuid
from datetime import datetime
from typing import Any

from backcare.accounts.models import Clinic
from backcare.accounts.queries import ADMIN_ROLES, Viewer, deny, licences_of, require_roles
from backcare.core.audit import record_event
from backcare.fhir import mapping
from backcare.fhir.models import ExportJob
from backcare.outcomes.queries import list_measurements
from backcare.patients.queries import get_patient
from backcare.plans.queries import course_of
from backcare.scheduling.queries import list_patient_appointments
from backcare.triage.queries import get_hold_status_of, get_safety_summary
from backcare.visits.queries import list_signed_visits

Resource = dict[str, Any]


def patient_resources(viewer: Viewer, patient_id: uuid.UUID, *, now: datetime) -> list[Resource]:
    """Every resource of the patient's record, the patient first, for whoever may read the
    patient record (the patient, their clinic's staff, their referring clinician). Audited
    through the reads it makes and one `patient.export` event; `NotFoundError` (audited) for
    anyone else. A fixed number of queries, however long the history."""
    record = get_patient(viewer, patient_id)
    patient = record.patient
    appointments = list_patient_appointments(viewer, patient_id, now=now)
    measurements = sorted(list_measurements(viewer, patient_id), key=lambda m: m.measured_at)
    # Clinicians read the whole safety summary (hold included); the patient, their hold only.
    clinician = patient.user_id != viewer.pk
    safety = get_safety_summary(viewer, patient_id) if clinician else None
    hold = safety.hold if safety is not None else get_hold_status_of(viewer, patient)
    visits = list_signed_visits(viewer, patient_id)
    plan = course_of(patient)
    booked = sorted(
        appointments.upcoming + appointments.past, key=lambda a: (a.starts_at, str(a.pk))
    )
    therapists = {a.therapist_id: a.therapist for a in booked}
    rooms = {a.room_id: a.room for a in booked if a.room is not None}
    licences = licences_of(list(therapists))
    found: list[Resource] = [mapping.patient(patient), mapping.organization(patient.clinic)]
    found += [mapping.practitioner(t, licences[pk]) for pk, t in therapists.items()]
    found += [mapping.location(room) for room in rooms.values()]
    found += [mapping.appointment(a) for a in booked]
    for m in measurements:
        found += [mapping.questionnaire_response(m), mapping.observation(m)]
    for signed in visits:
        found.append(mapping.encounter(signed.visit))
        found += [mapping.procedure(signed.visit, t) for t in signed.techniques]
    found += [mapping.consent(c) for c in record.consents]
    if plan is not None:
        found.append(mapping.care_plan(plan))
    found += mapping.flags(patient, record.preferences, hold)
    if safety is not None:  # screening details are for the clinicians (triage)
        if safety.assessment is not None:
            found += mapping.conditions(safety.assessment, safety.findings)
        found += mapping.clearance_flags(patient.pk, hold)
        found += [mapping.service_request(letter) for letter in safety.letters]
    record_event(
        actor=viewer,
        action="patient.export",
        clinic_id=patient.clinic_id,
        patient_id=patient.pk,
        detail={"format": "fhir", "count": len(found)},
    )
    return found


def everything(viewer: Viewer, patient_id: uuid.UUID, *, now: datetime) -> Resource:
    """The patient's record as a FHIR `collection` Bundle (`Patient/{id}/$everything`); see
    `patient_resources` for who may read it."""
    return bundle(patient_resources(viewer, patient_id, now=now), now=now)


def bundle(resources: list[Resource], *, now: datetime) -> Resource:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": now.isoformat(),
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }


def get_export_job(viewer: Viewer, clinic: Clinic | None, job_id: uuid.UUID) -> ExportJob:
    """A bulk export of the viewer's clinic, for its admins; `NotFoundError` (audited) for
    anyone else or another clinic's job."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="fhir_export.view")
    job = ExportJob.objects.filter(clinic=clinic, pk=job_id).first()
    if job is None:
        raise deny(
            viewer,
            action="fhir_export.view",
            clinic_id=clinic.pk,
            object_type="fhir.exportjob",
            object_id=str(job_id),
        )
    return job


def download_export_file(
    viewer: Viewer, clinic: Clinic | None, job_id: uuid.UUID, resource_type: str
) -> ExportJob:
    """The bulk export whose `resource_type` file the viewer downloads: a whole clinic's
    records, so each download is an audited read (`fhir_export.download`), like the CSV
    export's; `NotFoundError` (audited) as `get_export_job`."""
    job = get_export_job(viewer, clinic, job_id)
    record_event(
        actor=viewer,
        action="fhir_export.download",
        clinic_id=job.clinic_id,
        obj=job,
        detail={"resource_type": resource_type},
    )
    return job


def list_export_jobs(viewer: Viewer, clinic: Clinic | None, *, limit: int = 10) -> list[ExportJob]:
    """The clinic's latest bulk exports, newest first, for its admins (`NotFoundError`,
    audited, for anyone else)."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="fhir_export.list")
    return list(ExportJob.objects.filter(clinic=clinic).order_by("-created_at")[:limit])
