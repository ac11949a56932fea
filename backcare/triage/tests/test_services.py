from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from backcare.accounts.models import Role
from backcare.clinical.red_flags import BOOLEAN_ITEMS, RULES_VERSION
from backcare.core.errors import InvalidInputError, NotFoundError
from backcare.core.models import AuditEvent
from backcare.triage import queries, services
from backcare.triage.models import Clearance, HoldOverride, ReferralLetter, TriageAssessment
from backcare.triage.tests.factories import GIF, PDF, make_clearance, make_pdf, make_screening
from tests.factories import make_clinic, make_member, make_patient, make_user

pytestmark = pytest.mark.django_db

ALL_NO = dict.fromkeys(BOOLEAN_ITEMS, False)


@pytest.fixture
def setup():
    clinic = make_clinic()
    therapist = make_member(clinic, Role.THERAPIST)
    patient = make_patient(clinic)
    return clinic, therapist, patient


def test_a_screening_stores_inputs_result_version_settings_and_who(setup):
    clinic, therapist, patient = setup
    stored = services.record_triage(
        actor=therapist,
        patient_id=patient.pk,
        answers={**ALL_NO, "history_of_cancer": True, "ng65_criteria": []},
        contraindication_answers={"osteoporosis": True},
    )
    stored.refresh_from_db()
    assert (stored.action, stored.triggered, stored.rules_version) == (
        "refer_before_massage",
        ["RF-MAL-3"],
        RULES_VERSION,
    )
    assert stored.answers["history_of_cancer"] is True
    assert stored.answers["age"] == patient.age_on(clinic.local_date())
    assert stored.rule_settings["soft_flag_age"] == 50
    assert stored.contraindication_result["max_pressure_level"] == 3
    assert stored.entered_by == therapist
    assert stored.method == "staff"
    assert AuditEvent.objects.filter(action="triage.create", patient_id=patient.pk).count() == 1


def test_an_item_left_out_is_unanswered_not_no(setup):
    _, therapist, patient = setup
    answers = {**ALL_NO, "ng65_criteria": []}
    del answers["saddle_numbness"]
    stored = services.record_triage(actor=therapist, patient_id=patient.pk, answers=answers)
    assert stored.action == "incomplete"
    assert stored.unanswered == ["saddle_numbness"]


def test_the_clinics_settings_are_used_and_stored(setup):
    clinic, therapist, patient = setup
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    services.save_rule_settings(
        actor=admin, clinic=clinic, triage={"soft_flag_age": 30}, contraindication={}
    )
    stored = services.record_triage(
        actor=therapist, patient_id=patient.pk, answers={**ALL_NO, "ng65_criteria": []}
    )
    assert "RF-SOFT-1" in stored.triggered  # the factory patient is in their 40s
    assert stored.rule_settings["soft_flag_age"] == 30


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"saddle_numbness": "maybe"}, "saddle_numbness"),
        ({"sadle_numbness": True}, "sadle_numbness"),
        ({"ng65_criteria": ["feels_stiff"]}, "ng65_criteria"),
    ],
)
def test_invalid_answers_are_refused_naming_the_item_and_nothing_is_stored(setup, answers, field):
    _, therapist, patient = setup
    with pytest.raises(InvalidInputError) as raised:
        services.record_triage(actor=therapist, patient_id=patient.pk, answers=answers)
    assert field in raised.value.field_errors
    assert not TriageAssessment.objects.exists()


def test_a_patient_screens_themself_and_others_cannot(setup):
    clinic, _, _ = setup
    user = make_user()
    own = make_patient(clinic, user=user)
    stored = services.record_triage(
        actor=user, patient_id=own.pk, answers={**ALL_NO, "ng65_criteria": []}
    )
    assert stored.method == "portal"
    with pytest.raises(NotFoundError):
        services.record_triage(
            actor=make_member(make_clinic(), Role.THERAPIST), patient_id=own.pk, answers={}
        )


def test_screenings_are_listed_newest_first_and_the_read_is_audited(setup):
    _, therapist, patient = setup
    first = services.record_triage(
        actor=therapist, patient_id=patient.pk, answers={**ALL_NO, "ng65_criteria": []}
    )
    second = services.record_triage(
        actor=therapist, patient_id=patient.pk, answers={**ALL_NO, "ng65_criteria": []}
    )
    assert queries.list_assessments(therapist, patient.pk)[:2] == [second, first]
    assert AuditEvent.objects.filter(action="triage.list").count() == 1


