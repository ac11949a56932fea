import pytest

from backcare.accounts.models import User
from backcare.core.demo import build_demo
from backcare.triage.demo import ON_HOLD
from backcare.triage.models import Clearance, ReferralLetter
from backcare.triage.queries import HoldState, hold_status, list_letters_for_clinician
from backcare.triage.tests.factories import make_clearance

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_patient_on_hold_with_a_letter_to_the_demo_clinician():
    state = build_demo()
    patient = state["patients"][ON_HOLD]
    clinician = User.objects.get(email="clinician@demo.backcare.example")
    assert patient.referred_by == clinician
    status = hold_status(patient)
    assert (status.state, status.level) == (HoldState.ON_HOLD, "refer_before_massage")
    [letter] = ReferralLetter.objects.filter(patient=patient)
    assert letter.recipient == clinician
    assert list_letters_for_clinician(clinician) == [letter]
    assert not Clearance.objects.filter(patient=patient).exists()
    make_clearance(clinician, patient)
    assert hold_status(patient).may_book


def test_the_demo_letter_is_written_once():
    build_demo()
    build_demo()
    assert ReferralLetter.objects.count() == 1
