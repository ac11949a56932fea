"""Domain rows in, FHIR R4 resources (JSON dicts) out. Pure apart from reading the rows' loaded
relations; no queries of their own. Ids are the rows' UUIDs, so a resource keeps its id across
exports. Codes are LOINC where one exists (pain severity), else BackCare's own code systems."""

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from backcare.accounts.models import Clinic, Licence, Room, Therapist
from backcare.clinical.body import MUSCLES
from backcare.outcomes.models import OutcomeMeasurement
from backcare.patients.models import Consent, Patient, PatientPreferences
from backcare.plans.models import TreatmentPlan
from backcare.scheduling.models import Appointment
from backcare.triage.models import ReferralLetter, TriageAssessment
from backcare.triage.queries import HoldState, HoldStatus
from backcare.visits.models import AppliedTechnique, Visit

Resource = dict[str, Any]

LOINC = "http://loinc.org"
# Our own code systems: URNs, as BackCare has no canonical web home yet (decision 0023).
INSTRUMENT_SYSTEM = "urn:backcare:codesystem:instrument"
LICENCE_SYSTEM = "urn:backcare:codesystem:licence-board"
BODY_AREA_SYSTEM = "urn:backcare:codesystem:body-area"
HOLD_SYSTEM = "urn:backcare:codesystem:hold"
TECHNIQUE_SYSTEM = "urn:backcare:codesystem:technique"
MUSCLE_SYSTEM = "urn:backcare:codesystem:muscle"
FINDING_SYSTEM = "urn:backcare:codesystem:red-flag-rule"
MUSCLE_LABELS = {m.code: m.label for m in MUSCLES}
# LOINC codes of the measures that have one (docs/domain.md, FHIR mapping).
LOINC_CODES: Mapping[str, tuple[str, str]] = {
    "pain_nrs": ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported"),
}
EXAM_MEASURES = frozenset({"schober", "fingertip_floor"})
UNITS: Mapping[str, tuple[str, str]] = {
    "schober": ("cm", "cm"),
    "fingertip_floor": ("cm", "cm"),
}
GENDER = {"female": "female", "male": "male", "intersex": "other", "unknown": "unknown"}
APPOINTMENT_STATUS = {
    "requested": "proposed",
    "booked": "booked",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
}
CONSENT_SCOPE = {"treatment": "treatment", "privacy": "patient-privacy", "communication": "adr"}


def ref(resource_type: str, row_id: object) -> dict[str, str]:
    return {"reference": f"{resource_type}/{row_id}"}


def _instant(value: datetime) -> str:
    return value.isoformat()


def _day(value: date) -> str:
    return value.isoformat()


def _address(row: Clinic | Patient) -> list[dict[str, Any]]:
    lines = [line for line in (row.address_line1, row.address_line2) if line]
    parts = {
        "city": row.city,
        "state": row.region,
        "postalCode": row.postal_code,
        "country": row.country,
    }
    found: dict[str, Any] = {k: v for k, v in parts.items() if v}
    if lines:
        found["line"] = lines
    return [found] if found else []


def _telecom(phone: str, email: str) -> list[dict[str, str]]:
    found = []
    if phone:
        found.append({"system": "phone", "value": phone})
    if email:
        found.append({"system": "email", "value": email})
    return found


def organization(clinic: Clinic) -> Resource:
    found: Resource = {"resourceType": "Organization", "id": str(clinic.pk), "name": clinic.name}
    if address := _address(clinic):
        found["address"] = address
    if telecom := _telecom(clinic.phone, clinic.email):
        found["telecom"] = telecom
    return found


def location(room: Room) -> Resource:
    return {
        "resourceType": "Location",
        "id": str(room.pk),
        "name": room.name,
        "status": "active" if room.is_active else "inactive",
        "managingOrganization": ref("Organization", room.clinic_id),
    }


def patient(row: Patient) -> Resource:
    name: dict[str, Any] = {"use": "official", "family": row.family_name, "given": [row.given_name]}
    found: Resource = {
        "resourceType": "Patient",
        "id": str(row.pk),
        "name": [name],
        "gender": GENDER[row.sex],
        "birthDate": _day(row.date_of_birth),
        "managingOrganization": ref("Organization", row.clinic_id),
    }
    if row.preferred_name:
        found["name"].append({"use": "usual", "given": [row.preferred_name]})
    if telecom := _telecom(row.phone, row.email):
        found["telecom"] = telecom
    if address := _address(row):
        found["address"] = address
    return found


def practitioner(therapist: Therapist, licences: Iterable[Licence]) -> Resource:
    """A therapist, each licence to practise a qualification (board, number, type, expiry)."""
    found: Resource = {
        "resourceType": "Practitioner",
        "id": str(therapist.pk),
        "name": [{"text": therapist.user.full_name}],
    }
    qualifications = [
        {
            "identifier": [
                {"system": f"{LICENCE_SYSTEM}:{lic.issuing_board}", "value": lic.number}
            ],
            "code": {"text": lic.licence_type},
            "period": {"end": _day(lic.expires_on)},
            "issuer": {"display": f"{lic.issuing_board}, {lic.jurisdiction}"},
        }
        for lic in licences
    ]
    if qualifications:
        found["qualification"] = qualifications
    return found


