"""Reads of visits and their notes, scoped to the viewer and audited.

Who reads a visit note: the therapists and clinic admins of the patient's clinic. Who writes it
(draft, techniques, signing, amendments, entered in error): the visit's therapist or a clinic
admin there. The front desk, the patient, a referring clinician and anyone at another clinic get
`NotFoundError` (404), audited: a visit note is a clinical record for those who treat (the front
desk sees the appointments, not what was found or done).
"""

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from django.db.models import Prefetch, QuerySet

from backcare.accounts.models import Clinic, Role, Technique
from backcare.accounts.queries import (
    ADMIN_ROLES,
    Viewer,
    clinics_where,
    deny,
    list_techniques,
    require_roles,
    require_roles_in_all,
)
from backcare.clinical.contraindications import TreatmentLimits
from backcare.core.audit import record_event
from backcare.core.export import ExportTable, table_of
from backcare.core.paging import page_after
from backcare.patients.models import Patient, PatientPreferences
from backcare.patients.queries import find_patient
from backcare.plans.models import PlanTechnique, TreatmentPlan
from backcare.plans.queries import Windows, active_plan_of, courses_started_q
from backcare.scheduling.models import Appointment
from backcare.triage.queries import HoldStatus, hold_status, limits_from
from backcare.visits.models import (
    NOTE_FIELDS,
    AppliedTechnique,
    NoteAmendment,
    NoteStatus,
    Visit,
    VisitNote,
)
from backcare.visits.soap import AdverseEvent, adverse_events

READ_ROLES = frozenset({Role.THERAPIST, Role.CLINIC_ADMIN})
# The last visits listed on a visit page: enough to see the trend, a constant cost.
PREVIOUS_VISITS_SHOWN = 5


def may_write(viewer: Viewer, visit: Visit) -> bool:
    """Whether the viewer may write the visit's note: its therapist, while a therapist at the
    clinic, or a clinic admin there. Needs the visit's therapist loaded."""
    if visit.clinic_id in clinics_where(viewer, {Role.CLINIC_ADMIN}):
        return True
    return (
        visit.clinic_id in clinics_where(viewer, {Role.THERAPIST})
        and visit.therapist.user_id == viewer.pk
    )


def _visits() -> Any:
    return Visit.objects.select_related(
        "appointment__service",
        "appointment__room",
        "therapist__user",
        "note__signed_by",
        "note__entered_in_error_by",
    )


def _checked(viewer: Viewer, visit: Visit | None, object_id: uuid.UUID, action: str) -> Patient:
    """The visit's patient when the viewer may read the visit; else audit and raise 404."""
    if visit is None:
        raise deny(viewer, action=action, object_type="visits.visit", object_id=str(object_id))
    return find_patient(viewer, visit.patient_id, roles=READ_ROLES, allow_self=False, action=action)


def find_note(viewer: Viewer, note_id: uuid.UUID, *, action: str) -> VisitNote:
    """The note (with its visit, the visit's therapist and patient) for someone who may write
    it; `NotFoundError`, audited as `action`, for anyone else. Audits only a denial: services
    record what they then do."""
    note = (
        VisitNote.objects.filter(pk=note_id)
        .select_related("visit__therapist__user", "visit__appointment")
        .first()
    )
    patient = _checked(viewer, note.visit if note else None, note_id, action)
    assert note is not None
    if not may_write(viewer, note.visit):
        raise deny(
            viewer,
            action=action,
            clinic_id=note.clinic_id,
            patient_id=patient.pk,
            object_type="visits.visitnote",
            object_id=str(note_id),
        )
    note.visit.patient = patient
    return note


def find_applied_technique(viewer: Viewer, technique_id: uuid.UUID, *, action: str) -> VisitNote:
    """The note of a live applied technique, for someone who may write it (as `find_note`)."""
    note_id = (
        AppliedTechnique.objects.filter(pk=technique_id, removed_at=None)
        .values_list("note_id", flat=True)
        .first()
    )
    if note_id is None:
        raise deny(
            viewer,
            action=action,
            object_type="visits.appliedtechnique",
            object_id=str(technique_id),
        )
    return find_note(viewer, note_id, action=action)


def effective_values(note: VisitNote, amendments: list[NoteAmendment]) -> dict[str, Any]:
    """The note's fields with its amendments applied in order (amended values as stored in
    JSON: decimals as text). The note itself never changes."""
    values = {name: getattr(note, name) for name in NOTE_FIELDS}
    for amendment in amendments:
        values.update({k: v for k, v in amendment.changes.items() if k in values})
    return values


