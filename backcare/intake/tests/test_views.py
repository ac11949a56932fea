"""The intake through its pages: saved as typed, triaged on submit, the result in plain words,
and who may see it (patient, clinic staff; not another clinic or a stranger)."""

import pytest
from django.urls import reverse

from backcare.accounts.models import Role
from backcare.core.models import AuditEvent
from backcare.intake.models import Intake, IntakeStatus
from backcare.intake.questions import QUESTIONS, YES
from backcare.intake.tests.answers import clean_intake
from backcare.outcomes.models import OutcomeMeasurement
from backcare.patients.models import Consent
from backcare.triage.models import TriageAssessment
from backcare.triage.queries import hold_status
from conftest import client_for
from tests.factories import make_consent_text, make_member, make_patient, make_user

STEPS = ["back", "safety", "history", "conditions", "questionnaires", "goals", "consent"]


@pytest.fixture
def patient_user(clinic):
    user = make_user(full_name="Pat Ient")
    make_patient(clinic, user=user)
    return user


@pytest.fixture
def patient(patient_user, clinic):
    from backcare.patients.models import Patient

    return Patient.objects.get(user=patient_user, clinic=clinic)


def _start(client):
    response = client.get(reverse("portal_intake"))
    assert response.status_code == 302
    return Intake.objects.get(), response


def _complete(client, intake, steps):
    response = None
    for step in STEPS:
        response = client.post(reverse("intake_step", args=[intake.pk, step]), steps[step])
        assert response.status_code == 302, (step, response.content.decode()[:2000])
    return response


def test_a_patient_with_no_flags_completes_intake_and_may_book(clinic, patient_user, patient):
    treatment = make_consent_text(clinic, "treatment")
    client = client_for(patient_user)
    intake, response = _start(client)
    assert response.url == reverse("intake_step", args=[intake.pk, "back"])
    steps = clean_intake()
    steps["consent"][f"consent_{treatment.pk}"] = "on"
    response = _complete(client, intake, steps)
    assert response.url == reverse("intake_result", args=[intake.pk])
    page = client.get(response.url)
    assert page.status_code == 200
    assert "You can book your massage" in page.content.decode()
    intake.refresh_from_db()
    assert intake.status == IntakeStatus.SUBMITTED
    assessment = intake.assessment
    assert assessment.action == "proceed"
    assert assessment.method == "portal"
    assert hold_status(patient).may_book
    instruments = set(OutcomeMeasurement.objects.values_list("instrument", flat=True))
    assert instruments == {"pain_nrs", "stress_nrs", "sleep_nrs", "analgesic_days", "psfs"}
    assert Consent.objects.filter(patient=patient, text=treatment, method="portal").exists()
    patient.preferences.refresh_from_db()
    assert patient.preferences.pressure == 3
    assert AuditEvent.objects.filter(action="intake.submit", patient_id=patient.pk).count() == 1


def test_a_cauda_equina_answer_gives_the_emergency_page_and_holds(clinic, patient_user, patient):
    client = client_for(patient_user)
    intake, _ = _start(client)
    response = _complete(client, intake, clean_intake(saddle_numbness=YES))
    page = client.get(response.url).content.decode()
    assert "Seek emergency care now" in page
    assert "book" not in page.lower().replace("do not wait for a massage appointment", "")
    status = hold_status(patient)
    assert not status.may_book
    assert status.level == "emergency"


def test_an_unsure_cauda_equina_answer_is_incomplete_never_proceed(clinic, patient_user, patient):
    client = client_for(patient_user)
    intake, _ = _start(client)
    response = _complete(client, intake, clean_intake(bowel_incontinence="not_sure"))
    page = client.get(response.url).content.decode()
    assert TriageAssessment.objects.get().action == "incomplete"
    assert "Some safety questions are unanswered" in page
    assert not hold_status(patient).may_book


