"""Read-only views across apps: the dashboards per role and the clinic's audit log."""

import base64
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.core.paginator import Page, Paginator

from backcare.accounts import queries as accounts
from backcare.accounts.licensing import LicenceStatus
from backcare.accounts.models import Clinic, Role
from backcare.accounts.queries import ADMIN_ROLES, OFFICE_ROLES, Viewer, require_roles
from backcare.clinical import change as change_rules
from backcare.clinical.collection import CareSoFar, Due, due_questionnaires
from backcare.clinical.instruments import Direction, get_instrument
from backcare.clinical.numbers import half_up
from backcare.clinical.recurrence import FollowUpPoint, Relief, relief_after_course
from backcare.core.audit import events_for_clinic, record_event
from backcare.core.errors import InvalidInputError, NotFoundError
from backcare.core.models import AuditEvent
from backcare.intake.models import Intake
from backcare.intake.queries import has_draft, list_intakes
from backcare.outcomes.models import CheckIn, FlareUp
from backcare.outcomes.queries import (
    CheckInsAndFlareUps,
    check_ins_and_flare_ups,
    list_measurements,
    outcome_settings,
)
from backcare.patients import queries as patients
from backcare.patients.models import Patient
from backcare.plans.models import TreatmentPlan
from backcare.plans.queries import course_of, course_schedule_of
from backcare.reports import charts
from backcare.reports.models import ClinicExport, ExportStatus
from backcare.scheduling.models import Appointment
from backcare.scheduling.queries import AppointmentListing, list_patient_appointments
from backcare.triage.queries import HoldStatus, get_hold_status
from backcare.visits.queries import ReportNote, report_notes
from backcare.visits.soap import ADVERSE_KINDS, label_of

AUDIT_PAGE_SIZE = 50


@dataclass(frozen=True)
class StaffDashboard:
    clinic: Clinic
    today: date
    patient_count: int
    licence_counts: dict[LicenceStatus, int] = field(default_factory=dict)
    own_profile: accounts.TherapistProfile | None = None


def staff_dashboard(viewer: Viewer, clinic: Clinic | None) -> StaffDashboard:
    """Today at the clinic: patients on file, licences needing attention (office roles), and
    the therapist's own licence status."""
    clinic = require_roles(viewer, clinic, accounts.CLINIC_STAFF_ROLES, action="dashboard.staff")
    today = clinic.local_date()
    roles = accounts.roles_in(viewer, clinic)
    counts: dict[LicenceStatus, int] = {}
    if roles & OFFICE_ROLES:
        for row in accounts.list_licences(viewer, clinic):
            counts[row.status] = counts.get(row.status, 0) + 1
    own: accounts.TherapistProfile | None = None
    own_id = accounts.own_therapist_id(viewer) if Role.THERAPIST in roles else None
    if own_id is not None:
        own = accounts.get_therapist_profile(viewer, own_id, on=today)
    return StaffDashboard(
        clinic=clinic,
        today=today,
        patient_count=patients.count_patients(viewer, clinic),
        licence_counts=counts,
        own_profile=own,
    )


@dataclass(frozen=True)
class NextStep:
    title: str
    detail: str
    url_name: str


@dataclass(frozen=True)
class PatientDashboard:
    record: patients.PatientRecord | None
    next_steps: list[NextStep]
    hold: HoldStatus | None = None


