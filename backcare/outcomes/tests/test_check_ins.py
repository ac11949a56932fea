"""Check-ins after a visit: answered once from a link without a login; an altered, reused or
expired link gets a clear message and writes nothing."""

import uuid
from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from backcare.core.errors import ConflictError, InvalidInputError, NotFoundError
from backcare.core.models import AuditEvent
from backcare.outcomes import services
from backcare.outcomes.models import CheckIn, OutcomeMeasurement
from conftest import client_for
from tests.factories import make_clinic, make_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def check_in() -> CheckIn:
    patient = make_patient(make_clinic("Home"))
    made = services.create_check_in(
        patient=patient, visit_ref=uuid.uuid4(), visit_ended_at=timezone.now() - timedelta(hours=25)
    )
    assert made is not None
    return made


def _answer(token: str, **changes: object) -> CheckIn:
    values = {"pain_now": 3, "global_change": 2, "soreness": "mild"} | changes
    return services.answer_check_in(token=token, **values)  # type: ignore[arg-type]


def test_a_visit_gets_one_check_in(check_in):
    again = services.create_check_in(
        patient=check_in.patient, visit_ref=check_in.visit_ref, visit_ended_at=timezone.now()
    )
    assert again is None
    assert check_in.expires_at == check_in.visit_ended_at + timedelta(hours=72)


def test_answers_are_stored_as_measurements_once(check_in):
    token = services.check_in_token(check_in)
    answered = _answer(token, other_effects="a little stiff")
    assert answered.pain is not None
    assert (answered.pain.instrument, answered.pain.score_exact) == ("pain_nrs", "3")
    assert answered.global_change is not None
    assert answered.global_change.instrument == "pgic"
    assert (answered.pain.method, answered.pain.entered_by) == ("check_in", None)
    assert (answered.soreness, answered.other_effects) == ("mild", "a little stiff")
    assert AuditEvent.objects.filter(action="check_in.answer", actor_id=None).exists()
    with pytest.raises(ConflictError, match="answered already"):
        _answer(token, pain_now=9)
    assert OutcomeMeasurement.objects.count() == 2


def test_an_expired_check_in_writes_nothing(check_in):
    token = services.check_in_token(check_in)
    with pytest.raises(ConflictError, match="has closed"):
        _answer(token, now=check_in.expires_at + timedelta(minutes=1))
    assert not OutcomeMeasurement.objects.exists()


@pytest.mark.parametrize(
    "make",
    [lambda t: t + "x", lambda t: signing.dumps("x"), lambda t: "a"],
    ids=["altered", "other-salt", "nonsense"],
)
def test_an_altered_or_foreign_link_is_not_found(check_in, make):
    with pytest.raises(NotFoundError):
        _answer(make(services.check_in_token(check_in)))
    assert not OutcomeMeasurement.objects.exists()


@pytest.mark.parametrize(
    "changes", [{"pain_now": 11}, {"global_change": 0}, {"soreness": "terrible"}]
)
def test_answers_out_of_range_write_nothing(check_in, changes):
    with pytest.raises(InvalidInputError):
        _answer(services.check_in_token(check_in), **changes)
    assert not OutcomeMeasurement.objects.exists()
    check_in.refresh_from_db()
    assert check_in.answered_at is None


def test_the_page_needs_no_login_and_says_clearly_when_a_link_does_not_work(check_in):
    url = reverse("check_in", args=[services.check_in_token(check_in)])
    client = client_for(None)
    assert client.get(url).status_code == 200
    missing = client.post(url, {"pain_now": "3"})
    assert missing.status_code == 422
    assert not OutcomeMeasurement.objects.exists()
    done = client.post(url, {"pain_now": "3", "global_change": "2", "soreness": "none"})
    assert done.status_code == 200
    assert "Your answers are saved" in done.content.decode()
    reused = client.get(url)
    assert reused.status_code == 409
    assert "answered already" in reused.content.decode()
    altered = client.get(reverse("check_in", args=["nonsense"]))
    assert altered.status_code == 404
    assert "not valid" in altered.content.decode()
