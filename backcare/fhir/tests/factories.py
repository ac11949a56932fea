"""A patient with something of every kind the FHIR mapping covers: the visit tests' world (a
screened patient with a clearance, a plan, a licensed therapist, an appointment, an area not to
touch) plus a room, consent, measurements, a signed visit with a technique applied and a
referral letter."""

from collections.abc import Mapping
from datetime import timedelta

from django.utils import timezone

from backcare.accounts.models import Role, Technique
from backcare.outcomes.services import record_measurement
from backcare.patients.models import Consent
from backcare.scheduling.models import Appointment
from backcare.triage.services import write_referral_letter
from backcare.visits.models import AppliedTechnique, Visit
from backcare.visits.tests.factories import VisitWorld, make_signed_visit
from tests.factories import make_consent_text, make_member, make_room

ODI_ANSWERS = {"sections": [2, 2, None, 2, 2, 2, 1, 1, 2, 1]}


class FhirWorld(VisitWorld):
    def __init__(self) -> None:
        super().__init__()
        self.grown = 0
        Appointment.objects.filter(pk=self.appointment.pk).update(room=make_room(self.clinic))
        self.admin_user = self.admin
        self.patient_user = make_member(self.clinic, Role.PATIENT)
        Consent.objects.create(
            clinic=self.clinic,
            patient=self.patient,
            text=make_consent_text(self.clinic),
            method="paper",
            given_at=timezone.now() - timedelta(days=30),
            given_by=self.desk,
        )
        self.measure("pain_nrs", {"now": 7, "worst": 9}, days_ago=20)
        self.measure("odi", ODI_ANSWERS, days_ago=20)
        self.visit = self.signed_visit(days_ago=10)
        write_referral_letter(actor=self.desk, patient_id=self.patient.pk, recipient_name="Dr Lee")

    def measure(self, instrument: str, answers: Mapping[str, object], *, days_ago: int) -> None:
        record_measurement(
            actor=self.admin,
            patient_id=self.patient.pk,
            instrument=instrument,
            answers=answers,
            measured_at=timezone.now() - timedelta(days=days_ago),
            method="paper",
        )

    def signed_visit(self, *, days_ago: int) -> Visit:
        visit = make_signed_visit(self, days_ago=days_ago)
        AppliedTechnique.objects.create(
            clinic=self.clinic,
            note=visit.note,
            technique=Technique.objects.get(code="swedish"),
            muscle="erector_spinae",
            side="left",
            pressure_level=3,
            minutes=20,
        )
        return visit

    def grow(self, visits: int) -> None:
        """More history: signed visits a day apart (never overlapping), each with a technique
        applied, and pain ratings."""
        for _ in range(visits):
            self.grown += 1
            self.signed_visit(days_ago=40 + self.grown)
            self.measure("pain_nrs", {"now": 5}, days_ago=40 + self.grown)
