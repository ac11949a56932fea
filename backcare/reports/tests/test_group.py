"""Whole-group analytics: each clinic's row equals that clinic's own analytics, the group total
adds them up, only people who administer several clinics see it (404 and audited for anyone
else), and the page reads the same number of queries for 2 and 5 clinics."""

from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backcare.accounts.models import Role, User
from backcare.core.models import AuditEvent
from backcare.outcomes.models import OutcomeSettings
from backcare.reports import cohort
from backcare.reports.analytics import clinic_analytics, default_period
from backcare.reports.group import TOTAL_LABEL, group_analytics
from backcare.reports.tests.test_analytics import Seeded, Spec, _grow, seed
from conftest import client_for
from tests.factories import make_clinic, make_member

pytestmark = pytest.mark.django_db


def _figures(row: cohort.Row) -> cohort.Row:
    """The row's figures, whatever its label and suppression."""
    return replace(row, label="", hidden=frozenset())


def _group(*worlds: Seeded) -> User:
    """The first world's admin, made admin of every other world's clinic too."""
    admin = worlds[0].admin
    for world in worlds[1:]:
        make_member(world.clinic, Role.CLINIC_ADMIN, user=admin)
    return admin


@pytest.fixture
def group() -> tuple[User, list[Seeded]]:
    alpha = Seeded(make_clinic("Alpha"))
    seed(alpha)
    beta = Seeded(make_clinic("Beta", time_zone="Australia/Sydney"))
    _grow(beta, 6)
    beta.course(Spec(planned=10, ended=80, sessions=[(0, 99)], scores=[("pain_nrs", 100, 9)]))
    gamma = Seeded(make_clinic("Gamma", time_zone="America/Toronto"))
    _grow(gamma, 7)
    OutcomeSettings.objects.create(clinic=gamma.clinic, thresholds={"pain_nrs": {"pct": 60}})
    return _group(alpha, beta, gamma), [alpha, beta, gamma]


def test_each_clinics_row_equals_its_own_analytics_and_the_total_adds_them_up(group):
    admin, worlds = group
    start, end = default_period(worlds[0].clinic)
    page = group_analytics(admin, start=start, end=end)
    assert [row.label for row in page.clinic_rows] == [w.clinic.name for w in worlds]
    own = [clinic_analytics(admin, w.clinic, start=start, end=end).summary.overall for w in worlds]
    assert [_figures(row) for row in page.clinic_rows] == [_figures(row) for row in own]
    # The three clinics differ, so a dropped or swapped clinic cannot pass the line above.
    assert len({_figures(row) for row in own}) == 3
    assert page.total.courses == sum(row.courses for row in own) == 8 + 7 + 7
    assert page.total.pain.n == sum(row.pain.n for row in own)
    assert page.total.adverse == cohort.Share(
        sum(row.adverse.count for row in own), sum(row.adverse.n for row in own)
    )
    assert page.rows[-1][0] == TOTAL_LABEL


def test_the_period_is_read_in_each_clinics_calendar(group):
    admin, worlds = group
    today = worlds[0].clinic.local_date()
    start, end = today - timedelta(days=30), today
    page = group_analytics(admin, start=start, end=end)
    own = [clinic_analytics(admin, w.clinic, start=start, end=end).summary.overall for w in worlds]
    assert [_figures(row) for row in page.clinic_rows] == [_figures(row) for row in own]
    assert page.total.courses == 1


def test_the_page_shows_a_table_per_clinic_and_the_total_and_is_audited_once(group):
    admin, worlds = group
    response = client_for(admin).get(reverse("group_analytics"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "<caption>All courses by clinic, and the whole group</caption>" in text
    for world in worlds:
        assert f'<th scope="row">{world.clinic.name}</th>' in text
    assert f'<th scope="row">{TOTAL_LABEL}</th><td>22</td>' in text
    event = AuditEvent.objects.get(action="analytics.group_view", actor_id=admin.pk)
    assert event.outcome == "allowed"
    assert event.patient_id is None
    assert sorted(event.detail["clinics"]) == sorted(str(w.clinic.pk) for w in worlds)
    assert event.detail["courses"] == 22
    # The clinic pages the figures come from leave no event of their own.
    assert not AuditEvent.objects.filter(action="analytics.view").exists()


def test_the_clinic_analytics_page_links_to_it_only_for_group_admins(group):
    admin, worlds = group
    url = reverse("group_analytics")
    assert url in client_for(admin).get(reverse("clinic_analytics")).content.decode()
    single = make_member(worlds[1].clinic, Role.CLINIC_ADMIN)
    assert url not in client_for(single).get(reverse("clinic_analytics")).content.decode()


def test_anyone_but_a_group_admin_gets_a_404_and_is_audited(group):
    _, worlds = group
    single = make_member(worlds[0].clinic, Role.CLINIC_ADMIN)
    # Admin of one clinic and front desk of another is not a group admin.
    mixed = make_member(worlds[0].clinic, Role.CLINIC_ADMIN)
    make_member(worlds[1].clinic, Role.FRONT_DESK, user=mixed)
    for outsider in (single, mixed, worlds[0].desk, worlds[0].therapists[0].user):
        assert client_for(outsider).get(reverse("group_analytics")).status_code == 404
        assert AuditEvent.objects.filter(
            action="analytics.group_view", outcome="denied", actor_id=outsider.pk
        ).exists()
    assert not AuditEvent.objects.filter(action="analytics.group_view", outcome="allowed").exists()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-13-01"}, "Enter a valid date."),
        ({"start": "2026-05-01", "end": "2026-04-01"}, "on or after the start date"),
        ({"start": "2999-01-01"}, "on or before the end date"),
    ],
)
def test_dates_that_cannot_be_used_show_the_message_and_no_figures(group, query, message):
    admin, _ = group
    response = client_for(admin).get(reverse("group_analytics"), query)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "<caption>" not in response.content.decode()


def test_a_period_of_more_courses_than_a_request_can_work_out_asks_for_a_shorter_one(
    group, settings
):
    """Working out every course of a large group on request would hold a server worker past
    its timeout (a 500): over the limit, the page says how many and what to do instead."""
    admin, _ = group
    settings.BACKCARE_GROUP_ANALYTICS_MAX_COURSES = 21
    response = client_for(admin).get(reverse("group_analytics"))
    text = response.content.decode()
    assert response.status_code == 422
    assert "started 22 courses in this period" in text
    assert "at most 21 at a time. Choose a shorter period" in text
    assert "<caption>" not in text
    assert not AuditEvent.objects.filter(action="analytics.group_view", actor_id=admin.pk).exists()
    settings.BACKCARE_GROUP_ANALYTICS_MAX_COURSES = 22
    response = client_for(admin).get(reverse("group_analytics"))
    assert response.status_code == 200
    assert f'<th scope="row">{TOTAL_LABEL}</th><td>22</td>' in response.content.decode()


def _queries_for_group_of(clinics: int) -> int:
    worlds = [Seeded(make_clinic(f"Group of {clinics}")) for _ in range(clinics)]
    for world in worlds:
        _grow(world, 2)
    client = client_for(_group(*worlds))
    client.get(reverse("dashboard"))  # sign-in and session set-up out of the count
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("group_analytics"))
    assert response.status_code == 200
    assert response.content.decode().count('<th scope="row">Group of') == clinics
    return len(captured.captured_queries)


def test_the_page_reads_the_same_number_of_queries_for_2_and_5_clinics():
    assert _queries_for_group_of(2) == _queries_for_group_of(5)
