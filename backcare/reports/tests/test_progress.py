"""Progress: each measure over time with the clinical core's judgement of the change, in plain
words; for the patient, their clinic's staff and their referring clinician only."""

from datetime import timedelta
from fractions import Fraction

import pytest
from django.urls import reverse
from django.utils import timezone

from backcare.accounts.models import Role
from backcare.clinical import change
from backcare.core.models import AuditEvent
from backcare.outcomes.services import record_measurement
from backcare.reports.queries import get_progress, progress_sentence
from conftest import client_for
from tests.factories import make_clinic, make_member, make_patient, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("instrument", "first", "last", "name", "expected"),
    [
        # Ostelo 2008 / Farrar 2001: 2 points or 30 % is important for pain (RULES.md §3.8).
        (
            "pain_nrs",
            7,
            4,
            "back pain",
            "Your back pain is 3 points lower than when you started: an important improvement.",
        ),
        (
            "pain_nrs",
            7,
            6,
            "back pain",
            "Your back pain is 1 point lower than when you started: better, though not yet an "
            "important change.",
        ),
        (
            "pain_nrs",
            4,
            6,
            "back pain",
            "Your back pain is 2 points higher than when you started: worse, worth talking over "
            "with your therapist.",
        ),
        ("pain_nrs", 5, 5, "back pain", "Your back pain is the same as when you started."),
        # RMDQ: 5 points or 30 % (Ostelo 2008).
        (
            "rmdq",
            14,
            8,
            "disability (Roland-Morris)",
            "Your disability (Roland-Morris) is 6 points lower than when you started: an "
            "important improvement.",
        ),
        # PSFS: higher is better; 2 points on the mean (Stratford 1995).
        (
            "psfs",
            3,
            6,
            "function in chosen activities",
            "Your function in chosen activities is 3 points higher than when you started: an "
            "important improvement.",
        ),
        # No established threshold: reported without a judgement.
        ("stress_nrs", 8, 5, "stress", "Your stress is 3 points lower than when you started."),
    ],
)
def test_the_summary_says_the_change_in_plain_words(instrument, first, last, name, expected):
    found = change.change(instrument, first, last)
    lower_better = instrument != "psfs"
    assert progress_sentence(name, found, lower_better) == expected


def test_one_reading_says_the_next_shows_the_change():
    assert progress_sentence("back pain", None, True) == (
        "One reading of back pain so far; the next shows the change."
    )


class World:
    def __init__(self) -> None:
        self.clinic = make_clinic("Home")
        self.therapist = make_member(self.clinic, Role.THERAPIST)
        self.clinician = make_member(self.clinic, Role.REFERRING_CLINICIAN)
        self.user = make_user()
        self.patient = make_patient(self.clinic, user=self.user, referred_by=self.clinician)

    def pain(self, value: int, days_ago: int) -> None:
        record_measurement(
            actor=self.therapist,
            patient_id=self.patient.pk,
            instrument="pain_nrs",
            answers={"now": value},
            measured_at=timezone.now() - timedelta(days=days_ago),
            method="paper",
        )


@pytest.fixture
def world() -> World:
    return World()


def test_progress_charts_each_measure_with_its_summary_and_readings(world):
    world.pain(7, days_ago=28)
    world.pain(5, days_ago=14)
    world.pain(4, days_ago=1)
    page = get_progress(world.user, world.patient.pk, now=timezone.now())
    [pain] = page.measures
    assert pain.code == "pain_nrs"
    assert [value for _, value in pain.readings] == ["7", "5", "4"]
    assert pain.summary.startswith("Your back pain is 3 points lower")
    assert pain.change is not None
    assert pain.change.improvement == Fraction(3)
    assert pain.chart_url.startswith("data:image/svg+xml;base64,")
    assert AuditEvent.objects.filter(action="measurement.list", patient_id=world.patient.pk)


def test_the_progress_page_reads_a_fixed_number_of_queries(world, django_assert_num_queries):
    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            get_progress(world.therapist, world.patient.pk, now=timezone.now())
        return len(captured.captured_queries)

    world.pain(7, days_ago=3)
    small = count()
    for days in range(4, 40):
        world.pain(5, days_ago=days)
    assert count() == small


