"""The background side: a committed booking's confirmation is sent by the task it enqueues, and
`run_scheduling_jobs` queues due reminders, ends expired offers and sends the outbox."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from backcare.scheduling.models import Notification
from backcare.scheduling.tests.test_services import World


@pytest.fixture
def world(db) -> World:
    return World()


def test_a_committed_booking_is_confirmed_by_the_task_it_enqueues(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        world.book(world.at(10))
    assert [m.subject for m in mail.outbox] == [f"Your appointment is booked: {world.clinic.name}"]
    assert Notification.objects.get().status == "sent"


def test_the_periodic_command_queues_reminders_and_sends_the_outbox(world, time_machine):
    world.book(world.at(10))
    time_machine.move_to(world.at(11, days=-1))
    out = StringIO()
    call_command("run_scheduling_jobs", stdout=out)
    assert "Reminders queued: 1" in out.getvalue()
    assert "sent: 2" in out.getvalue()  # the confirmation and the reminder
    assert sorted(Notification.objects.values_list("kind", flat=True)) == [
        "confirmation",
        "reminder",
    ]
    call_command("run_scheduling_jobs", stdout=out)
    assert len(mail.outbox) == 2
