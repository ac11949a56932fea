"""Documenting a visit: opening pre-filled from the plan and the last signed note, the draft,
techniques within the screening's limits, signing (outcome measurements recorded once), the
signed note never changing, amendments and entered in error; who may do each, and the audit."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from backcare.accounts.models import Role
from backcare.core.errors import ConflictError, InvalidInputError, NotFoundError
from backcare.core.models import AuditEvent
from backcare.outcomes.models import OutcomeMeasurement
from backcare.scheduling.queries import get_appointment_for_visit
from backcare.triage.tests.factories import make_screening
from backcare.visits import services
from backcare.visits.models import (
    NOTE_FIELDS,
    AppliedTechnique,
    NoteAmendment,
    NoteStatus,
    Visit,
    VisitNote,
    VisitStatus,
)
from backcare.visits.tests.factories import (
    VisitWorld,
    make_appointment,
    make_signed_visit,
)
from tests.factories import make_clinic, make_member, make_therapist, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> VisitWorld:
    return VisitWorld()


def _events(action: str, outcome: str = "allowed") -> int:
    return AuditEvent.objects.filter(action=action, outcome=outcome).count()


def _signed(world: VisitWorld, **fields) -> VisitNote:
    visit = world.open()
    values = {"pain_before": 6, "pain_after": 3} | fields
    services.save_note_draft(actor=world.user, note_id=visit.note.pk, **values)
    return services.sign_note(actor=world.user, note_id=visit.note.pk)


# --- Opening ----------------------------------------------------------------------------------


def test_opening_prefills_the_plans_techniques_and_home_care_and_is_audited(world):
    visit = world.open()
    note = visit.note
    assert visit.plan == world.plan
    assert visit.therapist == world.therapist
    rows = list(AppliedTechnique.objects.filter(note=note))
    assert [(r.technique.code, r.muscle, r.side, r.pressure_level, r.minutes) for r in rows] == [
        ("swedish", "erector_spinae", "both", 3, 20)
    ]
    assert note.treated_regions == ["erector_spinae:left", "erector_spinae:right"]
    assert note.next_focus == "Ease the lower back"
    assert "Heat" in note.home_care
    assert note.status == NoteStatus.DRAFT
    assert _events("visit.open") == 1


def test_opening_prefills_the_last_signed_notes_plan_as_amended(world):
    make_signed_visit(world, days_ago=14, home_care="Walk daily", position="prone")
    make_signed_visit(world, days_ago=7, home_care="Stretch the hamstrings", position="side_lying")
    note = world.open().note
    assert note.next_focus == "Gluteals, visit 7"  # the amendment's correction
    assert note.home_care == "Stretch the hamstrings"
    assert note.position == "side_lying"


def test_opening_twice_returns_the_same_visit(world):
    first = world.open()
    second = world.open(actor=world.admin)
    assert first.pk == second.pk
    assert Visit.objects.count() == 1
    assert AppliedTechnique.objects.count() == 1


def test_opening_leaves_out_planned_work_that_breaks_todays_limits(world):
    # A new screening excludes deep tissue; a plan row that needed a reason is not carried over.
    from backcare.plans.tests.factories import plan_technique

    plan_technique(world.user, world.plan, technique_code="deep_tissue", acknowledged_reason="GP")
    note = world.open().note
    assert list(
        AppliedTechnique.objects.filter(note=note).values_list("technique__code", flat=True)
    ) == ["swedish"]


def test_opening_prefills_no_technique_while_the_patient_is_on_hold(world):
    make_screening(world.user, world.patient, yes=("unexplained_weight_loss",))
    note = world.open().note
    assert not AppliedTechnique.objects.filter(note=note).exists()


@pytest.mark.parametrize("who", ["colleague", "desk", "stranger", "patient", "other_clinic"])
def test_only_the_appointments_therapist_or_a_clinic_admin_may_open_it(world, who):
    other_clinic = make_clinic("Other")
    actor = {
        "colleague": world.colleague.user,
        "desk": world.desk,
        "stranger": make_user(),
        "patient": make_member(world.clinic, Role.PATIENT),
        "other_clinic": make_therapist(other_clinic).user,
    }[who]
    with pytest.raises(NotFoundError):
        world.open(actor=actor)
    assert not Visit.objects.exists()
    assert _events("visit.open", "denied") == 1


def test_a_therapist_at_another_clinic_gets_not_found_for_an_appointment_of_theirs(world):
    # The same person works at both clinics, but only as a therapist at the other one.
    other = make_clinic("Other")
    make_member(other, Role.THERAPIST, user=world.colleague.user)
    with pytest.raises(NotFoundError):
        world.open(actor=world.colleague.user)


def test_an_admin_opens_the_visit_for_the_appointments_therapist(world):
    visit = world.open(actor=world.admin)
    assert visit.therapist == world.therapist
    assert visit.opened_by == world.admin


@pytest.mark.parametrize(
    ("status", "days", "message"),
    [
        ("cancelled", 0, "booked appointment"),
        ("requested", 0, "booked appointment"),
        ("booked", 2, "on the day of the appointment"),
    ],
)
def test_a_visit_is_not_opened_for_a_cancelled_or_later_appointment(world, status, days, message):
    # Earlier than today's appointment (an active one may not overlap it on PostgreSQL).
    starts_at = timezone.now() + timedelta(days=days) - timedelta(hours=3)
    appointment = make_appointment(world, starts_at=starts_at, status=status)
    with pytest.raises(ConflictError, match=message):
        world.open(appointment=appointment)


# --- The draft --------------------------------------------------------------------------------


def test_the_draft_saves_structured_fields_and_names_the_changed_ones_in_the_audit(world):
    note = world.open().note
    saved = services.save_note_draft(
        actor=world.user,
        note_id=note.pk,
        subjective="Better since Tuesday\r\nslept well",
        pain_before=5,
        pain_regions=["piriformis:left", "quadratus_lumborum:right"],
        palpation=[{"muscle": "piriformis", "side": "left", "tension": 2, "tenderness": 3}],
        adverse_events=[{"kind": "soreness", "severity": "mild", "note": ""}],
        schober_span_cm="21.5",
        posture=["guarding"],
    )
    saved.refresh_from_db()
    assert saved.subjective == "Better since Tuesday\nslept well"
    assert saved.pain_regions == ["quadratus_lumborum:right", "piriformis:left"]  # map order
    assert saved.palpation == [
        {"muscle": "piriformis", "side": "left", "tension": 2, "tenderness": 3}
    ]
    assert saved.schober_span_cm == Decimal("21.5")
    event = AuditEvent.objects.get(action="visit.note.save")
    assert "pain_before" in event.detail["fields"]
    assert "Better" not in str(event.detail)  # clinical text never goes to the audit log


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"pain_before": 11}, "pain_before"),
        ({"analgesic_days": 8}, "analgesic_days"),
        ({"schober_span_cm": "40"}, "schober_span_cm"),
        ({"schober_span_cm": "21.55"}, "schober_span_cm"),
        ({"fingertip_floor_cm": "-31"}, "fingertip_floor_cm"),
        ({"pain_regions": ["spleen:left"]}, "pain_regions"),
        ({"posture": ["slouching"]}, "posture"),
        ({"position": "upside_down"}, "position"),
        ({"palpation": [{"muscle": "piriformis", "side": "left", "tension": 4}]}, "palpation"),
        ({"adverse_events": [{"kind": "soreness", "severity": "awful"}]}, "adverse_events"),
        ({"adverse_events": [{"kind": "other", "severity": "mild"}]}, "adverse_events"),
    ],
)
def test_bad_draft_values_are_refused_naming_the_field_and_nothing_is_saved(world, fields, field):
    note = world.open().note
    with pytest.raises(InvalidInputError) as refused:
        services.save_note_draft(actor=world.user, note_id=note.pk, subjective="kept?", **fields)
    assert field in refused.value.field_errors
    note.refresh_from_db()
    assert note.subjective == ""


def test_a_colleague_may_not_write_someone_elses_draft(world):
    note = world.open().note
    with pytest.raises(NotFoundError):
        services.save_note_draft(actor=world.colleague.user, note_id=note.pk, subjective="x")
    assert _events("visit.note.save", "denied") == 1


# --- Techniques -------------------------------------------------------------------------------


def _add(world, note, **fields):
    values: dict[str, Any] = {
        "technique_code": "myofascial_release",
        "muscle": "quadratus_lumborum",
        "side": "right",
        "pressure_level": 2,
        "minutes": 10,
    } | fields
    return services.add_applied_technique(actor=world.user, note_id=note.pk, **values)


def test_a_technique_within_the_limits_is_recorded_and_audited(world):
    note = world.open().note
    row = _add(world, note)
    assert (row.minutes, row.acknowledged_reason) == (10, "")
    assert _events("visit.technique.add") == 1
    assert _events("visit.precaution.acknowledge") == 0


def test_a_pressure_above_the_cap_is_refused_with_the_rules_message(world):
    note = world.open().note
    with pytest.raises(InvalidInputError, match="above the cap of 3") as refused:
        _add(world, note, pressure_level=4, acknowledged_reason="Patient asked for it")
    assert "pressure_level" in refused.value.field_errors


def test_a_region_to_avoid_is_refused_even_with_a_reason(world):
    note = world.open().note
    with pytest.raises(InvalidInputError, match="avoid leg_left"):
        _add(world, note, muscle="hamstrings", side="left", acknowledged_reason="Asked to")


def test_an_excluded_technique_needs_a_reason_and_the_acknowledgement_is_audited(world):
    note = world.open().note
    with pytest.raises(InvalidInputError, match="give your reason") as refused:
        _add(world, note, technique_code="deep_tissue")
    assert "acknowledged_reason" in refused.value.field_errors
    row = _add(world, note, technique_code="deep_tissue", acknowledged_reason="GP agreed, light")
    assert row.acknowledged_by == world.user
    event = AuditEvent.objects.get(action="visit.precaution.acknowledge")
    assert event.detail == {"technique": "deep_tissue", "kinds": ["excluded_technique"]}


def test_no_technique_is_recorded_while_the_patient_is_on_hold(world):
    note = world.open().note
    make_screening(world.user, world.patient, yes=("unexplained_weight_loss",))
    with pytest.raises(ConflictError, match="on hold"):
        _add(world, note)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"technique_code": "reiki"}, "technique"),
        ({"muscle": "heart"}, "muscle"),
        ({"minutes": 0}, "minutes"),
        ({"pressure_level": 6}, "pressure_level"),
    ],
)
def test_an_unknown_technique_muscle_or_bad_number_is_refused(world, fields, field):
    note = world.open().note
    with pytest.raises(InvalidInputError) as refused:
        _add(world, note, **fields)
    assert field in refused.value.field_errors


def test_a_removed_technique_is_kept_marked_removed_and_audited(world):
    note = world.open().note
    row = AppliedTechnique.objects.get(note=note)
    services.remove_applied_technique(actor=world.user, technique_id=row.pk)
    row.refresh_from_db()
    assert row.removed_at is not None
    assert _events("visit.technique.remove") == 1
    with pytest.raises(NotFoundError):
        services.remove_applied_technique(actor=world.user, technique_id=row.pk)


def test_a_stranger_cannot_add_or_remove_techniques(world):
    note = world.open().note
    row = AppliedTechnique.objects.get(note=note)
    outsider = make_therapist(make_clinic("Other")).user
    with pytest.raises(NotFoundError):
        services.add_applied_technique(
            actor=outsider,
            note_id=note.pk,
            technique_code="swedish",
            muscle="rhomboids",
            side="both",
            pressure_level=2,
            minutes=5,
        )
    with pytest.raises(NotFoundError):
        services.remove_applied_technique(actor=outsider, technique_id=row.pk)
    assert _events("visit.technique.add", "denied") == 1
    assert _events("visit.technique.remove", "denied") == 1


# --- Signing ----------------------------------------------------------------------------------


def test_signing_records_the_visits_measurements_in_outcomes_once(world):
    note = _signed(
        world,
        pain_before=7,
        pain_after=4,
        analgesic_days=3,
        schober_span_cm=Decimal("19.5"),
        fingertip_floor_cm=Decimal("-2.0"),
    )
    measurements = {str(m.pk): m for m in OutcomeMeasurement.objects.filter(patient=world.patient)}
    assert set(note.measurement_ids.values()) == set(measurements)
    by_use = {use: measurements[pk] for use, pk in note.measurement_ids.items()}
    assert by_use["pain_before"].instrument == "pain_nrs"
    assert by_use["pain_before"].score_exact == "7"
    assert by_use["pain_after"].score_exact == "4"
    assert by_use["pain_before"].measured_at <= by_use["pain_after"].measured_at
    assert by_use["analgesic_days"].score_exact == "3"
    assert by_use["schober"].score_exact == "9/2"  # excursion 19.5 - 15 cm
    assert by_use["fingertip_floor"].score_exact == "-2"
    assert {m.method for m in measurements.values()} == {"therapist"}
    assert note.signed_by == world.user
    assert Visit.objects.get().status == VisitStatus.SIGNED
    assert Visit.objects.get().appointment.status == "completed"  # attended: a session
    assert _events("visit.note.sign") == 1
    assert _events("appointment.complete") == 1


def test_signing_without_the_optional_measures_records_pain_only(world):
    note = _signed(world)
    assert sorted(note.measurement_ids) == ["pain_after", "pain_before"]
    assert OutcomeMeasurement.objects.count() == 2


def test_signing_needs_pain_before_and_after_and_records_nothing_without(world):
    note = world.open().note
    services.save_note_draft(actor=world.user, note_id=note.pk, pain_before=5)
    with pytest.raises(InvalidInputError) as refused:
        services.sign_note(actor=world.user, note_id=note.pk)
    assert set(refused.value.field_errors) == {"pain_after"}
    note.refresh_from_db()
    assert note.status == NoteStatus.DRAFT
    assert not OutcomeMeasurement.objects.exists()


def test_a_note_is_signed_once(world):
    note = _signed(world)
    with pytest.raises(ConflictError):
        services.sign_note(actor=world.user, note_id=note.pk)
    assert OutcomeMeasurement.objects.count() == 2


def test_a_colleague_cannot_sign_someone_elses_note(world):
    note = world.open().note
    with pytest.raises(NotFoundError):
        services.sign_note(actor=world.colleague.user, note_id=note.pk)
    assert _events("visit.note.sign", "denied") == 1


# --- A signed note never changes --------------------------------------------------------------


def _stored(note: VisitNote) -> dict:
    fresh = VisitNote.objects.get(pk=note.pk)
    return {name: getattr(fresh, name) for name in NOTE_FIELDS} | {"status": fresh.status}


def test_no_service_changes_a_signed_note(world):
    note = _signed(world, subjective="As signed")
    row = AppliedTechnique.objects.get(note=note)
    before = _stored(note)
    attempts = [
        lambda: services.save_note_draft(actor=world.user, note_id=note.pk, subjective="x"),
        lambda: services.sign_note(actor=world.user, note_id=note.pk),
        lambda: _add(world, note),
        lambda: services.remove_applied_technique(actor=world.user, technique_id=row.pk),
    ]
    for attempt in attempts:
        with pytest.raises(ConflictError):
            attempt()
    services.amend_note(
        actor=world.user, note_id=note.pk, reason="Patient corrected it", subjective="Amended"
    )
    assert _stored(note) == before
    assert AppliedTechnique.objects.filter(note=note, removed_at=None).count() == 1


def test_the_model_refuses_to_save_a_changed_signed_note(world):
    note = _signed(world, subjective="As signed")
    loaded = VisitNote.objects.get(pk=note.pk)
    loaded.subjective = "Rewritten"
    with pytest.raises(ConflictError):
        loaded.save()
    assert VisitNote.objects.get(pk=note.pk).subjective == "As signed"


# --- Amendments -------------------------------------------------------------------------------


def test_an_amendment_is_linked_to_the_note_with_who_when_why_and_the_corrected_fields(world):
    note = _signed(world, assessment="Less guarding", pain_after=3)
    amendment = services.amend_note(
        actor=world.admin,
        note_id=note.pk,
        reason="Pain after was misheard",
        pain_after=4,
        assessment="Less guarding",  # unchanged: not part of the amendment
    )
    assert amendment.note == note
    assert amendment.amended_by == world.admin
    assert amendment.changes == {"pain_after": 4}
    assert amendment.reason == "Pain after was misheard"
    assert VisitNote.objects.get(pk=note.pk).pain_after == 3
    event = AuditEvent.objects.get(action="visit.note.amend")
    assert event.detail["fields"] == ["pain_after"]


def test_a_second_amendment_compares_with_the_note_as_amended(world):
    note = _signed(world, next_focus="Glutes")
    services.amend_note(actor=world.user, note_id=note.pk, reason="Wrong focus", next_focus="QL")
    with pytest.raises(InvalidInputError, match="Change at least one field"):
        services.amend_note(
            actor=world.user, note_id=note.pk, reason="Again, same", next_focus="QL"
        )
    assert NoteAmendment.objects.count() == 1


@pytest.mark.parametrize(
    ("reason", "changes", "field"),
    [
        ("short", {"pain_after": 2}, "reason"),
        ("A good reason here", {"pain_after": 12}, "pain_after"),
        ("A good reason here", {"posture": ["slouch"]}, "posture"),
    ],
)
def test_a_bad_amendment_is_refused(world, reason, changes, field):
    note = _signed(world)
    with pytest.raises(InvalidInputError) as refused:
        services.amend_note(actor=world.user, note_id=note.pk, reason=reason, **changes)
    assert field in refused.value.field_errors
    assert not NoteAmendment.objects.exists()


def test_a_draft_is_not_amended(world):
    note = world.open().note
    with pytest.raises(ConflictError, match="change the draft"):
        services.amend_note(actor=world.user, note_id=note.pk, reason="Long enough", pain_after=2)


def test_a_colleague_cannot_amend_someone_elses_note(world):
    note = _signed(world)
    with pytest.raises(NotFoundError):
        services.amend_note(
            actor=world.colleague.user, note_id=note.pk, reason="Long enough", pain_after=2
        )
    assert _events("visit.note.amend", "denied") == 1


# --- Entered in error -------------------------------------------------------------------------


def test_a_signed_note_entered_in_error_keeps_its_text_and_marks_the_visit(world):
    note = _signed(world, subjective="Wrong patient's words")
    marked = services.mark_entered_in_error(
        actor=world.user, note_id=note.pk, reason="Written for the wrong patient"
    )
    assert marked.status == NoteStatus.ENTERED_IN_ERROR
    assert marked.entered_in_error_by == world.user
    assert VisitNote.objects.get(pk=note.pk).subjective == "Wrong patient's words"
    assert Visit.objects.get().status == VisitStatus.ENTERED_IN_ERROR
    assert _events("visit.note.entered_in_error") == 1
    with pytest.raises(ConflictError):
        services.amend_note(actor=world.user, note_id=note.pk, reason="Long enough", pain_after=1)
    with pytest.raises(ConflictError):
        services.mark_entered_in_error(actor=world.user, note_id=note.pk, reason="Long enough")


def test_a_draft_may_be_entered_in_error_and_then_not_written(world):
    note = world.open().note
    services.mark_entered_in_error(actor=world.admin, note_id=note.pk, reason="Opened by mistake")
    with pytest.raises(ConflictError):
        services.save_note_draft(actor=world.user, note_id=note.pk, subjective="x")


def test_entered_in_error_needs_a_reason_and_the_right_person(world):
    note = world.open().note
    with pytest.raises(InvalidInputError):
        services.mark_entered_in_error(actor=world.user, note_id=note.pk, reason="oops")
    with pytest.raises(NotFoundError):
        services.mark_entered_in_error(
            actor=world.desk, note_id=note.pk, reason="Front desk thinks so"
        )
    assert _events("visit.note.entered_in_error", "denied") == 1


# --- Scheduling's reads for visits ------------------------------------------------------------


def test_the_appointment_for_a_visit_is_found_for_its_therapist_and_admins_only(world):
    assert get_appointment_for_visit(world.user, world.appointment.pk) == world.appointment
    assert get_appointment_for_visit(world.admin, world.appointment.pk) == world.appointment
    with pytest.raises(NotFoundError):
        get_appointment_for_visit(world.colleague.user, world.appointment.pk)


# --- Corrections reach outcomes ---------------------------------------------------------------


def _pain_in_force(world) -> list[str]:
    from backcare.outcomes.queries import list_measurements

    rows = list_measurements(world.user, world.patient.pk, instrument="pain_nrs")
    return sorted(m.score_exact for m in rows)


def test_an_amended_pain_score_replaces_its_measurement_and_withdraws_the_old(world):
    note = _signed(world, pain_before=6, pain_after=3)
    assert _pain_in_force(world) == ["3", "6"]
    first = services.amend_note(
        actor=world.user, note_id=note.pk, reason="Typed 3, patient said 5", pain_after=5
    )
    assert _pain_in_force(world) == ["5", "6"]
    old = OutcomeMeasurement.objects.get(pk=note.measurement_ids["pain_after"])
    assert str(old.replaced_by_id) == first.measurement_ids["pain_after"]
    assert old.withdrawn_reason == "Visit note amended: Typed 3, patient said 5"
    replacement = OutcomeMeasurement.objects.get(pk=first.measurement_ids["pain_after"])
    assert old.measured_at == replacement.measured_at
    services.amend_note(
        actor=world.user, note_id=note.pk, reason="Rechecked with patient", pain_after=4
    )
    assert _pain_in_force(world) == ["4", "6"]
    assert OutcomeMeasurement.objects.filter(withdrawn_at__isnull=False).count() == 2
    assert _events("measurement.withdraw") == 2


def test_an_amendment_of_text_only_leaves_the_measurements(world):
    note = _signed(world)
    amendment = services.amend_note(
        actor=world.user, note_id=note.pk, reason="Clearer wording", assessment="Eased well"
    )
    assert amendment.measurement_ids == {}
    assert not OutcomeMeasurement.objects.filter(withdrawn_at__isnull=False).exists()


def test_a_note_entered_in_error_withdraws_every_measurement_it_recorded(world):
    note = _signed(world, pain_before=6, pain_after=3, analgesic_days=2)
    services.amend_note(actor=world.user, note_id=note.pk, reason="Wrong number", pain_after=4)
    services.mark_entered_in_error(
        actor=world.user, note_id=note.pk, reason="Written for the wrong patient"
    )
    assert _pain_in_force(world) == []
    assert not OutcomeMeasurement.objects.filter(withdrawn_at__isnull=True).exists()
    assert OutcomeMeasurement.objects.count() == 4  # kept, never deleted


def _imported_technique(**changes: Any) -> services.ImportedTechnique:
    values: dict[str, Any] = {
        "technique_code": "swedish",
        "muscle": "erector_spinae",
        "side": "left",
        "pressure_level": 2,
        "minutes": 15,
    } | changes
    return services.ImportedTechnique(**values)


def test_an_imported_visit_is_signed_by_its_therapist_at_the_appointments_end(world):
    past = make_appointment(world, starts_at=timezone.now() - timedelta(days=3))
    visit = services.import_signed_visit(
        actor=world.admin,
        appointment_id=past.pk,
        plan_id=world.plan.pk,
        techniques=[_imported_technique()],
    )
    note = VisitNote.objects.get(visit=visit)
    assert (visit.status, note.status) == (VisitStatus.SIGNED, NoteStatus.SIGNED)
    assert (note.signed_by, note.signed_at) == (world.user, past.ends_at)
    [applied] = AppliedTechnique.objects.filter(note=note)
    assert (applied.technique.code, applied.minutes) == ("swedish", 15)
    assert _events("visit.import") == 1


def test_an_imported_visit_with_an_unknown_muscle_writes_nothing(world):
    past = make_appointment(world, starts_at=timezone.now() - timedelta(days=3))
    with pytest.raises(InvalidInputError, match="muscle"):
        services.import_signed_visit(
            actor=world.admin,
            appointment_id=past.pk,
            plan_id=None,
            techniques=[_imported_technique(muscle="wing")],
        )
    assert not Visit.objects.filter(appointment=past).exists()


def test_the_appointments_therapist_may_not_import_a_visit(world):
    past = make_appointment(world, starts_at=timezone.now() - timedelta(days=3))
    with pytest.raises(NotFoundError):
        services.import_signed_visit(
            actor=world.user, appointment_id=past.pk, plan_id=None, techniques=[]
        )
    assert _events("visit.import", "denied") == 1