def test_the_page_for_the_patient_staff_and_referrer_and_404_for_others(world):
    world.pain(6, days_ago=10)
    world.pain(3, days_ago=1)
    mine = client_for(world.user).get(reverse("portal_progress"))
    assert mine.status_code == 200
    text = mine.content.decode()
    assert "My progress" in text
    assert "Your back pain is 3 points lower than when you started" in text
    assert "<caption>Readings of Pain numeric rating scale (0-10) (0-10)</caption>" in text
    url = reverse("patient_progress", args=[world.patient.pk])
    assert client_for(world.therapist).get(url).status_code == 200
    assert client_for(world.clinician).get(url).status_code == 200
    for outsider in (make_user(), make_member(make_clinic("Other"), Role.THERAPIST)):
        assert client_for(outsider).get(url).status_code == 404
    other_patient_user = make_user()
    make_patient(world.clinic, user=other_patient_user)
    assert client_for(other_patient_user).get(url).status_code == 404


def test_no_answers_yet_says_so(world):
    page = client_for(world.user).get(reverse("portal_progress"))
    assert "No answers yet" in page.content.decode()


def test_sessions_attended_are_counted_and_cancelled_ones_are_not():
    from backcare.scheduling.services import cancel_appointment
    from backcare.scheduling.tests.test_services import World as Scheduling

    world = Scheduling()
    world.book(world.at(10))
    cancelled = world.book(world.at(14))
    cancel_appointment(cancelled_by=world.desk, appointment_id=cancelled.pk)
    page = get_progress(world.desk, world.patient.pk, now=world.at(18))
    assert page.sessions == [world.monday]
    assert get_progress(world.desk, world.patient.pk, now=world.at(10, 30)).sessions == []


def test_the_progress_report_pdf_for_the_referrer_and_404_for_others(world):
    world.pain(7, days_ago=10)
    world.pain(4, days_ago=1)
    url = reverse("progress_pdf", args=[world.patient.pk])
    response = client_for(world.clinician).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(
        action="measurement.list", actor_id=world.clinician.pk, patient_id=world.patient.pk
    ).exists()
    assert client_for(make_user()).get(url).status_code == 404
    mine = client_for(world.user).get(reverse("portal_progress")).content.decode()
    assert url in mine


def test_the_measurements_csv_is_for_admins_and_audited(world):
    import csv
    import io

    world.pain(7, days_ago=10)
    world.pain(4, days_ago=1)
    other = make_clinic("Other")
    make_patient(other)
    admin = make_member(world.clinic, Role.CLINIC_ADMIN)
    response = client_for(admin).get(reverse("measurements_csv"))
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["patient_id", "instrument"]
    assert [(r[1], r[7]) for r in rows[1:]] == [("pain_nrs", "7"), ("pain_nrs", "4")]
    assert {r[0] for r in rows[1:]} == {str(world.patient.pk)}
    assert AuditEvent.objects.filter(action="measurement.export", actor_id=admin.pk).exists()
    assert client_for(world.therapist).get(reverse("measurements_csv")).status_code == 404
    theirs = client_for(make_member(other, Role.CLINIC_ADMIN)).get(reverse("measurements_csv"))
    assert len(b"".join(theirs.streaming_content).decode().splitlines()) == 1  # header only


def test_staff_send_the_report_link_to_the_referrer_without_clinical_details(
    world, django_capture_on_commit_callbacks
):
    from django.core import mail

    world.pain(7, days_ago=10)
    client = client_for(world.therapist)
    page = client.get(reverse("patient_progress", args=[world.patient.pk])).content.decode()
    assert "Send the report to the referring clinician" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("progress_send", args=[world.patient.pk]))
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == [world.clinician.email]
    assert reverse("progress_pdf", args=[world.patient.pk]) in message.body
    assert world.patient.family_name not in message.body
    assert world.patient.given_name not in message.body
    assert AuditEvent.objects.filter(action="progress.send", patient_id=world.patient.pk).exists()
    # The link is read by the clinician signed in as themself; strangers get 404.
    link = reverse("progress_pdf", args=[world.patient.pk])
    assert client_for(world.clinician).get(link).status_code == 200
    assert (
        client_for(make_user()).post(reverse("progress_send", args=[world.patient.pk])).status_code
        == 404
    )


def test_no_referrer_is_a_clear_409(world):
    unreferred = make_patient(world.clinic)
    response = client_for(world.therapist).post(reverse("progress_send", args=[unreferred.pk]))
    assert response.status_code == 409
    assert "no referring clinician" in response.content.decode()
