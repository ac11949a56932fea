"""The bulk export's flat memory and its failures (the import is `test_importing`)."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backcare.accounts.models import Role
from backcare.fhir import services
from backcare.fhir.models import ExportJob
from backcare.fhir.queries import everything
from backcare.fhir.tests.factories import FhirWorld
from backcare.triage.queries import HoldState
from backcare.triage.tests.factories import make_clearance, make_screening
from tests.factories import make_clinic, make_member, make_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> FhirWorld:
    return FhirWorld()


# --- Bulk export memory -------------------------------------------------------------------------


def export_of_clinic_with(patients: int) -> ExportJob:
    clinic = make_clinic("Seeded")
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    for _ in range(patients):
        make_patient(clinic)
    job = ExportJob.objects.create(clinic=clinic, requested_by=admin)
    return services.run_export(job_id=job.pk, page_rows=4)


def test_bulk_export_holds_at_most_one_page_of_rows_whatever_the_clinics_size():
    small = export_of_clinic_with(5)
    large = export_of_clinic_with(23)
    assert (small.counts["Patient"], large.counts["Patient"]) == (5, 23)
    assert large.counts["Flag"] == 23  # none is screened: each waits, over six pages
    assert small.peak_rows == large.peak_rows == 4
    lines = (services.export_folder(large) / "Patient.ndjson").read_text().splitlines()
    assert len({json.loads(line)["id"] for line in lines}) == 23


def test_bulk_flags_and_conditions_match_each_patients_own_across_pages():
    """Holds are worked out per page of patients (three queries a page): each patient's Flags
    and Conditions must be what their own `$everything` says, whichever page they fall on."""
    clinic = make_clinic("Holds")
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    held, cleared, unscreened, clear = (make_patient(clinic) for _ in range(4))
    make_screening(admin, held, yes=("history_of_cancer",))
    make_screening(admin, cleared, yes=("history_of_cancer",))
    make_clearance(admin, cleared)
    make_screening(admin, clear)
    job = ExportJob.objects.create(clinic=clinic, requested_by=admin)
    services.run_export(job_id=job.pk, page_rows=3)
    bulk = [
        json.loads(line)
        for kind in ("Flag", "Condition")
        for line in (services.export_folder(job) / f"{kind}.ndjson").read_text().splitlines()
    ]
    own = [
        e["resource"]
        for patient in (held, cleared, unscreened, clear)
        for e in everything(admin, patient.pk, now=timezone.now())["entry"]
        if e["resource"]["resourceType"] in ("Flag", "Condition")
    ]
    assert sorted(bulk, key=json.dumps) == sorted(own, key=json.dumps)
    holds = {
        r["subject"]["reference"]: (r["code"]["coding"][0]["code"], r["status"])
        for r in bulk
        if r["code"]["coding"][0]["code"] in set(HoldState)  # not the clearances' Flags
    }
    assert holds == {
        f"Patient/{held.pk}": ("on_hold", "active"),
        f"Patient/{cleared.pk}": ("clear", "inactive"),
        f"Patient/{unscreened.pk}": ("not_screened", "active"),
        f"Patient/{clear.pk}": ("clear", "inactive"),
    }


def test_a_failing_export_is_marked_failed_with_its_reason(monkeypatch):
    def broken(clinic, after, *, limit):
        raise OSError("disk full")

    monkeypatch.setattr(
        services, "EXPORT_TYPES", (*services.EXPORT_TYPES[:1], ("Patient", broken, str))
    )
    clinic = make_clinic("Seeded")
    job = ExportJob.objects.create(
        clinic=clinic, requested_by=make_member(clinic, Role.CLINIC_ADMIN)
    )
    with pytest.raises(OSError, match="disk full"):
        services.run_export(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.error, job.counts) == ("failed", "disk full", {"Organization": 1})


# --- Bulk export speed: keyset pages on an index, no query per row ------------------------------


def _pages_of_each_type(world: FhirWorld, limit: int) -> dict[str, tuple[int, int, list]]:
    """For each exported type: the queries of reading its second page of `limit` rows (after
    the first page's last id), the queries of mapping that page, and the page."""
    found = {}
    for name, pager, to_resources in services.EXPORT_TYPES:
        first = pager(world.clinic, None, limit=limit)
        after = first[-1].pk if first else None
        with CaptureQueriesContext(connection) as reading:
            page = pager(world.clinic, after, limit=limit)
        with CaptureQueriesContext(connection) as mapping_rows:
            to_resources(world.clinic, page)
        found[name] = (len(reading), len(mapping_rows), page)
    return found


def test_an_export_page_takes_the_same_queries_whatever_the_clinics_size(
    world,
):
    world.grow(2)
    small = _pages_of_each_type(world, limit=2)
    world.grow(6)
    large = _pages_of_each_type(world, limit=2)
    for name, (reading, mapping_rows, _) in large.items():
        # Row by row, no query; Flags and Conditions read the page's holds (three queries).
        assert mapping_rows == small[name][1] <= 3, name
        assert reading == small[name][0], name
    grown = ("Encounter", "Procedure", "QuestionnaireResponse", "Observation", "Appointment")
    assert all(len(large[name][2]) == 2 for name in grown)


def test_every_clinic_table_the_export_pages_through_has_an_index_on_clinic_and_id(world):
    # A keyset page (`clinic_id = ? AND id > ? ORDER BY id`) without it scans the primary key
    # across every clinic's rows, or sorts the clinic's rows again for each page.
    first_rows = [pager(world.clinic, None, limit=1) for _, pager, _ in services.EXPORT_TYPES]
    paged = {type(page[0]) for page in first_rows if page and hasattr(page[0], "clinic_id")}
    assert len(paged) >= 7
    for model in paged:
        indexed = [list(index.fields) for index in model._meta.indexes]
        assert ["clinic", "id"] in indexed, model.__name__