def test_a_history_of_cancer_asks_for_a_doctor_before_booking(clinic, patient_user, patient):
    client = client_for(patient_user)
    intake, _ = _start(client)
    response = _complete(client, intake, clean_intake(history_of_cancer=YES))
    page = client.get(response.url).content.decode()
    assert "Please see your doctor before your first massage" in page
    assert "What to take to your doctor" in page
    assert "Have you ever had cancer" in page
    assert hold_status(patient).state == "on_hold"


def test_an_invalid_step_answers_422_and_keeps_what_was_typed(clinic, patient_user):
    client = client_for(patient_user)
    intake, _ = _start(client)
    data = clean_intake()["safety"]
    del data["saddle_numbness"]
    data["pain_on_straining"] = YES
    response = client.post(reverse("intake_step", args=[intake.pk, "safety"]), data)
    assert response.status_code == 422
    assert "Choose yes, no or “I&#x27;m not sure”." in response.content.decode()
    intake.refresh_from_db()
    assert intake.answers["pain_on_straining"] == YES
    again = client.get(reverse("intake_step", args=[intake.pk, "safety"]))
    assert 'value="yes" required id="id_pain_on_straining_0" checked' in again.content.decode()


def test_a_nul_typed_in_a_step_is_kept_as_a_replacement_character(clinic, patient_user):
    """PostgreSQL's JSON holds no NUL; what was typed is still kept (hostile-input test)."""
    client = client_for(patient_user)
    intake, _ = _start(client)
    data = {**clean_intake()["safety"], "pain_on_straining": "\u202e\x00"}
    response = client.post(reverse("intake_step", args=[intake.pk, "safety"]), data)
    assert response.status_code == 422
    intake.refresh_from_db()
    assert intake.answers["pain_on_straining"] == "\u202e\ufffd"


def test_autosave_keeps_answers_and_resume_shows_them(clinic, patient_user):
    client = client_for(patient_user)
    intake, _ = _start(client)
    response = client.post(
        reverse("intake_autosave", args=[intake.pk, "back"]), {"visit_reason": "Stiff back"}
    )
    assert response.status_code == 200
    assert "Saved at" in response.content.decode()
    intake.refresh_from_db()
    assert intake.answers["visit_reason"] == "Stiff back"
    again, _ = client.get(reverse("portal_intake")), None
    assert again.url == reverse("intake_step", args=[intake.pk, "back"])
    assert "Stiff back" in client.get(again.url).content.decode()


def test_sending_with_an_earlier_step_unanswered_goes_back_to_it(clinic, patient_user):
    client = client_for(patient_user)
    intake, _ = _start(client)
    steps = clean_intake()
    response = client.post(reverse("intake_step", args=[intake.pk, "consent"]), steps["consent"])
    assert response.status_code == 302
    assert response.url == reverse("intake_step", args=[intake.pk, "back"]) + "?check=1"
    assert client.get(response.url).status_code == 422
    assert Intake.objects.get().status == IntakeStatus.DRAFT


def test_a_sent_intake_cannot_be_changed(clinic, patient_user):
    client = client_for(patient_user)
    intake, _ = _start(client)
    _complete(client, intake, clean_intake())
    response = client.post(reverse("intake_autosave", args=[intake.pk, "back"]), {"cause": "x"})
    assert response.status_code == 409
    step = client.get(reverse("intake_step", args=[intake.pk, "back"]))
    assert step.url == reverse("intake_result", args=[intake.pk])


def test_staff_enter_a_paper_intake_and_see_the_screening_link(clinic, patient):
    therapist = make_member(clinic, Role.THERAPIST)
    client = client_for(therapist)
    response = client.post(reverse("patient_intake_start", args=[patient.pk]))
    intake = Intake.objects.get()
    assert response.url == reverse("intake_step", args=[intake.pk, "back"])
    result = _complete(client, intake, clean_intake(history_of_cancer=YES))
    intake.refresh_from_db()
    page = client.get(result.url).content.decode()
    assert reverse("assessment_detail", args=[intake.assessment_id]) in page
    assert intake.method == "paper"
    assert TriageAssessment.objects.get().method == "paper"