def appointment(row: Appointment) -> Resource:
    participants = [
        {"actor": ref("Patient", row.patient_id), "status": "accepted"},
        {"actor": ref("Practitioner", row.therapist_id), "status": "accepted"},
    ]
    if row.room_id is not None:
        participants.append({"actor": ref("Location", row.room_id), "status": "accepted"})
    return {
        "resourceType": "Appointment",
        "id": str(row.pk),
        "status": APPOINTMENT_STATUS[row.status],
        "serviceType": [{"text": row.service.name}],
        "start": _instant(row.starts_at),
        "end": _instant(row.ends_at),
        "participant": participants,
    }


def _code_of(instrument: str) -> dict[str, Any]:
    codings = [{"system": INSTRUMENT_SYSTEM, "code": instrument}]
    if instrument in LOINC_CODES:
        code, display = LOINC_CODES[instrument]
        codings.insert(0, {"system": LOINC, "code": code, "display": display})
    return {"coding": codings}


def observation(row: OutcomeMeasurement) -> Resource:
    """One measurement: its score (exact value shown to two places) or, when it could not be
    scored, the reason; derived from the QuestionnaireResponse that holds its answers."""
    category = "exam" if row.instrument in EXAM_MEASURES else "survey"
    found: Resource = {
        "resourceType": "Observation",
        "id": str(row.pk),
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": category,
                    }
                ]
            }
        ],
        "code": _code_of(row.instrument),
        "subject": ref("Patient", row.patient_id),
        "effectiveDateTime": _instant(row.measured_at),
        "derivedFrom": [ref("QuestionnaireResponse", row.pk)],
    }
    if row.score_display is None:
        found["dataAbsentReason"] = {"text": row.reason or "not scored"}
    else:
        unit, code = UNITS.get(row.instrument, ("{score}", "{score}"))
        found["valueQuantity"] = {
            "value": float(row.score_display),
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": code,
        }
    if row.band:
        found["interpretation"] = [{"text": row.band}]
    return found


def questionnaire_response(row: OutcomeMeasurement) -> Resource:
    """The answers of one measurement, as given (so that an import scores them again), and
    how they were taken."""
    return {
        "resourceType": "QuestionnaireResponse",
        "id": str(row.pk),
        "status": "completed",
        "questionnaire": f"{INSTRUMENT_SYSTEM}:{row.instrument}",
        "subject": ref("Patient", row.patient_id),
        "authored": _instant(row.measured_at),
        "meta": {"tag": [{"system": f"{INSTRUMENT_SYSTEM}:method", "code": row.method}]},
        "item": [_item(str(key), value) for key, value in row.answers.items()],
    }


def _item(link_id: str, value: Any) -> dict[str, Any]:
    """An answer as an item: a list's entries become child items `#0`, `#1`, ...; a mapping's
    entries children named by key; a missing answer an item with no answer."""
    if isinstance(value, Mapping):
        return {"linkId": link_id, "item": [_item(str(k), v) for k, v in value.items()]}
    if isinstance(value, list):
        return {"linkId": link_id, "item": [_item(f"#{i}", v) for i, v in enumerate(value)]}
    if value is None:
        return {"linkId": link_id}
    return {"linkId": link_id, "answer": [_answer(value)]}


def _answer(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float | Decimal):
        return {"valueDecimal": float(value)}
    return {"valueString": str(value)}


def answers_of(resource: Mapping[str, Any]) -> dict[str, Any]:
    """The answers a QuestionnaireResponse made by `questionnaire_response` holds."""
    return {item["linkId"]: _value(item) for item in resource.get("item", [])}


def _value(item: Mapping[str, Any]) -> Any:
    children = item.get("item")
    if children is not None:
        if all(str(c["linkId"]).startswith("#") for c in children):
            ordered = sorted(children, key=lambda c: int(str(c["linkId"])[1:]))
            return [_value(c) for c in ordered]
        return {c["linkId"]: _value(c) for c in children}
    answers = item.get("answer") or []
    if not answers:
        return None
    [answer] = answers
    for key in ("valueBoolean", "valueInteger", "valueDecimal", "valueString"):
        if key in answer:
            return answer[key]
    return None


def consent(row: Consent) -> Resource:
    """A patient's agreement to one consent text version; inactive once withdrawn."""
    found: Resource = {
        "resourceType": "Consent",
        "id": str(row.pk),
        "status": "inactive" if row.withdrawn_at else "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": CONSENT_SCOPE[row.text.kind],
                }
            ]
        },
        "category": [{"coding": [{"system": LOINC, "code": "59284-0"}]}],
        "patient": ref("Patient", row.patient_id),
        "dateTime": _instant(row.given_at),
        "organization": [ref("Organization", row.clinic_id)],
        "policyRule": {"text": f"{row.text.title} (version {row.text.version})"},
    }
    if row.withdrawn_at:
        found["provision"] = {"period": {"end": _instant(row.withdrawn_at)}}
    return found