def last_signed_values(patient: Patient, before: datetime) -> dict[str, Any] | None:
    """The fields (amendments applied) of the patient's latest signed note of a visit that
    started before `before`, or None. Two queries. Not audited: for the service opening a visit,
    which checked the actor."""
    note = (
        VisitNote.objects.filter(
            clinic_id=patient.clinic_id,
            visit__patient=patient,
            status=NoteStatus.SIGNED,
            visit__appointment__starts_at__lt=before,
        )
        .order_by("-visit__appointment__starts_at")
        .first()
    )
    if note is None:
        return None
    return effective_values(note, list(note.amendments.order_by("amended_at", "created_at")))


@dataclass(frozen=True)
class PreviousVisit:
    """An earlier visit on the visit page, with its note's fields as amended."""

    visit: Visit
    values: dict[str, Any]


@dataclass(frozen=True)
class VisitPage:
    """Everything the visit page shows: the visit and its appointment, the note with its live
    applied techniques and amendments (oldest first), the active plan and its techniques, the
    hold and the limits treatment must keep, the patient's preferences, the techniques offered,
    the last visits before this one (newest first, at most `PREVIOUS_VISITS_SHOWN`) and whether
    the viewer may write the note."""

    visit: Visit
    patient: Patient
    appointment: Appointment
    note: VisitNote
    techniques: list[AppliedTechnique]
    amendments: list[NoteAmendment]
    plan: TreatmentPlan | None
    plan_techniques: list[PlanTechnique]
    hold: HoldStatus
    limits: TreatmentLimits
    preferences: PatientPreferences | None
    offered: list[Technique]
    previous: list[PreviousVisit]
    can_write: bool

    @property
    def is_draft(self) -> bool:
        return self.note.status == NoteStatus.DRAFT

    @property
    def may_edit(self) -> bool:
        """The draft form is shown: a draft, to someone who may write it."""
        return self.can_write and self.is_draft

    @property
    def may_amend(self) -> bool:
        """The amendment form is shown: a signed note, to someone who may write it."""
        return self.can_write and self.note.status == NoteStatus.SIGNED

    @property
    def may_mark_in_error(self) -> bool:
        return self.can_write and self.note.status != NoteStatus.ENTERED_IN_ERROR

    @property
    def effective(self) -> dict[str, Any]:
        return effective_values(self.note, self.amendments)


def get_visit_page(viewer: Viewer, visit_id: uuid.UUID) -> VisitPage:
    """The visit page for the therapists and clinic admins of the patient's clinic; one
    `visit.view` event. `NotFoundError` (audited) for anyone else. The number of queries does
    not grow with the patient's history (tested)."""
    visit = _visits().filter(pk=visit_id).first()
    patient = _checked(viewer, visit, visit_id, "visit.view")
    assert visit is not None
    visit.patient = patient
    note = visit.note
    techniques = list(
        AppliedTechnique.objects.filter(clinic_id=visit.clinic_id, note=note, removed_at=None)
        .select_related("technique", "acknowledged_by")
        .order_by("created_at")
    )
    amendments = list(
        NoteAmendment.objects.filter(clinic_id=visit.clinic_id, note=note)
        .select_related("amended_by")
        .order_by("amended_at", "created_at")
    )
    plan, plan_techniques = active_plan_of(patient)
    hold = hold_status(patient)
    previous = list(
        _visits()
        .filter(
            clinic_id=visit.clinic_id,
            patient=patient,
            appointment__starts_at__lt=visit.appointment.starts_at,
        )
        .exclude(pk=visit.pk)
        .prefetch_related("note__amendments")
        .order_by("-appointment__starts_at")[:PREVIOUS_VISITS_SHOWN]
    )
    record_event(
        actor=viewer,
        action="visit.view",
        clinic_id=visit.clinic_id,
        patient_id=patient.pk,
        obj=visit,
    )
    return VisitPage(
        visit=visit,
        patient=patient,
        appointment=visit.appointment,
        note=note,
        techniques=techniques,
        amendments=amendments,
        plan=plan,
        plan_techniques=plan_techniques,
        hold=hold,
        limits=limits_from(hold),
        preferences=getattr(patient, "preferences", None),
        offered=list(list_techniques()),
        previous=[
            PreviousVisit(v, effective_values(v.note, list(v.note.amendments.all())))
            for v in previous
        ],
        can_write=may_write(viewer, visit),
    )