def test_rule_settings_refuse_bad_values_and_drop_defaults(setup):
    clinic, _, _ = setup
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    with pytest.raises(InvalidInputError) as raised:
        services.save_rule_settings(
            actor=admin, clinic=clinic, triage={}, contraindication={"osteoporosis_max_pressure": 9}
        )
    assert "osteoporosis_max_pressure" in raised.value.field_errors
    stored = services.save_rule_settings(
        actor=admin, clinic=clinic, triage={"soft_flag_age": 50}, contraindication={}
    )
    assert stored.triage == {}
    with pytest.raises(NotFoundError):
        services.save_rule_settings(
            actor=make_member(clinic, Role.FRONT_DESK),
            clinic=clinic,
            triage={},
            contraindication={},
        )


# --- Re-screen ------------------------------------------------------------------------------------


def test_a_rescreen_carries_the_history_forward_and_asks_the_short_questions_again(setup):
    _, therapist, patient = setup
    make_screening(therapist, patient, yes=("osteoporosis",), conditions={"osteoporosis": True})
    stored = services.record_rescreen(
        actor=therapist,
        patient_id=patient.pk,
        answers={"minor_trauma_or_lift": True, "saddle_numbness": None},
        conditions={"suspected_dvt": False},
        changes_since_last="  Slipped on ice on Sunday.  ",
    )
    assert (stored.kind, stored.changes_since_last) == ("rescreen", "Slipped on ice on Sunday.")
    assert stored.answers["osteoporosis"] is True  # carried forward
    assert stored.answers["saddle_numbness"] is None  # "not sure" is unanswered, never "no"
    assert stored.action == "incomplete"
    assert stored.contraindication_answers["osteoporosis"] is True
    assert stored.contraindication_answers["suspected_dvt"] is False


def test_a_rescreen_needs_an_earlier_screening(setup):
    _, therapist, patient = setup
    with pytest.raises(InvalidInputError, match="complete the intake first"):
        services.record_rescreen(actor=therapist, patient_id=patient.pk, answers={}, conditions={})


def test_a_rescreen_after_an_incomplete_screening_stays_incomplete_until_answered(setup):
    _, therapist, patient = setup
    make_screening(therapist, patient, unanswered=("saddle_numbness",))
    services.record_rescreen(actor=therapist, patient_id=patient.pk, answers={}, conditions={})
    assert queries.hold_status(patient).state == "incomplete"
    services.record_rescreen(
        actor=therapist, patient_id=patient.pk, answers={"saddle_numbness": False}, conditions={}
    )
    assert queries.hold_status(patient).may_book


@pytest.mark.parametrize(
    ("answers", "conditions", "field"),
    [({"history_of_cancer": True}, {}, "history_of_cancer"), ({}, {"pregnant": True}, "pregnant")],
)
def test_a_rescreen_refuses_questions_it_does_not_ask(setup, answers, conditions, field):
    _, therapist, patient = setup
    make_screening(therapist, patient)
    with pytest.raises(InvalidInputError) as raised:
        services.record_rescreen(
            actor=therapist, patient_id=patient.pk, answers=answers, conditions=conditions
        )
    assert field in raised.value.field_errors
    assert TriageAssessment.objects.count() == 1


def test_the_patient_rescreens_themself_before_a_visit(setup):
    clinic, therapist, _ = setup
    user = make_user()
    own = make_patient(clinic, user=user)
    make_screening(therapist, own)
    stored = services.record_rescreen(actor=user, patient_id=own.pk, answers={}, conditions={})
    assert (stored.method, stored.entered_by) == ("portal", user)


# --- Referral letters -----------------------------------------------------------------------------


