"""Hostile input on every form: hypothesis fills each form of backcare (found by importing every
`forms` module) with huge strings, unicode with NUL and lone surrogates, wrong types, other
clinics' ids and script tags, and sends it to the view that takes it, as a user allowed there.
The answer may be a refusal, never a server error.

`FORMS` maps each form class to the URL it is posted to (or read from, for filters); a form
that is not in it fails `test_every_form_is_mapped`, so a new form is fuzzed from its first day.
The JSON API is fuzzed by schemathesis (backcare/api/tests/test_schemathesis.py).
"""

import importlib
import pkgutil
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django import forms
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import backcare
from backcare.accounts.models import Membership, Role, User
from backcare.accounts.services import create_api_token
from backcare.intake.services import start_intake
from backcare.outcomes.services import check_in_token, create_check_in
from backcare.scheduling.models import WorkingHours
from backcare.triage.tests.factories import make_screening
from backcare.visits.tests.factories import VisitWorld, make_signed_visit
from tests.factories import make_clinic, make_patient, make_user

pytestmark = pytest.mark.django_db

EXAMPLES_PER_FORM = 10

HOSTILE_TEXT = [
    "<script>window.__xss=1</script>",
    '"><svg onload="window.__xss=1">',
    '<img src=x onerror="window.__xss=1">',
    "javascript:window.__xss=1",
    "\x00",
    "a\x00b",
    "\ud800",
    "\udfff tail",
    "' OR '1'='1",
    "1; DROP TABLE patients_patient; --",
    "{{ 7*7 }}{% now 'Y' %}",
    "x" * 100_000,
    "9" * 400,
    "-1",
    "1e309",
    "NaN",
    "2026-02-30",
    "25:61",
    "0000-00-00T00:00",
    "[]",
    '{"a": 1}',
    "true",
    "\u202e\u0000\ufeff",
    "😀" * 500,
    "",
    " ",
]


@dataclass(frozen=True)
class Target:
    """Where a form is sent: the URL name, its kwargs from the world, who sends it, how."""

    url_name: str
    kwargs: Callable[["World"], dict[str, Any]]
    actor: str = "admin"
    method: str = "post"


class World(VisitWorld):
    """The visit world (an admin, front desk, two therapists, a screened patient with a plan
    and an open visit), plus a patient with a portal login, a signed earlier visit, working
    hours, an intake, a check-in link, a pending invitation, a token, and a second clinic
    whose ids the fuzz may send."""

    def __init__(self) -> None:
        super().__init__()
        self.visit = self.open()
        self.signed = make_signed_visit(self, days_ago=7)
        self.portal_user = make_user(full_name="Portal Patient")
        self.portal_patient = make_patient(self.clinic, user=self.portal_user)
        make_screening(self.user, self.portal_patient)
        self.hours = WorkingHours.objects.create(
            clinic=self.clinic, therapist=self.therapist, weekday=0, starts="09:00", ends="17:00"
        )
        self.intake = start_intake(actor=self.portal_user, patient_id=self.portal_patient.pk)
        check_in = create_check_in(
            patient=self.patient,
            visit_ref=uuid.uuid4(),
            visit_ended_at=timezone.now() - timedelta(hours=30),
        )
        assert check_in is not None
        self.check_in = check_in
        self.invited = make_user(full_name="Invited")
        other = make_clinic("Elsewhere")
        self.invitation = Membership.objects.create(
            clinic=other, user=self.invited, role=Role.FRONT_DESK
        )
        self.token_row = create_api_token(
            actor=self.admin, clinic=self.clinic, name="fuzz", scopes=["read"]
        )[0]
        self.other_patient = make_patient(other)

    def actor(self, name: str) -> User:
        return {
            "admin": self.admin,
            "desk": self.desk,
            "therapist": self.user,
            "patient": self.portal_user,
            "invited": self.invited,
            "anyone": self.admin,
        }[name]