@pytest.mark.parametrize("outsider", ["other_clinic_staff", "stranger", "other_patient"])
def test_outsiders_get_404_and_the_attempt_is_audited(clinic, other_clinic, patient, outsider):
    intake = Intake.objects.create(
        clinic=clinic,
        patient=patient,
        method="portal",
        started_by=patient.user,
        saved_at=patient.created_at,
    )
    users = {
        "other_clinic_staff": lambda: make_member(other_clinic, Role.CLINIC_ADMIN),
        "stranger": lambda: make_user(),
        "other_patient": lambda: make_patient(clinic, user=make_user()).user,
    }
    client = client_for(users[outsider]())
    for url, method in (
        (reverse("intake_step", args=[intake.pk, "back"]), "get"),
        (reverse("intake_result", args=[intake.pk]), "get"),
        (reverse("intake_autosave", args=[intake.pk, "back"]), "post"),
        (reverse("patient_intake_start", args=[patient.pk]), "post"),
        (reverse("intake_detail", args=[intake.pk]), "get"),
    ):
        assert getattr(client, method)(url).status_code == 404, url
    denied = AuditEvent.objects.filter(outcome="denied", clinic_id=clinic.pk)
    assert denied.count() == 5


def test_anonymous_visitors_are_sent_to_login(clinic, patient):
    from django.test import Client

    response = Client().get(reverse("portal_intake"))
    assert response.status_code == 302
    assert "/accounts/login/" in response.url


@pytest.mark.parametrize(
    "question", [q for q in QUESTIONS if q.kind in {"tri", "yesno"}], ids=lambda q: q.code
)
def test_each_yes_answer_reaches_the_rules(clinic, patient_user, patient, question):
    from backcare.intake.forms import STEP_CODES, intake_form
    from backcare.intake.services import start_intake, submit_intake

    intake = start_intake(actor=patient_user, patient_id=patient.pk)
    extra = {"gestation_weeks": "20"} if question.code == "pregnant" else {}
    steps = clean_intake(**{question.code: YES}, **extra)
    cleaned = {}
    for step in STEP_CODES:
        form = intake_form(intake, step, data=steps[step])
        assert form.is_valid(), form.errors
        cleaned.update(form.cleaned_data)
    submit_intake(actor=patient_user, intake_id=intake.pk, cleaned=cleaned)
    assessment = TriageAssessment.objects.get()
    for target, item in question.feeds:
        stored = assessment.answers if target == "triage" else assessment.contraindication_answers
        assert stored[item] is True, (target, item)


def _load_wording(instrument, version, item_ids, options=()):
    from backcare.outcomes.models import InstrumentText

    for item_id in item_ids:
        InstrumentText.objects.create(
            instrument=instrument,
            version=version,
            item_id=item_id,
            text=f"Licensed wording of {item_id}",
            options=list(options),
            licence="test licence",
        )


def test_loaded_rmdq_and_start_back_wording_is_asked_and_scored(clinic, patient_user, patient):
    from backcare.clinical.instruments import START_BACK_CONSTRUCTS

    _load_wording("rmdq", "RMDQ-24", [f"item_{n:02d}" for n in range(1, 25)])
    _load_wording("start_back", "STarT Back (Keele, 9 items)", START_BACK_CONSTRUCTS)
    client = client_for(patient_user)
    intake, _ = _start(client)
    page = client.get(reverse("intake_step", args=[intake.pk, "questionnaires"])).content.decode()
    assert "Licensed wording of item_24" in page
    assert "Licensed wording of bothersomeness" in page
    steps = clean_intake()
    steps["questionnaires"].update({"rmdq_item_03": "on", "rmdq_item_17": "on"})
    steps["questionnaires"].update({f"start_back_{c}": "1" for c in START_BACK_CONSTRUCTS[:-1]})
    steps["questionnaires"]["start_back_bothersomeness"] = "very_much"
    _complete(client, intake, steps)
    rmdq = OutcomeMeasurement.objects.get(instrument="rmdq")
    assert rmdq.answers == {"ticked_items": [3, 17]}
    assert rmdq.score_exact == "2"
    start = OutcomeMeasurement.objects.get(instrument="start_back")
    assert start.band == "high"