def test_a_letter_goes_to_the_referring_clinician_when_asked(setup):
    clinic, therapist, _ = setup
    clinician = make_member(clinic, Role.REFERRING_CLINICIAN)
    patient = make_patient(clinic, referred_by=clinician)
    screening = make_screening(therapist, patient, yes=("history_of_cancer",))
    letter = services.write_referral_letter(
        actor=therapist,
        patient_id=patient.pk,
        recipient_name="",
        recipient_address=" 1 High Street ",
        note=" Please review. ",
        send_to_referrer=True,
    )
    assert (letter.recipient, letter.recipient_name, letter.assessment) == (
        clinician,
        clinician.full_name,
        screening,
    )
    assert (letter.recipient_address, letter.note) == ("1 High Street", "Please review.")
    [event] = AuditEvent.objects.filter(action="referral_letter.create")
    assert event.detail == {"to_backcare_user": True}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"recipient_name": ""}, "recipient_name"),
        ({"recipient_name": "x" * 151}, "recipient_name"),
        ({"recipient_name": "Dr A", "note": "x" * 2001}, "note"),
        ({"recipient_name": "Dr A", "send_to_referrer": True}, "send_to_referrer"),
    ],
)
def test_a_bad_letter_is_refused_naming_the_field_and_nothing_is_saved(setup, fields, field):
    _, therapist, patient = setup
    make_screening(therapist, patient, yes=("history_of_cancer",))
    with pytest.raises(InvalidInputError) as raised:
        services.write_referral_letter(actor=therapist, patient_id=patient.pk, **fields)
    assert field in raised.value.field_errors
    assert not ReferralLetter.objects.exists()


def test_letters_are_written_by_clinic_staff_only(setup):
    clinic, therapist, _ = setup
    clinician = make_member(clinic, Role.REFERRING_CLINICIAN)
    patient = make_patient(clinic, referred_by=clinician)
    make_screening(therapist, patient, yes=("history_of_cancer",))
    with pytest.raises(NotFoundError):
        services.write_referral_letter(actor=clinician, patient_id=patient.pk, recipient_name="X")
    assert AuditEvent.objects.get(action="referral_letter.create").outcome == "denied"


# --- Clearances and their documents ---------------------------------------------------------------


def test_a_clearance_stores_its_conditions_and_the_document_under_a_name_of_ours(setup):
    clinic, therapist, patient = setup
    make_screening(therapist, patient, yes=("history_of_cancer",))
    letter = services.write_referral_letter(
        actor=therapist, patient_id=patient.pk, recipient_name="Dr A"
    )
    clearance = make_clearance(
        therapist,
        patient,
        document=make_pdf("../../etc/passwd.pdf"),
        restricted_regions=["lumbar", "lumbar", "abdominal"],
        excluded_techniques=["cupping"],
        max_pressure_level=2,
        conditions=" Gentle only. ",
    )
    clearance.refresh_from_db()
    assert clearance.covers == ["RF-MAL-3"]
    assert clearance.letter == letter
    assert clearance.restricted_regions == ["abdominal", "lumbar"]
    assert (clearance.document_type, clearance.document_bytes) == ("pdf", len(PDF))
    assert clearance.document.name == f"clearances/{clinic.pk}/{clearance.pk}.pdf"
    assert clearance.document.read() == PDF
    assert clearance.conditions == "Gentle only."
    assert AuditEvent.objects.get(action="clearance.create").detail["document_type"] == "pdf"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (None, "Attach the clearance document"),
        (SimpleUploadedFile("empty.pdf", b""), "The file is empty"),
        (SimpleUploadedFile("note.txt", b"Cleared for massage."), "not a file type we recognise"),
        (SimpleUploadedFile("scan.pdf", GIF, content_type="application/pdf"), "a GIF file"),
    ],
)
def test_a_bad_document_is_refused_naming_the_document_and_nothing_is_saved(
    setup, settings, upload, message
):
    _, therapist, patient = setup
    make_screening(therapist, patient, yes=("history_of_cancer",))
    with pytest.raises(InvalidInputError) as raised:
        make_clearance(therapist, patient, document=upload)
    assert message in raised.value.field_errors["document"]
    assert not Clearance.objects.exists()
    assert not (settings.MEDIA_ROOT / "clearances").exists()


