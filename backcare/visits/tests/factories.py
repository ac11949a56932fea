"""Typed helpers for the visit tests: a clinic with a screened patient, a plan and today's
appointment; earlier visits written straight to the database (many of them, quickly)."""

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from backcare.accounts.models import Role, Therapist, User
from backcare.patients.models import Patient, PatientPreferences
from backcare.plans.models import TreatmentPlan
from backcare.plans.tests.factories import make_plan, plan_technique
from backcare.scheduling.models import Appointment, Service
from backcare.triage.tests.factories import make_clearance, make_screening
from backcare.visits import services
from backcare.visits.models import NoteAmendment, NoteStatus, Visit, VisitNote, VisitStatus
from tests.factories import make_clinic, make_member, make_patient, make_therapist


class VisitWorld:
    """A clinic with an admin, the front desk, two therapists, and a patient who may be treated
    within limits: anticoagulants (RULES.md §2: pressure cap 3, no deep tissue) and a history of
    cancer answered by a clearance that adds the left leg as a region to avoid. The patient
    prefers light pressure and no touching of the feet. The plan has Swedish massage on the
    erector spinae (both sides, level 3) and the patient has an appointment today with the
    first therapist."""

    def __init__(self) -> None:
        self.clinic = make_clinic("Home")
        self.admin = make_member(self.clinic, Role.CLINIC_ADMIN)
        self.desk = make_member(self.clinic, Role.FRONT_DESK)
        self.therapist: Therapist = make_therapist(self.clinic)
        self.colleague: Therapist = make_therapist(self.clinic)
        self.user: User = self.therapist.user
        self.patient: Patient = make_patient(self.clinic, given_name="Iris")
        PatientPreferences.objects.filter(patient=self.patient).update(
            pressure=2, avoid_areas=["feet"], avoid_areas_note="ticklish"
        )
        make_screening(
            self.user,
            self.patient,
            yes=("history_of_cancer",),
            conditions={"anticoagulant_or_bleeding_disorder": True},
        )
        make_clearance(self.user, self.patient, restricted_regions=["leg_left"])
        self.service = Service.objects.create(
            clinic=self.clinic, name="Back massage 60", duration_minutes=60, buffer_minutes=15
        )
        self.plan: TreatmentPlan = make_plan(
            self.user, self.patient, focus="Ease the lower back", home_care_codes=["heat"]
        )
        plan_technique(self.user, self.plan, minutes=20)
        self.appointment = make_appointment(self, starts_at=timezone.now() - timedelta(minutes=30))

    def open(self, actor: User | None = None, appointment: Appointment | None = None) -> Visit:
        return services.open_visit(
            actor=actor or self.user, appointment_id=(appointment or self.appointment).pk
        )


def make_appointment(
    world: VisitWorld,
    *,
    starts_at: datetime,
    patient: Patient | None = None,
    therapist: Therapist | None = None,
    status: str = "booked",
) -> Appointment:
    """An appointment written straight to the database (booking rules are scheduling's)."""
    return Appointment.objects.create(
        clinic=world.clinic,
        patient=patient or world.patient,
        therapist=therapist or world.therapist,
        service=world.service,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        blocked_until=starts_at + timedelta(hours=1, minutes=15),
        booked_by=world.desk,
        status=status,
    )


def make_signed_visit(world: VisitWorld, *, days_ago: int, **note: Any) -> Visit:
    """An earlier visit with a signed note (and an amendment), straight to the database."""
    appointment = make_appointment(
        world, starts_at=timezone.now() - timedelta(days=days_ago), status="completed"
    )
    visit = Visit.objects.create(
        clinic=world.clinic,
        patient=world.patient,
        appointment=appointment,
        therapist=world.therapist,
        plan=world.plan,
        status=VisitStatus.SIGNED,
        opened_by=world.user,
    )
    values: dict[str, Any] = {
        "pain_before": 6,
        "pain_after": 3,
        "next_focus": f"Glutes, visit {days_ago}",
        "home_care": "Heat",
    } | note
    signed = VisitNote.objects.create(
        clinic=world.clinic,
        visit=visit,
        status=NoteStatus.SIGNED,
        signed_at=appointment.ends_at,
        signed_by=world.user,
        **values,
    )
    NoteAmendment.objects.create(
        clinic=world.clinic,
        note=signed,
        amended_by=world.user,
        amended_at=appointment.ends_at,
        reason="Typo in the focus",
        changes={"next_focus": f"Gluteals, visit {days_ago}"},
    )
    return visit
