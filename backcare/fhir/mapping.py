"""Domain rows in, FHIR R4 resources (JSON dicts) out. Pure apart from reading the rows' loaded
relations; no queries of their own. Ids are the rows' UUIDs, so a resource keeps its id across
exports. Codes are LOINC where one exists (pain severity), else BackCare's own code systems."""

import json
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
from backcare.triage.models import Clearance, ReferralLetter, TriageAssessment
from backcare.triage.queries import HoldStatus
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
EXTENSION_BASE = "urn:backcare:extension"
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
    """Precautions staff must see before treating: the booking hold (active while booking
    waits, inactive once the patient may be booked; from the latest screening, whose time is
    its period's start), and each body area the patient asked not to be touched."""
    found: list[Resource] = [hold_flag(row.pk, hold)]
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


def hold_flag(patient_id: uuid.UUID, hold: HoldStatus) -> Resource:
    found: Resource = {
        "resourceType": "Flag",
        "id": str(uuid.uuid5(patient_id, "hold")),
        "status": "inactive" if hold.may_book else "active",
        "code": {
            "coding": [{"system": HOLD_SYSTEM, "code": hold.state.value}],
            "text": hold.reason or "May be booked: nothing waits for a clearance.",
        },
        "subject": ref("Patient", patient_id),
    }
    if hold.assessment is not None:
        found["period"] = {"start": _instant(hold.assessment.assessed_at)}
        if precautions := hold.assessment.contraindication_result:
            # The screening's contraindication result (pressure caps, techniques and regions to
            # avoid, positions) as our own JSON: the limits treatment keeps come across whole.
            text = json.dumps(precautions, sort_keys=True, separators=(",", ":"))
            found["extension"] = _extension("screening-precautions", "valueString", [text])
    return found


def _extension(name: str, value_type: str, values: Iterable[object]) -> list[dict[str, Any]]:
    return [{"url": f"{EXTENSION_BASE}:{name}", value_type: value} for value in values]


def clearance_flags(patient_id: uuid.UUID, hold: HoldStatus) -> list[Resource]:
    """The answers to the hold that let the patient be booked: each clearance in force (who
    cleared, when, until when, what it covers and the limits it adds) and staff's override of
    the latest screening; for clinicians, as the screening's findings are."""
    found = [_clearance_flag(patient_id, c) for c in hold.clearances]
    if hold.override is not None:
        found.append(
            {
                "resourceType": "Flag",
                "id": str(hold.override.pk),
                "status": "active",
                "code": {
                    "coding": [{"system": HOLD_SYSTEM, "code": "override"}],
                    "text": hold.override.reason,
                },
                "subject": ref("Patient", patient_id),
                "period": {"start": _instant(hold.override.overridden_at)},
            }
        )
    return found


def _clearance_flag(patient_id: uuid.UUID, clearance: Clearance) -> Resource:
    pressure = [clearance.max_pressure_level] if clearance.max_pressure_level else []
    conditions = [clearance.conditions] if clearance.conditions else []
    found: Resource = {
        "resourceType": "Flag",
        "id": str(clearance.pk),
        "extension": [
            *_extension("clearance-clinician", "valueString", [clearance.clinician_name]),
            *_extension("clearance-clinician-role", "valueString", [clearance.clinician_role]),
            *_extension("clearance-covers", "valueCode", clearance.covers),
            *_extension("clearance-restricted-region", "valueCode", clearance.restricted_regions),
            *_extension("clearance-excluded-technique", "valueCode", clearance.excluded_techniques),
            *_extension("clearance-max-pressure", "valueInteger", pressure),
            *_extension("clearance-conditions", "valueString", conditions),
        ],
        "status": "active",
        "code": {
            "coding": [{"system": HOLD_SYSTEM, "code": "cleared"}],
            "text": f"Cleared by {clearance.clinician_name} ({clearance.clinician_role})",
        },
        "subject": ref("Patient", patient_id),
        "period": {"start": _day(clearance.cleared_on)},
    }
    if clearance.valid_until is not None:
        found["period"]["end"] = _day(clearance.valid_until)
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
