"""Use cases that change patient records, preferences and consent.

Staff (clinic admin, front desk, therapist) edit the whole record; a patient edits their own
contact details and preferences and gives or withdraws consent in the portal. Referring
clinicians read only. Every write records one audit event naming the changed fields (never the
values, which may be clinical).
"""

import uuid
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from backcare.accounts import services as account_services
from backcare.accounts.models import Clinic, Role, User
from backcare.accounts.queries import (
    ADMIN_ROLES,
    Viewer,
    acting_user,
    deny,
    list_people_with_role,
    require_roles,
)
from backcare.core.audit import record_event
from backcare.core.changes import apply_changes, save_changes
from backcare.core.errors import ConflictError, InvalidInputError, full_clean_or_invalid
from backcare.patients.models import (
    Consent,
    ConsentMethod,
    ConsentText,
    Patient,
    PatientPreferences,
)
from backcare.patients.queries import SEE_ALL_ROLES, current_consent_texts, find_patient

CONTACT_FIELDS = (
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
)
DEMOGRAPHIC_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "pronouns",
)
RECORD_FIELDS = (*DEMOGRAPHIC_FIELDS, *CONTACT_FIELDS, "referred_by")
PREFERENCE_FIELDS = (
    "pressure",
    "avoid_areas",
    "avoid_areas_note",
    "therapist_gender",
    "language",
    "notes",
)


def _check_referrer(clinic_id: uuid.UUID, referred_by: User | None) -> None:
    if referred_by is None:
        return
    clinic = Clinic(pk=clinic_id)
    if (
        not list_people_with_role(clinic, Role.REFERRING_CLINICIAN)
        .filter(pk=referred_by.pk)
        .exists()
    ):
        raise InvalidInputError(
            "Choose a referring clinician of this clinic.",
            field_errors={"referred_by": "Not a referring clinician of this clinic."},
        )


def create_patient(*, actor: Viewer, clinic: Clinic | None, **values: Any) -> Patient:
    """Create a patient record at the clinic (staff only), with empty preferences."""
    clinic = require_roles(actor, clinic, SEE_ALL_ROLES, action="patient.create")
    with transaction.atomic():
        patient = Patient(clinic=clinic, created_by=actor if actor.is_authenticated else None)
        apply_changes(patient, values, RECORD_FIELDS)
        _check_referrer(clinic.pk, patient.referred_by)
        full_clean_or_invalid(patient)
        patient.save()
        PatientPreferences.objects.create(clinic=clinic, patient=patient)
        record_event(
            actor=actor,
            action="patient.create",
            clinic_id=clinic.pk,
            patient_id=patient.pk,
            obj=patient,
        )
        return patient


def update_patient(*, actor: Viewer, patient_id: uuid.UUID, **values: Any) -> Patient:
    """Change demographics, contact, emergency contact or referrer (staff only)."""
    patient = find_patient(
        actor, patient_id, roles=SEE_ALL_ROLES, allow_self=False, action="patient.update"
    )
    with transaction.atomic():
        return _save_patient(actor, patient, values, RECORD_FIELDS)


def update_contact_details(*, actor: Viewer, patient_id: uuid.UUID, **values: Any) -> Patient:
    """Change contact and emergency-contact details (the patient themself, or staff)."""
    patient = find_patient(actor, patient_id, roles=SEE_ALL_ROLES, action="patient.update")
    with transaction.atomic():
        return _save_patient(actor, patient, values, CONTACT_FIELDS)


def _save_patient(
    actor: Viewer, patient: Patient, values: dict[str, Any], allowed: tuple[str, ...]
) -> Patient:
    if "referred_by" in values:
        _check_referrer(patient.clinic_id, values["referred_by"])
    save_changes(
        patient,
        values,
        allowed,
        actor=actor,
        action="patient.update",
        clinic_id=patient.clinic_id,
        patient_id=patient.pk,
    )
    return patient


def update_preferences(
    *, actor: Viewer, patient_id: uuid.UUID, **values: Any
) -> PatientPreferences:
    """Change the patient's massage preferences (the patient themself, or staff)."""
    patient = find_patient(actor, patient_id, roles=SEE_ALL_ROLES, action="preferences.update")
    with transaction.atomic():
        preferences, _ = PatientPreferences.objects.get_or_create(
            patient=patient, defaults={"clinic_id": patient.clinic_id}
        )
        save_changes(
            preferences,
            values,
            PREFERENCE_FIELDS,
            actor=actor,
            action="preferences.update",
            clinic_id=patient.clinic_id,
            patient_id=patient.pk,
        )
        return preferences


def record_consent(
    *, actor: Viewer, patient_id: uuid.UUID, text_id: uuid.UUID, method: str
) -> Consent:
    """Record that the patient agreed to the current version of a consent text of their clinic.

    In the portal the patient consents for themself (method "portal"); staff record paper or
    verbal consent. Raises `InvalidInputError` for another clinic's text, a superseded version
    or a repeat.
    """
    patient = find_patient(actor, patient_id, roles=SEE_ALL_ROLES, action="consent.create")
    with transaction.atomic():
        is_self = patient.user_id == actor.pk
        if (method == ConsentMethod.PORTAL) != is_self:
            raise InvalidInputError(
                "Online consent is given by the patient in the portal; "
                "staff record paper or verbal consent.",
                field_errors={"method": "Choose paper or verbal."},
            )
        text = next((t for t in current_consent_texts(patient.clinic) if t.pk == text_id), None)
        if text is None:
            raise InvalidInputError(
                "Choose one of this clinic's current consent texts.",
                field_errors={"text": "Not a current consent text of this clinic."},
            )
        if Consent.objects.filter(patient=patient, text=text, withdrawn_at__isnull=True).exists():
            raise InvalidInputError(
                f"Consent to “{text.title}” (version {text.version}) is already recorded."
            )
        consent = Consent(
            clinic_id=patient.clinic_id,
            patient=patient,
            text=text,
            method=method,
            given_at=timezone.now(),
            given_by=acting_user(actor),
        )
        full_clean_or_invalid(consent)
        try:
            with transaction.atomic():
                consent.save()
        except IntegrityError as error:
            raise ConflictError(f"Consent to “{text.title}” was just recorded.") from error
        record_event(
            actor=actor,
            action="consent.create",
            clinic_id=patient.clinic_id,
            patient_id=patient.pk,
            obj=consent,
            detail={"kind": text.kind, "version": text.version, "method": method},
        )
        return consent


