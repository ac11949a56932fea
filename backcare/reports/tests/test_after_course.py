"""Progress after a course and in the report: how long relief has lasted (clinical.recurrence),
flare-ups (reported at a follow-up or recorded by staff), side effects reported and the
therapist's assessments from signed notes (amendments applied)."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backcare.accounts.models import Membership, Role
from backcare.clinical.recurrence import Relief
from backcare.core.models import AuditEvent
from backcare.outcomes.models import FlareUp
from backcare.outcomes.services import create_check_in, record_flare_up, record_measurement
from backcare.plans.models import PlanStatus, TreatmentPlan
from backcare.reports.queries import get_progress, relief_sentence
from backcare.visits.models import NoteAmendment
from backcare.visits.tests.factories import VisitWorld, make_signed_visit
from conftest import client_for
from tests.factories import make_clinic, make_member, make_patient, make_user
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db

END = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("relief", "rated", "expected"),
    [
        (None, False, "Your course ended on 1 March 2026. There are no pain ratings from the "
                      "course to compare."),
        (None, True, "Your course ended on 1 March 2026 without an important improvement in "
                     "your back pain, so there is no relief to follow."),
        (Relief(END, 0, holding=True), True,
         "Your course ended on 1 March 2026 with an important improvement in your back pain. "
         "The monthly follow-ups show whether it lasts."),
        (Relief(END, 61, holding=True), True,
         "Relief has lasted at least 8 weeks since your course ended on 1 March 2026."),
        (Relief(END, 9, holding=True), True,
         "Relief has lasted at least 9 days since your course ended on 1 March 2026."),
        (Relief(END, 31, holding=False, lost_on=date(2026, 4, 1), why="a flare-up"), True,
         "Relief lasted 4 weeks after your course ended on 1 March 2026, until a flare-up on "
         "1 April 2026."),
    ],
)  # fmt: skip
def test_the_relief_sentence(relief, rated, expected):
    assert relief_sentence(END, relief, rated=rated) == expected


class Course(VisitWorld):
    """VisitWorld's patient, referred, with a login, pain 7 at the start and 3 at the end of a
    course that ended 30 days ago."""

    def __init__(self) -> None:
        super().__init__()
        self.clinician = make_member(self.clinic, Role.REFERRING_CLINICIAN)
        self.patient_user = make_user()
        self.patient.user = self.patient_user
        self.patient.referred_by = self.clinician
        self.patient.save()
        Membership.objects.create(
            clinic=self.clinic,
            user=self.patient_user,
            role=Role.PATIENT,
            accepted_at=timezone.now(),
        )
        self.pain(7, days_ago=60)
        self.pain(3, days_ago=31)
        TreatmentPlan.objects.filter(pk=self.plan.pk).update(
            status=PlanStatus.ENDED, ended_at=timezone.now() - timedelta(days=30)
        )
        self.ended = (timezone.now() - timedelta(days=30)).astimezone(self.clinic.zone).date()

    def pain(self, value: int, days_ago: int) -> None:
        record_measurement(
            actor=self.user,
            patient_id=self.patient.pk,
            instrument="pain_nrs",
            answers={"now": value},
            measured_at=timezone.now() - timedelta(days=days_ago),
            method="paper",
        )


@pytest.fixture
def course() -> Course:
    return Course()


def test_relief_lasts_until_staff_record_a_flare_up(course):
    course.pain(3, days_ago=2)  # a follow-up: still an important improvement
    page = get_progress(course.patient_user, course.patient.pk, now=timezone.now())
    assert page.after_course is not None
    assert page.after_course.summary.startswith("Relief has lasted at least 4 weeks since")
    client = client_for(course.user)
    url = reverse("flare_up_add", args=[course.patient.pk])
    yesterday = course.clinic.local_date() - timedelta(days=1)
    done = client.post(url, {"started_on": yesterday.isoformat(), "note": "lifting boxes"})
    assert done.status_code == 302
    assert AuditEvent.objects.filter(action="flare_up.add", actor_id=course.user.pk).exists()
    page = get_progress(course.patient_user, course.patient.pk, now=timezone.now())
    assert page.after_course is not None
    assert page.after_course.relief is not None
    assert page.after_course.relief.why == "a flare-up"
    assert page.after_course.summary.startswith("Relief lasted 4 weeks after your course ended")
    [pain] = page.measures
    assert "#b42318" in _svg(pain.chart_url)  # the flare-up mark
    shown = client_for(course.patient_user).get(reverse("portal_progress")).content.decode()
    assert "Since the course ended" in shown
    assert "lifting boxes" in shown


def _svg(data_url: str) -> str:
    import base64

    return base64.b64decode(data_url.split(",", 1)[1]).decode()


def test_pain_back_near_the_start_ends_relief(course):
    course.pain(6, days_ago=3)
    page = get_progress(course.user, course.patient.pk, now=timezone.now())
    assert page.after_course is not None
    assert "until pain back near where it started" in page.after_course.summary


def test_no_after_course_section_while_a_course_is_under_way():
    world = VisitWorld()
    page = get_progress(world.user, world.patient.pk, now=timezone.now())
    assert page.after_course is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"started_on": "", "note": "x"}, "Give the day it began."),
        ({"started_on": "2999-01-01"}, "A flare-up cannot start in the future."),
        ({"started_on": "yesterday"}, "Give a date."),
    ],
)
def test_a_bad_flare_up_is_refused_with_what_to_fix(course, data, message):
    response = client_for(course.user).post(reverse("flare_up_add", args=[course.patient.pk]), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not FlareUp.objects.exists()


def test_only_clinic_staff_record_flare_ups(course):
    url = reverse("flare_up_add", args=[course.patient.pk])
    assert client_for(course.desk).get(url).status_code == 200
    for outsider in (
        course.patient_user,
        course.clinician,
        make_member(make_clinic("Other"), Role.CLINIC_ADMIN),
    ):
        assert client_for(outsider).get(url).status_code == 404
        post = client_for(outsider).post(url, {"started_on": "2026-01-01"})
        assert post.status_code == 404
    assert not FlareUp.objects.exists()


def test_side_effects_and_assessments_come_from_signed_notes_and_check_ins(course):
    visit = make_signed_visit(
        course,
        days_ago=40,
        assessment="Less guarding in the lumbar area.",
        adverse_events=[{"kind": "bruising", "severity": "mild", "note": "left flank"}],
    )
    NoteAmendment.objects.create(
        clinic=course.clinic,
        note=visit.note,
        amended_by=course.user,
        amended_at=timezone.now(),
        reason="Clearer",
        changes={"assessment": "Much less guarding in the lumbar area."},
    )
    make_signed_visit(course, days_ago=35, assessment="")
    check_in = create_check_in(
        patient=course.patient, visit_ref=visit.appointment_id, visit_ended_at=timezone.now()
    )
    assert check_in is not None
    check_in.answered_at = timezone.now()
    check_in.soreness = "moderate"
    check_in.other_effects = "stiff next morning"
    check_in.save()
    page = get_progress(course.clinician, course.patient.pk, now=timezone.now())
    assert [e.text for e in page.effects] == [
        "Bruising, mild: left flank",
        "soreness, moderate; stiff next morning",
    ]
    assert [n.assessment for n in page.assessments] == ["Much less guarding in the lumbar area."]
    assert AuditEvent.objects.filter(
        action="visit_note.report", actor_id=course.clinician.pk
    ).exists()


def test_the_report_pdf_carries_the_course_relief_effects_and_assessment(course):
    make_signed_visit(
        course,
        days_ago=40,
        assessment="Less guarding in the lumbar area.",
        adverse_events=[{"kind": "soreness", "severity": "mild"}],
    )
    record_flare_up(actor=course.user, patient_id=course.patient.pk, started_on=course.ended)
    response = client_for(course.clinician).get(reverse("progress_pdf", args=[course.patient.pk]))
    assert response.status_code == 200
    flat = pdf_text(response.content)
    assert "Focus: Ease the lower back" in flat
    assert "Since the course ended" in flat
    assert "Side effects reported" in flat
    assert "Soreness, mild" in flat
    assert "Therapist's assessment" in flat
    assert "Less guarding in the lumbar area." in flat
    assert "Recorded by the clinic" in flat


def test_the_progress_reads_a_fixed_number_of_queries_whatever_the_history(course):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            get_progress(course.clinician, course.patient.pk, now=timezone.now())
        return len(captured.captured_queries)

    make_signed_visit(course, days_ago=50, assessment="One")
    count()  # the first read also loads the viewer's roles, kept on the user object
    small = count()
    for days in range(36, 46):
        make_signed_visit(
            course,
            days_ago=days,
            assessment=f"Visit {days}",
            adverse_events=[{"kind": "soreness", "severity": "mild"}],
        )
        course.pain(4, days_ago=days)
    for days in range(1, 5):
        record_flare_up(
            actor=course.user,
            patient_id=course.patient.pk,
            started_on=course.clinic.local_date() - timedelta(days=days),
        )
    assert count() == small


def test_others_cannot_read_the_report_extract(course):
    from backcare.core.errors import NotFoundError
    from backcare.visits.queries import report_notes

    other = make_user()
    make_patient(course.clinic, user=other)
    with pytest.raises(NotFoundError):
        report_notes(other, course.patient.pk)