def patient_dashboard(viewer: Viewer, clinic: Clinic | None) -> PatientDashboard:
    """The patient's next steps: consent still to give, details and preferences to complete.
    No record yet (a login made before the clinic filed one): no steps, and the page says so."""
    clinic = require_roles(viewer, clinic, {Role.PATIENT}, action="dashboard.patient")
    if not patients.has_own_record(viewer, clinic):
        return PatientDashboard(record=None, next_steps=[])
    record = patients.get_own_record(viewer, clinic)
    patient = record.patient
    steps: list[NextStep] = []
    intakes = list_intakes(viewer, patient.pk)
    if not intakes or has_draft(intakes):
        steps.append(
            NextStep(
                "Complete your health intake" if not intakes else "Finish your health intake",
                "About your back pain, safety questions and your goals: about 15 minutes. "
                "Your answers are saved as you go.",
                "portal_intake",
            )
        )
    hold = get_hold_status(viewer, patient.pk)
    given = {c.text_id for c in record.consents if c.is_active}
    missing = [t for t in patients.current_consent_texts(patient.clinic) if t.pk not in given]
    if missing:
        titles = ", ".join(t.title for t in missing)
        steps.append(NextStep("Read and give your consent", titles, "portal_consents"))
    if not patient.phone or not patient.emergency_contact_phone:
        steps.append(
            NextStep(
                "Complete your contact details",
                "A phone number and an emergency contact help us reach you.",
                "portal_contact_edit",
            )
        )
    prefs = record.preferences
    if prefs is None or (prefs.pressure is None and not prefs.avoid_areas and not prefs.language):
        steps.append(
            NextStep(
                "Tell us your massage preferences",
                "Pressure, areas not to be touched, and your preferred therapist.",
                "portal_preferences",
            )
        )
    return PatientDashboard(record=record, next_steps=steps, hold=hold)


def referrer_dashboard(viewer: Viewer, clinic: Clinic | None) -> list[Patient]:
    """The patients this referring clinician sent to the clinic (audited as a list)."""
    require_roles(viewer, clinic, {Role.REFERRING_CLINICIAN}, action="dashboard.referrer")
    return patients.list_patients(viewer, clinic)


@dataclass(frozen=True)
class AuditLogPage:
    page: Page[AuditEvent]
    rows: list[tuple[AuditEvent, str]]
    people: list[tuple[uuid.UUID, str]]
    patient_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    patient_label: str
    patient_matches: list[Patient]


