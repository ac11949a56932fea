from datetime import date, timedelta

import pytest
from django.core import mail

from backcare.accounts import queries, services
from backcare.accounts.models import Licence, Membership, Role, Room, Therapist, User
from backcare.core.errors import InvalidInputError, NotFoundError
from backcare.core.models import AuditEvent
from tests.factories import make_clinic, make_licence, make_member, make_room, make_therapist

pytestmark = pytest.mark.django_db
SITE = "https://backcare.example.org/"


def test_add_member_creates_the_account_and_emails_a_set_password_link(
    django_capture_on_commit_callbacks,
):
    clinic = make_clinic()
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.add_member(
            actor=admin,
            clinic=clinic,
            email=" New.Person@Example.TEST ",
            full_name="New Person",
            role=Role.THERAPIST,
            site_url=SITE,
        )
    user = membership.user
    assert user.email == "new.person@example.test"
    assert not user.has_usable_password()
    assert Therapist.objects.filter(user=user).exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert "https://backcare.example.org/accounts/password/reset/key/" in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="membership.create", actor_id=admin.pk).count() == 1


def test_add_member_refuses_a_role_the_person_already_holds_or_was_offered():
    clinic = make_clinic()
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    desk = make_member(clinic, Role.FRONT_DESK)
    with pytest.raises(InvalidInputError, match="already has the role of front desk"):
        services.add_member(
            actor=admin,
            clinic=clinic,
            email=desk.email,
            full_name="x",
            role=Role.FRONT_DESK,
            site_url=SITE,
        )
    services.add_member(
        actor=admin,
        clinic=clinic,
        email=desk.email,
        full_name="x",
        role=Role.THERAPIST,
        site_url=SITE,
    )
    with pytest.raises(InvalidInputError, match="already been offered the role of therapist"):
        services.add_member(
            actor=admin,
            clinic=clinic,
            email=desk.email,
            full_name="x",
            role=Role.THERAPIST,
            site_url=SITE,
        )


