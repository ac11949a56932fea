"""The seeded world of the access walk: the demo clinic (every kind of record exists there) plus
the actors the walk needs, and the URL patterns found by walking the resolver."""

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from backcare.accounts.models import ApiToken, Clinic, Membership, Role, Room, Therapist, User
from backcare.accounts.services import create_api_token
from backcare.core.demo import build_demo
from backcare.core.models import WebhookEndpoint
from backcare.fhir.models import ExportJob, ExportStatus
from backcare.fhir.services import export_folder
from backcare.intake.models import Intake, IntakeDocument
from backcare.outcomes.models import CheckIn
from backcare.patients.models import Consent, Patient
from backcare.plans.models import PlanTechnique, TreatmentPlan
from backcare.reports.models import ClinicExport
from backcare.reports.models import ExportStatus as ClinicExportStatus
from backcare.scheduling.models import Appointment, Service, TimeOff, WaitlistEntry, WorkingHours
from backcare.triage.models import Clearance, ReferralLetter, TriageAssessment
from backcare.visits.models import AppliedTechnique, Visit, VisitNote
from tests.factories import TOTP_SECRET, make_member, make_patient, make_user

ANONYMOUS = "anonymous"
# Clinic A's people: the actors whose access depends on their role.
ADMIN, DESK, THERAPIST, CLINICIAN = "admin", "front_desk", "therapist", "clinician"
OWNER = "owner"  # the patient the walked records belong to, signed in to the portal
# Outsiders to the walked records.
OTHER_PATIENT, OTHER_CLINIC_ADMIN, OTHER_CLINIC_PATIENT, STRANGER = (
    "other_patient",
    "other_clinic_admin",
    "other_clinic_patient",
    "stranger",
)
STAFF = (ADMIN, DESK, THERAPIST, CLINICIAN)
OUTSIDERS = (OTHER_PATIENT, OTHER_CLINIC_ADMIN, OTHER_CLINIC_PATIENT, STRANGER)
ACTORS = (ANONYMOUS, *STAFF, OWNER, *OUTSIDERS)


@dataclass(frozen=True)
class Route:
    """One named URL pattern: its reversible name, its route text and its view's module."""

    name: str
    route: str
    module: str
    kwargs: tuple[str, ...]


