"""The webhook pages: clinic admins register endpoints (the secret shown once), disable them and
read each one's delivery log; everyone else, and admins of another clinic, get an audited 404."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backcare.accounts.models import Role
from backcare.core import webhooks
from backcare.core.models import AuditEvent, WebhookEndpoint, WebhookEvent
from tests.factories import make_clinic, make_member, make_patient, make_webhook_endpoint

pytestmark = pytest.mark.django_db
CHOSEN = ["appointment.booked", "intake.triaged"]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_admin_registers_an_endpoint_and_sees_its_secret_once():
    clinic = make_clinic()
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    client = signed_in(admin)
    made = client.post(
        reverse("webhook_endpoints"),
        {
            "url": "https://crm.example.org/hooks",
            "events": ["appointment.booked", "intake.triaged"],
        },
    )
    assert made.status_code == 200
    assert made["Cache-Control"] == "no-store"
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.clinic_id, endpoint.events) == (
        clinic.pk,
        ["appointment.booked", "intake.triaged"],
    )
    assert endpoint.secret in made.content.decode()
    later = client.get(reverse("webhook_endpoints"))
    assert "https://crm.example.org/hooks" in later.content.decode()
    assert endpoint.secret not in later.content.decode()
    assert AuditEvent.objects.filter(action="webhook.create", object_id=str(endpoint.pk))
    assert AuditEvent.objects.filter(action="webhook.list", actor_id=admin.pk)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "ftp://crm.example.org/hooks", "events": ["appointment.booked"]}, "http://"),
        ({"url": "crm.example.org", "events": ["appointment.booked"]}, "http://"),
        ({"url": "https://crm.example.org/hooks"}, "Choose at least one event."),
        ({"url": "https://crm.example.org/hooks", "events": ["patient.deleted"]}, "valid choice"),
    ],
)
def test_a_bad_endpoint_is_shown_again_with_a_422_saying_what_to_fix(data, message):
    clinic = make_clinic()
    client = signed_in(make_member(clinic, Role.CLINIC_ADMIN))
    response = client.post(reverse("webhook_endpoints"), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_an_admin_disables_an_endpoint_and_it_gets_no_more_events():
    clinic = make_clinic()
    endpoint = make_webhook_endpoint(clinic)
    client = signed_in(make_member(clinic, Role.CLINIC_ADMIN))
    response = client.post(
        reverse("webhook_endpoint_set_active", args=[endpoint.pk]), {"active": "0"}
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert (
        webhooks.emit(clinic_id=clinic.pk, event=WebhookEvent.APPOINTMENT_BOOKED, resources={})
        is None
    )
    assert AuditEvent.objects.filter(action="webhook.update", object_id=str(endpoint.pk))


def test_a_missing_choice_is_refused_with_a_422():
    clinic = make_clinic()
    endpoint = make_webhook_endpoint(clinic)
    client = signed_in(make_member(clinic, Role.CLINIC_ADMIN))
    response = client.post(reverse("webhook_endpoint_set_active", args=[endpoint.pk]), {})
    assert response.status_code == 422
    endpoint.refresh_from_db()
    assert endpoint.is_active


def test_the_delivery_log_shows_event_status_tries_and_next_try(settings):
    settings.BACKCARE_WEBHOOK_PRIVATE_ADDRESSES = True  # a closed port on 127.0.0.1
    clinic = make_clinic(time_zone="America/Toronto")
    endpoint = make_webhook_endpoint(clinic, url="http://127.0.0.1:9/closed")
    patient = make_patient(clinic)
    event_id = webhooks.emit(
        clinic_id=clinic.pk,
        event=WebhookEvent.APPOINTMENT_CANCELLED,
        resources={"patient_id": patient.pk},
    )
    webhooks.deliver_due_webhooks()  # the closed port refuses: one try, waiting for the next
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    response = signed_in(admin).get(reverse("webhook_deliveries", args=[endpoint.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "appointment.cancelled" in page
    assert str(event_id) in page
    assert "Waiting to be sent" in page
    [delivery] = response.context["deliveries"]
    assert delivery.attempts == 1
    next_try = timezone.localtime(delivery.due_at, clinic.zone)
    assert f"{next_try:%H:%M}" in page
    assert "times in America/Toronto" in page
    assert AuditEvent.objects.filter(
        action="webhook.deliveries", actor_id=admin.pk, object_id=str(endpoint.pk)
    )


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.THERAPIST, Role.PATIENT])
def test_staff_other_than_admins_get_an_audited_404(role):
    clinic = make_clinic()
    endpoint = make_webhook_endpoint(clinic)
    user = make_member(clinic, role)
    client = signed_in(user)
    assert client.get(reverse("webhook_endpoints")).status_code == 404
    assert client.get(reverse("webhook_deliveries", args=[endpoint.pk])).status_code == 404
    disable = client.post(
        reverse("webhook_endpoint_set_active", args=[endpoint.pk]), {"active": "0"}
    )
    assert disable.status_code == 404
    endpoint.refresh_from_db()
    assert endpoint.is_active
    denied = AuditEvent.objects.filter(actor_id=user.pk, outcome="denied")
    assert {"webhook.list", "webhook.deliveries", "webhook.update"} <= set(
        denied.values_list("action", flat=True)
    )


def test_an_admin_of_another_clinic_gets_a_404_for_this_clinics_endpoint():
    clinic, other = make_clinic(), make_clinic("Other")
    endpoint = make_webhook_endpoint(clinic)
    client = signed_in(make_member(other, Role.CLINIC_ADMIN))
    assert client.get(reverse("webhook_deliveries", args=[endpoint.pk])).status_code == 404
    disable = client.post(
        reverse("webhook_endpoint_set_active", args=[endpoint.pk]), {"active": "0"}
    )
    assert disable.status_code == 404
    assert "crm" not in client.get(reverse("webhook_endpoints")).content.decode()
    endpoint.refresh_from_db()
    assert endpoint.is_active


def test_anonymous_visitors_are_sent_to_login():
    response = Client().get(reverse("webhook_endpoints"))
    assert response.status_code == 302
    assert "login" in response["Location"]
