from datetime import datetime, time, timedelta

import pytest
import time_machine

from backcare.accounts import queries
from backcare.accounts.licensing import EXPIRING_WITHIN_DAYS, LicenceStatus
from backcare.accounts.models import Licence, Membership, Role
from backcare.core.errors import NotFoundError
from backcare.core.models import AuditEvent
from tests.factories import make_clinic, make_licence, make_member, make_therapist, make_user

pytestmark = pytest.mark.django_db

OFFSETS = [
    -400,
    -2,
    -1,
    0,
    1,
    30,
    EXPIRING_WITHIN_DAYS - 1,
    EXPIRING_WITHIN_DAYS,
    EXPIRING_WITHIN_DAYS + 1,
    400,
]


def test_licence_status_q_selects_exactly_the_licences_the_pure_rule_gives_that_status():
    clinic = make_clinic()
    therapist = make_therapist(clinic, expires_in_days=None)
    today = clinic.local_date()
    for offset in OFFSETS:
        for verified in (True, False):
            make_licence(therapist, expires_on=today + timedelta(days=offset), verified=verified)
    licences = list(Licence.objects.filter(therapist=therapist))
    for status in LicenceStatus:
        in_sql = set(
            Licence.objects.filter(queries.licence_status_q(status, on=today)).values_list(
                "pk", flat=True
            )
        )
        in_python = {lic.pk for lic in licences if lic.status(today) is status}
        assert in_sql == in_python, status


def test_bookable_therapists_exclude_expired_unverified_unlicensed_and_former_staff():
    clinic = make_clinic()
    valid = make_therapist(clinic, expires_in_days=400)
    expiring = make_therapist(clinic, expires_in_days=10)
    expired = make_therapist(clinic, expires_in_days=-1)
    unverified = make_therapist(clinic, expires_in_days=400, verified=False)
    unlicensed = make_therapist(clinic, expires_in_days=None)
    former = make_therapist(clinic, expires_in_days=400)
    Membership.objects.filter(user=former.user).update(is_active=False)
    elsewhere = make_therapist(make_clinic(), expires_in_days=400)

    patient = make_member(clinic, Role.PATIENT)
    bookable = set(queries.list_bookable_therapists(patient, clinic, on=clinic.local_date()))

    assert bookable == {valid, expiring}
    assert not {expired, unverified, unlicensed, former, elsewhere} & bookable


def test_bookable_therapists_is_one_query_whatever_the_number_of_licences(
    django_assert_num_queries,
):
    clinic = make_clinic()
    for _ in range(5):
        therapist = make_therapist(clinic)
        make_licence(therapist, expires_on=clinic.local_date() - timedelta(days=800))
    desk = make_member(clinic, Role.FRONT_DESK)
    queries.roles_in(desk, clinic)  # memberships are read once per request, then cached
    with django_assert_num_queries(1):
        bookable = list(queries.list_bookable_therapists(desk, clinic, on=clinic.local_date()))
    assert len(bookable) == 5


def test_bookable_therapists_are_not_listed_to_people_outside_the_clinic():
    clinic = make_clinic()
    make_therapist(clinic)
    for outsider in (make_user(), make_member(make_clinic(), Role.PATIENT)):
        with pytest.raises(NotFoundError):
            queries.list_bookable_therapists(outsider, clinic, on=clinic.local_date())


def test_bookable_until_agrees_with_the_bookable_list_on_every_day_in_one_query(
    django_assert_num_queries,
):
    clinic = make_clinic()
    today = clinic.local_date()
    soon = make_therapist(clinic, expires_in_days=3)
    make_licence(soon, expires_on=today - timedelta(days=30))  # an older, expired one
    make_licence(soon, expires_on=today + timedelta(days=90), verified=False)
    later = make_therapist(clinic, expires_in_days=10)
    make_licence(later, expires_on=today + timedelta(days=6))
    lapsed = make_therapist(clinic, expires_in_days=-2)
    unverified = make_therapist(clinic, expires_in_days=20, verified=False)
    former = make_therapist(clinic, expires_in_days=20)
    Membership.objects.filter(user=former.user).update(is_active=False)
    elsewhere = make_therapist(make_clinic(), expires_in_days=20)
    everyone = [soon, later, lapsed, unverified, former, elsewhere]
    desk = make_member(clinic, Role.FRONT_DESK)
    queries.roles_in(desk, clinic)
    with django_assert_num_queries(1):
        until = queries.bookable_until(desk, clinic, [t.pk for t in everyone])
    assert until == {
        soon.pk: today + timedelta(days=3),
        later.pk: today + timedelta(days=10),
        lapsed.pk: today - timedelta(days=2),
    }
    for day in (today + timedelta(days=n) for n in range(-3, 14)):
        bookable = set(queries.list_bookable_therapists(desk, clinic, on=day))
        by_until = {t for t in everyone if t.pk in until and day <= until[t.pk]}
        assert by_until == bookable, day