def walk_urls() -> list[Route]:
    """Every named URL pattern of the site, recursively, with namespaces (api-v1:, admin:)."""
    found: list[Route] = []

    def walk(patterns: list[URLPattern | URLResolver], namespace: str, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = ":".join(filter(None, [namespace, pattern.namespace or ""]))
                walk(pattern.url_patterns, inner, route)
            elif pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                keys = tuple(pattern.pattern.regex.groupindex)
                found.append(Route(name, route, pattern.callback.__module__, keys))

    walk(get_resolver().url_patterns, "", "")
    return found


@dataclass
class World:
    clinic: Clinic
    other_clinic: Clinic
    users: dict[str, User | None]
    owner: Patient
    other_patient: Patient
    other_clinic_patient: Patient
    objects: dict[str, Any] = field(default_factory=dict)

    def secrets(self) -> list[str]:
        """Text that must never appear in a response made for clinic A's people: clinic B's
        patient, identified by name and id."""
        p = self.other_clinic_patient
        return [p.family_name, str(p.pk)]


def _with_totp(user: User) -> User:
    if not Authenticator.objects.filter(user=user).exists():
        TOTP.activate(user, TOTP_SECRET)
    return user


def _first(model: Any, **filters: Any) -> Any:
    return model.objects.filter(**filters).order_by("pk").first()


def build_world() -> World:
    state = build_demo()
    clinic, north = state["clinic"], state["second_clinic"]
    demo = state["users"]
    owner: Patient = state["patients"][0]
    other_patient_user = make_user(full_name="Otto Second")
    other_patient = make_patient(clinic, user=other_patient_user, family_name="Secondpatient")
    b_patient_user = make_user(full_name="Bea Northerly")
    b_patient = make_patient(north, user=b_patient_user, family_name="Zzyzxnorth")
    users: dict[str, User | None] = {
        ANONYMOUS: None,
        ADMIN: make_member(clinic, Role.CLINIC_ADMIN),
        DESK: _with_totp(demo["frontdesk"]),
        THERAPIST: _with_totp(demo["therapist"]),
        CLINICIAN: _with_totp(demo["clinician"]),
        OWNER: owner.user,
        OTHER_PATIENT: other_patient_user,
        OTHER_CLINIC_ADMIN: make_member(north, Role.CLINIC_ADMIN),
        OTHER_CLINIC_PATIENT: b_patient_user,
        STRANGER: make_user(full_name="Stranger Danger"),
    }
    world = World(clinic, north, users, owner, other_patient, b_patient)
    world.objects = _objects(world, demo)
    return world


def _objects(world: World, demo: dict[str, User]) -> dict[str, Any]:
    """One clinic-A record per URL keyword, the owner's where the record is a patient's."""
    clinic, owner = world.clinic, world.owner
    therapist = Therapist.objects.get(user=demo["therapist"])
    admin = world.users[ADMIN]
    assert admin is not None
    appointment = _first(Appointment, patient=owner)
    visit = _first(Visit, patient=owner) or _first(Visit, clinic=clinic)
    plan = _first(TreatmentPlan, patient=owner) or _first(TreatmentPlan, clinic=clinic)
    intake = _first(Intake, patient=owner) or _first(Intake, clinic=clinic)
    invitee = make_user(full_name="Ivy Invitee")
    invitation = Membership.objects.create(clinic=clinic, user=invitee, role=Role.FRONT_DESK)
    found = {
        "patient_id": owner,
        "consent_id": _first(Consent, patient=owner),
        "membership_id": invitation,
        "room_id": _first(Room, clinic=clinic),
        "therapist_id": therapist,
        "licence_id": therapist.licences.first(),
        "token_id": _first(ApiToken, clinic=clinic) or _token(world),
        "intake_id": intake,
        "document_id": _first(IntakeDocument, clinic=clinic) or _intake_document(world, intake),
        "assessment_id": _first(TriageAssessment, patient=owner)
        or _first(TriageAssessment, clinic=clinic),
        "letter_id": _first(ReferralLetter, clinic=clinic),
        "clearance_id": _first(Clearance, clinic=clinic) or _clearance(world),
        "plan_id": plan,
        "plan_technique_id": _first(PlanTechnique, clinic=clinic),
        "appointment_id": appointment,
        "entry_id": _first(WaitlistEntry, clinic=clinic) or _waitlist_entry(world),
        "service_id": _first(Service, clinic=clinic),
        "hours_id": _first(WorkingHours, therapist=therapist),
        "time_off_id": _first(TimeOff, therapist=therapist) or _time_off(world, therapist),
        "visit_id": visit,
        "note_id": _first(VisitNote, visit=visit),
        "applied_technique_id": _first(AppliedTechnique, clinic=clinic),
        "check_in": _first(CheckIn, clinic=clinic),
        "job_id": ExportJob.objects.create(
            clinic=clinic,
            requested_by=admin,
            status=ExportStatus.DONE,
            counts={"Patient": 0},
        ),
        "export_id": ClinicExport.objects.create(
            clinic=clinic,
            requested_by=admin,
            status=ClinicExportStatus.DONE,
            file=CLINIC_EXPORT_FILE,
        ),
        "endpoint_id": WebhookEndpoint.objects.create(
            clinic_id=clinic.pk, url="https://hooks.example.test/backcare", secret="s" * 40
        ),
    }
    return found


# Records the demo does not make, so that every URL has a record its allowed actors can reach.


def _user(world: World, actor: str) -> User:
    user = world.users[actor]
    assert user is not None
    return user


def _token(world: World) -> ApiToken:
    admin = _user(world, ADMIN)
    return create_api_token(actor=admin, clinic=world.clinic, name="Walk", scopes=["read"])[0]


def _time_off(world: World, therapist: Therapist) -> TimeOff:
    starts = timezone.now() + timedelta(days=60)
    return TimeOff.objects.create(
        clinic=world.clinic,
        therapist=therapist,
        starts_at=starts,
        ends_at=starts + timedelta(days=1),
    )


def _waitlist_entry(world: World) -> WaitlistEntry:
    today = world.clinic.local_date()
    return WaitlistEntry.objects.create(
        clinic=world.clinic,
        patient=world.owner,
        service=_first(Service, clinic=world.clinic),
        first_date=today + timedelta(days=1),
        last_date=today + timedelta(days=14),
        created_by=_user(world, OWNER),
    )


def _clearance(world: World) -> Clearance:
    """The owner's clearance of their screening, answering nothing (`covers` empty), so their
    hold is what the demo made it."""
    desk = _user(world, DESK)
    return Clearance.objects.create(
        clinic=world.clinic,
        patient=world.owner,
        assessment=_first(TriageAssessment, patient=world.owner),
        covers=[],
        clinician_name="Dr Walk",
        clinician_role="GP",
        cleared_on=world.clinic.local_date(),
        document=WALK_PDF,
        document_name="clearance.pdf",
        document_type="pdf",
        document_bytes=len(PDF),
        recorded_by=desk,
        recorded_at=timezone.now(),
    )


def _intake_document(world: World, intake: Intake) -> IntakeDocument:
    return IntakeDocument.objects.create(
        clinic=world.clinic,
        intake=intake,
        patient=intake.patient,
        file=WALK_PDF,
        description="Scan report",
        original_name="scan.pdf",
        file_type="pdf",
        size_bytes=len(PDF),
        uploaded_by=intake.patient.user or _user(world, DESK),
        uploaded_at=timezone.now(),
    )


def _stored_pdf() -> None:
    """The walk's PDF under this test's MEDIA_ROOT, which every test gets afresh."""
    stored = Path(settings.MEDIA_ROOT) / WALK_PDF
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(PDF)


def pk_of(obj: Any) -> uuid.UUID:
    return obj.pk if obj is not None else uuid.uuid4()


CLINIC_EXPORT_FILE = "exports/walk/clinic-a.zip"
WALK_PDF = "walk/document.pdf"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
STEP = "back"
INSTRUMENT = "pain_nrs"
UNKNOWN_TOKEN = "not-a-real-token-4f1c2a"


def kwargs_for(route: Route, world: World) -> dict[str, Any]:
    """The URL's keyword arguments, built from clinic A's records in `world`."""
    values: dict[str, Any] = {}
    for key in route.kwargs:
        if key == "technique_id":
            owner_key = (
                "applied_technique_id" if route.name.startswith("visit") else "plan_technique_id"
            )
            values[key] = pk_of(world.objects[owner_key])
        elif key == "token":
            values[key] = UNKNOWN_TOKEN
        elif key == "step":
            values[key] = STEP
        elif key == "instrument":
            values[key] = INSTRUMENT
        elif key == "job_id":
            values[key] = _export_job_with_files(world).pk
        elif key == "export_id":
            values[key] = _clinic_export_with_file(world).pk
        elif key in ("clearance_id", "document_id"):
            _stored_pdf()
            values[key] = pk_of(world.objects[key])
        elif key == "rest":
            values[key] = "no/such/thing"
        elif key == "resource_type":
            values[key] = "Patient"
        elif key == "table":
            values[key] = "patients"
        else:
            values[key] = pk_of(world.objects[key])
    return values


def query_for(name: str, world: World) -> dict[str, str]:
    """The query string an operation needs before it reaches its access check."""
    if name != "api-v1:availability":
        return {}
    return {
        "therapist_id": str(world.objects["therapist_id"].pk),
        "service_id": str(world.objects["service_id"].pk),
        "first_day": str(world.clinic.local_date() + timedelta(days=7)),
        "last_day": str(world.clinic.local_date() + timedelta(days=13)),
    }


def _export_job_with_files(world: World) -> Any:
    """Clinic A's finished export, its two files written (empty) under this test's MEDIA_ROOT,
    which every test gets afresh."""
    job = world.objects["job_id"]
    folder = export_folder(job)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Patient.ndjson").touch()
    return job


def _clinic_export_with_file(world: World) -> Any:
    """Clinic A's finished CSV export, its (empty) zip written under this test's MEDIA_ROOT."""
    export = world.objects["export_id"]
    stored = Path(settings.MEDIA_ROOT) / CLINIC_EXPORT_FILE
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.touch()
    return export


def client_as(world: World, actor: str) -> Client:
    """A test client signed in as `actor` (not signed in for the anonymous visitor)."""
    client = Client()
    user = world.users[actor]
    if user is not None:
        client.force_login(user)
    return client