def test_an_oversized_document_is_refused_with_the_limit(setup, settings):
    settings.BACKCARE_MAX_UPLOAD_BYTES = 100
    _, therapist, patient = setup
    make_screening(therapist, patient, yes=("history_of_cancer",))
    with pytest.raises(InvalidInputError) as raised:
        make_clearance(therapist, patient, document=make_pdf(content=PDF + b" " * 200))
    assert "the largest accepted is 100 bytes" in raised.value.field_errors["document"]
    assert not Clearance.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"clinician_name": ""}, "clinician_name"),
        ({"restricted_regions": ["tail"]}, "restricted_regions"),
        ({"excluded_techniques": ["reiki"]}, "excluded_techniques"),
        ({"max_pressure_level": 6}, "max_pressure_level"),
        ({"conditions": "x" * 2001}, "conditions"),
        ({"cleared_on_days": 1}, "cleared_on"),
        ({"valid_until_days": -1}, "valid_until"),
    ],
)
def test_bad_clearance_fields_are_refused_naming_the_field(setup, settings, fields, field):
    _, therapist, patient = setup
    make_screening(therapist, patient, yes=("history_of_cancer",))
    today = patient.clinic.local_date()
    values = dict(fields)
    if "cleared_on_days" in values:
        values["cleared_on"] = today + timedelta(days=values.pop("cleared_on_days"))
    if "valid_until_days" in values:
        values["valid_until"] = today + timedelta(days=values.pop("valid_until_days"))
    with pytest.raises(InvalidInputError) as raised:
        make_clearance(therapist, patient, **values)
    assert field in raised.value.field_errors
    assert not Clearance.objects.exists()
    assert not (settings.MEDIA_ROOT / "clearances").exists()


def test_there_is_nothing_to_clear_without_a_finding(setup):
    _, therapist, patient = setup
    with pytest.raises(InvalidInputError, match="no screening to clear"):
        make_clearance(therapist, patient)
    make_screening(therapist, patient)
    with pytest.raises(InvalidInputError, match="waits for a clearance"):
        make_clearance(therapist, patient)


def test_the_referring_clinician_records_a_clearance_and_the_patient_may_be_booked(setup):
    clinic, therapist, _ = setup
    clinician = make_member(clinic, Role.REFERRING_CLINICIAN)
    patient = make_patient(clinic, referred_by=clinician)
    make_screening(therapist, patient, yes=("history_of_cancer",))
    assert not queries.hold_status(patient).may_book
    clearance = make_clearance(clinician, patient)
    assert clearance.recorded_by == clinician
    assert queries.hold_status(patient).may_book


def test_a_clinician_who_did_not_refer_the_patient_cannot_clear_them(setup):
    clinic, therapist, patient = setup
    clinician = make_member(clinic, Role.REFERRING_CLINICIAN)
    make_screening(therapist, patient, yes=("history_of_cancer",))
    with pytest.raises(NotFoundError):
        make_clearance(clinician, patient)
    assert AuditEvent.objects.get(action="clearance.create").outcome == "denied"


# --- Overrides and reviews ------------------------------------------------------------------------


def test_an_emergency_cannot_be_overridden(setup):
    _, therapist, patient = setup
    make_screening(therapist, patient, yes=("saddle_numbness",))
    with pytest.raises(InvalidInputError, match="cannot be overridden") as raised:
        services.override_hold(
            actor=therapist, patient_id=patient.pk, reason="The patient insists it is nothing."
        )
    assert "reason" in raised.value.field_errors
    assert not HoldOverride.objects.exists()


def test_an_emergency_raised_by_the_contraindications_cannot_be_overridden_either(setup):
    _, therapist, patient = setup
    make_screening(
        therapist, patient, conditions={"suspected_dvt": True, "dvt_chest_pain_or_breathless": True}
    )
    with pytest.raises(InvalidInputError, match="cannot be overridden"):
        services.override_hold(actor=therapist, patient_id=patient.pk, reason="x" * 20)


@pytest.mark.parametrize(
    ("reason", "message"), [("", "Write why"), ("  short   ", "Write why"), ("x" * 2001, "2000")]
)
def test_an_override_needs_a_written_reason(setup, reason, message):
    _, therapist, patient = setup
    make_screening(therapist, patient, yes=("history_of_cancer",))
    with pytest.raises(InvalidInputError, match=message):
        services.override_hold(actor=therapist, patient_id=patient.pk, reason=reason)
    assert not HoldOverride.objects.exists()