def audit_log(
    viewer: Viewer,
    clinic: Clinic | None,
    *,
    patient_id: uuid.UUID | None,
    actor_id: uuid.UUID | None,
    page_number: int,
    patient_search: str = "",
) -> AuditLogPage:
    """One page of the clinic's audit log for its admins, optionally for one patient and/or
    one person; `patient_search` finds patients by name to choose from. Ids from another clinic
    are refused with a message. Records `audit.view` (and `patient.list` for a search)."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="audit.view")
    if patient_id is not None and not patients.is_patient_of(viewer, clinic, patient_id):
        accounts.deny(viewer, action="audit.view", clinic_id=clinic.pk, patient_id=patient_id)
        raise InvalidInputError(
            "That patient is not on this clinic's records. Choose a patient from this clinic.",
            field_errors={"patient": "Not a patient of this clinic."},
        )
    people = [(u.pk, f"{u} ({u.email})") for u in accounts.list_staff_of(clinic)]
    if actor_id is not None and actor_id not in {pk for pk, _ in people}:
        raise InvalidInputError(
            "That person has no role at this clinic. Choose someone from the list.",
            field_errors={"actor": "Not a member of this clinic."},
        )
    events = events_for_clinic(clinic.pk, patient_id=patient_id, actor_id=actor_id)
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(page_number)
    ids = {e.patient_id for e in page.object_list if e.patient_id}
    names = patients.patient_names(viewer, clinic, ids)
    record_event(
        actor=viewer,
        action="audit.view",
        clinic_id=clinic.pk,
        patient_id=patient_id,
        detail={"actor_filter": str(actor_id) if actor_id else "", "page": page.number},
    )
    label = names.get(patient_id, "") if patient_id else ""
    if patient_id and not label:
        label = patients.patient_names(viewer, clinic, [patient_id]).get(patient_id, "")
    rows = [(e, names.get(e.patient_id, "") if e.patient_id else "") for e in page.object_list]
    matches = (
        patients.list_patients(viewer, clinic, search=patient_search) if patient_search else []
    )
    return AuditLogPage(page, rows, people, patient_id, actor_id, label, matches[:20])


# --- Progress: each measure over time, with its change from the start ---------------------------

# The measures a progress page charts, in this order, when the patient has any.
PROGRESS_MEASURES = (
    "pain_nrs",
    "rmdq",
    "odi",
    "psfs",
    "peg",
    "analgesic_days",
    "stress_nrs",
    "sleep_nrs",
    "schober",
    "fingertip_floor",
)
_UNITS = {"analgesic_days": "days a week", "schober": "cm", "fingertip_floor": "cm"}
_PLAIN_NAMES = {
    "pain_nrs": "back pain",
    "rmdq": "disability (Roland-Morris)",
    "odi": "disability (Oswestry)",
    "psfs": "function in chosen activities",
    "peg": "pain and its interference",
    "analgesic_days": "pain medicine use",
    "stress_nrs": "stress",
    "sleep_nrs": "sleep disturbance",
    "schober": "lower-back bending (Schober)",
    "fingertip_floor": "fingertip-to-floor distance",
}


@dataclass(frozen=True)
class MeasureProgress:
    """One measure: its readings (date, value shown), the chart as a data: URL, the text
    alternative and the plain-words summary of the change from the first reading."""

    code: str
    name: str
    unit: str
    readings: list[tuple[date, str]]
    chart_url: str
    summary: str
    change: change_rules.Change | None


@dataclass(frozen=True)
class AfterCourse:
    """Since the last course ended: how long relief has lasted (None: the course did not bring
    an important improvement in pain, or pain was not rated), in words, and the flare-ups."""

    ended_on: date
    relief: Relief | None
    summary: str
    flare_ups: list[FlareUp]


@dataclass(frozen=True)
class ReportedEffect:
    """An adverse effect reported after or during a session: from a signed visit note or a
    check-in after the visit."""

    day: date
    source: str
    text: str


@dataclass(frozen=True)
class ProgressPage:
    patient: Patient
    measures: list[MeasureProgress]
    sessions: list[date]
    after_course: AfterCourse | None = None
    flare_ups: list[FlareUp] = field(default_factory=list)
    effects: list[ReportedEffect] = field(default_factory=list)
    assessments: list[ReportNote] = field(default_factory=list)
    plan: TreatmentPlan | None = None


def get_progress(viewer: Viewer, patient_id: uuid.UUID, *, now: datetime) -> ProgressPage:
    """The patient's progress for the patient, their clinic's staff and their referring
    clinician: each measure over time with the clinic's important-change thresholds, the
    sessions attended, flare-ups and how long relief has lasted since the course ended,
    adverse effects reported, and the therapist's assessments. Audited through the reads it
    makes (`appointment.list`, `measurement.list`, `flare_up.list`, `visit_note.report`);
    `NotFoundError` (audited) for anyone else. A fixed number of queries."""
    listing = list_patient_appointments(viewer, patient_id, now=now)
    known = check_ins_and_flare_ups(viewer, patient_id)
    return _progress_of(viewer, listing, known, now=now)


def _progress_of(
    viewer: Viewer, listing: AppointmentListing, known: CheckInsAndFlareUps, *, now: datetime
) -> ProgressPage:
    """`get_progress` from the patient's appointments and check-ins already read (and
    audited) by the caller."""
    patient = listing.patient
    patient_id = patient.pk
    measurements = list_measurements(viewer, patient_id)
    notes = report_notes(viewer, patient_id)
    _, thresholds = outcome_settings(patient.clinic_id)
    zone = patient.clinic.zone
    sessions = sorted(
        a.starts_at.astimezone(zone).date()
        for a in listing.past
        if a.status in ("booked", "completed") and a.ends_at <= now
    )
    by_code: dict[str, list[tuple[date, Fraction]]] = {}
    for m in sorted(measurements, key=lambda row: row.measured_at):
        if m.valid and m.score_exact and m.instrument in PROGRESS_MEASURES:
            day = m.measured_at.astimezone(zone).date()
            by_code.setdefault(m.instrument, []).append((day, Fraction(m.score_exact)))
    flare_days = tuple(f.started_on for f in known.flare_ups)
    measures = [
        _measure(code, by_code[code], thresholds.get(code), sessions, flare_days)
        for code in PROGRESS_MEASURES
        if code in by_code
    ]
    plan = course_of(patient)
    ended = plan.ended_at.astimezone(zone).date() if plan and plan.ended_at else None
    return ProgressPage(
        patient=patient,
        measures=measures,
        sessions=sessions,
        after_course=_after_course(
            ended, by_code.get("pain_nrs", []), known, zone, thresholds.get("pain_nrs")
        ),
        flare_ups=known.flare_ups,
        effects=_effects(notes, known.check_ins, zone),
        assessments=[n for n in notes if n.assessment.strip()],
        plan=plan,
    )


def _after_course(
    ended: date | None,
    pain: list[tuple[date, Fraction]],
    known: CheckInsAndFlareUps,
    zone: ZoneInfo,
    rules: change_rules.Thresholds | None,
) -> AfterCourse | None:
    if ended is None:
        return None
    before = [value for day, value in pain if day <= ended]
    relief = None
    if before:
        after = [FollowUpPoint(day, int(value)) for day, value in pain if day > ended]
        after += [
            FollowUpPoint(c.answered_at.astimezone(zone).date(), flare_up=c.flare_up)
            for c in known.check_ins
            if c.is_follow_up and c.answered_at is not None
        ]
        after += [FollowUpPoint(f.started_on, flare_up=True) for f in known.flare_ups]
        relief = relief_after_course(
            course_ended=ended,
            baseline_pain=int(before[0]),
            end_pain=int(before[-1]),
            after=after,
            thresholds=rules,
        )
    flare_ups = [f for f in known.flare_ups if f.started_on > ended]
    return AfterCourse(ended, relief, relief_sentence(ended, relief, rated=bool(before)), flare_ups)


def _span(days: int) -> str:
    if days < 14:
        return "1 day" if days == 1 else f"{days} days"
    return f"{days // 7} weeks"


def relief_sentence(ended: date, relief: Relief | None, *, rated: bool) -> str:
    """Plain words for how long relief has lasted since the course ended on `ended`, e.g.
    "Relief has lasted at least 8 weeks since your course ended on 1 March 2026." Whether there
    was relief, and whether it lasts, is `clinical.recurrence`'s judgement."""
    end = f"{ended.day} {ended:%B %Y}"
    if not rated:
        return f"Your course ended on {end}. There are no pain ratings from the course to compare."
    if relief is None:
        return (
            f"Your course ended on {end} without an important improvement in your back pain, "
            "so there is no relief to follow."
        )
    if relief.holding and relief.days == 0:
        return (
            f"Your course ended on {end} with an important improvement in your back pain. The "
            "monthly follow-ups show whether it lasts."
        )
    if relief.holding:
        return f"Relief has lasted at least {_span(relief.days)} since your course ended on {end}."
    assert relief.lost_on is not None
    lost = f"{relief.lost_on.day} {relief.lost_on:%B %Y}"
    return (
        f"Relief lasted {_span(relief.days)} after your course ended on {end}, until "
        f"{relief.why} on {lost}."
    )


