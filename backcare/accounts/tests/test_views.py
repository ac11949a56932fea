"""Pages for clinic settings, team, therapists and licences: three actors per view (the owner,
a colleague at another clinic, a stranger), bad input, and MFA enforcement."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from backcare.accounts.models import Clinic, Licence, Membership, Role, Room, Therapist
from backcare.core.models import AuditEvent
from conftest import client_for
from tests.factories import (
    make_clinic,
    make_licence,
    make_member,
    make_room,
    make_therapist,
    make_user,
)

pytestmark = pytest.mark.django_db


def denied_events() -> int:
    return AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED).count()


class World:
    """Home clinic with an admin, a therapist (with a licence) and a room; another clinic with
    its own admin (the colleague); and a stranger with no role anywhere."""

    def __init__(self) -> None:
        self.clinic: Clinic = make_clinic("Home")
        self.admin = make_member(self.clinic, Role.CLINIC_ADMIN)
        self.therapist: Therapist = make_therapist(self.clinic, expires_in_days=None)
        self.licence: Licence = make_licence(
            self.therapist,
            expires_on=self.clinic.local_date() + timedelta(days=300),
            verified=False,
        )
        self.room: Room = make_room(self.clinic)
        self.membership = Membership.objects.get(user=self.therapist.user)
        self.other_clinic = make_clinic("Other")
        self.colleague = make_member(self.other_clinic, Role.CLINIC_ADMIN)
        self.stranger = make_user(full_name="Stranger")


@pytest.fixture
def world() -> World:
    return World()


OBJECT_PAGES = [
    # method, url, data, status for the owner, and what the owner's request changed
    ("GET", lambda w: reverse("therapist_detail", args=[w.therapist.pk]), {}, 200),
    ("GET", lambda w: reverse("therapist_edit", args=[w.therapist.pk]), {}, 200),
    ("GET", lambda w: reverse("licence_add", args=[w.therapist.pk]), {}, 200),
    ("GET", lambda w: reverse("licence_edit", args=[w.licence.pk]), {}, 200),
    ("POST", lambda w: reverse("licence_verify", args=[w.licence.pk]), {}, 302),
    ("POST", lambda w: reverse("room_set_active", args=[w.room.pk]), {"active": "0"}, 302),
    (
        "POST",
        lambda w: reverse("membership_set_active", args=[w.membership.pk]),
        {"active": "0"},
        302,
    ),
]


def request(client, method, url, data):
    return client.get(url) if method == "GET" else client.post(url, data)


@pytest.mark.parametrize(("method", "url", "data", "owner_status"), OBJECT_PAGES)
def test_owner_reaches_the_page(world, method, url, data, owner_status):
    response = request(client_for(world.admin), method, url(world), data)
    assert response.status_code == owner_status


def test_owners_posts_take_effect(world):
    client = client_for(world.admin)
    client.post(reverse("licence_verify", args=[world.licence.pk]))
    client.post(reverse("room_set_active", args=[world.room.pk]), {"active": "0"})
    client.post(reverse("membership_set_active", args=[world.membership.pk]), {"active": "0"})
    assert Licence.objects.get(pk=world.licence.pk).verified_by == world.admin
    assert Room.objects.get(pk=world.room.pk).is_active is False
    assert Membership.objects.get(pk=world.membership.pk).is_active is False


@pytest.mark.parametrize(("method", "url", "data", "owner_status"), OBJECT_PAGES)
@pytest.mark.parametrize("actor", ["colleague", "stranger"])
def test_other_clinic_and_stranger_get_404_and_the_attempt_is_audited(
    world, method, url, data, owner_status, actor
):
    before = denied_events()
    response = request(client_for(getattr(world, actor)), method, url(world), data)
    assert response.status_code == 404
    assert denied_events() == before + 1
    assert Room.objects.get(pk=world.room.pk).is_active
    assert Membership.objects.get(pk=world.membership.pk).is_active
    assert Licence.objects.get(pk=world.licence.pk).verified_at is None


@pytest.mark.parametrize(("method", "url", "data", "owner_status"), OBJECT_PAGES)
def test_anonymous_visitor_is_sent_to_login(world, method, url, data, owner_status):
    response = request(client_for(None), method, url(world), data)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize(
    "url",
    [
        lambda w: reverse("room_set_active", args=[w.room.pk]),
        lambda w: reverse("membership_set_active", args=[w.membership.pk]),
    ],
)
@pytest.mark.parametrize("data", [{}, {"active": "maybe"}])
def test_a_missing_or_unknown_choice_is_refused_and_changes_nothing(world, url, data):
    response = client_for(world.admin).post(url(world), data)
    assert response.status_code == 422
    assert b"choice was missing or unknown" in response.content
    assert Room.objects.get(pk=world.room.pk).is_active
    assert Membership.objects.get(pk=world.membership.pk).is_active


CLINIC_PAGES = ["clinic_settings", "team_list", "member_add", "licence_list", "therapist_list"]


@pytest.mark.parametrize("name", CLINIC_PAGES)
def test_clinic_pages_show_the_owners_clinic(world, name):
    response = client_for(world.admin).get(reverse(name))
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["team_list", "licence_list", "therapist_list"])
def test_a_colleague_at_another_clinic_sees_only_their_own_clinic(world, name):
    response = client_for(world.colleague).get(reverse(name))
    assert response.status_code == 200
    assert world.therapist.user.full_name not in response.content.decode()


@pytest.mark.parametrize("name", CLINIC_PAGES)
def test_a_stranger_gets_404_on_clinic_pages_and_it_is_audited(world, name):
    before = denied_events()
    assert client_for(world.stranger).get(reverse(name)).status_code == 404
    assert denied_events() == before + 1


@pytest.mark.parametrize("name", ["clinic_settings", "member_add", "licence_list", "team_list"])
def test_a_therapist_gets_404_on_office_pages(world, name):
    assert client_for(world.therapist.user).get(reverse(name)).status_code == 404


def test_licence_list_filters_by_status_and_rejects_an_unknown_one(world):
    client = client_for(world.admin)
    assert (
        world.licence.number
        in client.get(reverse("licence_list") + "?status=unverified").content.decode()
    )
    assert (
        world.licence.number
        not in client.get(reverse("licence_list") + "?status=expired").content.decode()
    )
    response = client.get(reverse("licence_list") + "?status=bogus")
    assert response.status_code == 400
    assert b"Unknown licence status" in response.content


def test_verifying_from_the_list_marks_the_licence_verified(world):
    response = client_for(world.admin).post(
        reverse("licence_verify", args=[world.licence.pk]), {"next": "licences"}
    )
    assert response.url == reverse("licence_list")
    world.licence.refresh_from_db()
    assert world.licence.verified_by == world.admin


# --- Bad input: a clear message, a 4xx, and nothing saved before is lost ---


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("name", "x" * 121, "at most 120 characters"),
        ("time_zone", "Mars/Base", "Select a valid choice"),
        ("email", "not-an-email", "valid email address"),
    ],
)
def test_clinic_settings_bad_input_is_refused_and_keeps_the_saved_details(
    world, field, value, message
):
    data = {"name": "Renamed", "time_zone": "Europe/Paris", field: value}
    response = client_for(world.admin).post(reverse("clinic_settings"), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    world.clinic.refresh_from_db()
    assert world.clinic.name.startswith("Home")
    assert world.clinic.time_zone == "Europe/London"


def test_clinic_settings_are_saved(world):
    response = client_for(world.admin).post(
        reverse("clinic_settings"),
        {"name": "Renamed", "time_zone": "Europe/Paris", "city": "Paris"},
    )
    assert response.status_code == 302
    world.clinic.refresh_from_db()
    assert (world.clinic.name, world.clinic.time_zone, world.clinic.city) == (
        "Renamed",
        "Europe/Paris",
        "Paris",
    )


@pytest.mark.parametrize(
    ("value", "message"), [("", "This field is required."), ("r" * 81, "at most 80")]
)
def test_room_bad_input_is_refused(world, value, message):
    response = client_for(world.admin).post(reverse("room_add"), {"name": value})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Room.objects.filter(clinic=world.clinic).count() == 1


def test_a_duplicate_room_name_is_refused_with_a_message(world):
    response = client_for(world.admin).post(reverse("room_add"), {"name": world.room.name.upper()})
    assert response.status_code == 422
    assert "already a room" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "", "full_name": "A", "role": "therapist"}, "This field is required."),
        ({"email": "nope", "full_name": "A", "role": "therapist"}, "valid email address"),
        ({"email": "a@example.test", "full_name": "A" * 151, "role": "therapist"}, "at most 150"),
        ({"email": "a@example.test", "full_name": "A", "role": "patient"}, "Select a valid choice"),
        (
            {"email": "a@example.test", "full_name": "A", "role": "superuser"},
            "Select a valid choice",
        ),
    ],
)
def test_member_add_bad_input_is_refused(world, data, message):
    response = client_for(world.admin).post(reverse("member_add"), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Membership.objects.filter(user__email="a@example.test").exists()


def test_member_add_for_an_existing_role_shows_the_reason(world):
    data = {"email": world.therapist.user.email, "full_name": "x", "role": "therapist"}
    response = client_for(world.admin).post(reverse("member_add"), data)
    assert response.status_code == 422
    assert "already has the role of therapist" in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("years_of_experience", "many", "Enter a whole number"),
        ("years_of_experience", "71", "less than or equal to 70"),
        ("bio", "b" * 1501, "at most 1500"),
        ("techniques", "999999", "Select a valid choice"),
        ("techniques", str(2**70), "Select a valid choice"),
        ("techniques", "swedish", "is not a valid value"),
        ("gender", "robot", "Select a valid choice"),
    ],
)
def test_therapist_profile_bad_input_is_refused_and_keeps_the_profile(world, field, value, message):
    Therapist.objects.filter(pk=world.therapist.pk).update(
        bio="Original bio", years_of_experience=7
    )
    data = {
        "gender": "female",
        "years_of_experience": "8",
        "languages": "English",
        "bio": "New",
        field: value,
    }
    response = client_for(world.therapist.user).post(
        reverse("therapist_edit", args=[world.therapist.pk]), data
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    world.therapist.refresh_from_db()
    assert (world.therapist.bio, world.therapist.years_of_experience) == ("Original bio", 7)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("number", "", "This field is required."),
        ("number", "n" * 61, "at most 60"),
        ("expires_on", "next year", "Enter a valid date"),
        ("expires_on", "2027-02-30", "Enter a valid date"),
    ],
)
def test_licence_bad_input_is_refused_and_keeps_the_licence(world, field, value, message):
    data = {
        "number": "RMT-9",
        "issuing_board": "Board",
        "jurisdiction": "Somewhere",
        "licence_type": "RMT",
        "expires_on": "2030-01-01",
        field: value,
    }
    response = client_for(world.admin).post(reverse("licence_edit", args=[world.licence.pk]), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    saved = Licence.objects.get(pk=world.licence.pk)
    assert (saved.number, saved.expires_on) == (world.licence.number, world.licence.expires_on)


def test_switching_to_a_clinic_one_is_not_a_member_of_is_refused(world):
    client = client_for(world.admin)
    response = client.post(reverse("clinic_switch"), {"clinic": str(world.other_clinic.pk)})
    assert response.status_code == 422
    assert b"Choose one of your clinics" in response.content
    assert client.post(reverse("clinic_switch"), {"clinic": "not-a-uuid"}).status_code == 422
    # Found by tests/test_hostile_forms.py on PostgreSQL: the audited denial echoed a NUL.
    assert client.post(reverse("clinic_switch"), {"clinic": "x\x00y"}).status_code == 422


def test_switching_clinic_changes_what_the_pages_show(world):
    make_member(world.other_clinic, Role.CLINIC_ADMIN, user=world.admin)
    other_therapist = make_therapist(world.other_clinic)
    client = client_for(world.admin)
    assert (
        client.post(reverse("clinic_switch"), {"clinic": str(world.other_clinic.pk)}).status_code
        == 302
    )
    page = client.get(reverse("therapist_list")).content.decode()
    assert other_therapist.user.full_name in page
    assert world.therapist.user.full_name not in page


# --- MFA ----------------------------------------------------------------------------------------


def test_staff_without_an_authenticator_are_sent_to_set_one_up(world):
    desk = make_member(world.clinic, Role.FRONT_DESK, with_totp=False)
    response = client_for(desk).get(reverse("dashboard"))
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


def test_staff_without_an_authenticator_may_still_sign_out_and_reach_mfa_pages(world):
    desk = make_member(world.clinic, Role.FRONT_DESK, with_totp=False)
    client = client_for(desk)
    # allauth asks for the password again before enrolment: its page, not another redirect to us.
    response = client.get(reverse("mfa_activate_totp"))
    assert response.url.startswith(reverse("account_reauthenticate"))
    assert client.get(response.url).status_code == 200
    assert client.post(reverse("account_logout")).status_code == 302


def test_patients_are_not_required_to_use_an_authenticator(world):
    patient = make_member(world.clinic, Role.PATIENT)
    assert client_for(patient).get(reverse("dashboard")).status_code == 200


def test_the_demo_setting_relaxes_mfa_for_staff(world, settings):
    settings.BACKCARE_REQUIRE_STAFF_MFA = False
    desk = make_member(world.clinic, Role.FRONT_DESK, with_totp=False)
    assert client_for(desk).get(reverse("dashboard")).status_code == 200


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("room_add", {"name": "Sneaky"}),
        ("member_add", {"email": "x@example.test", "full_name": "X", "role": "therapist"}),
    ],
)
@pytest.mark.parametrize("actor", [lambda w: w.stranger, lambda w: w.therapist.user])
def test_posting_to_admin_pages_without_the_role_is_404_audited_and_changes_nothing(
    world, name, data, actor
):
    user = actor(world)
    before = denied_events()
    assert client_for(user).post(reverse(name), data).status_code == 404
    assert denied_events() == before + 1
    assert not Room.objects.filter(name="Sneaky").exists()
    assert not Membership.objects.filter(user__email="x@example.test").exists()


@pytest.mark.parametrize(
    ("clock_days", "status", "label"),
    [
        (0, "valid", "Valid"),  # 61 days left
        (1, "expiring", "Expiring within 60 days"),  # 60 days left
        (61, "expiring", "Expiring within 60 days"),  # the expiry date itself
        (62, "expired", "Expired"),  # the day after
    ],
)
def test_licence_page_status_follows_the_clock_across_both_boundaries(
    world, clock_days, status, label
):
    start = world.clinic.local_date()
    Licence.objects.filter(pk=world.licence.pk).update(
        expires_on=start + timedelta(days=61), verified_by=world.admin, verified_at=timezone.now()
    )
    noon = datetime.combine(start + timedelta(days=clock_days), time(12), tzinfo=world.clinic.zone)
    with time_machine.travel(noon, tick=False):
        page = client_for(world.admin).get(reverse("licence_list")).content.decode()
    assert f'<span class="badge badge--{status}">{label}</span>' in page


def test_my_profile_leads_a_therapist_to_their_own_profile(world):
    response = client_for(world.therapist.user).get(reverse("my_therapist_profile"))
    assert response.url == reverse("therapist_detail", args=[world.therapist.pk])


@pytest.mark.parametrize("actor", ["admin", "colleague", "stranger"])
def test_my_profile_is_404_and_audited_for_people_who_are_not_therapists(world, actor):
    before = denied_events()
    assert client_for(getattr(world, actor)).get(reverse("my_therapist_profile")).status_code == 404
    assert denied_events() == before + 1


def test_member_add_names_only_the_typed_address_for_an_existing_account(world):
    data = {"email": world.colleague.email, "full_name": "Typed Name", "role": "front_desk"}
    response = client_for(world.admin).post(reverse("member_add"), data, follow=True)
    page = response.content.decode()
    assert f"Invitation sent to {world.colleague.email}" in page
    assert world.colleague.full_name not in page
    assert "Invitation not yet accepted" in page


def test_an_invited_person_accepts_on_their_home_page_and_works_there(world):
    client_for(world.admin).post(
        reverse("member_add"),
        {"email": world.colleague.email, "full_name": "x", "role": "front_desk"},
    )
    invitee = client_for(world.colleague)
    home = invitee.get(reverse("dashboard")).content.decode()
    assert "invites you to join as front desk" in home
    membership = Membership.objects.get(user=world.colleague, clinic=world.clinic)
    answer = invitee.post(reverse("invitation_answer", args=[membership.pk]), {"answer": "accept"})
    assert answer.url == reverse("dashboard")
    assert world.therapist.user.full_name in invitee.get(reverse("therapist_list")).content.decode()


@pytest.mark.parametrize("actor", ["admin", "stranger"])
def test_nobody_else_answers_an_invitation_and_the_attempt_is_audited(world, actor):
    client_for(world.admin).post(
        reverse("member_add"),
        {"email": world.colleague.email, "full_name": "x", "role": "front_desk"},
    )
    membership = Membership.objects.get(user=world.colleague, clinic=world.clinic)
    before = denied_events()
    response = client_for(getattr(world, actor)).post(
        reverse("invitation_answer", args=[membership.pk]), {"answer": "accept"}
    )
    assert response.status_code == 404
    assert denied_events() == before + 1
    assert Membership.objects.get(pk=membership.pk).accepted_at is None


def test_an_unknown_answer_to_an_invitation_is_refused(world):
    client_for(world.admin).post(
        reverse("member_add"),
        {"email": world.colleague.email, "full_name": "x", "role": "front_desk"},
    )
    membership = Membership.objects.get(user=world.colleague, clinic=world.clinic)
    url = reverse("invitation_answer", args=[membership.pk])
    assert client_for(world.colleague).post(url, {"answer": "perhaps"}).status_code == 422
    assert Membership.objects.get(pk=membership.pk).accepted_at is None


def test_licence_status_uses_the_clinics_date_not_the_servers(world):
    # 23:30 in Auckland on the expiry date is still 10:30 the same day in UTC, and 00:30 the
    # next morning in Auckland is still the expiry date in UTC: only the clinic date is right.
    Clinic.objects.filter(pk=world.clinic.pk).update(time_zone="Pacific/Auckland")
    expiry = date(2026, 12, 10)
    Licence.objects.filter(pk=world.licence.pk).update(
        expires_on=expiry, verified_by=world.admin, verified_at=timezone.now()
    )
    zone = ZoneInfo("Pacific/Auckland")
    after = datetime.combine(expiry + timedelta(days=1), time(0, 30), tzinfo=zone)
    with time_machine.travel(after, tick=False):
        page = client_for(world.admin).get(reverse("licence_list")).content.decode()
    assert '<span class="badge badge--expired">Expired</span>' in page


def test_a_refused_clinic_switch_is_audited(world):
    before = denied_events()
    client_for(world.admin).post(reverse("clinic_switch"), {"clinic": str(world.other_clinic.pk)})
    assert denied_events() == before + 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("number", "", "This field is required."),
        ("issuing_board", "b" * 151, "at most 150"),
        ("expires_on", "soon", "Enter a valid date"),
    ],
)
def test_licence_add_bad_input_is_refused_and_adds_nothing(world, field, value, message):
    data = {
        "number": "RMT-77",
        "issuing_board": "Board",
        "jurisdiction": "Somewhere",
        "licence_type": "RMT",
        "expires_on": "2030-01-01",
        field: value,
    }
    response = client_for(world.admin).post(reverse("licence_add", args=[world.therapist.pk]), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Licence.objects.filter(therapist=world.therapist).count() == 1