def _patient(w: World) -> dict[str, Any]:
    return {"patient_id": w.patient.pk}


def _therapist(w: World) -> dict[str, Any]:
    return {"therapist_id": w.therapist.pk}


def _visit(w: World) -> dict[str, Any]:
    return {"visit_id": w.visit.pk}


def _none(w: World) -> dict[str, Any]:
    return {}


def _lazy(path: str) -> type[forms.BaseForm]:
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(f"backcare.{module}.forms"), name)


FORMS: dict[str, Target] = {
    "accounts.ClinicForm": Target("clinic_settings", _none),
    "accounts.RoomForm": Target("room_add", _none),
    "accounts.MemberForm": Target("member_add", _none),
    "accounts.TherapistProfileForm": Target("therapist_edit", _therapist),
    "accounts.LicenceForm": Target("licence_add", _therapist),
    "accounts.ActiveForm": Target(
        "membership_set_active", lambda w: {"membership_id": w.desk.memberships.get().pk}
    ),
    "accounts.InvitationAnswerForm": Target(
        "invitation_answer", lambda w: {"membership_id": w.invitation.pk}, actor="invited"
    ),
    "accounts.ClinicSwitchForm": Target("clinic_switch", _none),
    "accounts.ApiTokenForm": Target("api_tokens", _none),
    "accounts.WebhookEndpointForm": Target("webhook_endpoints", _none),
    "intake.StepForm": Target(
        "intake_step", lambda w: {"intake_id": w.intake.pk, "step": "pain"}, actor="patient"
    ),
    "intake.DocumentForm": Target(
        "intake_document_add", lambda w: {"intake_id": w.intake.pk}, actor="patient"
    ),
    "outcomes.RuleSettingsForm": Target("rule_settings_save", _none),
    "outcomes.OutcomeSettingsForm": Target("outcome_settings_save", _none),
    "outcomes.CheckInForm": Target(
        "check_in", lambda w: {"token": check_in_token(w.check_in)}, actor="anyone"
    ),
    "outcomes.FlareUpForm": Target("flare_up_add", _patient, actor="therapist"),
    "outcomes.AnswerForm": Target(
        "patient_questionnaire", lambda w: {"patient_id": w.patient.pk, "instrument": "psfs"}
    ),
    "patients.PatientForm": Target("patient_edit", _patient),
    "patients.ContactForm": Target("portal_contact_edit", _none, actor="patient"),
    "patients.PreferencesForm": Target("patient_preferences", _patient),
    "patients.ConsentForm": Target("consent_add", _patient),
    "patients.PatientSearchForm": Target("patient_list", _none, method="get"),
    "plans.PlanForm": Target("plan_create", _patient, actor="therapist"),
    "plans.TechniqueForm": Target("plan_technique_add", _patient, actor="therapist"),
    "reports.AuditFilterForm": Target("audit_log", _none, method="get"),
    "reports.AnalyticsPeriodForm": Target("clinic_analytics", _none, method="get"),
    "scheduling.BookingSearchForm": Target("patient_booking", _patient, method="get"),
    "scheduling.SlotForm": Target("patient_booking", _patient, actor="desk"),
    "scheduling.CalendarForm": Target("staff_calendar", _none, method="get"),
    "scheduling.WaitlistForm": Target("patient_waitlist", _patient, actor="desk"),
    "scheduling.RescheduleForm": Target(
        "appointment_reschedule", lambda w: {"appointment_id": w.appointment.pk}, actor="desk"
    ),
    "scheduling.WeekForm": Target(
        "appointment_reschedule",
        lambda w: {"appointment_id": w.appointment.pk},
        actor="desk",
        method="get",
    ),
    "scheduling.ServiceForm": Target("service_edit", lambda w: {"service_id": w.service.pk}),
    "scheduling.WeeklyHoursForm": Target("working_hours_add", _therapist),
    "scheduling.DatedHoursForm": Target("dated_hours_add", _therapist),
    "scheduling.TimeOffForm": Target("time_off_add", _therapist),
    "scheduling.SchedulingSettingsForm": Target("scheduling_settings", _none),
    "triage.ReferralLetterForm": Target("referral_letter_create", _patient, actor="therapist"),
    "triage.ClearanceForm": Target("clearance_create", _patient, actor="therapist"),
    "triage.OverrideForm": Target("hold_override", _patient, actor="therapist"),
    "triage.RescreenForm": Target("rescreen", _patient, actor="therapist"),
    "visits.NoteForm": Target("visit_note_save", _visit, actor="therapist"),
    "visits.AmendForm": Target(
        "visit_note_amend", lambda w: {"visit_id": w.signed.pk}, actor="therapist"
    ),
    "visits.TechniqueForm": Target("visit_technique_add", _visit, actor="therapist"),
    "visits.EnteredInErrorForm": Target("visit_note_entered_in_error", _visit),
}


