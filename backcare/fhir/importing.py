"""Import of a patient's Bundle (as `$everything` makes it) into an empty clinic: every kind of
resource the Bundle carries, in dependency order, all or nothing, written through the owning
apps' services so that their rules and audit apply (decision 0031).

Each resource is read into the values of one service call; a resource that cannot be read, or
that a service refuses, stops the import with `InvalidInputError` naming the resource and what
is wrong, and nothing is written."""

import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from pydantic import ValidationError

from backcare.accounts.models import Clinic
from backcare.accounts.queries import ADMIN_ROLES, Viewer, list_rooms, require_roles
from backcare.accounts.services import add_licence, add_room, import_therapist, set_room_active
from backcare.core.audit import record_event
from backcare.core.errors import ConflictError, InvalidInputError
from backcare.fhir import mapping
from backcare.outcomes.services import record_measurement
from backcare.patients.queries import count_patients
from backcare.patients.services import create_patient, import_consent, update_preferences
from backcare.plans.services import import_plan
from backcare.scheduling.models import AppointmentStatus
from backcare.scheduling.services import import_appointment
from backcare.triage.queries import HoldState
from backcare.triage.services import ImportedClearance, ImportedSafety, import_safety_record
from backcare.visits.services import ImportedTechnique, import_signed_visit

Resource = dict[str, Any]

SEX = {fhir: ours for ours, fhir in mapping.GENDER.items()}
APPOINTMENT_STATUS = {fhir: ours for ours, fhir in mapping.APPOINTMENT_STATUS.items()}
CONSENT_KIND = {fhir: ours for ours, fhir in mapping.CONSENT_SCOPE.items()}
IMPORTED_TYPES = frozenset(
    {
        "Patient",
        "Organization",
        "Practitioner",
        "Location",
        "Appointment",
        "QuestionnaireResponse",
        "Observation",
        "Encounter",
        "Procedure",
        "Consent",
        "CarePlan",
        "Flag",
        "Condition",
        "ServiceRequest",
    }
)
STAFF_METHODS = frozenset({"paper", "therapist"})
PLAN_DESCRIPTION = re.compile(
    r"(?P<sessions>\d+) sessions of (?P<minutes>\d+) minutes, every (?P<weeks>\d+) week\(s\)"
)
POLICY_RULE = re.compile(r"(?P<title>.+) \(version (?P<version>\d+)\)")
PROCEDURE_NOTE = re.compile(r"(?P<minutes>\d+) minutes, pressure (?P<pressure>\d) of 5")


@dataclass
class _Import:
    """What has been written so far: each resource's reference in the bundle mapped to the id
    of the row made from it."""

    actor: Viewer
    clinic: Clinic
    resources: list[Resource]
    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    plan_id: uuid.UUID | None = None

    def of_type(self, resource_type: str) -> list[Resource]:
        return [r for r in self.resources if r.get("resourceType") == resource_type]

    def target(self, reference: Mapping[str, Any] | None, resource_type: str) -> uuid.UUID:
        """The id of the row made from the resource `reference` points at."""
        found = str((reference or {}).get("reference", ""))
        if not found.startswith(f"{resource_type}/") or found not in self.ids:
            raise InvalidInputError(f"refers to {found or 'nothing'}, not a {resource_type} of it")
        return self.ids[found]

    def made(self, resource: Resource, row_id: uuid.UUID) -> None:
        self.ids[f"{resource['resourceType']}/{resource.get('id', '')}"] = row_id