def test_without_loaded_wording_the_licensed_questionnaires_are_not_asked(
    clinic, patient_user, patient
):
    client = client_for(patient_user)
    intake, _ = _start(client)
    page = client.get(reverse("intake_step", args=[intake.pk, "questionnaires"])).content.decode()
    assert "rmdq_item" not in page
    assert "start_back_" not in page
    assert "your therapist will ask them at your first visit" in page


def test_staff_and_the_patient_read_the_answers_back(clinic, patient_user, patient):
    client = client_for(patient_user)
    intake, _ = _start(client)
    _complete(client, intake, clean_intake(history_of_cancer=YES))
    page = client.get(reverse("intake_detail", args=[intake.pk])).content.decode()
    assert (
        "Have you ever had cancer, even if it was treated or is in remission?</dt><dd>Yes" in page
    )
    assert "Garden without pain" in page
    assert "(acute)</dd>" in page  # started 35 days ago: under 6 weeks
    assert (  # the body map's grouped choices read back in words
        "Where do you feel the pain?</dt><dd>Erector spinae (muscles beside the spine), left; "
        "Quadratus lumborum (between ribs and hip), left</dd>" in page
    )
    therapist = make_member(clinic, Role.THERAPIST)
    staff_page = client_for(therapist).get(reverse("intake_detail", args=[intake.pk]))
    assert staff_page.status_code == 200
    assert AuditEvent.objects.filter(
        action="intake.view", actor_id=therapist.pk, patient_id=patient.pk
    ).exists()


def test_a_new_intake_keeps_history_and_asks_symptoms_again(clinic, patient_user, patient):
    client = client_for(patient_user)
    intake, _ = _start(client)
    _complete(client, intake, clean_intake(saddle_numbness="not_sure", history_of_cancer=YES))
    response = client.post(reverse("portal_intake_again"))
    second = Intake.objects.exclude(pk=intake.pk).get()
    assert response.url == reverse("intake_step", args=[second.pk, "back"])
    assert second.answers["history_of_cancer"] == YES
    assert second.answers["visit_reason"] == "Lower back pain after gardening"
    for asked_again in ("saddle_numbness", "suspected_dvt", "pain_now", "pain_started_on"):
        assert asked_again not in second.answers
    assert "answers_true" not in second.answers
    assert client.get(reverse("portal_intake_again")).status_code == 405