def _form_classes() -> dict[str, type[forms.BaseForm]]:
    """Every concrete form class defined in a backcare app's forms module, by app.Name."""
    found = {}
    for app in pkgutil.iter_modules(backcare.__path__):
        try:
            module = importlib.import_module(f"backcare.{app.name}.forms")
        except ModuleNotFoundError:
            continue
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, forms.BaseForm)
                and value.__module__ == module.__name__
                and not name.startswith("_")
            ):
                found[f"{app.name}.{name}"] = value
    return found


def _values(field: forms.Field) -> st.SearchStrategy[Any]:
    hostile = st.sampled_from(HOSTILE_TEXT) | st.text(max_size=40)
    ids = st.sampled_from(["{other_patient}", "{other_clinic}", str(uuid.uuid4())])
    one = hostile | ids | st.integers(-(2**70), 2**70).map(str)
    if isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
        return st.lists(one, max_size=4)
    return one | st.lists(one, min_size=2, max_size=3)


def _body(data: dict[str, Any], world: World) -> bytes:
    swap = {"{other_patient}": str(world.other_patient.pk), "{other_clinic}": str(uuid.uuid4())}

    def fix(value: str) -> str:
        return swap.get(value, value)

    pairs = [
        (name, fix(v))
        for name, value in data.items()
        for v in (value if isinstance(value, list) else [value])
    ]
    # Lone surrogates travel as the bytes a hostile client would send (not valid UTF-8).
    return urlencode(pairs, encoding="utf-8", errors="surrogatepass").encode()


def test_every_form_is_mapped():
    assert sorted(_form_classes()) == sorted(FORMS)


@pytest.mark.parametrize("name", sorted(FORMS))
def test_hostile_input_never_gets_a_server_error(name):
    world = World()
    target = FORMS[name]
    fields = _form_classes()[name].base_fields
    client = Client(raise_request_exception=False)
    client.force_login(world.actor(target.actor))
    url = reverse(target.url_name, kwargs=target.kwargs(world))
    probe = client.get(url) if target.method == "get" else client.post(url)
    # The form is reached: not a stranger's 404, a wrong method, or the login page.
    assert probe.status_code not in (403, 404, 405), (name, probe.status_code)
    assert "/accounts/login/" not in probe.get("Location", ""), name
    # Fields made in __init__ (questionnaire items, intake steps) are read off the page.
    page = client.get(url).content.decode()
    shown = set(re.findall(r'name="([a-z][\w-]*)"', page)) - {"csrfmiddlewaretoken"}
    strategies = {n: _values(forms.CharField()) for n in shown} | {
        n: _values(f) for n, f in fields.items()
    }
    data = st.fixed_dictionaries({}, optional=strategies)

    @settings(
        max_examples=EXAMPLES_PER_FORM,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(data=data)
    def post(data: dict[str, Any]) -> None:
        body = _body(data, world)
        if target.method == "get":
            response = client.get(f"{url}?{body.decode('ascii')}")
        else:
            response = client.post(url, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code < 500, (name, url, data)

    post()