def _effects(
    notes: list[ReportNote], check_ins: list[CheckIn], zone: ZoneInfo
) -> list[ReportedEffect]:
    found = [
        ReportedEffect(
            note.day,
            f"Visit note ({note.therapist_name})",
            f"{label_of(e.kind, ADVERSE_KINDS)}, {e.severity}" + (f": {e.note}" if e.note else ""),
        )
        for note in notes
        for e in note.adverse_events
    ]
    for c in check_ins:
        if c.is_follow_up or c.answered_at is None:
            continue
        said = [f"soreness, {c.soreness}"] if c.soreness not in ("", "none") else []
        said += [c.other_effects] if c.other_effects else []
        if said:
            day = c.answered_at.astimezone(zone).date()
            found.append(ReportedEffect(day, "Check-in after a visit", "; ".join(said)))
    return sorted(found, key=lambda e: e.day)


def _measure(
    code: str,
    readings: list[tuple[date, Fraction]],
    rules: change_rules.Thresholds | None,
    sessions: list[date],
    flare_ups: tuple[date, ...] = (),
) -> MeasureProgress:
    definition = get_instrument(code)
    lower_better = definition.direction == Direction.LOWER_IS_BETTER
    name = _PLAIN_NAMES[code]
    series = charts.Series(
        title=definition.name,
        unit=_UNITS.get(code, f"{definition.score_low}-{definition.score_high}"),
        low=int(definition.score_low),
        high=int(definition.score_high),
        points=tuple(charts.Point(day, value) for day, value in readings),
        lower_is_better=lower_better,
        important_change=rules.abs_points if rules else None,
        sessions=tuple(d for d in sessions if readings[0][0] <= d),
        flare_ups=tuple(d for d in flare_ups if readings[0][0] <= d) if code == "pain_nrs" else (),
    )
    svg = charts.chart_svg(series)
    found = (
        change_rules.change(code, readings[0][1], readings[-1][1], rules)
        if len(readings) > 1
        else None
    )
    return MeasureProgress(
        code=code,
        name=definition.name,
        unit=series.unit,
        readings=[(day, _shown(value)) for day, value in readings],
        chart_url="data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode(),
        summary=progress_sentence(name, found, lower_better),
        change=found,
    )


