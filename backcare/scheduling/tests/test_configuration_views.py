"""The clinic's scheduling configuration pages: services, a therapist's working hours and time
off, and the scheduling settings. The right role gets the page, everyone else a 404; a refused
form is a 422 that keeps what was typed; a saved one redirects."""

from datetime import time, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from backcare.accounts.models import Role, User
from backcare.core.models import AuditEvent
from backcare.scheduling.models import (
    AppointmentStatus,
    SchedulingSettings,
    Service,
    TimeOff,
    WorkingHours,
)
from backcare.scheduling.tests.test_configuration import ConfigWorld
from conftest import client_for
from tests.factories import make_clinic, make_member, make_patient, make_user


@pytest.fixture
def world(db) -> ConfigWorld:
    return ConfigWorld()


def _people(world: ConfigWorld) -> dict[str, User]:
    patient_user = make_user()
    make_patient(world.clinic, user=patient_user)
    return {
        "admin": world.admin,
        "front desk": world.desk,
        "therapist": world.therapist.user,
        "colleague": world.colleague,
        "patient": patient_user,
        "stranger": make_user(),
        "other admin": make_member(make_clinic("Elsewhere"), Role.CLINIC_ADMIN),
    }


def _service_form(**changes: Any) -> dict[str, Any]:
    data = {
        "name": "Back massage 90",
        "description": "",
        "duration_minutes": "90",
        "buffer_minutes": "15",
        "price": "95.00",
        "is_active": "on",
    }
    data.update(changes)
    return data


# --- Services -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "front desk", "therapist"])
def test_clinic_staff_see_the_service_list(world, who):
    response = client_for(_people(world)[who]).get(reverse("service_list"))
    assert response.status_code == 200
    assert world.service.name in response.content.decode()


@pytest.mark.parametrize("who", ["patient", "stranger"])
def test_the_service_list_is_404_for_patients_and_strangers(world, who):
    assert client_for(_people(world)[who]).get(reverse("service_list")).status_code == 404
    assert AuditEvent.objects.filter(action="service.list", outcome="denied").exists()


def test_another_clinics_admin_sees_their_own_services_not_ours(world):
    response = client_for(_people(world)["other admin"]).get(reverse("service_list"))
    assert response.status_code == 200
    assert world.service.name not in response.content.decode()


def test_only_admins_see_the_add_and_edit_links(world):
    admin_page = client_for(world.admin).get(reverse("service_list")).content.decode()
    desk_page = client_for(world.desk).get(reverse("service_list")).content.decode()
    edit = reverse("service_edit", args=[world.service.pk])
    assert reverse("service_add") in admin_page
    assert edit in admin_page
    assert reverse("service_add") not in desk_page
    assert edit not in desk_page


@pytest.mark.parametrize("who", ["front desk", "therapist", "patient", "stranger"])
def test_adding_and_editing_services_is_404_for_all_but_the_clinics_admins(world, who):
    client = client_for(_people(world)[who])
    edit = reverse("service_edit", args=[world.service.pk])
    assert client.get(reverse("service_add")).status_code == 404
    assert client.post(reverse("service_add"), _service_form()).status_code == 404
    assert client.get(edit).status_code == 404
    assert client.post(edit, _service_form(is_active="")).status_code == 404
    assert AuditEvent.objects.filter(outcome="denied").count() >= 4
    assert list(Service.objects.values_list("name", "is_active")) == [("Back massage 60", True)]


def test_another_clinics_admin_cannot_open_or_change_our_service(world):
    client = client_for(_people(world)["other admin"])
    edit = reverse("service_edit", args=[world.service.pk])
    assert client.get(edit).status_code == 404
    assert client.post(edit, _service_form(is_active="")).status_code == 404
    world.service.refresh_from_db()
    assert world.service.is_active


def test_an_admin_adds_a_service(world):
    client = client_for(world.admin)
    assert client.get(reverse("service_add")).status_code == 200
    response = client.post(reverse("service_add"), _service_form())
    assert response.status_code == 302
    assert response.url == reverse("service_list")
    assert Service.objects.get(name="Back massage 90").duration_minutes == 90