def test_intake_pages_use_a_fixed_number_of_queries(
    clinic, patient_user, patient, django_assert_max_num_queries
):
    client = client_for(patient_user)
    intake, _ = _start(client)
    for step in STEPS:
        with django_assert_max_num_queries(10):
            assert client.get(reverse("intake_step", args=[intake.pk, step])).status_code == 200
    _complete(client, intake, clean_intake(history_of_cancer=YES))
    with django_assert_max_num_queries(13):
        assert client.get(reverse("intake_result", args=[intake.pk])).status_code == 200


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("letter.txt", b"Dear colleague, please see this patient.", "Upload a PDF, JPEG or PNG"),
        ("scan.pdf", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "this one is a GIF file"),
        ("empty.pdf", b"", "The file is empty. Attach the document again."),
        ("big.pdf", PDF_BYTES + b"0" * 2048, "the largest accepted is"),
    ],
)
def test_a_refused_upload_is_explained_and_the_intake_stays(
    clinic, patient_user, settings, name, content, message
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from backcare.intake.models import IntakeDocument

    settings.BACKCARE_MAX_UPLOAD_BYTES = 1024
    client = client_for(patient_user)
    intake, _ = _start(client)
    client.post(reverse("intake_step", args=[intake.pk, "back"]), clean_intake()["back"])
    before = Intake.objects.get().answers
    response = client.post(
        reverse("intake_document_add", args=[intake.pk]),
        {"description": "GP letter", "document": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert 'value="GP letter"' in page
    assert not IntakeDocument.objects.exists()
    assert Intake.objects.get().answers == before
    assert Intake.objects.get().status == IntakeStatus.DRAFT


def test_an_attached_document_is_read_by_the_patient_and_staff_only(
    clinic, other_clinic, patient_user, patient
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from backcare.intake.models import IntakeDocument

    client = client_for(patient_user)
    intake, _ = _start(client)
    response = client.post(
        reverse("intake_document_add", args=[intake.pk]),
        {"description": "MRI report", "document": SimpleUploadedFile("mri.pdf", PDF_BYTES)},
    )
    assert response.status_code == 302
    document = IntakeDocument.objects.get()
    assert (document.file_type, document.size_bytes) == ("pdf", len(PDF_BYTES))
    assert "MRI report" in client.get(response.url).content.decode()
    url = reverse("intake_document", args=[document.pk])
    for reader in (patient_user, make_member(clinic, Role.FRONT_DESK)):
        download = client_for(reader).get(url)
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == PDF_BYTES
        assert download["Content-Type"] == "application/pdf"
        assert download["X-Content-Type-Options"] == "nosniff"
    for outsider in (make_user(), make_member(other_clinic, Role.CLINIC_ADMIN)):
        assert client_for(outsider).get(url).status_code == 404
        response = client_for(outsider).post(
            reverse("intake_document_add", args=[intake.pk]),
            {"description": "x", "document": SimpleUploadedFile("a.pdf", PDF_BYTES)},
        )
        assert response.status_code == 404
    assert IntakeDocument.objects.count() == 1
    assert AuditEvent.objects.filter(action="intake.document_view", outcome="denied").count() == 2
    assert AuditEvent.objects.filter(action="intake.document", outcome="allowed").count() == 1


def _send(client, **changes):
    intake, _ = _start(client)
    _complete(client, intake, clean_intake(**changes))
    return Intake.objects.get(pk=intake.pk)


def test_unsure_osteoporosis_is_never_taken_as_no(clinic, patient_user, patient):
    intake = _send(client_for(patient_user), osteoporosis="not_sure")
    result = intake.assessment.contraindication_result
    assert result["unanswered"] == ["osteoporosis"]
    assert hold_status(patient).state == "incomplete"


def test_unsure_osteoporosis_with_other_precautions_brings_its_pressure_cap(
    clinic, patient_user, patient
):
    intake = _send(
        client_for(patient_user),
        osteoporosis="not_sure",
        onset_how="gradual",
        anticoagulant_or_bleeding_disorder=YES,
    )
    result = intake.assessment.contraindication_result
    assert result["assumed"] == ["osteoporosis"]
    assert "CI-OSTEOPOROSIS" in result["conditions"]
    assert result["max_pressure_level"] is not None


def test_a_contraindication_hold_says_why_in_plain_words(clinic, patient_user, patient):
    client = client_for(patient_user)
    intake, _ = _start(client)
    steps = clean_intake(recent_surgery_region="lumbar", weeks_since_surgery="3")
    response = _complete(client, intake, steps)
    page = client.get(response.url).content.decode()
    assert "Please see your doctor before your first massage" in page
    assert "massage waits for your surgeon&#x27;s clearance" in page


def test_pregnancy_needs_the_weeks_within_45(clinic, patient_user):
    client = client_for(patient_user)
    intake, _ = _start(client)
    conditions = clean_intake(pregnant=YES)["conditions"]
    response = client.post(reverse("intake_step", args=[intake.pk, "conditions"]), conditions)
    assert response.status_code == 422
    assert "Give how many weeks pregnant you are" in response.content.decode()
    conditions["gestation_weeks"] = "60"
    response = client.post(reverse("intake_step", args=[intake.pk, "conditions"]), conditions)
    assert response.status_code == 422
    assert "less than or equal to 45" in response.content.decode()


def test_the_pain_regions_are_asked_on_the_body_map(clinic, patient_user, patient):
    client = client_for(patient_user)
    intake, _ = _start(client)
    page = client.get(reverse("intake_step", args=[intake.pk, "back"])).content.decode()
    assert 'data-body-map id="id_pain_regions"' in page
    assert 'data-value="piriformis:left"' in page
    assert '<script src="/static/js/body-map.js" defer></script>' in page