def _shown(value: Fraction) -> str:
    return str(half_up(value, 1)).removesuffix(".0")


def progress_sentence(name: str, found: change_rules.Change | None, lower_better: bool) -> str:
    """Plain words for the change from the first reading to the last, e.g. "Your back pain is 3
    points lower than when you started: an important improvement." The judgement (important
    or not) is the clinical core's (`clinical.change`), never worked out here."""
    if found is None:
        return f"One reading of {name} so far; the next shows the change."
    points = _shown(abs(found.improvement))
    unit = "point" if points == "1" else "points"
    if found.improvement == 0:
        return f"Your {name} is the same as when you started."
    better = found.improvement > 0
    direction = (
        ("lower" if lower_better else "higher")
        if better
        else ("higher" if lower_better else "lower")
    )
    start = f"Your {name} is {points} {unit} {direction} than when you started"
    if not better:
        return f"{start}: worse, worth talking over with your therapist."
    if found.meets_abs is None and found.meets_pct is None:
        return f"{start}."
    if found.responder:
        return f"{start}: an important improvement."
    return f"{start}: better, though not yet an important change."


# --- Questionnaires due --------------------------------------------------------------------------


@dataclass(frozen=True)
class DueList:
    patient: Patient
    due: tuple[Due, ...]
    activities: tuple[str, ...]


def list_due_questionnaires(viewer: Viewer, patient_id: uuid.UUID, *, now: datetime) -> DueList:
    """The questionnaires due for the patient now (`clinical.collection`), for the patient and
    their clinic's staff; audited through the reads it makes. `NotFoundError` (audited) for
    anyone else."""
    listing = list_patient_appointments(viewer, patient_id, now=now)
    patient = listing.patient
    zone = patient.clinic.zone
    last_taken: dict[str, date] = {}
    for m in list_measurements(viewer, patient_id):  # newest first
        last_taken.setdefault(m.instrument, m.measured_at.astimezone(zone).date())
    attended = sorted(
        a.starts_at.astimezone(zone).date() for a in listing.past if a.status == "completed"
    )
    schedule = course_schedule_of(patient)
    care = CareSoFar(
        today=patient.clinic.local_date(),
        last_taken=last_taken,
        session_dates=attended,
        reassess_at_sessions=schedule.reassess_at_sessions if schedule else (),
        course_ended=bool(schedule and len(attended) >= schedule.sessions_planned),
    )
    return DueList(
        patient=patient,
        due=due_questionnaires(care),
        activities=schedule.activities if schedule else (),
    )