def import_bundle(*, actor: Viewer, clinic: Clinic | None, document: Any) -> uuid.UUID:
    """Create the patient of a Bundle made by `$everything` in an empty clinic (clinic admins
    only) with their whole record: the therapists who saw them (new accounts that cannot sign
    in, with their licences), rooms, appointments, measurements (scored again by our rules),
    signed visits with the techniques applied, consents, plan, areas not to touch, and the
    safety state (screening findings, hold, clearances, referral letters), so that a patient
    on hold at the source is on hold here. The Organization is the clinic imported into. All
    or nothing; one `fhir_import.create` event besides the services' own. Returns the new
    patient's id.

    Raises `InvalidInputError` naming the resource and field for a document that is not a
    valid FHIR Bundle, holds no or several Patients, or a resource our rules refuse;
    `ConflictError` when the clinic already has patients; `NotFoundError` (audited) for anyone
    but the clinic's admins."""
    clinic = require_roles(actor, clinic, ADMIN_ROLES, action="fhir_import.create")
    resources = _resources(document)
    patients = [r for r in resources if r.get("resourceType") == "Patient"]
    if len(patients) != 1:
        raise InvalidInputError(f"A bundle holds one Patient; this one holds {len(patients)}.")
    if strange := sorted({str(r.get("resourceType")) for r in resources} - IMPORTED_TYPES):
        raise InvalidInputError(f"BackCare does not import {', '.join(strange)} resources.")
    state = _Import(actor, clinic, resources)
    with transaction.atomic():
        # Inside the transaction, so that on SQLite two imports at once cannot both find the
        # clinic empty.
        if count_patients(actor, clinic):
            raise ConflictError("Import into an empty clinic: this clinic has patients already.")
        for step in STEPS:
            step(state)
        patient_id = state.ids[f"Patient/{patients[0].get('id', '')}"]
        record_event(
            actor=actor,
            action="fhir_import.create",
            clinic_id=clinic.pk,
            patient_id=patient_id,
            detail={"resources": len(resources), "rows": len(state.ids)},
        )
    return patient_id


def _resources(document: Any) -> list[Resource]:
    from fhir.resources.R4B.bundle import Bundle  # loads ~1 s of models: only when importing

    if not isinstance(document, Mapping) or document.get("resourceType") != "Bundle":
        raise InvalidInputError('Send a FHIR Bundle (resourceType "Bundle") as JSON.')
    try:
        Bundle.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInputError(f"The bundle is not valid FHIR: {where}: {first['msg']}") from error
    except KeyError as error:
        raise InvalidInputError(f"The bundle names an unknown resource type: {error}.") from error
    return [dict(e["resource"]) for e in document.get("entry", []) if "resource" in e]


@contextmanager
def _reading(resource: Resource) -> Iterator[None]:
    """Name the resource in a refusal of its values while it is read or written (a conflict,
    such as a time already taken, keeps its own status)."""
    name = f"{resource.get('resourceType')} {resource.get('id', '(no id)')}"
    try:
        yield
    except InvalidInputError as error:
        if error.message.startswith(name):
            raise
        raise InvalidInputError(f"{name}: {error.message}") from error
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise InvalidInputError(f"{name}: missing or unreadable {error}") from error


def _instant(value: Any, what: str) -> datetime:
    try:
        found = datetime.fromisoformat(str(value))
    except ValueError as error:
        raise InvalidInputError(f"{what} is not a date and time") from error
    if found.tzinfo is None:
        raise InvalidInputError(f"{what} needs its time zone")
    return found