def test_an_existing_account_must_accept_before_another_clinic_counts_it(
    django_capture_on_commit_callbacks,
):
    home, second = make_clinic(), make_clinic()
    therapist = make_therapist(home)
    admin = make_member(second, Role.CLINIC_ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.add_member(
            actor=admin,
            clinic=second,
            email=therapist.user.email,
            full_name="ignored",
            role=Role.THERAPIST,
            site_url=SITE,
        )
    assert User.objects.filter(email=therapist.user.email).count() == 1
    assert membership.is_pending
    assert "accept or decline" in mail.outbox[0].body
    assert "/accounts/password/reset/key/" not in mail.outbox[0].body  # they have a password
    assert queries.therapist_clinic_ids(therapist) == [home.pk]

    services.answer_invitation(actor=therapist.user, membership_id=membership.pk, accept=True)

    assert sorted(queries.therapist_clinic_ids(therapist)) == sorted([home.pk, second.pk])


def test_another_clinics_admin_cannot_take_over_a_therapist_by_inviting_them():
    home, rival = make_clinic(), make_clinic()
    therapist = make_therapist(home, expires_in_days=None)
    licence = make_licence(
        therapist, expires_on=home.local_date() + timedelta(days=300), verified=False
    )
    rival_admin = make_member(rival, Role.CLINIC_ADMIN)
    services.add_member(
        actor=rival_admin,
        clinic=rival,
        email=therapist.user.email,
        full_name="x",
        role=Role.THERAPIST,
        site_url=SITE,
    )
    with pytest.raises(NotFoundError):
        services.verify_licence(actor=rival_admin, licence_id=licence.pk)
    with pytest.raises(NotFoundError):
        services.update_licence(
            actor=rival_admin, licence_id=licence.pk, expires_on=date(2020, 1, 1)
        )
    licence.refresh_from_db()
    assert (licence.verified_at, licence.expires_on) == (
        None,
        home.local_date() + timedelta(days=300),
    )


def test_a_declined_invitation_never_counts_and_cannot_be_answered_twice():
    home, second = make_clinic(), make_clinic()
    desk = make_member(home, Role.FRONT_DESK)
    membership = services.add_member(
        actor=make_member(second, Role.CLINIC_ADMIN),
        clinic=second,
        email=desk.email,
        full_name="x",
        role=Role.FRONT_DESK,
        site_url=SITE,
    )
    services.answer_invitation(actor=desk, membership_id=membership.pk, accept=False)
    assert not Membership.objects.in_force().filter(pk=membership.pk).exists()
    with pytest.raises(NotFoundError):
        services.answer_invitation(actor=desk, membership_id=membership.pk, accept=True)


def test_only_the_invited_person_answers_an_invitation():
    clinic = make_clinic()
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    someone = make_member(make_clinic(), Role.FRONT_DESK)
    membership = services.add_member(
        actor=admin,
        clinic=clinic,
        email=someone.email,
        full_name="x",
        role=Role.FRONT_DESK,
        site_url=SITE,
    )
    with pytest.raises(NotFoundError):
        services.answer_invitation(actor=admin, membership_id=membership.pk, accept=True)
    assert Membership.objects.get(pk=membership.pk).is_pending


def test_only_admins_add_staff_but_any_clinic_staff_may_give_a_patient_a_login():
    clinic = make_clinic()
    desk = make_member(clinic, Role.FRONT_DESK)
    with pytest.raises(NotFoundError):
        services.add_member(
            actor=desk,
            clinic=clinic,
            email="t@example.test",
            full_name="T",
            role=Role.THERAPIST,
            site_url=SITE,
        )
    membership = services.add_member(
        actor=desk,
        clinic=clinic,
        email="p@example.test",
        full_name="P",
        role=Role.PATIENT,
        site_url=SITE,
    )
    assert membership.role == Role.PATIENT


def test_the_last_admin_role_of_a_clinic_cannot_be_ended():
    clinic = make_clinic()
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    membership = Membership.objects.get(user=admin, role=Role.CLINIC_ADMIN)
    with pytest.raises(InvalidInputError, match="last admin"):
        services.set_membership_active(
            actor=admin, clinic=clinic, membership_id=membership.pk, active=False
        )
    assert Membership.objects.get(pk=membership.pk).is_active
    make_member(clinic, Role.CLINIC_ADMIN)
    services.set_membership_active(
        actor=admin, clinic=clinic, membership_id=membership.pk, active=False
    )
    assert not Membership.objects.get(pk=membership.pk).is_active


def test_rooms_are_taken_out_of_use_not_deleted_and_names_are_unique_per_clinic():
    clinic = make_clinic()
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    room = services.add_room(actor=admin, clinic=clinic, name="Willow")
    with pytest.raises(InvalidInputError, match="already a room"):
        services.add_room(actor=admin, clinic=clinic, name="willow")
    services.set_room_active(actor=admin, clinic=clinic, room_id=room.pk, active=False)
    assert Room.objects.get(pk=room.pk).is_active is False
    other = make_clinic()
    assert services.add_room(
        actor=make_member(other, Role.CLINIC_ADMIN), clinic=other, name="Willow"
    )


def test_room_of_another_clinic_cannot_be_changed():
    clinic, other = make_clinic(), make_clinic()
    room = make_room(other)
    with pytest.raises(NotFoundError):
        services.set_room_active(
            actor=make_member(clinic, Role.CLINIC_ADMIN),
            clinic=clinic,
            room_id=room.pk,
            active=False,
        )
    assert Room.objects.get(pk=room.pk).is_active


def test_update_clinic_rejects_an_unknown_time_zone_and_keeps_the_old_one():
    clinic = make_clinic(time_zone="Europe/London")
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    with pytest.raises(InvalidInputError) as raised:
        services.update_clinic(actor=admin, clinic=clinic, time_zone="Mars/Olympus_Mons")
    assert "time_zone" in raised.value.field_errors
    clinic.refresh_from_db()
    assert clinic.time_zone == "Europe/London"


def test_changing_a_licence_clears_its_verification():
    clinic = make_clinic()
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    therapist = make_therapist(clinic, expires_in_days=None)
    licence = make_licence(therapist, expires_on=date(2027, 1, 31), verified_by=admin)

    services.update_licence(
        actor=therapist.user, licence_id=licence.pk, expires_on=date(2028, 1, 31)
    )

    licence.refresh_from_db()
    assert (licence.verified_at, licence.verified_by) == (None, None)
    event = AuditEvent.objects.get(action="licence.update")
    assert event.detail == {"fields": ["expires_on"], "verification_cleared": True}


def test_saving_a_licence_unchanged_keeps_its_verification():
    clinic = make_clinic()
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    licence = make_licence(
        make_therapist(clinic, expires_in_days=None),
        expires_on=date(2027, 1, 31),
        verified_by=admin,
    )
    services.update_licence(
        actor=admin, licence_id=licence.pk, number=licence.number, expires_on=licence.expires_on
    )
    licence.refresh_from_db()
    assert licence.verified_by == admin


def test_only_an_admin_of_the_therapists_clinic_verifies_a_licence():
    clinic = make_clinic()
    therapist = make_therapist(clinic, expires_in_days=None)
    licence = services.add_licence(
        actor=therapist.user,
        therapist_id=therapist.pk,
        number="RMT-1",
        issuing_board="Board",
        jurisdiction="Ontario",
        licence_type="RMT",
        expires_on=clinic.local_date() + timedelta(days=300),
    )
    assert licence.verified_at is None
    for outsider in (therapist.user, make_member(make_clinic(), Role.CLINIC_ADMIN)):
        with pytest.raises(NotFoundError):
            services.verify_licence(actor=outsider, licence_id=licence.pk)
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    services.verify_licence(actor=admin, licence_id=licence.pk)
    licence.refresh_from_db()
    assert licence.verified_by == admin
    event = AuditEvent.objects.get(action="licence.verify", outcome="allowed")
    assert (event.detail, event.clinic_id) == ({"self_verified": False}, clinic.pk)
    assert AuditEvent.objects.filter(action="licence.verify", outcome="denied").count() == 2


def test_a_sole_practitioner_verifies_their_own_licence_and_the_audit_says_so():
    clinic = make_clinic()
    therapist = make_therapist(clinic, expires_in_days=None)
    make_member(clinic, Role.CLINIC_ADMIN, user=therapist.user)
    licence = make_licence(
        therapist, expires_on=clinic.local_date() + timedelta(days=300), verified=False
    )
    services.verify_licence(actor=therapist.user, licence_id=licence.pk)
    assert AuditEvent.objects.get(action="licence.verify").detail == {"self_verified": True}


def test_a_duplicate_licence_number_from_the_same_board_is_refused():
    clinic = make_clinic()
    therapist = make_therapist(clinic, expires_in_days=None)
    existing = make_licence(therapist, expires_on=date(2027, 1, 1))
    with pytest.raises(InvalidInputError, match="already has a licence"):
        services.add_licence(
            actor=therapist.user,
            therapist_id=therapist.pk,
            number=existing.number,
            issuing_board=existing.issuing_board,
            jurisdiction="x",
            licence_type="x",
            expires_on=date(2028, 1, 1),
        )
    assert Licence.objects.filter(therapist=therapist).count() == 1


def test_a_licence_change_is_logged_in_every_clinic_where_the_therapist_works():
    home, second = make_clinic(), make_clinic()
    therapist = make_therapist(home, expires_in_days=None)
    make_member(second, Role.THERAPIST, user=therapist.user)
    services.add_licence(
        actor=therapist.user,
        therapist_id=therapist.pk,
        number="RMT-2",
        issuing_board="Board",
        jurisdiction="Ontario",
        licence_type="RMT",
        expires_on=date(2030, 1, 1),
    )
    clinics = set(
        AuditEvent.objects.filter(action="licence.create").values_list("clinic_id", flat=True)
    )
    assert clinics == {home.pk, second.pk}


def test_resaving_a_licence_with_stray_spaces_keeps_its_verification():
    clinic = make_clinic()
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    licence = make_licence(
        make_therapist(clinic, expires_in_days=None),
        expires_on=date(2027, 1, 31),
        verified_by=admin,
    )
    services.update_licence(actor=admin, licence_id=licence.pk, number=f"  {licence.number} ")
    licence.refresh_from_db()
    assert licence.verified_by == admin


def test_an_imported_therapist_is_a_new_account_of_the_clinic_that_cannot_sign_in():
    clinic = make_clinic()
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    therapist = services.import_therapist(actor=admin, clinic=clinic, full_name=" Sam Rivers ")
    user = therapist.user
    assert (user.full_name, user.has_usable_password()) == ("Sam Rivers", False)
    assert user.email.endswith(f"@{services.IMPORTED_EMAIL_DOMAIN}")
    assert Membership.objects.filter(clinic=clinic, user=user, role=Role.THERAPIST).exists()
    assert AuditEvent.objects.filter(action="therapist.import", clinic_id=clinic.pk).exists()


def test_only_the_clinics_admins_import_a_therapist():
    clinic = make_clinic()
    desk = make_member(clinic, Role.FRONT_DESK)
    with pytest.raises(NotFoundError):
        services.import_therapist(actor=desk, clinic=clinic, full_name="Sam Rivers")
    assert not User.objects.filter(full_name="Sam Rivers").exists()
