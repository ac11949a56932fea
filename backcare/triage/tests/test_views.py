"""Safety pages: the role that uses each page reaches it; another clinic's staff, a stranger and
the patient get 404 with one denied audit event; anonymous visitors are sent to sign in; writes
leave an allowed event; bad input and bad uploads are refused with nothing lost or stored."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from backcare.accounts.models import Clinic, Role
from backcare.core.models import AuditEvent
from backcare.triage import services
from backcare.triage.models import Clearance, HoldOverride, ReferralLetter, TriageAssessment
from backcare.triage.queries import hold_status
from backcare.triage.tests.factories import GIF, PDF, make_clearance, make_pdf, make_screening
from backcare.triage.vocabulary import RESCREEN_QUESTIONS
from conftest import client_for
from tests.factories import make_clinic, make_member, make_patient, make_user

pytestmark = pytest.mark.django_db


class World:
    """Home clinic: admin, front desk, therapist and a referring clinician; a patient with a
    portal login whom the clinician referred, on hold (history of cancer) with a letter to the
    clinician. Another clinic with its therapist (the colleague); a stranger."""

    def __init__(self) -> None:
        self.clinic = make_clinic("Home")
        self.admin = make_member(self.clinic, Role.CLINIC_ADMIN)
        self.desk = make_member(self.clinic, Role.FRONT_DESK)
        self.therapist = make_member(self.clinic, Role.THERAPIST)
        self.clinician = make_member(self.clinic, Role.REFERRING_CLINICIAN)
        self.patient_user = make_user(full_name="Harriet Home")
        self.patient = make_patient(
            self.clinic,
            user=self.patient_user,
            referred_by=self.clinician,
            given_name="Harriet",
            family_name="Home",
        )
        self.screening = make_screening(
            self.therapist, self.patient, yes=("history_of_cancer", "unexplained_weight_loss")
        )
        self.letter = services.write_referral_letter(
            actor=self.therapist,
            patient_id=self.patient.pk,
            recipient_name="",
            note="Please see her soon.",
            send_to_referrer=True,
        )
        self.other_clinic = make_clinic("Other")
        self.colleague = make_member(self.other_clinic, Role.THERAPIST)
        self.stranger = make_user(full_name="Stranger")


@pytest.fixture
def world() -> World:
    return World()


def events(**filters: object) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def rescreen_data(**answers: str) -> dict[str, str]:
    data = {code: "no" for code, _, _ in RESCREEN_QUESTIONS}
    data.update(answers)
    data["changes_since_last"] = "New mattress."
    return data


def clearance_data(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "clinician_name": "Dr Zed Zephyr",
        "clinician_role": "Oncologist",
        "cleared_on": "2020-01-02",
        "restricted_regions": ["lumbar"],
        "excluded_techniques": ["deep_tissue"],
        "max_pressure_level": "2",
        "conditions": "Gentle work only, review in June.",
        "document": make_pdf(),
    }
    data.update(changes)
    return data


# Patient-scoped pages: method, url, the role that uses it, data for a POST, expected status.
PAGES = [
    ("GET", lambda w: reverse("patient_safety", args=[w.patient.pk]), "desk", None, 200),
    ("GET", lambda w: reverse("assessment_detail", args=[w.screening.pk]), "desk", None, 200),
    ("POST", lambda w: reverse("assessment_review", args=[w.screening.pk]), "desk", {}, 302),
    ("GET", lambda w: reverse("referral_letter_create", args=[w.patient.pk]), "desk", None, 200),
    (
        "POST",
        lambda w: reverse("referral_letter_create", args=[w.patient.pk]),
        "desk",
        {"recipient_name": "Dr New"},
        302,
    ),
    ("GET", lambda w: reverse("referral_letter_detail", args=[w.letter.pk]), "desk", None, 200),
    ("GET", lambda w: reverse("referral_letter_pdf", args=[w.letter.pk]), "desk", None, 200),
    ("GET", lambda w: reverse("clearance_create", args=[w.patient.pk]), "desk", None, 200),
    (
        "POST",
        lambda w: reverse("clearance_create", args=[w.patient.pk]),
        "clinician",
        clearance_data,
        302,
    ),
    ("GET", lambda w: reverse("hold_override", args=[w.patient.pk]), "therapist", None, 200),
    (
        "POST",
        lambda w: reverse("hold_override", args=[w.patient.pk]),
        "therapist",
        {"reason": "Oncologist confirmed by phone."},
        302,
    ),
    ("GET", lambda w: reverse("rescreen", args=[w.patient.pk]), "therapist", None, 200),
    ("POST", lambda w: reverse("rescreen", args=[w.patient.pk]), "therapist", rescreen_data, 302),
]


def send(client, method, url, data):
    if method == "GET":
        return client.get(url)
    return client.post(url, data() if callable(data) else data)


@pytest.mark.parametrize(("method", "url", "owner", "data", "status"), PAGES)
def test_the_role_that_uses_the_page_reaches_it(world, method, url, owner, data, status):
    response = send(client_for(getattr(world, owner)), method, url(world), data)
    assert response.status_code == status


WRITES = [
    # url, the role that writes, data, the audit action
    (lambda w: reverse("assessment_review", args=[w.screening.pk]), "desk", {}, "triage.review"),
    (
        lambda w: reverse("referral_letter_create", args=[w.patient.pk]),
        "desk",
        {"recipient_name": "Dr New"},
        "referral_letter.create",
    ),
    (
        lambda w: reverse("clearance_create", args=[w.patient.pk]),
        "clinician",
        clearance_data,
        "clearance.create",
    ),
    (
        lambda w: reverse("hold_override", args=[w.patient.pk]),
        "therapist",
        {"reason": "Oncologist confirmed by phone."},
        "hold.override",
    ),
    (
        lambda w: reverse("rescreen", args=[w.patient.pk]),
        "therapist",
        rescreen_data,
        "triage.create",
    ),
]


@pytest.mark.parametrize(("url", "owner", "data", "action"), WRITES)
def test_writes_leave_one_allowed_event_naming_the_patient(world, url, owner, data, action):
    last = last_event_id()
    send(client_for(getattr(world, owner)), "POST", url(world), data)
    [event] = events(id__gt=last, action=action)
    assert (event.outcome, event.patient_id) == ("allowed", world.patient.pk)


@pytest.mark.parametrize(("method", "url", "owner", "data", "status"), PAGES)
@pytest.mark.parametrize("actor", ["colleague", "stranger", "patient_user"])
def test_others_get_404_and_exactly_one_denied_event_naming_the_patient(
    world, method, url, owner, data, status, actor
):
    counts = (TriageAssessment, ReferralLetter, Clearance, HoldOverride)
    before = [model.objects.count() for model in counts]
    last = last_event_id()
    response = send(client_for(getattr(world, actor)), method, url(world), data)
    assert response.status_code == 404
    [event] = events(id__gt=last)
    assert event.outcome == "denied"
    assert (event.patient_id, event.clinic_id) == (world.patient.pk, world.clinic.pk)
    assert "Harriet" not in response.content.decode()
    assert [model.objects.count() for model in counts] == before


@pytest.mark.parametrize(("method", "url", "owner", "data", "status"), PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(world, method, url, owner, data, status):
    response = send(client_for(None), method, url(world), data)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize(
    "name", ["referral_letter_create", "hold_override", "rescreen", "triage_queue"]
)
def test_a_referring_clinician_may_not_use_the_staff_only_pages(world, name):
    args = [] if name == "triage_queue" else [world.patient.pk]
    response = client_for(world.clinician).get(reverse(name, args=args))
    assert response.status_code == 404
    assert events(outcome="denied")


def test_the_front_desk_may_not_override_a_hold(world):
    url = reverse("hold_override", args=[world.patient.pk])
    response = client_for(world.desk).post(url, {"reason": "Because the patient asked."})
    assert response.status_code == 404
    assert not HoldOverride.objects.exists()


# --- Triage queue ---------------------------------------------------------------------------------


def test_the_queue_shows_level_in_words_and_code_what_it_waits_for_and_links(world):
    page = client_for(world.desk).get(reverse("triage_queue")).content.decode()
    assert "Harriet Home" in page
    assert reverse("patient_detail", args=[world.patient.pk]) in page
    assert reverse("assessment_detail", args=[world.screening.pk]) in page
    assert "Doctor&#x27;s review before massage" in page
    assert "<code>refer_before_massage</code>" in page
    assert "A clinician&#x27;s clearance" in page
    [event] = events(action="triage.queue")
    assert event.outcome == "allowed"


def test_the_queue_query_count_does_not_grow_with_patients(world, django_assert_max_num_queries):
    client = client_for(world.desk)
    with django_assert_max_num_queries(20) as few:
        assert client.get(reverse("triage_queue")).status_code == 200
    for n in range(6):
        patient = make_patient(world.clinic, given_name=f"Extra{n}")
        screening = make_screening(world.therapist, patient, yes=("history_of_cancer",))
        if n % 2:
            make_clearance(world.therapist, patient)
        assert screening.pk
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("triage_queue")).content.decode()
    assert "Extra0" in page
    assert "Extra1" in page  # cleared, but nobody has reviewed the screening yet


def test_the_queue_shows_times_in_the_clinics_zone(world):
    Clinic.objects.filter(pk=world.clinic.pk).update(time_zone="America/Toronto")
    moment = datetime(2026, 1, 9, 16, 0, tzinfo=UTC)  # 11:00 in Toronto
    TriageAssessment.objects.filter(pk=world.screening.pk).update(assessed_at=moment)
    page = client_for(world.desk).get(reverse("triage_queue")).content.decode()
    assert "9 Jan 2026 11:00" in page


def test_another_clinics_staff_see_their_own_queue_without_our_patients(world):
    page = client_for(world.colleague).get(reverse("triage_queue")).content.decode()
    assert "Harriet" not in page


@pytest.mark.parametrize("actor", ["stranger", "patient_user"])
def test_the_queue_is_404_for_strangers_and_patients(world, actor):
    response = client_for(getattr(world, actor)).get(reverse("triage_queue"))
    assert response.status_code == 404
    [event] = events(outcome="denied")
    assert event.action == "triage.queue"


# --- Screening and safety summary -----------------------------------------------------------------


def test_the_screening_page_shows_rules_sources_answers_and_versions(world):
    response = client_for(world.therapist).get(
        reverse("assessment_detail", args=[world.screening.pk])
    )
    page = response.content.decode()
    for text in (
        "RF-MAL-3",
        "History of cancer",
        "RF-MAL-4",
        "Verhagen 2016",
        "Unexplained weight loss",
    ):
        assert text in page
    assert world.screening.rules_version in page
    assert world.screening.contraindication_version in page
    for button in ("Mark reviewed", "Write referral letter", "Record clearance", "Override hold"):
        assert button in page


def test_a_referring_clinician_reads_the_screening_without_staff_buttons(world):
    page = (
        client_for(world.clinician)
        .get(reverse("assessment_detail", args=[world.screening.pk]))
        .content.decode()
    )
    assert "RF-MAL-3" in page
    assert "Record clearance" in page
    assert "Mark reviewed" not in page
    assert "Override hold" not in page


def test_marking_a_screening_reviewed_takes_it_off_the_queue_once_nothing_else_waits(world):
    calm = make_patient(world.clinic, given_name="Calm")
    screening = make_screening(world.therapist, calm)
    client = client_for(world.desk)
    assert "Calm" in client.get(reverse("triage_queue")).content.decode()
    client.post(reverse("assessment_review", args=[screening.pk]))
    assert "Calm" not in client.get(reverse("triage_queue")).content.decode()
    page = client.get(reverse("assessment_detail", args=[screening.pk])).content.decode()
    assert "Mark reviewed" not in page
    assert world.desk.full_name in page


def test_the_safety_page_shows_hold_findings_precautions_clearances_overrides_letters(world):
    make_screening(
        world.therapist,
        world.patient,
        yes=("history_of_cancer",),
        conditions={"osteoporosis": True},
    )
    make_clearance(world.clinician, world.patient, conditions="No work over the ribs.")
    page = (
        client_for(world.therapist)
        .get(reverse("patient_safety", args=[world.patient.pk]))
        .content.decode()
    )
    assert "May be booked" in page
    assert "RF-MAL-3" in page
    assert "CI-OSTEOPOROSIS" in page
    assert "Level 3 of 5" in page
    assert "No work over the ribs." in page
    assert reverse("clearance_document", args=[Clearance.objects.get().pk]) in page
    assert reverse("referral_letter_pdf", args=[world.letter.pk]) in page
    assert reverse("assessment_detail", args=[world.screening.pk]) in page  # the history


def test_an_override_is_shown_with_who_when_and_why(world):
    client = client_for(world.therapist)
    client.post(
        reverse("hold_override", args=[world.patient.pk]),
        {"reason": "Oncologist confirmed by phone."},
    )
    page = client.get(reverse("patient_safety", args=[world.patient.pk])).content.decode()
    assert "Oncologist confirmed by phone." in page
    assert world.therapist.full_name in page
    assert "May be booked" in page


def test_the_patient_record_links_to_the_safety_page_for_staff_but_not_for_the_patient(world):
    url = reverse("patient_detail", args=[world.patient.pk])
    safety = reverse("patient_safety", args=[world.patient.pk])
    assert safety in client_for(world.desk).get(url).content.decode()
    assert safety in client_for(world.clinician).get(url).content.decode()
    assert safety not in client_for(world.patient_user).get(url).content.decode()


def test_the_navigation_shows_the_queue_to_staff_and_letters_to_referring_clinicians(world):
    staff = client_for(world.desk).get(reverse("dashboard")).content.decode()
    clinician = client_for(world.clinician).get(reverse("dashboard")).content.decode()
    assert reverse("triage_queue") in staff
    assert reverse("referral_letter_list") not in staff
    assert reverse("referral_letter_list") in clinician
    assert reverse("triage_queue") not in clinician


# --- Referral letters -----------------------------------------------------------------------------


def test_the_letter_form_offers_the_referring_clinician_only_when_there_is_one(world):
    with_referrer = client_for(world.desk).get(
        reverse("referral_letter_create", args=[world.patient.pk])
    )
    assert "send_to_referrer" in with_referrer.content.decode()
    other = make_patient(world.clinic)
    make_screening(world.therapist, other, yes=("history_of_cancer",))
    without = client_for(world.desk).get(reverse("referral_letter_create", args=[other.pk]))
    assert "send_to_referrer" not in without.content.decode()


def test_writing_a_letter_keeps_what_was_typed_when_refused(world):
    other = make_patient(world.clinic)
    make_screening(world.therapist, other, yes=("history_of_cancer",))
    url = reverse("referral_letter_create", args=[other.pk])
    response = client_for(world.desk).post(
        url, {"recipient_name": "", "recipient_address": "1 Kept Street", "note": "Kept note"}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "This field is required." in page
    assert "1 Kept Street" in page
    assert "Kept note" in page
    assert ReferralLetter.objects.filter(patient=other).count() == 0


def test_a_letter_sent_to_the_referrer_leads_to_its_page(world):
    response = client_for(world.desk).post(
        reverse("referral_letter_create", args=[world.patient.pk]),
        {"recipient_name": "", "send_to_referrer": "on", "note": "Second letter."},
    )
    letter = ReferralLetter.objects.get(note="Second letter.")
    assert response.url == reverse("referral_letter_detail", args=[letter.pk])
    assert letter.recipient == world.clinician


def test_the_letter_page_shows_clinic_patient_findings_request_note_and_writer(world):
    page = (
        client_for(world.clinician)
        .get(reverse("referral_letter_detail", args=[world.letter.pk]))
        .content.decode()
    )
    for text in (
        world.clinic.name,
        "Harriet Home, born 17 May 1980",
        "RF-MAL-3: History of cancer",
        "Any history of cancer: medical review before massage.",
        "Sources: Verhagen 2016",
        "Answers that raised it: History of cancer",
        "the highest pressure allowed, from level 0",
        "trigger-point (ischaemic) compression",
        "Please see her soon.",
        world.therapist.full_name,
        "record the clearance there yourself",
    ):
        assert text in page, text


def test_the_letter_pdf_is_rendered_inline_for_staff_and_the_referring_clinician(world):
    for user in (world.desk, world.clinician):
        response = client_for(user).get(reverse("referral_letter_pdf", args=[world.letter.pk]))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        day = world.clinic.local_date(world.letter.written_at)
        assert response["Content-Disposition"] == (
            f'inline; filename="referral-letter-{day:%Y-%m-%d}.pdf"'
        )
        assert response.content.startswith(b"%PDF")
        assert response.content.rstrip().endswith(b"%%EOF")
    assert len(events(action="referral_letter.view", outcome="allowed")) == 2


def test_the_letter_pdf_is_rendered_with_a_fetcher_that_refuses_every_url(world, monkeypatch):
    from backcare.core import pdf

    seen = []
    real = pdf.weasyprint.HTML

    def spy(**kwargs):
        seen.append(kwargs["url_fetcher"])
        return real(**kwargs)

    monkeypatch.setattr(pdf.weasyprint, "HTML", spy)
    client_for(world.desk).get(reverse("referral_letter_pdf", args=[world.letter.pk]))
    [fetcher] = seen
    for url in ("https://example.com/logo.png", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="no external resources"):
            fetcher(url)


def test_a_referring_clinician_lists_the_letters_about_their_patients(world):
    other = make_patient(world.clinic, given_name="Ursula")
    make_screening(world.therapist, other, yes=("history_of_cancer",))
    services.write_referral_letter(actor=world.desk, patient_id=other.pk, recipient_name="Dr X")
    response = client_for(world.clinician).get(reverse("referral_letter_list"))
    page = response.content.decode()
    assert reverse("referral_letter_pdf", args=[world.letter.pk]) in page
    assert reverse("clearance_create", args=[world.patient.pk]) in page
    assert "Ursula" not in page
    [event] = events(action="referral_letter.list")
    assert event.outcome == "allowed"


@pytest.mark.parametrize("actor", ["desk", "colleague", "stranger", "patient_user"])
def test_the_letter_list_is_only_for_referring_clinicians(world, actor):
    response = client_for(getattr(world, actor)).get(reverse("referral_letter_list"))
    assert response.status_code == 404
    [event] = events(outcome="denied")
    assert event.action == "referral_letter.list"


# --- Clearances -----------------------------------------------------------------------------------


def test_the_clearance_form_is_prefilled_for_the_referring_clinician(world):
    page = (
        client_for(world.clinician)
        .get(reverse("clearance_create", args=[world.patient.pk]))
        .content.decode()
    )
    assert f'value="{world.clinician.full_name}"' in page
    assert 'value="Referring clinician"' in page
    assert 'enctype="multipart/form-data"' in page
    assert "Trigger-point (ischaemic) compression" in page
    staff_page = (
        client_for(world.desk)
        .get(reverse("clearance_create", args=[world.patient.pk]))
        .content.decode()
    )
    assert 'value="Referring clinician"' not in staff_page


def test_a_referring_clinician_records_the_clearance_and_the_patient_may_be_booked(world):
    response = client_for(world.clinician).post(
        reverse("clearance_create", args=[world.patient.pk]), clearance_data()
    )
    assert response.status_code == 302
    assert response.url == reverse("patient_safety", args=[world.patient.pk])
    clearance = Clearance.objects.get()
    assert (clearance.recorded_by, clearance.letter) == (world.clinician, world.letter)
    assert (clearance.restricted_regions, clearance.excluded_techniques) == (
        ["lumbar"],
        ["deep_tissue"],
    )
    assert clearance.max_pressure_level == 2
    assert hold_status(world.patient).may_book


def test_the_clearance_document_is_downloaded_by_the_clinician_as_an_attachment(world):
    clearance = make_clearance(world.therapist, world.patient)
    response = client_for(world.clinician).get(reverse("clearance_document", args=[clearance.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    [event] = events(action="clearance.view")
    assert event.outcome == "allowed"


@pytest.mark.parametrize("actor", ["colleague", "stranger", "patient_user"])
def test_the_clearance_document_is_404_and_audited_for_others(world, actor):
    clearance = make_clearance(world.therapist, world.patient)
    last = last_event_id()
    response = client_for(getattr(world, actor)).get(
        reverse("clearance_document", args=[clearance.pk])
    )
    assert response.status_code == 404
    [event] = events(id__gt=last)
    assert (event.outcome, event.patient_id) == ("denied", world.patient.pk)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("empty", "The file is empty. Attach the clearance document again."),
        ("oversize", "The file is 5.2 KB; the largest accepted is 200 bytes."),
        ("text", "Upload a PDF, JPEG or PNG document; this one is not a file type we recognise."),
        ("gif", "Upload a PDF, JPEG or PNG document; this one is a GIF file."),
    ],
)
def test_a_bad_upload_is_refused_beside_the_file_field_and_the_rest_is_kept(
    world, settings, document, message
):
    settings.BACKCARE_MAX_UPLOAD_BYTES = 200
    uploads = {
        "empty": make_pdf("empty.pdf", b""),
        "oversize": make_pdf("big.pdf", PDF.ljust(5300, b"0")),
        "text": make_pdf("note.txt", b"I clear this patient for massage."),
        "gif": make_pdf("scan.pdf", GIF),
    }
    response = client_for(world.clinician).post(
        reverse("clearance_create", args=[world.patient.pk]),
        clearance_data(document=uploads[document]),
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert f'<a href="#id_document">Signed clearance (PDF, JPEG or PNG): {message}' in page
    assert f'<ul class="errorlist" id="id_document_error"><li>{message}' in page
    for kept in ("Dr Zed Zephyr", "Oncologist", "2020-01-02", "Gentle work only, review in June."):
        assert kept in page
    assert 'value="lumbar" id="id_restricted_regions_5" checked' in page
    assert not Clearance.objects.exists()
    assert not (settings.MEDIA_ROOT / "clearances").exists()
    assert not hold_status(world.patient).may_book


def test_the_document_is_named_even_when_other_fields_are_refused(world, settings):
    response = client_for(world.clinician).post(
        reverse("clearance_create", args=[world.patient.pk]),
        clearance_data(cleared_on="not a date", document=make_pdf("x.pdf", GIF)),
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Enter a valid date." in page
    assert "this one is a GIF file" in page


def test_a_clearance_without_a_document_is_refused(world):
    data = clearance_data()
    del data["document"]
    response = client_for(world.therapist).post(
        reverse("clearance_create", args=[world.patient.pk]), data
    )
    assert response.status_code == 422
    assert "Attach the clearance document" in response.content.decode()


# --- Overrides ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("emergency", "reason", "message"),
    [
        (True, "The patient insists it is nothing.", "An emergency finding cannot be overridden"),
        (False, "ok", "Write why the patient may be booked without a clearance."),
    ],
)
def test_an_override_is_refused_with_the_services_message(world, emergency, reason, message):
    if emergency:
        make_screening(world.therapist, world.patient, yes=("saddle_numbness",))
    response = client_for(world.therapist).post(
        reverse("hold_override", args=[world.patient.pk]), {"reason": reason}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert reason in page
    assert not HoldOverride.objects.exists()


# --- Re-screen ------------------------------------------------------------------------------------


def test_the_rescreen_asks_plain_questions_with_not_sure(world):
    page = (
        client_for(world.therapist)
        .get(reverse("rescreen", args=[world.patient.pk]))
        .content.decode()
    )
    assert "Not sure" in page
    assert "<legend" in page
    for _, question, _ in RESCREEN_QUESTIONS:
        assert question.replace("'", "&#x27;") in page


def test_a_rescreen_without_flags_says_go_ahead_with_the_precautions(world):
    make_clearance(world.therapist, world.patient, conditions="Keep it gentle.")
    response = client_for(world.therapist).post(
        reverse("rescreen", args=[world.patient.pk]), rescreen_data(), follow=True
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Go ahead" in page
    assert "Keep it gentle." in page
    stored = TriageAssessment.objects.latest("assessed_at")
    assert (stored.kind, stored.changes_since_last) == ("rescreen", "New mattress.")


def test_a_new_flag_at_check_in_says_do_not_start_the_massage(world):
    make_clearance(world.therapist, world.patient)
    response = client_for(world.therapist).post(
        reverse("rescreen", args=[world.patient.pk]),
        rescreen_data(bilateral_leg_radicular_symptoms="yes"),
        follow=True,
    )
    page = response.content.decode()
    assert "Do not start the massage" in page
    assert "RF-NEURO-2" in page
    assert not hold_status(world.patient).may_book


def test_not_sure_is_unanswered_and_stops_the_massage(world):
    make_clearance(world.therapist, world.patient)
    response = client_for(world.patient_user).post(
        reverse("portal_rescreen"), rescreen_data(saddle_numbness="not_sure"), follow=True
    )
    page = response.content.decode()
    assert "Please do not have your massage today" in page
    assert "saddle" in page
    stored = TriageAssessment.objects.latest("assessed_at")
    assert stored.answers["saddle_numbness"] is None
    assert stored.method == "portal"


def test_an_emergency_tells_the_patient_to_seek_emergency_care_now(world):
    make_clearance(world.therapist, world.patient)
    response = client_for(world.patient_user).post(
        reverse("portal_rescreen"), rescreen_data(bowel_incontinence="yes"), follow=True
    )
    page = response.content.decode()
    assert "Seek emergency care now" in page
    assert "Go to an emergency department now" in page  # the rule's own plain words
    assert "RF-CES-1" not in page  # patients see words, not rule IDs


def test_the_patient_sees_go_ahead_in_plain_words(world):
    make_clearance(world.therapist, world.patient)
    client = client_for(world.patient_user)
    assert client.get(reverse("portal_rescreen")).status_code == 200
    page = client.post(reverse("portal_rescreen"), rescreen_data(), follow=True).content.decode()
    assert "Go ahead" in page
    assert "Nothing in your answers stops today" in page


def test_a_question_left_out_is_refused_with_the_answers_kept(world):
    data = rescreen_data(saddle_numbness="yes")
    del data["bowel_incontinence"]
    response = client_for(world.therapist).post(reverse("rescreen", args=[world.patient.pk]), data)
    assert response.status_code == 422
    page = response.content.decode()
    assert "Choose yes, no or not sure." in page
    assert "New mattress." in page
    assert 'value="yes" required id="id_saddle_numbness_0" checked' in page
    assert TriageAssessment.objects.count() == 1


def test_a_patient_without_a_screening_is_asked_to_complete_the_intake(world):
    newcomer_user = make_user(full_name="Nell New")
    newcomer = make_patient(world.clinic, user=newcomer_user)
    client = client_for(newcomer_user)
    assert "complete your health intake" in client.get(reverse("portal_rescreen")).content.decode()
    response = client.post(reverse("portal_rescreen"), rescreen_data())
    assert response.status_code == 422
    assert "complete your health intake first" in response.content.decode()
    assert not TriageAssessment.objects.filter(patient=newcomer).exists()


@pytest.mark.parametrize("actor", ["desk", "colleague", "stranger"])
def test_the_portal_rescreen_is_only_for_patients(world, actor):
    response = client_for(getattr(world, actor)).get(reverse("portal_rescreen"))
    assert response.status_code == 404
    [event] = events(outcome="denied")
    assert event.action == "portal.view"


def test_the_portal_rescreen_sends_anonymous_visitors_to_sign_in(world):
    response = client_for(None).get(reverse("portal_rescreen"))
    assert response.url.startswith(reverse("account_login"))


def test_reloading_the_rescreen_outcome_does_not_screen_again(world):
    make_clearance(world.therapist, world.patient)
    client = client_for(world.therapist)
    response = client.post(reverse("rescreen", args=[world.patient.pk]), rescreen_data())
    assert response.status_code == 302
    count = TriageAssessment.objects.count()
    for _ in range(2):
        assert client.get(response.url).status_code == 200
    assert TriageAssessment.objects.count() == count
    outcome = reverse("screening_outcome", args=[TriageAssessment.objects.latest("assessed_at").pk])
    assert response.url == outcome


def test_the_rescreen_outcome_is_404_for_other_clinics_and_strangers(world):
    make_clearance(world.therapist, world.patient)
    client_for(world.therapist).post(reverse("rescreen", args=[world.patient.pk]), rescreen_data())
    url = reverse("screening_outcome", args=[TriageAssessment.objects.latest("assessed_at").pk])
    for outsider in (make_user(), make_member(make_clinic("Elsewhere"), Role.THERAPIST)):
        assert client_for(outsider).get(url).status_code == 404
    assert AuditEvent.objects.filter(action="triage.view", outcome="denied").count() == 2


def test_the_patient_record_loads_the_hold_banner_with_the_override(world):
    record = client_for(world.therapist).get(reverse("patient_detail", args=[world.patient.pk]))
    assert (
        f'hx-get="{reverse("patient_safety", args=[world.patient.pk])}"' in record.content.decode()
    )
    services.override_hold(
        actor=world.therapist, patient_id=world.patient.pk, reason="GP confirmed by phone today."
    )
    banner = client_for(world.desk).get(
        reverse("patient_safety", args=[world.patient.pk]), headers={"HX-Request": "true"}
    )
    page = banner.content.decode()
    assert banner.status_code == 200
    assert "<html" not in page
    assert "May be booked" in page
    assert "GP confirmed by phone today." in page
    outsider = client_for(world.colleague).get(
        reverse("patient_safety", args=[world.patient.pk]), headers={"HX-Request": "true"}
    )
    assert outsider.status_code == 404
