"""A patient with something of every kind the FHIR mapping covers: the visit tests' world (a
screened patient with a clearance, a plan, a licensed therapist, an appointment, an area not to
touch) plus a room, consent and measurements."""

from collections.abc import Mapping
from datetime import timedelta

from django.utils import timezone

from backcare.accounts.models import Role
from backcare.outcomes.services import record_measurement
from backcare.patients.models import Consent
from backcare.scheduling.models import Appointment
from backcare.visits.tests.factories import VisitWorld, make_appointment
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

    def measure(self, instrument: str, answers: Mapping[str, object], *, days_ago: int) -> None:
        record_measurement(
            actor=self.admin,
            patient_id=self.patient.pk,
            instrument=instrument,
            answers=answers,
            measured_at=timezone.now() - timedelta(days=days_ago),
            method="paper",
        )

    def grow(self, visits: int) -> None:
        """More history: appointments (a day apart, never overlapping) and pain ratings."""
        for _ in range(visits):
            self.grown += 1
            days_ago = 40 + self.grown
            make_appointment(
                self, starts_at=timezone.now() - timedelta(days=days_ago), status="completed"
            )
            self.measure("pain_nrs", {"now": 5}, days_ago=days_ago)
