"""Clinic analytics: a seeded clinic's page against a hand-computed table (early drop-outs,
withdrawn answers, amendments, check-ins, small cells), admins only, audited, and a constant
number of queries whatever the number of patients."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backcare.accounts.models import Clinic, Role, Technique, Therapist, User
from backcare.core.models import AuditEvent
from backcare.intake.models import Intake
from backcare.outcomes.models import CheckIn, OutcomeMeasurement
from backcare.patients.models import Patient
from backcare.plans.models import PlanTechnique, TreatmentPlan
from backcare.reports.analytics import clinic_analytics, default_period
from backcare.reports.cohort import Share
from backcare.scheduling.models import Appointment, Service
from backcare.visits.models import NoteAmendment, NoteStatus, Visit, VisitNote, VisitStatus
from conftest import client_for
from tests.factories import make_clinic, make_member, make_patient, make_therapist

pytestmark = pytest.mark.django_db

F = "fewer than 5"
ALL_HIDDEN = (F,) * 12


@dataclass
class Spec:
    """One course, days counted back from now: when the plan started, its sessions (therapist
    index, days ago), measurements (instrument, days ago, score), the intake."""

    started: int = 100
    planned: int = 3
    ended: int | None = None
    sessions: list[tuple[int, int]] = field(default_factory=list)
    scores: list[tuple[str, int, int]] = field(default_factory=list)
    cause: str | None = "muscle_strain"
    pain_started: int | None = 800
    start_back: str | None = None
    techniques: tuple[str, ...] = ("swedish",)
    # Fields of the first session's note, written before it is signed (signed notes are locked).
    first_note: dict[str, Any] = field(default_factory=dict)


class Seeded:
    def __init__(self, clinic: Clinic | None = None) -> None:
        self.clinic = clinic or make_clinic("Home")
        self.admin = make_member(self.clinic, Role.CLINIC_ADMIN)
        self.desk = make_member(self.clinic, Role.FRONT_DESK)
        self.therapists: list[Therapist] = [make_therapist(self.clinic) for _ in range(2)]
        for therapist, name in zip(self.therapists, ("Ann Adams", "Ben Brown"), strict=True):
            User.objects.filter(pk=therapist.user_id).update(full_name=name)
            therapist.user.refresh_from_db()
        self.service = Service.objects.create(
            clinic=self.clinic, name="Back massage 60", duration_minutes=60, buffer_minutes=15
        )
        self.now = timezone.now()
        self._slots: dict[tuple[int, int], int] = {}

    def ago(self, days: int) -> datetime:
        return self.now - timedelta(days=days)

    def course(self, spec: Spec) -> tuple[Patient, TreatmentPlan, list[VisitNote]]:
        patient = make_patient(self.clinic)
        user = self.therapists[0].user
        plan = TreatmentPlan.objects.create(
            clinic=self.clinic,
            patient=patient,
            sessions_planned=spec.planned,
            created_by=user,
            created_at=self.ago(spec.started),
            status="ended" if spec.ended is not None else "active",
            ended_at=self.ago(spec.ended) if spec.ended is not None else None,
        )
        for code in spec.techniques:
            PlanTechnique.objects.create(
                clinic=self.clinic,
                plan=plan,
                technique=Technique.objects.get(code=code),
                muscle="erector_spinae",
                side="both",
                pressure_level=3,
            )
        notes = [
            self.session(patient, plan, who, days, **(spec.first_note if number == 0 else {}))
            for number, (who, days) in enumerate(spec.sessions)
        ]
        for instrument, days, score in spec.scores:
            self.measure(patient, instrument, days, score)
        if spec.start_back:
            self.measure(patient, "start_back", spec.started, 2, band=spec.start_back)
        if spec.cause is not None:
            answers: dict[str, Any] = {"cause": spec.cause}
            if spec.pain_started is not None:
                answers["pain_started_on"] = self.ago(spec.pain_started).date().isoformat()
            Intake.objects.create(
                clinic=self.clinic,
                patient=patient,
                method="paper",
                status="submitted",
                answers=answers,
                started_by=self.desk,
                saved_at=self.ago(spec.started + 2),
                submitted_at=self.ago(spec.started + 2),
            )
        return patient, plan, notes

    def session(
        self,
        patient: Patient,
        plan: TreatmentPlan,
        who: int,
        days: int,
        *,
        status: str = NoteStatus.SIGNED,
        **note: Any,
    ) -> VisitNote:
        therapist = self.therapists[who]
        # Each therapist's sessions of one day follow one another (no overlap on PostgreSQL).
        slot = self._slots[who, days] = self._slots.get((who, days), -1) + 1
        day = self.ago(days).astimezone(self.clinic.zone).date()
        midnight = datetime.combine(day, datetime.min.time(), tzinfo=self.clinic.zone)
        starts = midnight + timedelta(minutes=75 * slot)
        appointment = Appointment.objects.create(
            clinic=self.clinic,
            patient=patient,
            therapist=therapist,
            service=self.service,
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            blocked_until=starts + timedelta(hours=1, minutes=15),
            booked_by=self.desk,
            status="completed",
        )
        visit = Visit.objects.create(
            clinic=self.clinic,
            patient=patient,
            appointment=appointment,
            therapist=therapist,
            plan=plan,
            status=VisitStatus.SIGNED if status == NoteStatus.SIGNED else status,
            opened_by=therapist.user,
        )
        return VisitNote.objects.create(
            clinic=self.clinic,
            visit=visit,
            status=status,
            signed_at=appointment.ends_at,
            signed_by=therapist.user,
            **note,
        )

    def measure(
        self, patient: Patient, instrument: str, days: int, score: int, **extra: Any
    ) -> OutcomeMeasurement:
        return OutcomeMeasurement.objects.create(
            clinic=self.clinic,
            patient=patient,
            instrument=instrument,
            instrument_version="test",
            measured_at=self.ago(days),
            method="paper",
            answers={},
            valid=True,
            score_exact=str(score),
            **extra,
        )

    def check_in(self, note: VisitNote, **answers: Any) -> None:
        ended = note.visit.appointment.ends_at
        CheckIn.objects.create(
            clinic=self.clinic,
            patient=note.visit.patient,
            visit_ref=note.visit.appointment_id,
            visit_ended_at=ended,
            expires_at=ended + timedelta(hours=72),
            answered_at=ended + timedelta(hours=30),
            **answers,
        )


ANN, BEN = 0, 1
MILD_SORENESS = [{"kind": "soreness", "severity": "mild", "note": ""}]


def seed(world: Seeded) -> None:
    """Eight courses started in the last year (the hand-computed table below), one started 400
    days ago and one at another clinic (neither counted).

    P1 completed (Ann): pain 8->3, RMDQ 12->6, pain medicine 5->1 days; mild soreness in the
       first note; a later pain answer of 8 was withdrawn and an invalid one is ignored.
    P2 completed (Ann): pain 6->5, RMDQ 10->7, pain medicine 3->3; a check-in with mild soreness
       only; a note entered in error is not a session.
    P3 completed (Ben): pain 5->3, RMDQ 8->2, pain medicine 4->2; severe soreness in a check-in.
    P4 stopped early (Ann, plan ended after one session): pain 7->6 (a 2 after the end is
       ignored), RMDQ 14 carried forward, pain medicine 6 carried forward.
    P5 stopped early (Ben, no session for 92 days): pain 9 carried forward; no intake.
    P6 completed (Ben, two sessions): pain first asked on day 40 (no baseline), RMDQ 16->9,
       pain medicine 2->0.
    P7 under way (Ann): pain 8->2, acute; not in outcome figures.
    P8 completed (Ann, one session): pain 6->4, RMDQ 5->4, acute; the bruising in its note was
       amended away.
    """
    p1, _, notes = world.course(
        Spec(
            sessions=[(ANN, 100), (ANN, 93), (ANN, 86)],
            scores=[
                ("pain_nrs", 100, 8),
                ("pain_nrs", 80, 3),
                ("rmdq", 100, 12),
                ("rmdq", 80, 6),
                ("analgesic_days", 100, 5),
                ("analgesic_days", 80, 1),
            ],
            start_back="low",
            techniques=("swedish", "deep_tissue"),
            first_note={"adverse_events": MILD_SORENESS},
        )
    )
    world.measure(p1, "pain_nrs", 79, 8, withdrawn_at=world.now, withdrawn_reason="typo")
    OutcomeMeasurement.objects.create(
        clinic=world.clinic,
        patient=p1,
        instrument="pain_nrs",
        instrument_version="test",
        measured_at=world.ago(78),
        method="paper",
        answers={},
        valid=False,
        reason="missing_item",
    )
    p2, plan2, notes = world.course(
        Spec(
            sessions=[(ANN, 100), (ANN, 93), (ANN, 86)],
            scores=[
                ("pain_nrs", 100, 6),
                ("pain_nrs", 80, 5),
                ("rmdq", 100, 10),
                ("rmdq", 80, 7),
                ("analgesic_days", 100, 3),
                ("analgesic_days", 80, 3),
            ],
            start_back="low",
        )
    )
    world.check_in(notes[1], soreness="mild")
    world.session(
        p2, plan2, BEN, 85, status=NoteStatus.ENTERED_IN_ERROR, adverse_events=MILD_SORENESS
    )
    _, _, notes = world.course(
        Spec(
            sessions=[(BEN, 100), (BEN, 93), (BEN, 86)],
            scores=[
                ("pain_nrs", 100, 5),
                ("pain_nrs", 80, 3),
                ("rmdq", 100, 8),
                ("rmdq", 80, 2),
                ("analgesic_days", 100, 4),
                ("analgesic_days", 80, 2),
            ],
            cause="disc_herniation",
            start_back="medium",
            techniques=("swedish", "deep_tissue"),
        )
    )
    world.check_in(notes[1], soreness="severe")
    world.course(
        Spec(
            planned=10,
            ended=80,
            sessions=[(ANN, 99)],
            scores=[
                ("pain_nrs", 100, 7),
                ("pain_nrs", 85, 6),
                ("pain_nrs", 50, 2),
                ("rmdq", 100, 14),
                ("analgesic_days", 100, 6),
            ],
            start_back="high",
        )
    )
    world.course(
        Spec(planned=10, sessions=[(BEN, 99), (BEN, 92)], scores=[("pain_nrs", 100, 9)], cause=None)
    )
    world.course(
        Spec(
            planned=2,
            sessions=[(BEN, 99), (BEN, 92)],
            scores=[
                ("pain_nrs", 60, 5),
                ("rmdq", 100, 16),
                ("rmdq", 80, 9),
                ("analgesic_days", 100, 2),
                ("analgesic_days", 80, 0),
            ],
            start_back="low",
            techniques=("swedish", "deep_tissue"),
        )
    )
    world.course(
        Spec(
            started=10,
            planned=10,
            sessions=[(ANN, 5)],
            scores=[("pain_nrs", 10, 8), ("pain_nrs", 3, 2)],
            pain_started=20,
        )
    )
    _, _, notes = world.course(
        Spec(
            planned=1,
            sessions=[(ANN, 99)],
            scores=[("pain_nrs", 100, 6), ("pain_nrs", 80, 4), ("rmdq", 100, 5), ("rmdq", 80, 4)],
            pain_started=110,
            start_back="low",
            first_note={"adverse_events": [{"kind": "bruising", "severity": "mild", "note": ""}]},
        )
    )
    NoteAmendment.objects.create(
        clinic=world.clinic,
        note=notes[0],
        amended_by=world.therapists[ANN].user,
        amended_at=world.now,
        reason="Bruising was another patient's",
        changes={"adverse_events": []},
    )
    world.course(Spec(started=400, sessions=[(ANN, 399)], scores=[("pain_nrs", 400, 8)]))
    elsewhere = Seeded(make_clinic("Elsewhere"))
    elsewhere.course(Spec(sessions=[(ANN, 100)], scores=[("pain_nrs", 100, 8)]))


HEADERS = (
    "Courses",
    "Completed (of courses ended)",
    "Stopped early (of courses ended)",
    "Under way",
    "Pain: courses counted",
    "Pain: improved at least 2 points",
    "Pain: improved at least 30 %",
    "Disability: courses counted",
    "Disability: improved at least 5 RMDQ / 10 ODI points",
    "Disability: improved at least 30 % (RMDQ) / 30 % (ODI)",
    "Sessions with an adverse event",
    "Days a week with pain medicine: mean change",
)
OVERALL = (
    "8",
    "5 of 7 (71 %)",
    "2 of 7 (29 %)",
    "1",
    "6 (1 without a baseline)",  # P6 has no pain baseline
    "3 of 6 (50 %)",  # P1, P3, P8
    "3 of 6 (50 %)",
    "6 (1 without a baseline)",  # P5 has no disability answers
    "3 of 6 (50 %)",  # P1, P3, P6
    "4 of 6 (67 %)",  # and P2 (30 %)
    "2 of 16 sessions (13 %)",  # P1's note, P3's check-in
    "1.6 fewer days a week (n = 5)",  # (4 + 0 + 2 + 0 + 2) / 5
)
EXPECTED: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "overall": [("All courses", OVERALL)],
    "status": [
        (
            "Completed (all planned sessions)",
            (
                "5",
                "5 of 5 (100 %)",
                "0 of 5 (0 %)",
                "0",
                F,  # pain: P1, P2, P3, P8 only
                F,
                F,
                "5 (0 without a baseline)",
                "3 of 5 (60 %)",
                "4 of 5 (80 %)",
                "2 of 12 sessions (17 %)",
                F,  # pain medicine: P1, P2, P3, P6 only
            ),
        ),
        ("Stopped early (last observation carried forward)", ALL_HIDDEN),
        ("Under way (not yet in outcome figures)", ALL_HIDDEN),
    ],
    "technique": [
        ("Deep tissue (structural)", ALL_HIDDEN),
        ("Swedish (relaxation)", OVERALL),  # every course has it: the same as all courses
    ],
    # Ben has 3 courses, so Ann's 5 are hidden too: Ben's would be the total less Ann's.
    "therapist": [("Ann Adams", ALL_HIDDEN), ("Ben Brown", ALL_HIDDEN)],
    "cause": [
        (
            "Muscle strain",
            (
                "6",
                "4 of 5 (80 %)",
                "1 of 5 (20 %)",
                "1",
                F,
                F,
                F,
                "5 (0 without a baseline)",
                "2 of 5 (40 %)",
                "3 of 5 (60 %)",
                "1 of 11 sessions (9 %)",
                F,
            ),
        ),
        ("Disc herniation", ALL_HIDDEN),
        ("Not recorded", ALL_HIDDEN),
    ],
    "phase": [
        ("Acute (under 6 weeks)", ALL_HIDDEN),
        (
            "Chronic (over 12 weeks)",
            (
                "5",
                "4 of 5 (80 %)",
                "1 of 5 (20 %)",
                "0",
                F,
                F,
                F,
                "5 (0 without a baseline)",
                "3 of 5 (60 %)",
                "4 of 5 (80 %)",
                "2 of 12 sessions (17 %)",
                "1.6 fewer days a week (n = 5)",
            ),
        ),
        ("Not recorded", ALL_HIDDEN),
    ],
    "start_back": [
        ("Low risk", ALL_HIDDEN),
        ("Medium risk", ALL_HIDDEN),
        ("High risk", ALL_HIDDEN),
        ("Not recorded", ALL_HIDDEN),
    ],
}


@pytest.fixture
def world() -> Seeded:
    seeded = Seeded()
    seed(seeded)
    return seeded


def test_the_figures_match_the_hand_computed_table(world):
    start, end = default_period(world.clinic)
    page = clinic_analytics(world.admin, world.clinic, start=start, end=end)
    assert page.headers == HEADERS
    tables = {"overall": page.overall_rows} | {b.key: rows for b, rows in page.tables}
    assert tables == EXPECTED


def test_the_page_shows_the_figures_and_the_caution_for_admins_and_is_audited(world):
    response = client_for(world.admin).get(reverse("clinic_analytics"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "<caption>All courses</caption>" in text
    assert '<th scope="row">Muscle strain</th>' in text
    assert "1.6 fewer days a week (n = 5)" in text
    assert "does not list massage" in text
    assert "only as part of a treatment package including exercise" in text
    assert "effect of massage" not in text
    assert "proportion reaching important improvement" in text
    event = AuditEvent.objects.get(action="analytics.view", actor_id=world.admin.pk)
    assert event.clinic_id == world.clinic.pk
    assert event.patient_id is None
    assert event.detail["courses"] == 8
    assert event.detail["patients"] == 8


def test_the_period_chooses_the_courses_by_their_start(world):
    today = world.clinic.local_date()
    url = reverse("clinic_analytics")
    recent = {"start": (today - timedelta(days=30)).isoformat(), "end": today.isoformat()}
    text = client_for(world.admin).get(url, recent).content.decode()
    # Only P7 started in the last 30 days: a group of one, hidden.
    assert '<th scope="row">All courses</th><td>fewer than 5</td>' in text
    old = (today - timedelta(days=400)).isoformat()
    page = clinic_analytics(world.admin, world.clinic, start=today - timedelta(days=400), end=today)
    assert page.summary.overall.courses == 9
    assert old in client_for(world.admin).get(url, {"start": old}).content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-13-01"}, "Enter a valid date."),
        ({"start": "2026-05-01", "end": "2026-04-01"}, "on or after the start date"),
        ({"start": "2999-01-01"}, "on or before the end date"),
    ],
)
def test_dates_that_cannot_be_used_show_the_message_and_no_figures(world, query, message):
    response = client_for(world.admin).get(reverse("clinic_analytics"), query)
    assert response.status_code == 400
    text = response.content.decode()
    assert message in text
    assert "<caption>" not in text
    assert not AuditEvent.objects.filter(
        action="analytics.view", outcome=AuditEvent.Outcome.ALLOWED
    ).exists()


def test_only_the_clinics_admins_see_it_and_each_only_their_own_clinic(world):
    url = reverse("clinic_analytics")
    for outsider in (world.desk, world.therapists[0].user):
        assert client_for(outsider).get(url).status_code == 404
    assert AuditEvent.objects.filter(
        action="analytics.view", outcome="denied", actor_id=world.desk.pk
    ).exists()
    other = Seeded(make_clinic("Other"))
    page = client_for(other.admin).get(url).content.decode()
    assert '<th scope="row">All courses</th><td>fewer than 5</td>' in page
    start, end = default_period(other.clinic)
    assert (
        clinic_analytics(other.admin, other.clinic, start=start, end=end).summary.overall.courses
        == 0
    )


def test_admins_find_it_in_the_navigation_and_the_clinic_settings(world):
    url = reverse("clinic_analytics")
    client = client_for(world.admin)
    assert url in client.get(reverse("dashboard")).content.decode()
    assert url in client.get(reverse("clinic_settings")).content.decode()
    assert url not in client_for(world.desk).get(reverse("dashboard")).content.decode()


def _queries_for(world: Seeded) -> int:
    client = client_for(world.admin)
    client.get(reverse("dashboard"))  # sign-in and session set-up out of the count
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("clinic_analytics")).status_code == 200
    return len(captured.captured_queries)


def _grow(world: Seeded, patients: int) -> None:
    for i in range(patients):
        _, _, notes = world.course(
            Spec(
                sessions=[(i % 2, 100), (i % 2, 93), (1 - i % 2, 86)],
                scores=[
                    ("pain_nrs", 100, 7),
                    ("pain_nrs", 90, 5),
                    ("pain_nrs", 80, 3),
                    ("rmdq", 100, 12),
                    ("rmdq", 80, 8),
                    ("analgesic_days", 100, 4),
                ],
                start_back="medium",
                techniques=("swedish", "deep_tissue"),
            )
        )
        world.check_in(notes[0], soreness="severe")


def test_the_page_reads_the_same_number_of_queries_for_6_and_30_patients():
    small = Seeded()
    _grow(small, 6)
    large = Seeded(make_clinic("Large"))
    _grow(large, 30)
    assert _queries_for(small) == _queries_for(large)


def test_the_demo_admin_sees_completed_courses_and_hidden_small_groups(settings):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("load_demo")
    call_command("load_demo")  # idempotent: the same courses, sessions and answers
    admin = User.objects.get(email="admin@demo.backcare.example")
    clinic = Clinic.objects.get(name="Riverside Back Care")
    start, end = default_period(clinic)
    page = clinic_analytics(admin, clinic, start=start, end=end)
    overall = page.summary.overall
    # Twelve past courses, Maria's and the course that ended nine weeks ago (no session
    # recorded, so stopped early): 8 completed, 4 stopped early, 2 under way.
    assert (overall.courses, overall.completed, overall.under_way) == (14, Share(8, 12), 2)
    assert overall.hidden == frozenset()
    assert overall.pain.n == 12
    breakdowns = {b.key: b.rows for b in page.summary.breakdowns}
    assert [r.label for r in breakdowns["status"] if "courses" in r.hidden] == [
        "Stopped early (last observation carried forward)",
        "Under way (not yet in outcome figures)",
    ]
    # The past courses' intakes give causes and durations; small groups read "fewer than 5".
    shown = {
        key: [r.label for r in rows if "courses" not in r.hidden]
        for key, rows in breakdowns.items()
    }
    assert shown["cause"] == ["Muscle strain"]
    assert shown["phase"] == ["Chronic (over 12 weeks)"]
    assert shown["start_back"] == ["Low risk"]


def test_the_clinics_own_thresholds_are_used_and_named_in_the_headings(world):
    from backcare.outcomes.models import OutcomeSettings

    OutcomeSettings.objects.create(clinic=world.clinic, thresholds={"pain_nrs": {"pct": 50}})
    start, end = default_period(world.clinic)
    page = clinic_analytics(world.admin, world.clinic, start=start, end=end)
    assert page.headers[6] == "Pain: improved at least 50 %"
    # Only P1 (8 -> 3, 62.5 %) reaches 50 %; P3 (40 %) and P8 (33 %) no longer do.
    assert page.overall_rows[0][1][6] == "1 of 6 (17 %)"
    assert page.overall_rows[0][1][5] == "3 of 6 (50 %)"


def test_a_therapist_without_a_full_name_is_grouped_under_their_email():
    """The sessions are read as rows, not users: the name is still what `str(user)` gives."""
    world = Seeded()
    User.objects.filter(pk=world.therapists[1].user_id).update(full_name="")
    email = world.therapists[1].user.email
    for _ in range(5):
        world.course(Spec(sessions=[(1, 100), (1, 93), (0, 86)]))
    start, end = default_period(world.clinic)
    page = clinic_analytics(world.admin, world.clinic, start=start, end=end)
    therapists = next(b for b in page.summary.breakdowns if b.key == "therapist")
    assert [(row.label, row.courses) for row in therapists.rows] == [(email, 5)]