def _day(value: Any, what: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as error:
        raise InvalidInputError(f"{what} must be a full date (YYYY-MM-DD)") from error


def _match(pattern: re.Pattern[str], text: Any, what: str) -> re.Match[str]:
    found = pattern.fullmatch(str(text or ""))
    if found is None:
        raise InvalidInputError(f"{what} is not in the form BackCare writes")
    return found


def _code(concept: Mapping[str, Any] | None, system: str) -> str | None:
    codings = (concept or {}).get("coding") or []
    return next((str(c["code"]) for c in codings if c.get("system") == system), None)


# --- Steps, in dependency order -------------------------------------------------------------------


def _import_patient(state: _Import) -> None:
    [resource] = state.of_type("Patient")
    with _reading(resource):
        patient = create_patient(
            actor=state.actor, clinic=state.clinic, **_patient_values(resource)
        )
        state.made(resource, patient.pk)


def _patient_values(resource: Resource) -> dict[str, Any]:
    names = resource.get("name") or []
    official = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    usual: dict[str, Any] = next((n for n in names if n.get("use") == "usual"), {})
    if "birthDate" not in resource or len(resource["birthDate"]) != 10:
        raise InvalidInputError("The Patient needs a full birthDate (YYYY-MM-DD).")
    telecom = {t.get("system"): t.get("value", "") for t in resource.get("telecom", [])}
    address = (resource.get("address") or [{}])[0]
    lines = [*address.get("line", []), "", ""]
    return {
        "given_name": " ".join(official.get("given", [])),
        "family_name": official.get("family", ""),
        "preferred_name": " ".join(usual.get("given", [])),
        "date_of_birth": date.fromisoformat(resource["birthDate"]),
        "sex": SEX.get(resource.get("gender", "unknown"), "unknown"),
        "email": telecom.get("email", ""),
        "phone": telecom.get("phone", ""),
        "address_line1": lines[0],
        "address_line2": lines[1],
        "city": address.get("city", ""),
        "region": address.get("state", ""),
        "postal_code": address.get("postalCode", ""),
        "country": address.get("country", ""),
    }


def _import_organization(state: _Import) -> None:
    """The Organization is the clinic imported into: references to it point at this clinic;
    its name and address stay this clinic's own (decision 0031)."""
    for resource in state.of_type("Organization"):
        state.made(resource, state.clinic.pk)


def _import_practitioners(state: _Import) -> None:
    for resource in state.of_type("Practitioner"):
        with _reading(resource):
            [name] = resource["name"]
            therapist = import_therapist(
                actor=state.actor, clinic=state.clinic, full_name=name["text"]
            )
            for qualification in resource.get("qualification", []):
                add_licence(actor=state.actor, therapist_id=therapist.pk, **_licence(qualification))
            state.made(resource, therapist.pk)


def _licence(qualification: Mapping[str, Any]) -> dict[str, Any]:
    [identifier] = qualification["identifier"]
    board = str(identifier["system"]).removeprefix(f"{mapping.LICENCE_SYSTEM}:")
    issuer = str(qualification["issuer"]["display"])
    if not issuer.startswith(f"{board}, "):
        raise InvalidInputError("qualification.issuer must name the board and the jurisdiction")
    return {
        "number": identifier["value"],
        "issuing_board": board,
        "jurisdiction": issuer.removeprefix(f"{board}, "),
        "licence_type": qualification["code"]["text"],
        "expires_on": _day(qualification["period"]["end"], "qualification.period.end"),
    }


def _import_locations(state: _Import) -> None:
    """A Location is this clinic's room of that name, as it is, or else a new room (out of use
    when the Location is inactive)."""
    for resource in state.of_type("Location"):
        with _reading(resource):
            name = str(resource["name"]).strip()
            room = list_rooms(state.actor, state.clinic).filter(name__iexact=name).first()
            if room is None:
                room = add_room(actor=state.actor, clinic=state.clinic, name=name)
                if resource.get("status") == "inactive":
                    set_room_active(
                        actor=state.actor, clinic=state.clinic, room_id=room.pk, active=False
                    )
            state.made(resource, room.pk)


def _import_appointments(state: _Import) -> None:
    for resource in state.of_type("Appointment"):
        with _reading(resource):
            actors = [p["actor"] for p in resource["participant"]]
            by_type = {str(a.get("reference", "")).split("/")[0]: a for a in actors}
            rooms = [a for a in actors if str(a.get("reference", "")).startswith("Location/")]
            if resource.get("status") not in APPOINTMENT_STATUS:
                raise InvalidInputError("status is not one BackCare writes")
            appointment = import_appointment(
                actor=state.actor,
                patient_id=state.target(by_type.get("Patient"), "Patient"),
                therapist_id=state.target(by_type.get("Practitioner"), "Practitioner"),
                room_id=state.target(rooms[0], "Location") if rooms else None,
                service_name=resource["serviceType"][0]["text"],
                starts_at=_instant(resource["start"], "start"),
                ends_at=_instant(resource["end"], "end"),
                status=AppointmentStatus(APPOINTMENT_STATUS[resource["status"]]),
            )
            state.made(resource, appointment.pk)


def _import_measurements(state: _Import) -> None:
    prefix = f"{mapping.INSTRUMENT_SYSTEM}:"
    for resource in state.of_type("QuestionnaireResponse"):
        with _reading(resource):
            questionnaire = str(resource.get("questionnaire", ""))
            if not questionnaire.startswith(prefix) or "authored" not in resource:
                raise InvalidInputError(
                    "A QuestionnaireResponse must name one of our instruments and when it "
                    "was answered."
                )
            tags = (resource.get("meta") or {}).get("tag") or []
            method = next((t.get("code") for t in tags if t.get("code") in STAFF_METHODS), None)
            measurement = record_measurement(
                actor=state.actor,
                patient_id=state.target(resource.get("subject"), "Patient"),
                instrument=questionnaire.removeprefix(prefix),
                answers=mapping.answers_of(resource),
                measured_at=_instant(resource["authored"], "authored (the answer date)"),
                method=method or "paper",
            )
            state.made(resource, measurement.pk)
    # An Observation is derived from its QuestionnaireResponse: scoring the answers again
    # makes it; it points at the same measurement.
    for resource in state.of_type("Observation"):
        with _reading(resource):
            [source] = resource["derivedFrom"]
            state.made(resource, state.target(source, "QuestionnaireResponse"))


def _import_consents(state: _Import) -> None:
    for resource in state.of_type("Consent"):
        with _reading(resource):
            scope = _code(resource["scope"], "http://terminology.hl7.org/CodeSystem/consentscope")
            if scope not in CONSENT_KIND:
                raise InvalidInputError("scope is not one BackCare writes")
            policy = _match(POLICY_RULE, resource["policyRule"]["text"], "policyRule.text")
            withdrawn = (resource.get("provision") or {}).get("period", {}).get("end")
            consent = import_consent(
                actor=state.actor,
                patient_id=state.target(resource.get("patient"), "Patient"),
                kind=CONSENT_KIND[scope],
                title=policy["title"],
                version=int(policy["version"]),
                given_at=_instant(resource["dateTime"], "dateTime"),
                withdrawn_at=_instant(withdrawn, "provision.period.end") if withdrawn else None,
            )
            state.made(resource, consent.pk)


def _import_plans(state: _Import) -> None:
    for resource in state.of_type("CarePlan"):
        with _reading(resource):
            course = _match(PLAN_DESCRIPTION, resource.get("description"), "description")
            ended = resource["period"].get("end")
            plan = import_plan(
                actor=state.actor,
                patient_id=state.target(resource.get("subject"), "Patient"),
                focus=resource.get("title", ""),
                session_minutes=int(course["minutes"]),
                every_weeks=int(course["weeks"]),
                sessions_planned=int(course["sessions"]),
                started_at=_instant(resource["period"]["start"], "period.start"),
                ended_at=_instant(ended, "period.end") if ended else None,
            )
            state.plan_id = plan.pk
            state.made(resource, plan.pk)


def _import_visits(state: _Import) -> None:
    procedures = state.of_type("Procedure")
    for resource in state.of_type("Encounter"):
        with _reading(resource):
            ref = f"Encounter/{resource.get('id', '')}"
            applied = [p for p in procedures if p.get("encounter", {}).get("reference") == ref]
            [appointment] = resource["appointment"]
            visit = import_signed_visit(
                actor=state.actor,
                appointment_id=state.target(appointment, "Appointment"),
                plan_id=state.plan_id,
                techniques=[_technique(p) for p in applied],
            )
            state.made(resource, visit.pk)
    for resource in procedures:
        with _reading(resource):
            state.made(resource, state.target(resource.get("encounter"), "Encounter"))


def _technique(resource: Resource) -> ImportedTechnique:
    with _reading(resource):
        technique = _code(resource["code"], mapping.TECHNIQUE_SYSTEM)
        [site] = resource["bodySite"]
        muscle, _, side = str(_code(site, mapping.MUSCLE_SYSTEM) or "").partition(":")
        [note] = resource["note"]
        work = _match(PROCEDURE_NOTE, note["text"], "note")
        return ImportedTechnique(
            technique_code=technique or "",
            muscle=muscle,
            side=side,
            pressure_level=int(work["pressure"]),
            minutes=int(work["minutes"]),
        )


def _import_avoid_areas(state: _Import) -> None:
    areas: dict[uuid.UUID, list[str]] = {}
    for resource in state.of_type("Flag"):
        with _reading(resource):
            area = _code(resource["code"], mapping.BODY_AREA_SYSTEM)
            if area is not None:
                patient_id = state.target(resource.get("subject"), "Patient")
                areas.setdefault(patient_id, []).append(area)
                state.made(resource, patient_id)
    for patient_id, found in areas.items():
        update_preferences(actor=state.actor, patient_id=patient_id, avoid_areas=found)


def _import_safety(state: _Import) -> None:
    """The hold Flag, the screening's findings (Conditions), clearance and override Flags and
    the referral letters (ServiceRequests), as one safety record of the patient."""
    holds = [r for r in state.of_type("Flag") if _code(r["code"], mapping.HOLD_SYSTEM)]
    by_code: dict[str, list[Resource]] = {}
    for resource in holds:
        by_code.setdefault(str(_code(resource["code"], mapping.HOLD_SYSTEM)), []).append(resource)
    states = [r for r in holds if _code(r["code"], mapping.HOLD_SYSTEM) in set(HoldState)]
    if len(states) != 1:
        raise InvalidInputError(f"A bundle holds one hold Flag; this one holds {len(states)}.")
    [hold] = states
    with _reading(hold):
        patient_id = state.target(hold.get("subject"), "Patient")
        start = (hold.get("period") or {}).get("start")
        screened_at = _instant(start, "period.start (the screening's time)") if start else None
        record = ImportedSafety(
            state=HoldState(str(_code(hold["code"], mapping.HOLD_SYSTEM))),
            screened_at=screened_at,
            findings=tuple(_findings(state, screened_at)),
            clearances=tuple(_clearance(r) for r in by_code.get("cleared", [])),
            override=_override(by_code.get("override", [])),
            letters=tuple(_letter(r) for r in state.of_type("ServiceRequest")),
            precautions=_precautions(hold),
        )
        import_safety_record(actor=state.actor, patient_id=patient_id, record=record)
    for resource in [*holds, *state.of_type("Condition"), *state.of_type("ServiceRequest")]:
        state.made(resource, patient_id)


def _findings(state: _Import, screened_at: datetime | None) -> Iterator[str]:
    for resource in state.of_type("Condition"):
        with _reading(resource):
            rule_id = _code(resource["code"], mapping.FINDING_SYSTEM)
            recorded = _instant(resource["recordedDate"], "recordedDate")
            if rule_id is None or recorded != screened_at:
                raise InvalidInputError(
                    "a finding must name a red-flag rule of the hold Flag's screening"
                )
            yield rule_id


def _extensions(resource: Resource, name: str) -> list[Any]:
    url = f"{mapping.EXTENSION_BASE}:{name}"
    found = []
    for extension in resource.get("extension", []):
        if extension.get("url") == url:
            found += [v for k, v in extension.items() if k.startswith("value")]
    return found


def _clearance(resource: Resource) -> ImportedClearance:
    with _reading(resource):
        [clinician] = _extensions(resource, "clearance-clinician")
        [role] = _extensions(resource, "clearance-clinician-role")
        until = resource["period"].get("end")
        pressure = _extensions(resource, "clearance-max-pressure")
        return ImportedClearance(
            clinician_name=clinician,
            clinician_role=role,
            cleared_on=_day(resource["period"]["start"], "period.start"),
            valid_until=_day(until, "period.end") if until else None,
            covers=tuple(_extensions(resource, "clearance-covers")),
            restricted_regions=tuple(_extensions(resource, "clearance-restricted-region")),
            excluded_techniques=tuple(_extensions(resource, "clearance-excluded-technique")),
            max_pressure_level=pressure[0] if pressure else None,
            conditions="".join(_extensions(resource, "clearance-conditions")),
        )


def _precautions(resource: Resource) -> dict[str, Any]:
    found = _extensions(resource, "screening-precautions")
    if not found:
        return {}
    try:
        precautions = json.loads(found[0])
    except json.JSONDecodeError as error:
        raise InvalidInputError("the screening's precautions are not readable") from error
    if not isinstance(precautions, dict):
        raise InvalidInputError("the screening's precautions are not readable")
    return precautions


def _override(resources: list[Resource]) -> tuple[str, datetime] | None:
    for resource in resources:
        with _reading(resource):
            return resource["code"]["text"], _instant(resource["period"]["start"], "period")
    return None


def _letter(resource: Resource) -> tuple[str, datetime]:
    with _reading(resource):
        [performer] = resource["performer"]
        return performer["display"], _instant(resource["authoredOn"], "authoredOn")


STEPS: tuple[Callable[[_Import], None], ...] = (
    _import_patient,
    _import_organization,
    _import_practitioners,
    _import_locations,
    _import_appointments,
    _import_measurements,
    _import_consents,
    _import_plans,
    _import_visits,
    _import_avoid_areas,
    _import_safety,
)
