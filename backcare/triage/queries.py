"""Reads of safety assessments and of a clinic's rule settings."""

import uuid

from backcare.accounts.models import Clinic
from backcare.accounts.queries import ADMIN_ROLES, Viewer, require_roles
from backcare.clinical import contraindications, red_flags
from backcare.core.audit import record_event
from backcare.patients.queries import find_patient
from backcare.triage.models import ClinicRuleSettings, TriageAssessment


def rule_settings(
    clinic_id: uuid.UUID,
) -> tuple[red_flags.TriageSettings, contraindications.ContraindicationSettings]:
    """The clinic's red-flag and contraindication settings: its overrides on the defaults.
    Not patient data; for services that already checked the actor."""
    stored = ClinicRuleSettings.objects.filter(clinic_id=clinic_id).first()
    if stored is None:
        return red_flags.DEFAULT_SETTINGS, contraindications.DEFAULT_SETTINGS
    return (
        red_flags.settings_with(**stored.triage),
        contraindications.settings_with(**stored.contraindications),
    )


def get_rule_settings(
    viewer: Viewer, clinic: Clinic | None
) -> tuple[red_flags.TriageSettings, contraindications.ContraindicationSettings]:
    """The clinic's rule settings for its admins (the clinical settings page)."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="clinic.rule_settings")
    return rule_settings(clinic.pk)


def list_assessments(viewer: Viewer, patient_id: uuid.UUID) -> list[TriageAssessment]:
    """The patient's safety screenings, newest first; one `triage.list` event."""
    patient = find_patient(viewer, patient_id, action="triage.list")
    rows = list(
        TriageAssessment.objects.filter(
            clinic_id=patient.clinic_id, patient=patient
        ).select_related("entered_by")
    )
    record_event(
        actor=viewer,
        action="triage.list",
        clinic_id=patient.clinic_id,
        patient_id=patient.pk,
        detail={"count": len(rows)},
    )
    return rows