def care_plan(plan: TreatmentPlan) -> Resource:
    found: Resource = {
        "resourceType": "CarePlan",
        "id": str(plan.pk),
        "status": "completed" if plan.ended_at else "active",
        "intent": "plan",
        "subject": ref("Patient", plan.patient_id),
        "period": {"start": _instant(plan.created_at)},
        "description": (
            f"{plan.sessions_planned} sessions of {plan.session_minutes} minutes, "
            f"every {plan.every_weeks} week(s)"
        ),
    }
    if plan.focus:
        found["title"] = plan.focus
    if plan.ended_at:
        found["period"]["end"] = _instant(plan.ended_at)
    return found


def flags(row: Patient, prefs: PatientPreferences | None, hold: HoldStatus) -> list[Resource]:
    """Precautions staff must see before treating: a booking hold, and each body area the
    patient asked not to be touched."""
    found: list[Resource] = []
    if hold.state != HoldState.CLEAR:
        found.append(
            {
                "resourceType": "Flag",
                "id": str(uuid.uuid5(row.pk, "hold")),
                "status": "active",
                "code": {
                    "coding": [{"system": HOLD_SYSTEM, "code": hold.state.value}],
                    "text": hold.reason or "Booking waits.",
                },
                "subject": ref("Patient", row.pk),
            }
        )
    for area in (prefs.avoid_areas if prefs else []) or []:
        found.append(
            {
                "resourceType": "Flag",
                "id": str(uuid.uuid5(row.pk, f"avoid:{area}")),
                "status": "active",
                "code": {
                    "coding": [{"system": BODY_AREA_SYSTEM, "code": str(area)}],
                    "text": f"Do not massage: {area}",
                },
                "subject": ref("Patient", row.pk),
            }
        )
    return found


def encounter(visit: Visit) -> Resource:
    """A visit whose note is signed: an ambulatory encounter at its appointment."""
    appointment = visit.appointment
    return {
        "resourceType": "Encounter",
        "id": str(visit.pk),
        "status": "finished",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "AMB",
            "display": "ambulatory",
        },
        "subject": ref("Patient", visit.patient_id),
        "participant": [{"individual": ref("Practitioner", visit.therapist_id)}],
        "appointment": [ref("Appointment", appointment.pk)],
        "period": {"start": _instant(appointment.starts_at), "end": _instant(appointment.ends_at)},
    }


def procedure(visit: Visit, applied: AppliedTechnique) -> Resource:
    """A technique applied at a visit: the technique, the muscle and side as body site, the
    minutes and pressure (1-5) in a note."""
    side = "" if applied.side == "both" else f" ({applied.side})"
    muscle = MUSCLE_LABELS.get(applied.muscle, applied.muscle)
    return {
        "resourceType": "Procedure",
        "id": str(applied.pk),
        "status": "completed",
        "code": {
            "coding": [{"system": TECHNIQUE_SYSTEM, "code": applied.technique.code}],
            "text": applied.technique.name,
        },
        "subject": ref("Patient", visit.patient_id),
        "encounter": ref("Encounter", visit.pk),
        "performedDateTime": _instant(visit.appointment.starts_at),
        "performer": [{"actor": ref("Practitioner", visit.therapist_id)}],
        "bodySite": [
            {
                "coding": [{"system": MUSCLE_SYSTEM, "code": f"{applied.muscle}:{applied.side}"}],
                "text": f"{muscle}{side}",
            }
        ],
        "note": [{"text": f"{applied.minutes} minutes, pressure {applied.pressure_level} of 5"}],
    }


def conditions(
    assessment: TriageAssessment, findings: Iterable[tuple[str, str, str, tuple[str, ...]]]
) -> list[Resource]:
    """Each red-flag rule the latest screening triggered: a finding to be checked by a
    clinician, not a diagnosis (verification status unconfirmed)."""
    return [
        {
            "resourceType": "Condition",
            "id": str(uuid.uuid5(assessment.pk, rule_id)),
            "clinicalStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": "active",
                    }
                ]
            },
            "verificationStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                        "code": "unconfirmed",
                    }
                ]
            },
            "code": {"coding": [{"system": FINDING_SYSTEM, "code": rule_id}], "text": title},
            "subject": ref("Patient", assessment.patient_id),
            "recordedDate": _instant(assessment.assessed_at),
        }
        for rule_id, title, _, _ in findings
    ]


def service_request(letter: ReferralLetter) -> Resource:
    """A referral letter: a request to the patient's doctor to review the screening's findings
    and clear massage."""
    return {
        "resourceType": "ServiceRequest",
        "id": str(letter.pk),
        "status": "active",
        "intent": "order",
        "code": {"text": "Medical review and clearance before massage"},
        "subject": ref("Patient", letter.patient_id),
        "authoredOn": _instant(letter.written_at),
        "performer": [{"display": letter.recipient_name}],
    }