def get_visit_page_for_writing(viewer: Viewer, visit_id: uuid.UUID, *, action: str) -> VisitPage:
    """The visit page for someone who may write its note (the forms posting to it are shown
    again with it); `NotFoundError`, audited as `action`, for a reader who may not write."""
    page = get_visit_page(viewer, visit_id)
    if not page.can_write:
        raise deny(
            viewer,
            action=action,
            clinic_id=page.visit.clinic_id,
            patient_id=page.patient.pk,
            object_type="visits.visit",
            object_id=str(visit_id),
        )
    return page


def record_open_page_view(viewer: Viewer, appointment: Appointment) -> None:
    """One `visit.open.view` read event: the page offering to open the appointment's visit
    shows its patient. `appointment` comes from `get_appointment_for_visit` (checked)."""
    record_event(
        actor=viewer,
        action="visit.open.view",
        clinic_id=appointment.clinic_id,
        patient_id=appointment.patient_id,
        obj=appointment,
    )


def visit_of_appointment(appointment: Appointment) -> Visit | None:
    """The visit opened for `appointment`, if any. Not audited: for the page that opens it,
    which checked the viewer (`scheduling.queries.get_appointment_for_visit`)."""
    return Visit.objects.filter(clinic_id=appointment.clinic_id, appointment=appointment).first()


@dataclass(frozen=True)
class ReportNote:
    """What a progress report carries of a signed note (amendments applied): the day, the
    therapist, the response to treatment and the adverse events. Nothing else of the note."""

    day: date
    therapist_name: str
    assessment: str
    adverse_events: tuple[AdverseEvent, ...]


def report_notes(viewer: Viewer, patient_id: uuid.UUID) -> list[ReportNote]:
    """The report extract of the patient's signed notes, oldest first, for whoever may read
    the patient's progress (the patient, their clinic's staff, their referring clinician);
    one `visit_note.report` event. Two queries, whatever the history."""
    patient = find_patient(viewer, patient_id, action="visit_note.report")
    notes = list(
        VisitNote.objects.filter(
            clinic_id=patient.clinic_id, visit__patient=patient, status=NoteStatus.SIGNED
        )
        .select_related("visit__appointment", "visit__therapist__user")
        .prefetch_related("amendments")
        .order_by("visit__appointment__starts_at")
    )
    record_event(
        actor=viewer,
        action="visit_note.report",
        clinic_id=patient.clinic_id,
        patient_id=patient.pk,
        detail={"count": len(notes)},
    )
    zone = patient.clinic.zone
    found = []
    for note in notes:
        values = effective_values(note, list(note.amendments.all()))
        found.append(
            ReportNote(
                day=note.visit.appointment.starts_at.astimezone(zone).date(),
                therapist_name=note.visit.therapist.user.full_name,
                assessment=values["assessment"],
                adverse_events=adverse_events(values["adverse_events"]),
            )
        )
    return found


@dataclass(frozen=True)
class SignedVisit:
    """A signed visit for a record export: the visit with its appointment and therapist, and
    the techniques applied (removed ones left out)."""

    visit: Visit
    techniques: tuple[AppliedTechnique, ...]


def list_signed_visits(viewer: Viewer, patient_id: uuid.UUID) -> list[SignedVisit]:
    """The patient's visits whose note is signed, oldest first, with the techniques applied,
    for whoever may read the patient record (the patient, their clinic's staff, their referring
    clinician); one `visit.list` event. Two queries, whatever the history."""
    patient = find_patient(viewer, patient_id, action="visit.list")
    notes = list(
        VisitNote.objects.filter(
            clinic_id=patient.clinic_id, visit__patient=patient, status=NoteStatus.SIGNED
        )
        .select_related("visit__appointment")
        .prefetch_related(
            Prefetch(
                "techniques",
                queryset=AppliedTechnique.objects.filter(removed_at=None)
                .select_related("technique")
                .order_by("created_at", "id"),
            )
        )
        .order_by("visit__appointment__starts_at")
    )
    record_event(
        actor=viewer,
        action="visit.list",
        clinic_id=patient.clinic_id,
        patient_id=patient.pk,
        detail={"count": len(notes)},
    )
    return [SignedVisit(note.visit, tuple(note.techniques.all())) for note in notes]