# The body of an imported consent text: a bundle names the text and its version, not its words.
IMPORTED_TEXT_BODY = (
    "Imported with a patient's record: the words of this version are kept by the clinic "
    "that published it."
)


def import_consent(
    *,
    actor: Viewer,
    patient_id: uuid.UUID,
    kind: str,
    title: str,
    version: int,
    given_at: datetime,
    withdrawn_at: datetime | None = None,
) -> Consent:
    """Record a consent of an imported record as it was given (and withdrawn), to the text
    version it names: this clinic's text of that kind and version, or, when it has none, a new
    one with that title, published when the consent was given (clinic admins; `NotFoundError`,
    audited, for others). Recorded as on paper, entered by the actor. `InvalidInputError` for an
    unknown kind, a bad version or title, or a withdrawal before the consent."""
    patient = find_patient(
        actor, patient_id, roles=ADMIN_ROLES, allow_self=False, action="consent.import"
    )
    if withdrawn_at is not None and withdrawn_at < given_at:
        raise InvalidInputError("A consent cannot be withdrawn before it was given.")
    with transaction.atomic():
        text = _consent_text(patient.clinic_id, kind, title, version, given_at)
        consent = Consent(
            clinic_id=patient.clinic_id,
            patient=patient,
            text=text,
            method=ConsentMethod.PAPER,
            given_at=given_at,
            given_by=acting_user(actor),
            withdrawn_at=withdrawn_at,
            withdrawn_by=acting_user(actor) if withdrawn_at else None,
        )
        full_clean_or_invalid(consent)
        consent.save()
        record_event(
            actor=actor,
            action="consent.import",
            clinic_id=patient.clinic_id,
            patient_id=patient.pk,
            obj=consent,
            detail={"kind": text.kind, "version": text.version},
        )
        return consent


def _consent_text(
    clinic_id: uuid.UUID, kind: str, title: str, version: int, published_at: datetime
) -> ConsentText:
    found = ConsentText.objects.filter(clinic_id=clinic_id, kind=kind, version=version).first()
    if found is not None:
        return found
    text = ConsentText(
        clinic_id=clinic_id,
        kind=kind,
        version=version,
        title=title.strip(),
        body=IMPORTED_TEXT_BODY,
        published_at=published_at,
    )
    full_clean_or_invalid(text)
    text.save()
    return text


def withdraw_consent(*, actor: Viewer, patient_id: uuid.UUID, consent_id: uuid.UUID) -> Consent:
    """Mark a consent withdrawn now (the patient themself, or staff on their word)."""
    patient = find_patient(actor, patient_id, roles=SEE_ALL_ROLES, action="consent.withdraw")
    consent = Consent.objects.filter(patient=patient, pk=consent_id).select_related("text").first()
    if consent is None:
        raise deny(
            actor,
            action="consent.withdraw",
            clinic_id=patient.clinic_id,
            patient_id=patient.pk,
            object_type="patients.consent",
            object_id=str(consent_id),
        )
    with transaction.atomic():
        if consent.withdrawn_at is not None:
            raise InvalidInputError("This consent was already withdrawn.")
        consent.withdrawn_at = timezone.now()
        consent.withdrawn_by = acting_user(actor)
        consent.save(update_fields=["withdrawn_at", "withdrawn_by", "updated_at"])
        record_event(
            actor=actor,
            action="consent.withdraw",
            clinic_id=patient.clinic_id,
            patient_id=patient.pk,
            obj=consent,
            detail={"kind": consent.text.kind, "version": consent.text.version},
        )
        return consent


def invite_to_portal(*, actor: Viewer, patient_id: uuid.UUID, site_url: str) -> Patient:
    """Give the patient a portal login (by the email on their record) and email them a link to
    set their password. Staff only."""
    patient = find_patient(
        actor, patient_id, roles=SEE_ALL_ROLES, allow_self=False, action="patient.invite"
    )
    with transaction.atomic():
        if patient.user_id is not None:
            raise InvalidInputError("This patient already has a portal login.")
        if not patient.email:
            raise InvalidInputError(
                "Add the patient's email address first; the invitation is sent there.",
                field_errors={"email": "Required for a portal login."},
            )
        membership = account_services.add_member(
            actor=actor,
            clinic=patient.clinic,
            email=patient.email,
            full_name=f"{patient.given_name} {patient.family_name}",
            role=Role.PATIENT,
            site_url=site_url,
        )
        patient.user = membership.user
        patient.save(update_fields=["user", "updated_at"])
        record_event(
            actor=actor,
            action="patient.invite",
            clinic_id=patient.clinic_id,
            patient_id=patient.pk,
            obj=patient,
        )
        return patient