# --- Whole-clinic export (open data) -------------------------------------------------------------

EXPORTS_LISTED = 10


def list_clinic_exports(viewer: Viewer, clinic: Clinic | None) -> list[ClinicExport]:
    """The clinic's latest exports, newest first, for its admins (`NotFoundError`, audited,
    for anyone else). One query after the role check."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="clinic.export.list")
    return list(
        ClinicExport.objects.filter(clinic=clinic)
        .select_related("requested_by")
        .order_by("-created_at")[:EXPORTS_LISTED]
    )


def get_clinic_export(viewer: Viewer, clinic: Clinic | None, export_id: uuid.UUID) -> ClinicExport:
    """One export of the clinic, for its admins; `NotFoundError` (audited) for another
    clinic's export, an unknown id or anyone else."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="clinic.export.view")
    found = ClinicExport.objects.filter(clinic=clinic, pk=export_id).first()
    if found is None:
        raise accounts.deny(
            viewer, action="clinic.export.view", clinic_id=clinic.pk, object_id=str(export_id)
        )
    return found


def download_clinic_export(
    viewer: Viewer, clinic: Clinic | None, export_id: uuid.UUID
) -> ClinicExport:
    """A finished export to download, for the clinic's admins (`NotFoundError`, audited, for
    anyone else or an export not ready). Records `clinic.export.download`."""
    export = get_clinic_export(viewer, clinic, export_id)
    if export.status != ExportStatus.DONE or not export.file:
        raise NotFoundError("That export is not ready to download.")
    record_event(
        actor=viewer, action="clinic.export.download", clinic_id=export.clinic_id, obj=export
    )
    return export


# --- The patient's own data (open data) ---------------------------------------------------------


@dataclass(frozen=True)
class MyData:
    """Everything the portal shows a patient about themself, for download: the record, the
    intakes, the appointments, answered check-ins and the progress report's content (readings,
    flare-ups, side effects, the therapist's notes on response, the plan summary)."""

    record: patients.PatientRecord
    intakes: list[Intake]
    appointments: list[Appointment]
    check_ins: list[CheckIn]
    progress: ProgressPage


def get_my_data(viewer: Viewer, clinic: Clinic | None, *, now: datetime) -> MyData:
    """The signed-in patient's own data at `clinic`, for the patient only (`NotFoundError`,
    audited, for anyone else: staff download through the FHIR export). Audited through the
    reads it makes, plus one `patient.data_download` event. A fixed number of queries."""
    record = patients.get_own_record(viewer, clinic)
    patient_id = record.patient.pk
    listing = list_patient_appointments(viewer, patient_id, now=now)
    known = check_ins_and_flare_ups(viewer, patient_id)
    progress = _progress_of(viewer, listing, known, now=now)
    record_event(
        actor=viewer,
        action="patient.data_download",
        clinic_id=record.patient.clinic_id,
        patient_id=patient_id,
    )
    appointments = sorted([*listing.past, *listing.upcoming], key=lambda a: a.starts_at)
    return MyData(
        record=record,
        intakes=list_intakes(viewer, patient_id),
        appointments=appointments,
        check_ins=known.check_ins,
        progress=progress,
    )


def own_data_patient_id(viewer: Viewer, clinic: Clinic | None) -> uuid.UUID:
    """The signed-in patient's own record id for their downloads page; one `portal.data.view`
    read event (`NotFoundError`, audited, for anyone without a record at the clinic)."""
    patient_id = patients.own_patient_id(viewer, clinic)
    record_event(
        actor=viewer,
        action="portal.data.view",
        clinic_id=clinic.pk if clinic else None,
        patient_id=patient_id,
    )
    return patient_id