def test_an_urgent_hold_may_be_overridden_by_a_therapist_or_admin_but_not_the_front_desk(setup):
    clinic, therapist, patient = setup
    make_screening(therapist, patient, yes=("fever_or_systemically_unwell",))
    desk = make_member(clinic, Role.FRONT_DESK)
    with pytest.raises(NotFoundError):
        services.override_hold(actor=desk, patient_id=patient.pk, reason="Seen by GP this morning.")
    override = services.override_hold(
        actor=therapist, patient_id=patient.pk, reason="  Seen by GP this morning.  "
    )
    assert override.reason == "Seen by GP this morning."
    assert queries.hold_status(patient).may_book
    with pytest.raises(InvalidInputError, match="not on hold"):
        services.override_hold(actor=therapist, patient_id=patient.pk, reason="Again, to be sure.")


def test_reviewing_a_screening_twice_keeps_the_first_review(setup):
    clinic, therapist, patient = setup
    screening = make_screening(therapist, patient)
    first = services.review_screening(actor=therapist, assessment_id=screening.pk)
    second = services.review_screening(
        actor=make_member(clinic, Role.CLINIC_ADMIN), assessment_id=screening.pk
    )
    assert first == second
    assert second.reviewed_by == therapist
    assert AuditEvent.objects.filter(action="triage.review").count() == 1


def _import_admin(clinic):
    return make_member(clinic, Role.CLINIC_ADMIN)


def test_an_imported_finding_holds_the_patient_until_cleared(setup):
    clinic, _, patient = setup
    admin = _import_admin(clinic)
    when = timezone.now() - timedelta(days=5)
    services.import_safety_record(
        actor=admin,
        patient_id=patient.pk,
        record=services.ImportedSafety(
            state=queries.HoldState.ON_HOLD,
            screened_at=when,
            findings=("RF-MAL-3",),
            letters=(("Dr Lee", when),),
        ),
    )
    hold = queries.hold_status(patient)
    assert hold.state == queries.HoldState.ON_HOLD
    assert [need.code for need in hold.waiting_for] == ["RF-MAL-3"]
    [screening] = TriageAssessment.objects.filter(patient=patient)
    assert screening.rules_version == services.IMPORTED_RULES_VERSION
    [letter] = ReferralLetter.objects.filter(patient=patient)
    assert (letter.recipient_name, letter.written_at, letter.assessment) == (
        "Dr Lee",
        when,
        screening,
    )


def test_an_imported_clearance_answers_the_imported_finding(setup):
    clinic, _, patient = setup
    cleared = services.ImportedClearance(
        clinician_name="Dr Ada",
        clinician_role="GP",
        cleared_on=clinic.local_date(),
        valid_until=None,
        covers=("RF-MAL-3",),
        max_pressure_level=2,
    )
    services.import_safety_record(
        actor=_import_admin(clinic),
        patient_id=patient.pk,
        record=services.ImportedSafety(
            state=queries.HoldState.CLEAR,
            screened_at=timezone.now() - timedelta(days=5),
            findings=("RF-MAL-3",),
            clearances=(cleared,),
        ),
    )
    hold = queries.hold_status(patient)
    assert hold.state == queries.HoldState.CLEAR
    assert queries.limits_from(hold).max_pressure_level == 2


def test_an_imported_state_the_record_cannot_give_is_refused_and_nothing_kept(setup):
    clinic, _, patient = setup
    with pytest.raises(InvalidInputError, match="cannot be rebuilt"):
        services.import_safety_record(
            actor=_import_admin(clinic),
            patient_id=patient.pk,
            record=services.ImportedSafety(
                state=queries.HoldState.CLEAR,
                screened_at=timezone.now() - timedelta(days=5),
                findings=("RF-MAL-3",),
            ),
        )
    assert not TriageAssessment.objects.filter(patient=patient).exists()


def test_only_the_clinics_admins_import_a_safety_record(setup):
    _, therapist, patient = setup
    with pytest.raises(NotFoundError):
        services.import_safety_record(
            actor=therapist,
            patient_id=patient.pk,
            record=services.ImportedSafety(state=queries.HoldState.NOT_SCREENED),
        )
