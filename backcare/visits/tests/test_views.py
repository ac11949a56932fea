"""Visit pages: the "Visit note" buttons on the appointments page and the calendar; opening; the
page beside precautions and preferences; the draft (saved, autosaved, refused at 422 keeping
what was typed); techniques; signing; the read-only note with amendments; entered in error; 404
for everyone who may not see or write it; a page cost that does not grow with the history."""

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from backcare.accounts.models import Role
from backcare.core.models import AuditEvent
from backcare.outcomes.models import OutcomeMeasurement
from backcare.visits.models import AppliedTechnique, NoteAmendment, NoteStatus, Visit, VisitNote
from backcare.visits.tests.factories import VisitWorld, make_appointment, make_signed_visit
from conftest import client_for
from tests.factories import make_clinic, make_member, make_therapist

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> VisitWorld:
    return VisitWorld()


def _note(**changes: Any) -> dict[str, Any]:
    """A whole posted note form (empty palpation rows and no adverse events) with `changes`."""
    data: dict[str, Any] = {
        "subjective": "",
        "changes_since_last": "",
        "pain_before": "",
        "analgesic_days": "",
        "posture_note": "",
        "schober_span_cm": "",
        "fingertip_floor_cm": "",
        "position": "",
        "assessment": "",
        "pain_after": "",
        "next_focus": "",
        "home_care": "",
        "plan_changes": "",
        "adverse_note": "",
    }
    for n in range(1, 4):
        for key in ("muscle", "side", "tension", "tenderness"):
            data[f"palpation_{n}_{key}"] = ""
    for kind in ("soreness", "bruising", "dizziness", "new_neurological", "other"):
        data[f"adverse_{kind}"] = ""
    return data | changes


def _url(name: str, visit: Visit) -> str:
    return reverse(name, args=[visit.pk])


# --- Opening from the appointment -------------------------------------------------------------


def test_the_appointments_page_offers_the_visit_note_to_its_therapist_and_admins_only(world):
    url = reverse("patient_appointments", args=[world.patient.pk])
    button = reverse("visit_open", args=[world.appointment.pk])
    for user in (world.user, world.admin):
        assert button in client_for(user).get(url).content.decode()
    for user in (world.desk, world.colleague.user):
        page = client_for(user).get(url)
        assert page.status_code == 200
        assert button not in page.content.decode()


def test_the_calendar_offers_the_visit_note_for_todays_appointment(world):
    future = make_appointment(world, starts_at=timezone.now() + timedelta(days=2))
    page = client_for(world.user).get(reverse("staff_calendar"), {"view": "week"})
    text = page.content.decode()
    assert reverse("visit_open", args=[world.appointment.pk]) in text
    assert reverse("visit_open", args=[future.pk]) not in text


def test_opening_from_the_button_creates_the_visit_and_shows_it(world):
    client = client_for(world.user)
    url = reverse("visit_open", args=[world.appointment.pk])
    assert client.get(url).status_code == 200  # the page with the button, nothing opened yet
    assert not Visit.objects.exists()
    response = client.post(url)
    visit = Visit.objects.get()
    assert response.status_code == 302
    assert response.url == _url("visit_detail", visit)
    again = client.get(url)  # once opened, the address leads to the visit
    assert (again.status_code, again.url) == (302, _url("visit_detail", visit))


def test_the_page_offering_to_open_a_visit_records_a_read_of_its_patient(world):
    client_for(world.user).get(reverse("visit_open", args=[world.appointment.pk]))
    reads = AuditEvent.objects.filter(action="visit.open.view", patient_id=world.patient.pk)
    assert reads.count() == 1


def test_opening_a_later_appointment_is_refused_with_409(world):
    later = make_appointment(world, starts_at=timezone.now() + timedelta(days=3))
    response = client_for(world.user).post(reverse("visit_open", args=[later.pk]))
    assert response.status_code == 409
    assert "on the day of the appointment" in response.content.decode()


@pytest.mark.parametrize("who", ["desk", "colleague", "other_clinic"])
def test_others_get_404_when_opening(world, who):
    user = {
        "desk": world.desk,
        "colleague": world.colleague.user,
        "other_clinic": make_therapist(make_clinic("Other")).user,
    }[who]
    url = reverse("visit_open", args=[world.appointment.pk])
    assert client_for(user).get(url).status_code == 404
    assert client_for(user).post(url).status_code == 404
    assert not Visit.objects.exists()


# --- The page ---------------------------------------------------------------------------------


def test_the_page_shows_precautions_preferences_plan_and_the_rescreen_link(world):
    make_signed_visit(world, days_ago=7)
    visit = world.open()
    page = client_for(world.user).get(_url("visit_detail", visit))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Pressure cap: level 3" in text
    assert "Deep tissue" in text  # excluded by the screening (anticoagulants)
    assert "Left leg" in text  # the clearance's region to avoid
    assert "Feet" in text
    assert "ticklish" in text
    assert "2 · Light" in text  # their pressure preference
    assert "Ease the lower back" in text
    assert reverse("rescreen", args=[world.patient.pk]) in text
    assert "Gluteals, visit 7" in text  # the last visit's plan, as amended
    assert 'id="note-form"' in text
    assert reverse("visit_note_autosave", args=[visit.note.pk]) in text
    assert AuditEvent.objects.filter(action="visit.view", patient_id=world.patient.pk).exists()