def test_a_refused_new_service_is_a_422_that_keeps_what_was_typed(world):
    response = client_for(world.admin).post(
        reverse("service_add"), _service_form(name="Hot stones", duration_minutes="3")
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Please correct the following" in page
    assert 'value="Hot stones"' in page
    assert 'value="3"' in page
    assert not Service.objects.filter(name="Hot stones").exists()


def test_a_name_already_used_is_a_422_from_the_service(world):
    response = client_for(world.admin).post(
        reverse("service_add"), _service_form(name="BACK MASSAGE 60")
    )
    assert response.status_code == 422
    assert "already has a service called" in response.content.decode()


def test_an_admin_edits_and_retires_a_service(world):
    client = client_for(world.admin)
    edit = reverse("service_edit", args=[world.service.pk])
    page = client.get(edit)
    assert page.status_code == 200
    assert 'value="Back massage 60"' in page.content.decode()
    response = client.post(edit, _service_form(name="Back massage 60", is_active=""))
    assert response.status_code == 302
    world.service.refresh_from_db()
    assert (world.service.duration_minutes, world.service.is_active) == (90, False)
    listing = client.get(reverse("service_list")).content.decode()
    assert "Retired" in listing


def test_a_refused_service_edit_is_a_422_that_keeps_what_was_typed(world):
    edit = reverse("service_edit", args=[world.service.pk])
    response = client_for(world.admin).post(edit, _service_form(price="-5"))
    assert response.status_code == 422
    assert 'value="-5"' in response.content.decode()
    world.service.refresh_from_db()
    assert world.service.name == "Back massage 60"


@pytest.mark.parametrize("technique", [str(2**70), str(-(2**70)), "999999"])
def test_a_technique_no_row_could_have_is_a_422_not_a_server_error(world, technique):
    edit = reverse("service_edit", args=[world.service.pk])
    response = client_for(world.admin).post(edit, _service_form(techniques=[technique]))
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()


# --- Working hours and time off -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("admin", 200),
        ("therapist", 200),
        ("colleague", 404),
        ("front desk", 404),
        ("patient", 404),
        ("stranger", 404),
        ("other admin", 404),
    ],
)
def test_the_hours_page_is_for_the_clinics_admins_and_the_therapist(world, who, status):
    url = reverse("therapist_hours", args=[world.therapist.pk])
    response = client_for(_people(world)[who]).get(url)
    assert response.status_code == status
    denied = AuditEvent.objects.filter(action="working_hours.view", outcome="denied")
    assert denied.exists() is (status == 404)


def _weekly(**changes: str) -> dict[str, str]:
    data = {"weekly-weekday": "2", "weekly-starts": "09:00", "weekly-ends": "12:00"}
    data.update(changes)
    return data


def _dated(world: ConfigWorld, **changes: str) -> dict[str, str]:
    data = {
        "dated-on_date": world.monday.isoformat(),
        "dated-starts": "13:00",
        "dated-ends": "17:00",
    }
    data.update(changes)
    return data


def _off(world: ConfigWorld, **changes: str) -> dict[str, str]:
    data = {
        "off-starts_at": f"{world.monday.isoformat()}T00:00",
        "off-ends_at": f"{(world.monday + timedelta(days=1)).isoformat()}T00:00",
        "off-reason": "Training",
    }
    data.update(changes)
    return data


def test_a_therapist_adds_weekly_hours_and_sees_them(world):
    client = client_for(world.therapist.user)
    response = client.post(reverse("working_hours_add", args=[world.therapist.pk]), _weekly())
    assert response.status_code == 302
    assert response.url == reverse("therapist_hours", args=[world.therapist.pk])
    assert WorkingHours.objects.filter(weekday=2, starts=time(9), ends=time(12)).exists()
    page = client.get(response.url).content.decode()
    assert "Weekly hours added." in page
    assert "Wednesday" in page


