"""Clinical records cannot be hard-deleted: the ORM refuses every delete of a clinical model,
and no view or API function calls `.delete()` at all."""

import ast
import uuid
from pathlib import Path

import pytest
from django.apps import apps
from django.db import transaction

from backcare.core.protection import CLINICAL_MODELS, ClinicalRecordDeletionError
from backcare.patients.models import PatientPreferences
from tests.factories import make_clinic, make_patient

pytestmark = pytest.mark.django_db

BACKCARE = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("label", CLINICAL_MODELS)
def test_deleting_a_clinical_record_is_refused(label):
    model = apps.get_model(label)
    with pytest.raises(ClinicalRecordDeletionError, match="never deleted"):
        model(pk=uuid.uuid4()).delete()


def test_a_queryset_delete_is_refused_and_nothing_goes():
    clinic = make_clinic()
    make_patient(clinic)
    make_patient(clinic)
    with pytest.raises(ClinicalRecordDeletionError), transaction.atomic():
        PatientPreferences.objects.filter(clinic=clinic).delete()
    assert PatientPreferences.objects.filter(clinic=clinic).count() == 2


def test_every_model_holding_patient_data_is_guarded():
    # A new model with a patient link must join CLINICAL_MODELS or be named here as not clinical.
    not_clinical = {
        "scheduling.Notification",
        "scheduling.WaitlistEntry",
        "scheduling.WaitlistOffer",
        "scheduling.CalendarFeed",
    }
    with_patient = {
        model._meta.label
        for model in apps.get_models()
        if any(getattr(f.related_model, "__name__", "") == "Patient" for f in model._meta.fields)
    }
    assert with_patient - not_clinical <= set(CLINICAL_MODELS)


def _delete_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text())
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "delete"
    ]


def test_no_view_or_api_function_deletes():
    files = sorted(BACKCARE.glob("*/views.py")) + sorted(BACKCARE.glob("*/api.py"))
    assert len(files) > 10
    found = {str(path.relative_to(BACKCARE)): _delete_calls(path) for path in files}
    assert {name: lines for name, lines in found.items() if lines} == {}