# --- Clinic analytics (reports.analytics) --------------------------------------------------------


class PlanSession(NamedTuple):
    """One attended session (signed note) of a course, as the clinic analytics reads it: its
    adverse events with the note's amendments applied, and its therapist's name."""

    plan_id: uuid.UUID
    appointment_id: uuid.UUID
    starts_at: datetime
    adverse_events: Any
    therapist: str


def list_signed_notes_of_plans(
    viewer: Viewer, clinic: Clinic | None, plan_ids: Collection[uuid.UUID]
) -> list[PlanSession]:
    """The signed notes of the visits under the given plans of the clinic (entered-in-error
    ones left out), oldest appointment first, as narrow rows (no model objects), for its
    admins; two queries (notes, then the amendments that change adverse events).
    `NotFoundError` (audited) for anyone else. Not audited itself: the analytics page records
    one event."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="analytics.view")
    notes = VisitNote.objects.filter(
        clinic=clinic, status=NoteStatus.SIGNED, visit__plan_id__in=list(plan_ids)
    )
    amended = _amended_adverse_events(
        NoteAmendment.objects.filter(clinic=clinic, note__in=notes.values("id"))
    )
    rows = notes.order_by("visit__appointment__starts_at", "id").values_list(
        "id",
        "visit__plan_id",
        "visit__appointment_id",
        "visit__appointment__starts_at",
        "adverse_events",
        "visit__therapist__user__full_name",
        "visit__therapist__user__email",
    )
    return [
        # The therapist's name as `str(user)` gives it: the full name, else the email.
        PlanSession(plan_id, appointment_id, starts_at, amended.get(pk, events), name or email)
        for pk, plan_id, appointment_id, starts_at, events, name, email in rows
    ]


def _amended_adverse_events(amendments: QuerySet[NoteAmendment, Any]) -> dict[uuid.UUID, Any]:
    """By note, the adverse events of the latest amendment that changes them (amendments apply
    in order, so the last one wins, as in `effective_values`)."""
    found: dict[uuid.UUID, Any] = {}
    rows = amendments.filter(changes__has_key="adverse_events").order_by("amended_at", "created_at")
    for note_id, changes in rows.values_list("note_id", "changes"):
        found[note_id] = changes["adverse_events"]
    return found


class GroupSession(NamedTuple):
    """One attended session (signed note) of a course, as the group analytics reads it: its
    adverse events with the note's amendments applied."""

    plan_id: uuid.UUID
    appointment_id: uuid.UUID
    starts_at: datetime
    adverse_events: Any


def _group_notes(clinic_ids: list[uuid.UUID], windows: Windows) -> QuerySet[VisitNote, Any]:
    return VisitNote.objects.filter(clinic_id__in=clinic_ids, status=NoteStatus.SIGNED).filter(
        courses_started_q(windows, prefix="visit__plan__")
    )


def list_group_sessions(
    viewer: Viewer, clinics: Collection[Clinic], windows: Windows
) -> list[GroupSession]:
    """The signed notes (entered-in-error ones left out) of the visits under the plans each
    clinic created in its window, for a viewer who administers every one of the clinics; two
    queries (notes, then the amendments that change adverse events). `NotFoundError`
    (audited) otherwise. Not audited itself: the group analytics page records one event."""
    ids = require_roles_in_all(viewer, clinics, ADMIN_ROLES, action="analytics.group_view")
    notes = _group_notes(ids, windows).values_list(
        "id",
        "visit__plan_id",
        "visit__appointment_id",
        "visit__appointment__starts_at",
        "adverse_events",
    )
    amended = _amended_adverse_events(
        NoteAmendment.objects.filter(clinic_id__in=ids, note__in=_group_notes(ids, windows))
    )
    return [
        GroupSession(plan_id, appointment_id, starts_at, amended.get(pk, events))
        for pk, plan_id, appointment_id, starts_at, events in notes
    ]


def group_session_appointments(windows: Windows) -> QuerySet[VisitNote, Any]:
    """The appointment ids of the sessions `list_group_sessions` reads, as a subquery for the
    check-ins (the caller checked the viewer)."""
    return _group_notes(list(windows), windows).values("visit__appointment_id")


# --- The JSON API (visit notes as the visit page shows them) -------------------------------------


