"""Follow-ups after a course (issue 7, recurrence): monthly for 6 months after the plan ends,
each written and emailed exactly once, answered from a link without a login; a flare-up
reported there is recorded. Expired, reused or altered links write nothing."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from backcare.accounts.models import Role
from backcare.core.errors import ConflictError, InvalidInputError
from backcare.core.models import AuditEvent
from backcare.outcomes import services as outcomes
from backcare.outcomes.models import CheckIn, FlareUp, OutcomeMeasurement
from backcare.plans.services import end_plan
from backcare.plans.tests.factories import make_plan
from backcare.scheduling import services
from backcare.scheduling.models import Notification, NotificationKind
from tests.factories import make_clinic, make_member, make_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    clinic = make_clinic("Home")
    therapist = make_member(clinic, Role.THERAPIST)
    patient = make_patient(clinic, email="pat@example.test")
    plan = make_plan(therapist, patient)
    ended = datetime(2026, 1, 31, 16, tzinfo=clinic.zone)
    with time_machine.travel(ended):
        end_plan(actor=therapist, plan_id=plan.pk)
    return clinic, therapist, patient, plan


def _local(clinic, day: str, hour: int = 12) -> datetime:
    return datetime.combine(datetime.fromisoformat(day).date(), time(hour), tzinfo=clinic.zone)


def test_each_monthly_follow_up_is_written_and_sent_once(course):
    clinic, _, patient, plan = course
    mail.outbox.clear()
    assert services.enqueue_follow_ups(now=_local(clinic, "2026-02-27")) == 0  # not yet due
    first = _local(clinic, "2026-02-28")  # 31 January + 1 month: February's last day
    assert [services.enqueue_follow_ups(now=first) for _ in range(3)] == [1, 0, 0]
    check_in = CheckIn.objects.get()
    assert (check_in.plan_ref, check_in.follow_up_number, check_in.visit_ref) == (plan.pk, 1, None)
    assert check_in.visit_ended_at == _local(clinic, "2026-02-28", hour=10)
    assert check_in.expires_at == check_in.visit_ended_at + timedelta(days=14)
    assert services.deliver_due_notifications(now=first).sent == 1
    assert services.deliver_due_notifications(now=first).sent == 0
    [message] = mail.outbox
    assert message.subject.startswith("A follow-up after your massage course: Home")
    assert "It is a month since your course of massage ended" in message.body
    assert "/check-in/" in message.body
    assert patient.display_name not in message.body  # no names or clinical details
    # Months 2 to 6 fall due in turn; a month missed by the job is not sent late.
    assert services.enqueue_follow_ups(now=_local(clinic, "2026-03-31")) == 1
    assert services.enqueue_follow_ups(now=_local(clinic, "2026-05-30")) == 0  # 4/30 closed
    assert services.enqueue_follow_ups(now=_local(clinic, "2026-06-30")) == 1
    assert services.enqueue_follow_ups(now=_local(clinic, "2026-07-31")) == 1
    assert services.enqueue_follow_ups(now=_local(clinic, "2026-08-31")) == 0  # after 6 months
    numbers = sorted(CheckIn.objects.values_list("follow_up_number", flat=True))
    assert numbers == [1, 2, 5, 6]
    assert Notification.objects.filter(kind=NotificationKind.FOLLOW_UP).count() == 4


def test_no_follow_ups_once_a_new_course_has_started(course):
    clinic, therapist, patient, _ = course
    make_plan(therapist, patient)
    assert services.enqueue_follow_ups(now=_local(clinic, "2026-02-28")) == 0


def test_an_answered_follow_up_is_not_sent(course):
    clinic, _, _, _ = course
    due = _local(clinic, "2026-02-28")
    services.enqueue_follow_ups(now=due)
    _answer(CheckIn.objects.get(), flare_up=False, now=due)
    mail.outbox.clear()
    report = services.deliver_due_notifications(now=due)
    assert (report.sent, report.skipped) == (0, 1)
    assert mail.outbox == []


def _answer(check_in: CheckIn, **changes: object) -> CheckIn:
    values = {"pain_now": 3, "global_change": 2} | changes
    token = outcomes.check_in_token(check_in)
    return outcomes.answer_check_in(token=token, **values)  # type: ignore[arg-type]


def test_a_flare_up_reported_at_a_follow_up_is_recorded(course):
    clinic, _, patient, _ = course
    due = _local(clinic, "2026-02-28")
    services.enqueue_follow_ups(now=due)
    check_in = _answer(
        CheckIn.objects.get(), flare_up=True, other_effects="after gardening", now=due
    )
    assert check_in.flare_up is True
    assert check_in.soreness == ""
    flare = FlareUp.objects.get()
    assert (flare.patient, flare.started_on.isoformat(), flare.source) == (
        patient,
        "2026-02-28",
        "check_in",
    )
    assert flare.note == "after gardening"
    assert AuditEvent.objects.filter(action="check_in.answer", detail__flare_up=True).exists()


def test_a_follow_up_needs_the_flare_up_answer_and_writes_nothing_without_it(course):
    clinic, _, _, _ = course
    due = _local(clinic, "2026-02-28")
    services.enqueue_follow_ups(now=due)
    with pytest.raises(InvalidInputError, match="flared up"):
        _answer(CheckIn.objects.get(), now=due)
    assert not OutcomeMeasurement.objects.exists()
    assert not FlareUp.objects.exists()


def test_a_follow_up_link_is_open_two_weeks_then_writes_nothing(course):
    clinic, _, _, _ = course
    due = _local(clinic, "2026-02-28")
    services.enqueue_follow_ups(now=due)
    check_in = CheckIn.objects.get()
    _answer(check_in, flare_up=False, now=check_in.expires_at - timedelta(minutes=1))
    services.enqueue_follow_ups(now=_local(clinic, "2026-03-31"))
    second = CheckIn.objects.get(follow_up_number=2)
    with pytest.raises(ConflictError, match="open for 14 days"):
        _answer(second, flare_up=True, now=second.expires_at)
    assert not FlareUp.objects.exists()
    assert OutcomeMeasurement.objects.count() == 2  # the first follow-up's answers only


def test_the_follow_up_page_asks_about_flare_ups_without_a_login(course):
    clinic, _, _, _ = course
    due = _local(clinic, "2026-02-28")
    services.enqueue_follow_ups(now=due)
    url = reverse("check_in", args=[outcomes.check_in_token(CheckIn.objects.get())])
    client = Client()
    with time_machine.travel(due):
        page = client.get(url)
        assert page.status_code == 200
        body = page.content.decode()
        assert "How is your back?" in body
        assert "flared up" in body
        assert "soreness" not in body.lower()
        refused = client.post(url, {"pain_now": "4", "global_change": "3"})
        assert refused.status_code == 422
        assert "Choose yes or no" in refused.content.decode()
        done = client.post(url, {"pain_now": "4", "global_change": "3", "flare_up": "yes"})
    assert done.status_code == 200
    assert FlareUp.objects.count() == 1


def test_a_rerun_reads_a_fixed_number_of_queries_whatever_the_number_of_courses(course):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clinic, therapist, _, _ = course
    due = _local(clinic, "2026-02-28")

    def rerun() -> int:
        services.enqueue_follow_ups(now=due)  # writes what is new
        with CaptureQueriesContext(connection) as captured:
            assert services.enqueue_follow_ups(now=due) == 0
        return len(captured.captured_queries)

    one = rerun()
    for _ in range(5):
        plan = make_plan(therapist, make_patient(clinic))
        with time_machine.travel(datetime(2026, 1, 31, 16, tzinfo=clinic.zone)):
            end_plan(actor=therapist, plan_id=plan.pk)
    assert rerun() == one
