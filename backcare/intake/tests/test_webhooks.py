"""Sending an intake tells the clinic's webhooks it was triaged, in the same transaction, with
ids only: the screening result stays in BackCare."""

import pytest

from backcare.core.models import WebhookDelivery, WebhookEvent
from backcare.intake.forms import STEP_CODES, intake_form
from backcare.intake.models import Intake
from backcare.intake.questions import YES
from backcare.intake.services import start_intake, submit_intake
from backcare.intake.tests.answers import clean_intake
from backcare.triage.models import TriageAssessment
from tests.factories import make_patient, make_user, make_webhook_endpoint


@pytest.fixture
def patient_user(clinic):
    user = make_user(full_name="Pat Ient")
    make_patient(clinic, user=user)
    return user


def _send(user, **changes) -> Intake:
    intake = start_intake(actor=user, patient_id=user.patient_records.get().pk)
    steps = clean_intake(**changes)
    cleaned: dict = {}
    for step in STEP_CODES:
        form = intake_form(intake, step, data=steps[step])
        assert form.is_valid(), form.errors
        cleaned.update(form.cleaned_data)
    return submit_intake(actor=user, intake_id=intake.pk, cleaned=cleaned)


def test_a_sent_intake_writes_an_intake_triaged_event_with_ids_only(clinic, patient_user):
    make_webhook_endpoint(clinic, [WebhookEvent.INTAKE_TRIAGED])
    intake = _send(patient_user, history_of_cancer=YES)
    delivery = WebhookDelivery.objects.get()
    assessment = TriageAssessment.objects.get()
    assert delivery.event_type == "intake.triaged"
    assert delivery.payload["data"] == {
        "intake_id": str(intake.pk),
        "assessment_id": str(assessment.pk),
        "patient_id": str(intake.patient_id),
    }
    assert assessment.action not in str(delivery.payload)


def test_a_sent_intake_writes_nothing_when_no_endpoint_wants_triage(clinic, patient_user):
    make_webhook_endpoint(clinic, [WebhookEvent.APPOINTMENT_BOOKED])
    _send(patient_user)
    assert not WebhookDelivery.objects.exists()
