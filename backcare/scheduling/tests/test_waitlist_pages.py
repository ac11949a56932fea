"""Waitlist pages: a patient joins and leaves the waitlist, staff see the clinic's line and add
patients, the emailed link books the freed time; strangers get 404, bad input a 422."""

from datetime import timedelta

import pytest
from django.core import mail, signing
from django.urls import reverse

from backcare.accounts.models import Role
from backcare.scheduling import services
from backcare.scheduling.models import Appointment, WaitlistEntry, WaitlistOffer
from backcare.scheduling.tests.test_views import PortalWorld
from conftest import client_for
from tests.factories import make_clinic, make_member, make_user


@pytest.fixture
def world(db) -> PortalWorld:
    return PortalWorld()


def _join_data(world: PortalWorld, **changes: str) -> dict[str, str]:
    return {
        "service": str(world.service.pk),
        "therapist": "any",
        "first_date": world.monday.isoformat(),
        "last_date": (world.monday + timedelta(days=6)).isoformat(),
        "earliest_time": "",
        "latest_time": "",
    } | changes


def test_a_patient_joins_the_waitlist_and_sees_the_entry(world):
    client = client_for(world.patient_user)
    assert client.get(reverse("portal_waitlist")).status_code == 200
    response = client.post(reverse("portal_waitlist"), _join_data(world))
    assert response.status_code == 302
    entry = WaitlistEntry.objects.get()
    assert (entry.patient, entry.therapist) == (world.portal_patient, None)
    page = client.get(response.url).content.decode()
    assert "On the waitlist" in page
    assert "Any suitable therapist" in page


def test_dates_in_the_wrong_order_give_422_and_keep_what_was_typed(world):
    client = client_for(world.patient_user)
    data = _join_data(world, last_date=(world.monday - timedelta(days=1)).isoformat())
    response = client.post(reverse("portal_waitlist"), data)
    assert response.status_code == 422
    text = response.content.decode()
    assert "The last day must not be before the first." in text
    assert world.monday.isoformat() in text
    assert not WaitlistEntry.objects.exists()


def test_a_garbled_form_is_a_422_not_a_500(world):
    client = client_for(world.patient_user)
    response = client.post(
        reverse("portal_waitlist"), _join_data(world, service="x", first_date="soon")
    )
    assert response.status_code == 422


def test_a_patient_leaves_the_waitlist(world):
    entry = services.join_waitlist(
        actor=world.patient_user,
        patient_id=world.portal_patient.pk,
        service_id=world.service.pk,
        therapist_id=None,
        first_date=world.monday,
        last_date=world.monday,
    )
    client = client_for(world.patient_user)
    response = client.post(reverse("waitlist_leave", args=[entry.pk]))
    assert response.status_code == 302
    assert response.url == reverse("portal_waitlist")
    entry.refresh_from_db()
    assert entry.status == "withdrawn"


def test_staff_add_a_patient_and_see_the_clinics_line(world):
    client = client_for(world.desk)
    url = reverse("patient_waitlist", args=[world.patient.pk])
    assert client.post(url, _join_data(world)).status_code == 302
    line = client.get(reverse("clinic_waitlist"))
    assert line.status_code == 200
    assert world.patient.display_name in line.content.decode()


def test_strangers_and_other_clinics_get_404(world):
    entry = services.join_waitlist(
        actor=world.desk,
        patient_id=world.patient.pk,
        service_id=world.service.pk,
        therapist_id=None,
        first_date=world.monday,
        last_date=world.monday,
    )
    outsider = client_for(make_member(make_clinic("Elsewhere"), Role.FRONT_DESK))
    assert outsider.get(reverse("patient_waitlist", args=[world.patient.pk])).status_code == 404
    assert outsider.post(reverse("waitlist_leave", args=[entry.pk])).status_code == 404
    stranger = client_for(make_user())
    assert stranger.get(reverse("clinic_waitlist")).status_code == 404
    other_patient = client_for(world.patient_user)
    assert (
        other_patient.get(reverse("patient_waitlist", args=[world.patient.pk])).status_code == 404
    )


def test_the_emailed_link_books_the_freed_time(world, django_capture_on_commit_callbacks):
    booked = world.book(world.at(10))
    services.join_waitlist(
        actor=world.patient_user,
        patient_id=world.portal_patient.pk,
        service_id=world.service.pk,
        therapist_id=world.therapist.pk,
        first_date=world.monday,
        last_date=world.monday,
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_appointment(cancelled_by=world.desk, appointment_id=booked.pk)
    [offer_mail] = [m for m in mail.outbox if m.subject.startswith("A time has become free")]
    link = next(line for line in offer_mail.body.splitlines() if "/waitlist/offers/" in line)
    path = "/" + link.split("/", 3)[3]
    client = client_for(world.patient_user)
    page = client.get(path)
    assert page.status_code == 200
    assert "Book this time" in page.content.decode()
    response = client.post(path, {"answer": "accept"})
    assert response.status_code == 302
    assert response.url == reverse("portal_appointments")
    mine = Appointment.objects.get(patient=world.portal_patient)
    assert mine.starts_at == world.at(10)
    again = client.post(path, {"answer": "accept"})
    assert again.status_code == 409
    assert "no longer open" in again.content.decode()


def test_a_link_for_someone_else_or_altered_is_404(world, django_capture_on_commit_callbacks):
    booked = world.book(world.at(10))
    services.join_waitlist(
        actor=world.desk,
        patient_id=world.patient.pk,
        service_id=world.service.pk,
        therapist_id=None,
        first_date=world.monday,
        last_date=world.monday,
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_appointment(cancelled_by=world.desk, appointment_id=booked.pk)
    offer = WaitlistOffer.objects.get()
    token = signing.dumps(str(offer.pk), salt=services.OFFER_SALT)
    client = client_for(world.patient_user)  # another patient of the clinic
    assert client.get(reverse("waitlist_offer", args=[token])).status_code == 404
    assert client.get(reverse("waitlist_offer", args=[token + "x"])).status_code == 404


def test_the_link_asks_an_anonymous_visitor_to_sign_in(world):
    token = signing.dumps(str(world.patient.pk), salt=services.OFFER_SALT)
    response = client_for(None).get(reverse("waitlist_offer", args=[token]))
    assert response.status_code == 302
    assert "/accounts/login/" in response.url