@dataclass(frozen=True)
class NoteRow:
    """A visit note as the visit page shows it: its fields with the amendments applied, how many
    amendments there are, and the visit's appointment and therapist loaded."""

    note: VisitNote
    values: dict[str, Any]
    amendments: int


def _day_start(day: date, zone: Any) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def list_notes(
    viewer: Viewer,
    patient_id: uuid.UUID,
    *,
    first_day: date | None = None,
    last_day: date | None = None,
) -> list[NoteRow]:
    """The patient's visit notes (drafts, signed and entered in error), newest visit first,
    optionally of visits between two days (inclusive, the clinic's calendar), for the therapists
    and clinic admins of the patient's clinic; one `visit_note.list` event. `NotFoundError`
    (audited) for anyone else. Two queries, whatever the history."""
    patient = find_patient(
        viewer, patient_id, roles=READ_ROLES, allow_self=False, action="visit_note.list"
    )
    rows = VisitNote.objects.filter(clinic_id=patient.clinic_id, visit__patient=patient)
    zone = patient.clinic.zone
    if first_day is not None:
        rows = rows.filter(visit__appointment__starts_at__gte=_day_start(first_day, zone))
    if last_day is not None and last_day < date.max:
        after = _day_start(last_day + timedelta(days=1), zone)
        rows = rows.filter(visit__appointment__starts_at__lt=after)
    notes = list(
        rows.select_related("visit__appointment", "visit__therapist__user")
        .prefetch_related("amendments")
        .order_by("-visit__appointment__starts_at", "-created_at")
    )
    record_event(
        actor=viewer,
        action="visit_note.list",
        clinic_id=patient.clinic_id,
        patient_id=patient.pk,
        detail={"count": len(notes)},
    )
    return [_note_row(note, list(note.amendments.all())) for note in notes]


def _note_row(note: VisitNote, amendments: list[NoteAmendment]) -> NoteRow:
    ordered = sorted(amendments, key=lambda a: (a.amended_at, a.created_at))
    return NoteRow(note, effective_values(note, ordered), len(ordered))


def get_note(viewer: Viewer, visit_id: uuid.UUID) -> NoteRow:
    """The note of a visit with its amendments applied, for whoever may read the visit page
    (one `visit.view` event; `NotFoundError`, audited, for anyone else). Reads the note and
    its amendments only, not the rest of the page."""
    visit = _visits().filter(pk=visit_id).first()
    patient = _checked(viewer, visit, visit_id, "visit.view")
    assert visit is not None
    amendments = list(NoteAmendment.objects.filter(clinic_id=visit.clinic_id, note=visit.note))
    record_event(
        actor=viewer,
        action="visit.view",
        clinic_id=visit.clinic_id,
        patient_id=patient.pk,
        obj=visit,
    )
    return _note_row(visit.note, amendments)


def signed_visits_after(clinic: Clinic, after: uuid.UUID | None, *, limit: int) -> list[Visit]:
    """One page of the clinic's visits whose note is signed (with their appointments), for a
    clinic-wide export (not audited: the export's kick-off checked and audited the clinic
    admin)."""
    rows = Visit.objects.filter(clinic=clinic, note__status=NoteStatus.SIGNED).select_related(
        "appointment"
    )
    return page_after(rows, after, limit)


def applied_techniques_after(
    clinic: Clinic, after: uuid.UUID | None, *, limit: int
) -> list[AppliedTechnique]:
    """One page of the techniques applied at the clinic's signed visits (removed ones left
    out), with the visit and technique, for a clinic-wide export (not audited: the export's
    kick-off checked and audited the clinic admin)."""
    rows = AppliedTechnique.objects.filter(
        clinic=clinic, removed_at=None, note__status=NoteStatus.SIGNED
    ).select_related("technique", "note__visit__appointment")
    return page_after(rows, after, limit)


def export_tables(viewer: Viewer, clinic: Clinic | None) -> list[ExportTable]:
    """Every visits table of the clinic, for its admins' whole-clinic export (`NotFoundError`,
    audited, for anyone else). Rows are read later, in chunks, by the export job."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="clinic.export")
    return [
        table_of(Visit.objects.filter(clinic=clinic)),
        table_of(VisitNote.objects.filter(clinic=clinic)),
        table_of(AppliedTechnique.objects.filter(clinic=clinic)),
        table_of(NoteAmendment.objects.filter(clinic=clinic)),
    ]