def test_an_overlapping_block_is_a_422_naming_the_block_and_keeping_what_was_typed(world):
    url = reverse("working_hours_add", args=[world.therapist.pk])
    response = client_for(world.admin).post(
        url, _weekly(**{"weekly-weekday": "0", "weekly-starts": "16:00", "weekly-ends": "18:00"})
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "This block overlaps Monday 09:00\N{EN DASH}17:00." in page
    assert 'value="16:00"' in page
    assert 'value="18:00"' in page
    assert WorkingHours.objects.count() == 1


def test_a_block_ending_before_it_starts_is_a_422(world):
    url = reverse("working_hours_add", args=[world.therapist.pk])
    response = client_for(world.admin).post(url, _weekly(**{"weekly-ends": "08:00"}))
    assert response.status_code == 422
    assert "Must be after the start." in response.content.decode()
    assert WorkingHours.objects.count() == 1


def test_a_colleague_cannot_post_hours_or_time_off_for_a_therapist(world):
    client = client_for(world.colleague)
    block = WorkingHours.objects.get()
    for url, data in (
        (reverse("working_hours_add", args=[world.therapist.pk]), _weekly()),
        (reverse("dated_hours_add", args=[world.therapist.pk]), _dated(world)),
        (reverse("working_hours_remove", args=[world.therapist.pk, block.pk]), {}),
        (reverse("time_off_add", args=[world.therapist.pk]), _off(world)),
    ):
        assert client.post(url, data).status_code == 404, url
    assert list(WorkingHours.objects.all()) == [block]
    assert not TimeOff.objects.exists()


def test_a_dated_change_lists_the_appointments_it_leaves_outside_and_cancels_none(world):
    appointment = world.book(world.at(10))
    client = client_for(world.admin)
    response = client.post(reverse("dated_hours_add", args=[world.therapist.pk]), _dated(world))
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "now lies outside" in page
    assert world.patient.display_name in page
    assert "13:00\N{EN DASH}17:00" in page
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_a_past_date_is_a_422_that_keeps_the_typed_date(world):
    past = (timezone.localdate() - timedelta(days=3)).isoformat()
    response = client_for(world.admin).post(
        reverse("dated_hours_add", args=[world.therapist.pk]),
        _dated(world, **{"dated-on_date": past}),
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Choose today or a later date." in page
    assert f'value="{past}"' in page


def test_removing_a_block_redirects_and_it_is_gone(world):
    block = WorkingHours.objects.get()
    response = client_for(world.therapist.user).post(
        reverse("working_hours_remove", args=[world.therapist.pk, block.pk])
    )
    assert response.status_code == 302
    assert not WorkingHours.objects.exists()


def test_time_off_is_typed_in_the_clinics_local_time_and_lists_what_it_covers(world):
    appointment = world.book(world.at(10))
    client = client_for(world.admin)
    response = client.post(reverse("time_off_add", args=[world.therapist.pk]), _off(world))
    assert response.status_code == 302
    time_off = TimeOff.objects.get()
    assert time_off.starts_at == world.at(0)
    assert time_off.reason == "Training"
    page = client.get(response.url).content.decode()
    assert "Time off added." in page
    assert world.patient.display_name in page
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_time_off_ending_before_it_starts_is_a_422_that_keeps_what_was_typed(world):
    typed = f"{world.monday.isoformat()}T08:00"
    response = client_for(world.admin).post(
        reverse("time_off_add", args=[world.therapist.pk]),
        _off(
            world,
            **{
                "off-starts_at": f"{world.monday.isoformat()}T10:00",
                "off-ends_at": typed,
                "off-reason": "Dentist",
            },
        ),
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Must be after the start." in page
    assert f'value="{typed}"' in page
    assert 'value="Dentist"' in page
    assert not TimeOff.objects.exists()


def test_time_off_at_a_time_the_clocks_skip_is_a_422(world):
    # 29 March 2026, 01:30 does not exist in London (the clocks go from 01:00 to 02:00).
    response = client_for(world.admin).post(
        reverse("time_off_add", args=[world.therapist.pk]),
        _off(world, **{"off-starts_at": "2026-03-29T01:30", "off-ends_at": "2026-03-29T05:00"}),
    )
    assert response.status_code == 422
    assert "may be ambiguous or it may not exist" in response.content.decode()
    assert not TimeOff.objects.exists()


def _time_off(world: ConfigWorld, *, days: int) -> TimeOff:
    now = timezone.now()
    return TimeOff.objects.create(
        clinic=world.clinic,
        therapist=world.therapist,
        starts_at=now + timedelta(days=days),
        ends_at=now + timedelta(days=days, hours=8),
    )


def test_future_time_off_is_removed_and_past_time_off_is_a_409(world):
    client = client_for(world.therapist.user)
    coming, past = _time_off(world, days=3), _time_off(world, days=-3)
    removed = client.post(reverse("time_off_remove", args=[world.therapist.pk, coming.pk]))
    assert removed.status_code == 302
    refused = client.post(reverse("time_off_remove", args=[world.therapist.pk, past.pk]))
    assert refused.status_code == 409
    assert "past time off stays on record" in refused.content.decode()
    assert list(TimeOff.objects.all()) == [past]


def test_time_off_of_another_therapist_is_404_through_this_therapists_address(world):
    theirs = TimeOff.objects.create(
        clinic=world.clinic,
        therapist=world.colleague.therapist,
        starts_at=timezone.now() + timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=2),
    )
    url = reverse("time_off_remove", args=[world.therapist.pk, theirs.pk])
    assert client_for(world.therapist.user).post(url).status_code == 404
    assert TimeOff.objects.filter(pk=theirs.pk).exists()


# --- Scheduling settings ------------------------------------------------------------------------


def _settings_form(**changes: str) -> dict[str, str]:
    data = {
        "cancellation_window_hours": "48",
        "reminder_hours_before": "12",
        "sms_enabled": "on",
        "waitlist_offer_hours": "6",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("who", ["front desk", "therapist", "patient", "stranger"])
def test_the_scheduling_settings_page_is_404_for_all_but_the_clinics_admins(world, who):
    client = client_for(_people(world)[who])
    assert client.get(reverse("scheduling_settings")).status_code == 404
    assert client.post(reverse("scheduling_settings"), _settings_form()).status_code == 404
    assert not SchedulingSettings.objects.filter(clinic=world.clinic).exists()


def test_an_admin_saves_the_scheduling_settings(world):
    client = client_for(world.admin)
    page = client.get(reverse("scheduling_settings"))
    assert page.status_code == 200
    assert 'value="24"' in page.content.decode()  # the default cancellation window
    response = client.post(reverse("scheduling_settings"), _settings_form())
    assert response.status_code == 302
    saved = SchedulingSettings.objects.get(clinic=world.clinic)
    assert (
        saved.cancellation_window_hours,
        saved.new_patients_need_approval,
        saved.reminder_hours_before,
        saved.sms_enabled,
        saved.waitlist_offer_hours,
    ) == (48, False, 12, True, 6)


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("reminder_hours_before", "200", "less than or equal to 168"),
        ("waitlist_offer_hours", "0", "greater than or equal to 1"),
        ("waitlist_offer_hours", "73", "less than or equal to 72"),
    ],
)
def test_an_out_of_range_setting_is_a_422_with_a_message(world, field, typed, message):
    response = client_for(world.admin).post(
        reverse("scheduling_settings"), _settings_form(**{field: typed})
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert f'value="{typed}"' in page
    assert not SchedulingSettings.objects.exists()


# --- Links from where staff look ----------------------------------------------------------------


def test_clinic_settings_link_to_services_and_scheduling_settings(world):
    page = client_for(world.admin).get(reverse("clinic_settings")).content.decode()
    assert reverse("service_list") in page
    assert reverse("scheduling_settings") in page


def test_the_therapist_page_links_to_hours_for_admins_and_the_therapist_only(world):
    detail = reverse("therapist_detail", args=[world.therapist.pk])
    hours = reverse("therapist_hours", args=[world.therapist.pk])
    for viewer in (world.admin, world.therapist.user):
        assert hours in client_for(viewer).get(detail).content.decode()
    assert hours not in client_for(world.desk).get(detail).content.decode()


def test_the_therapist_list_links_to_services(world):
    page = client_for(world.desk).get(reverse("therapist_list")).content.decode()
    assert reverse("service_list") in page
