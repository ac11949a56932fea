"""Recording a measurement tells the clinic's webhooks in the same transaction (ids only)."""

import pytest

from backcare.accounts.models import Role
from backcare.core.errors import InvalidInputError
from backcare.core.models import WebhookDelivery, WebhookEvent
from backcare.outcomes import services
from tests.factories import make_clinic, make_member, make_patient, make_webhook_endpoint

pytestmark = pytest.mark.django_db
ODI = {"sections": [2, 2, 2, 2, 2, 2, 1, 1, 2, 1]}


@pytest.fixture
def setup():
    clinic = make_clinic()
    return clinic, make_member(clinic, Role.THERAPIST), make_patient(clinic)


def test_a_recorded_measurement_writes_a_measurement_recorded_event_with_ids_only(setup):
    clinic, therapist, patient = setup
    make_webhook_endpoint(clinic, [WebhookEvent.MEASUREMENT_RECORDED])
    stored = services.record_measurement(
        actor=therapist, patient_id=patient.pk, instrument="odi", answers=ODI, method="paper"
    )
    delivery = WebhookDelivery.objects.get()
    assert delivery.event_type == "measurement.recorded"
    assert delivery.payload["data"] == {
        "measurement_id": str(stored.pk),
        "patient_id": str(patient.pk),
    }
    assert "odi" not in str(delivery.payload)


def test_a_measurement_writes_nothing_when_no_endpoint_wants_it(setup):
    clinic, therapist, patient = setup
    make_webhook_endpoint(clinic, [WebhookEvent.APPOINTMENT_BOOKED])
    services.record_measurement(
        actor=therapist, patient_id=patient.pk, instrument="odi", answers=ODI, method="paper"
    )
    assert not WebhookDelivery.objects.exists()


def test_a_refused_measurement_writes_no_event(setup):
    clinic, therapist, patient = setup
    make_webhook_endpoint(clinic)
    with pytest.raises(InvalidInputError):
        services.record_measurement(
            actor=therapist,
            patient_id=patient.pk,
            instrument="odi",
            answers={"sections": [9] * 10},
            method="paper",
        )
    assert not WebhookDelivery.objects.exists()