def test_a_licence_becomes_unbookable_the_day_after_its_expiry_date_in_the_clinic_time_zone():
    clinic = make_clinic(time_zone="America/Toronto")
    therapist = make_therapist(clinic, expires_in_days=None)
    expiry = clinic.local_date() + timedelta(days=5)
    make_licence(therapist, expires_on=expiry)
    # 23:30 in Toronto on the expiry date is already the next day in UTC: still bookable.
    last_evening = datetime.combine(expiry, time(23, 30), tzinfo=clinic.zone)
    with time_machine.travel(last_evening, tick=False):
        assert queries.is_bookable(therapist.user, therapist, clinic, on=clinic.local_date())
    with time_machine.travel(last_evening + timedelta(hours=1), tick=False):
        assert not queries.is_bookable(therapist.user, therapist, clinic, on=clinic.local_date())


def test_list_licences_orders_worst_status_first_and_filters_by_status():
    clinic = make_clinic()
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    make_therapist(clinic, expires_in_days=400)
    make_therapist(clinic, expires_in_days=-3)
    make_therapist(clinic, expires_in_days=20)
    make_therapist(clinic, expires_in_days=400, verified=False)

    statuses = [row.status for row in queries.list_licences(admin, clinic)]
    expiring = queries.list_licences(admin, clinic, status=LicenceStatus.EXPIRING)

    assert statuses == [
        LicenceStatus.EXPIRED,
        LicenceStatus.UNVERIFIED,
        LicenceStatus.EXPIRING,
        LicenceStatus.VALID,
    ]
    assert [(row.status, row.days_left) for row in expiring] == [(LicenceStatus.EXPIRING, 20)]


def test_require_roles_audits_the_denial_and_raises_not_found():
    clinic = make_clinic()
    therapist = make_member(clinic, Role.THERAPIST)
    with pytest.raises(NotFoundError):
        queries.require_roles(therapist, clinic, queries.ADMIN_ROLES, action="clinic.settings")
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.actor_id, event.clinic_id) == (
        "clinic.settings",
        "denied",
        therapist.pk,
        clinic.pk,
    )


def test_memberships_are_read_once_per_user_object(django_assert_num_queries):
    clinic = make_clinic()
    user = make_member(clinic, Role.FRONT_DESK)
    with django_assert_num_queries(1):
        queries.roles_in(user, clinic)
        queries.clinics_where(user, {Role.FRONT_DESK})
        queries.has_staff_role(user)


def test_get_therapist_is_visible_to_colleagues_but_not_to_other_clinics_or_strangers():
    clinic, other = make_clinic(), make_clinic()
    therapist = make_therapist(clinic)
    colleague = make_member(clinic, Role.FRONT_DESK)
    assert queries.get_therapist(colleague, therapist.pk) == therapist
    assert queries.get_therapist(therapist.user, therapist.pk) == therapist
    for outsider in (make_member(other, Role.CLINIC_ADMIN), make_user()):
        with pytest.raises(NotFoundError):
            queries.get_therapist(outsider, therapist.pk)
    assert AuditEvent.objects.filter(outcome="denied", action="therapist.view").count() == 2


def test_only_admins_may_change_a_therapist_other_than_themselves():
    clinic = make_clinic()
    therapist = make_therapist(clinic)
    with pytest.raises(NotFoundError):
        queries.get_therapist(make_member(clinic, Role.FRONT_DESK), therapist.pk, for_change=True)
    assert queries.get_therapist(
        make_member(clinic, Role.CLINIC_ADMIN), therapist.pk, for_change=True
    )
    assert queries.get_therapist(therapist.user, therapist.pk, for_change=True)


def test_therapist_at_clinic_finds_only_therapists_working_there_now():
    clinic, other = make_clinic(), make_clinic()
    therapist = make_therapist(clinic)
    former = make_therapist(clinic)
    Membership.objects.filter(user=former.user).update(is_active=False)
    invited = make_therapist(clinic)
    Membership.objects.filter(user=invited.user).update(accepted_at=None)
    assert queries.therapist_at_clinic(clinic, therapist.pk) == therapist
    assert queries.therapist_at_clinic(other, therapist.pk) is None
    assert queries.therapist_at_clinic(clinic, former.pk) is None
    assert queries.therapist_at_clinic(clinic, invited.pk) is None