def test_a_colleague_reads_the_note_without_forms_and_may_not_post(world):
    visit = world.open()
    client = client_for(world.colleague.user)
    page = client.get(_url("visit_detail", visit))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="note-form"' not in text
    assert "Record a technique" not in text
    for name in (
        "visit_note_save",
        "visit_note_sign",
        "visit_technique_add",
        "visit_note_amend",
        "visit_note_entered_in_error",
    ):
        assert client.post(_url(name, visit), _note(pain_before="3")).status_code == 404
    assert client.post(reverse("visit_note_autosave", args=[visit.note.pk])).status_code == 404
    assert VisitNote.objects.get().pain_before is None


@pytest.mark.parametrize("who", ["desk", "other_clinic", "patient"])
def test_the_page_is_404_for_the_front_desk_other_clinics_and_patients(world, who):
    visit = world.open()
    user = {
        "desk": world.desk,
        "other_clinic": make_therapist(make_clinic("Other")).user,
        "patient": make_member(world.clinic, Role.PATIENT),
    }[who]
    assert client_for(user).get(_url("visit_detail", visit)).status_code == 404
    assert client_for(user).post(_url("visit_note_save", visit), _note()).status_code == 404


@pytest.mark.parametrize("previous", [1, 50])
def test_the_page_costs_the_same_queries_with_1_or_50_earlier_visits(
    world, django_assert_num_queries, previous
):
    for days in range(1, previous + 1):
        make_signed_visit(world, days_ago=days, palpation=[_PALPATION])
    visit = world.open()
    client = client_for(world.user)
    with django_assert_num_queries(VIEW_QUERIES):
        assert client.get(_url("visit_detail", visit)).status_code == 200


_PALPATION = {"muscle": "piriformis", "side": "left", "tension": 1, "tenderness": 2}
# The page's queries (test_queries.PAGE_QUERIES) and the request's own: the session, the user,
# their memberships and their MFA authenticator.
VIEW_QUERIES = 18


# --- The draft --------------------------------------------------------------------------------


def test_saving_the_draft_keeps_the_fields_and_redirects(world):
    visit = world.open()
    data = _note(
        subjective="Stiff in the mornings",
        pain_before="6",
        pain_regions=["quadratus_lumborum:right"],
        palpation_1_muscle="quadratus_lumborum",
        palpation_1_side="right",
        palpation_1_tension="2",
        palpation_1_tenderness="3",
        adverse_soreness="mild",
        posture=["guarding"],
    )
    response = client_for(world.user).post(_url("visit_note_save", visit), data)
    assert response.status_code == 302
    note = VisitNote.objects.get()
    assert note.subjective == "Stiff in the mornings"
    assert note.pain_regions == ["quadratus_lumborum:right"]
    assert note.palpation == [
        {"muscle": "quadratus_lumborum", "side": "right", "tension": 2, "tenderness": 3}
    ]
    assert note.adverse_events == [{"kind": "soreness", "severity": "mild", "note": ""}]


def test_bad_input_is_a_422_that_keeps_everything_typed_and_saves_what_is_valid(world):
    visit = world.open()
    data = _note(
        subjective="Sharp pain on waking",
        pain_before="12",
        palpation_1_muscle="piriformis",
        adverse_other="moderate",
    )
    response = client_for(world.user).post(_url("visit_note_save", visit), data)
    assert response.status_code == 422
    text = response.content.decode()
    assert "Please correct the following" in text
    assert "Ensure this value is less than or equal to 10" in text
    assert "Give the side and both grades of this finding." in text
    assert "Say what the other adverse event was." in text
    assert "Sharp pain on waking" in text
    assert 'value="12"' in text
    note = VisitNote.objects.get()
    assert note.subjective == "Sharp pain on waking"  # the valid fields are saved
    assert note.pain_before is None


def test_autosave_answers_in_words(world):
    visit = world.open()
    client = client_for(world.user)
    url = reverse("visit_note_autosave", args=[visit.note.pk])
    saved = client.post(url, _note(subjective="Typed so far", pain_after="2"))
    assert saved.status_code == 200
    assert saved.content.decode().startswith("Saved at ")
    partly = client.post(url, _note(subjective="More typed", pain_after="eleven"))
    assert partly.status_code == 422
    assert "except: Pain after the session (0-10)" in partly.content.decode()
    note = VisitNote.objects.get()
    assert (note.subjective, note.pain_after) == ("More typed", 2)


# --- Techniques -------------------------------------------------------------------------------


def _technique(**changes: str) -> dict[str, str]:
    return {
        "technique-technique": "myofascial_release",
        "technique-muscle": "quadratus_lumborum",
        "technique-side": "right",
        "technique-minutes": "10",
        "technique-pressure_level": "3",
        "technique-acknowledged_reason": "",
    } | {f"technique-{k}": v for k, v in changes.items()}


def test_a_pressure_above_the_cap_is_a_422_with_the_rule_keeping_the_form(world):
    visit = world.open()
    client = client_for(world.user)
    url = _url("visit_technique_add", visit)
    refused = client.post(url, _technique(pressure_level="5", minutes="17"))
    assert refused.status_code == 422
    text = refused.content.decode()
    assert "Pressure level 5 is above the cap of 3 for this patient" in text
    assert 'value="17"' in text
    assert client.post(url, _technique()).status_code == 302
    assert AppliedTechnique.objects.filter(technique__code="myofascial_release").exists()


def test_an_excluded_technique_needs_the_reason_on_the_page(world):
    visit = world.open()
    client = client_for(world.user)
    url = _url("visit_technique_add", visit)
    refused = client.post(url, _technique(technique="deep_tissue", pressure_level="2"))
    assert refused.status_code == 422
    assert "give your reason for the precaution" in refused.content.decode()
    data = _technique(technique="deep_tissue", pressure_level="2", acknowledged_reason="GP ok")
    assert client.post(url, data).status_code == 302
    assert "GP ok" in client.get(_url("visit_detail", visit)).content.decode()


def test_removing_a_technique(world):
    visit = world.open()
    row = AppliedTechnique.objects.get()
    response = client_for(world.user).post(reverse("visit_technique_remove", args=[row.pk]))
    assert (response.status_code, response.url) == (302, _url("visit_detail", visit))
    assert (
        client_for(world.colleague.user)
        .post(reverse("visit_technique_remove", args=[row.pk]))
        .status_code
        == 404
    )


# --- Signing, amending, entered in error ------------------------------------------------------


def test_signing_without_pain_after_is_a_422_that_keeps_what_was_typed(world):
    visit = world.open()
    data = _note(pain_before="6", assessment="Softer after work on the QL")
    response = client_for(world.user).post(_url("visit_note_sign", visit), data)
    assert response.status_code == 422
    text = response.content.decode()
    assert "Give the pain rating before and after the session to sign the note." in text
    assert "Softer after work on the QL" in text
    assert VisitNote.objects.get().status == NoteStatus.DRAFT


def test_a_signed_note_is_read_only_with_an_amend_form_and_amendments_beside_it(world):
    visit = world.open()
    client = client_for(world.user)
    data = _note(pain_before="6", pain_after="3", assessment="Less guarding")
    assert client.post(_url("visit_note_sign", visit), data).status_code == 302
    assert OutcomeMeasurement.objects.filter(patient=world.patient).count() == 2
    page = client.get(_url("visit_detail", visit)).content.decode()
    assert 'id="note-form"' not in page
    assert "Less guarding" in page
    assert "Amend this note" in page
    # The draft's URLs now refuse: the note is signed.
    assert client.post(_url("visit_note_save", visit), _note(pain_before="1")).status_code == 409
    autosave = reverse("visit_note_autosave", args=[visit.note.pk])
    assert client.post(autosave, _note(pain_before="1")).status_code == 409
    assert VisitNote.objects.get().pain_before == 6

    amend = _note(pain_before="6", pain_after="4", assessment="Less guarding")
    short = client.post(_url("visit_note_amend", visit), {**_prefixed(amend), "amend-reason": "x"})
    assert short.status_code == 422
    assert "Ensure this value has at least 10 characters" in short.content.decode()
    response = client.post(
        _url("visit_note_amend", visit),
        {**_prefixed(amend), "amend-reason": "Pain after was misheard"},
    )
    assert response.status_code == 302
    assert NoteAmendment.objects.get().changes == {"pain_after": 4}
    page = client.get(_url("visit_detail", visit)).content.decode()
    assert "Pain after was misheard" in page
    assert "4/10" in page


def _prefixed(data: dict[str, Any]) -> dict[str, Any]:
    return {f"amend-{k}": v for k, v in data.items()}


def test_an_amendment_without_a_change_is_a_422(world):
    visit = world.open()
    client = client_for(world.user)
    client.post(_url("visit_note_sign", visit), _note(pain_before="6", pain_after="3"))
    same = {**_prefixed(_note(pain_before="6", pain_after="3")), "amend-reason": "No change, test"}
    response = client.post(_url("visit_note_amend", visit), same)
    assert response.status_code == 422
    assert "Change at least one field" in response.content.decode()


def test_entered_in_error_needs_a_reason_and_then_marks_the_note(world):
    visit = world.open()
    client = client_for(world.admin)
    url = _url("visit_note_entered_in_error", visit)
    assert client.post(url, {"error-reason": "oops"}).status_code == 422
    response = client.post(url, {"error-reason": "Opened for the wrong patient"})
    assert response.status_code == 302
    page = client.get(_url("visit_detail", visit)).content.decode()
    assert "Entered in error" in page
    assert "Opened for the wrong patient" in page
    assert 'id="note-form"' not in page
    assert VisitNote.objects.get().status == NoteStatus.ENTERED_IN_ERROR
