"""Open data (issue 8): a patient downloads their own data; a clinic admin exports the whole
clinic as one CSV per table, in the background, with progress, streamed in chunks."""

import csv
import io
import uuid
import zipfile
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models.sql import compiler
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backcare.accounts.models import Role
from backcare.accounts.services import create_api_token
from backcare.core.models import AuditEvent
from backcare.outcomes.models import OutcomeMeasurement
from backcare.outcomes.services import record_measurement
from backcare.reports import services
from backcare.reports.export import domain_tables, write_tables
from backcare.reports.models import ClinicExport, ExportStatus
from backcare.visits.tests.factories import VisitWorld, make_appointment, make_signed_visit
from conftest import client_for
from tests.factories import (
    make_clinic,
    make_member,
    make_patient,
    make_user,
    make_webhook_endpoint,
)
from tests.test_clinic_scoping import _clinic_owned

pytestmark = pytest.mark.django_db


def _zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.content[:300]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def _rows(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    with archive.open(name) as raw:
        return list(csv.DictReader(io.TextIOWrapper(raw, "utf-8", newline="")))


def _measure(world: VisitWorld, patient, value: int, days_ago: int) -> None:
    record_measurement(
        actor=world.user,
        patient_id=patient.pk,
        instrument="pain_nrs",
        answers={"now": value},
        measured_at=timezone.now() - timedelta(days=days_ago),
        method="paper",
    )


class PatientWorld(VisitWorld):
    """The visit world's patient, Iris, signed in to the portal with two pain ratings and a
    signed note; another patient of the clinic with their own rating and note."""

    def __init__(self) -> None:
        super().__init__()
        self.patient_user = make_user(full_name="Iris Portal")
        self.patient.user = self.patient_user
        self.patient.save()
        make_member(self.clinic, Role.PATIENT, self.patient_user)
        make_signed_visit(self, days_ago=14, assessment="Eased well", subjective="Staff-only worry")
        _measure(self, self.patient, 7, 20)
        _measure(self, self.patient, 4, 2)
        self.other = make_patient(self.clinic, given_name="Otto", phone="+44 20 7946 9999")
        make_appointment(self, patient=self.other, starts_at=timezone.now() + timedelta(days=3))
        _measure(self, self.other, 9, 5)


@pytest.fixture
def world() -> PatientWorld:
    return PatientWorld()


def test_the_patient_downloads_a_zip_of_their_own_data_as_csv(world):
    archive = _zip(client_for(world.patient_user).get(reverse("portal_my_data_zip")))
    assert set(archive.namelist()) == {
        "profile.csv",
        "consents.csv",
        "intake_answers.csv",
        "appointments.csv",
        "measurements.csv",
        "check_ins.csv",
        "flare_ups.csv",
        "side_effects.csv",
        "therapist_notes.csv",
        "plan.csv",
    }
    profile = {row["detail"]: row["value"] for row in _rows(archive, "profile.csv")}
    assert profile["Given name"] == "Iris"
    assert profile["Pressure preference"].startswith("2 · Light")
    assert [r["value"] for r in _rows(archive, "measurements.csv")] == ["7", "4"]
    assert len(_rows(archive, "appointments.csv")) == 2  # today's and the signed visit's
    notes = _rows(archive, "therapist_notes.csv")
    assert [n["how you responded"] for n in notes] == ["Eased well"]
    assert [p["focus"] for p in _rows(archive, "plan.csv")] == ["Ease the lower back"]
    assert AuditEvent.objects.filter(
        action="patient.data_download", patient_id=world.patient.pk, actor_id=world.patient_user.pk
    ).exists()


def test_the_patients_zip_holds_no_one_elses_rows_and_no_staff_only_note_content(world):
    archive = _zip(client_for(world.patient_user).get(reverse("portal_my_data_zip")))
    everything = "".join(archive.read(name).decode() for name in archive.namelist())
    assert "Otto" not in everything
    assert "9999" not in everything
    assert "Staff-only worry" not in everything  # the note's subjective part: staff only
    assert "Gluteals" not in everything  # the next focus, amended: staff only
    assert str(world.other.pk) not in everything


@pytest.mark.parametrize("url_name", ["portal_my_data", "portal_my_data_zip"])
def test_my_data_is_for_the_patient_only_and_anyone_else_gets_404(world, url_name):
    for outsider in (world.admin, world.user, make_user()):
        assert client_for(outsider).get(reverse(url_name)).status_code == 404
    assert AuditEvent.objects.filter(outcome="denied", actor_id=world.admin.pk).exists()


def test_the_my_data_page_links_the_zip_the_progress_pdf_and_the_fhir_bundle(world):
    response = client_for(world.patient_user).get(reverse("portal_my_data"))
    page = response.content.decode()
    assert reverse("portal_my_data_zip") in page
    assert reverse("progress_pdf", args=[world.patient.pk]) in page
    assert reverse("fhir_patient_everything", args=[world.patient.pk]) in page


def test_the_my_data_download_takes_the_same_queries_whatever_the_patients_history(world):
    client = client_for(world.patient_user)
    url = reverse("portal_my_data_zip")

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            _zip(client.get(url))
        return len(captured.captured_queries)

    small = count()
    for days_ago in range(21, 31):
        make_signed_visit(world, days_ago=days_ago, assessment=f"Day {days_ago}")
        _measure(world, world.patient, 5, days_ago)
    assert count() == small


# --- Whole-clinic export -------------------------------------------------------------------------


class ClinicWorld:
    """Two clinics, each with the visit world's data; the first's admin exports."""

    def __init__(self) -> None:
        self.home = PatientWorld()
        self.away = PatientWorld()
        self.clinic = self.home.clinic
        self.admin = self.home.admin


@pytest.fixture
def clinics() -> ClinicWorld:
    return ClinicWorld()


def _export(client, django_capture_on_commit_callbacks) -> ClinicExport:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("clinic_export"))
    assert response.status_code == 302
    return ClinicExport.objects.get()


# Clinic-owned tables the CSV export leaves out, and why.
NOT_IN_THE_CSV_EXPORT = {
    # The FHIR app's export jobs: bookkeeping of another export, in an app reports may not import.
    "fhir.ExportJob",
}


def test_the_admins_export_holds_one_csv_per_clinic_owned_table_with_only_the_clinics_rows(
    clinics, django_capture_on_commit_callbacks
):
    client = client_for(clinics.admin)
    export = _export(client, django_capture_on_commit_callbacks)
    assert export.status == ExportStatus.DONE
    archive = _zip(client.get(reverse("clinic_export_download", args=[export.pk])))
    owned = [m for m in _clinic_owned() if m._meta.label not in NOT_IN_THE_CSV_EXPORT]
    assert sorted(archive.namelist()) == sorted(f"{m._meta.db_table}.csv" for m in owned)
    for model in owned:
        rows = _rows(archive, f"{model._meta.db_table}.csv")
        expected = model._default_manager.filter(clinic_id=clinics.clinic.pk)
        assert len(rows) == expected.count(), model._meta.label
        assert {r["clinic_id"] for r in rows} <= {str(clinics.clinic.pk)}, model._meta.label
    patients = _rows(archive, "patients_patient.csv")
    assert {p["given_name"] for p in patients} == {"Iris", "Otto"}
    assert len(patients) == 2  # the other clinic's Iris and Otto stay out


def test_an_export_leaves_out_secrets(clinics, django_capture_on_commit_callbacks):
    _, raw_token = create_api_token(
        actor=clinics.admin, clinic=clinics.clinic, name="sync", scopes=["read"]
    )
    endpoint = make_webhook_endpoint(clinics.clinic)
    client = client_for(clinics.admin)
    export = _export(client, django_capture_on_commit_callbacks)
    archive = _zip(client.get(reverse("clinic_export_download", args=[export.pk])))
    tokens = _rows(archive, "accounts_apitoken.csv")
    assert [t["name"] for t in tokens] == ["sync"]
    assert "token_sha256" not in tokens[0]
    hooks = _rows(archive, "core_webhookendpoint.csv")
    assert [h["url"] for h in hooks] == [endpoint.url]
    assert "secret" not in hooks[0]
    everything = "".join(archive.read(name).decode() for name in archive.namelist())
    assert endpoint.secret not in everything
    assert raw_token not in everything


def test_the_export_page_shows_progress_in_a_live_region_and_the_download_when_done(
    clinics, django_capture_on_commit_callbacks
):
    client = client_for(clinics.admin)
    assert "No export yet." in client.get(reverse("clinic_export")).content.decode()
    export = _export(client, django_capture_on_commit_callbacks)
    page = client.get(reverse("clinic_export")).content.decode()
    assert 'aria-live="polite"' in page
    assert reverse("clinic_export_download", args=[export.pk]) in page
    assert AuditEvent.objects.filter(action="clinic.export.request", actor_id=clinics.admin.pk)


def test_a_running_export_polls_every_two_seconds_until_done(clinics):
    export = ClinicExport.objects.create(
        clinic=clinics.clinic, requested_by=clinics.admin, rows_total=40, rows_done=10
    )
    client = client_for(clinics.admin)
    fragment = client.get(reverse("clinic_export_status", args=[export.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in fragment
    assert "10 of 40 rows written (25%)" in fragment
    assert "<h1>" not in fragment
    ClinicExport.objects.filter(pk=export.pk).update(status=ExportStatus.DONE)
    fragment = client.get(reverse("clinic_export_status", args=[export.pk])).content.decode()
    assert "hx-trigger" not in fragment
    assert reverse("clinic_export_download", args=[export.pk]) in fragment


def test_the_export_page_links_the_fhir_export(clinics):
    page = client_for(clinics.admin).get(reverse("clinic_export")).content.decode()
    assert reverse("fhir_clinic_export") in page


def test_the_download_is_audited(clinics, django_capture_on_commit_callbacks):
    client = client_for(clinics.admin)
    export = _export(client, django_capture_on_commit_callbacks)
    _zip(client.get(reverse("clinic_export_download", args=[export.pk])))
    assert AuditEvent.objects.filter(
        action="clinic.export.download", actor_id=clinics.admin.pk, object_id=str(export.pk)
    ).exists()


@pytest.mark.parametrize(
    "url_name", ["clinic_export", "clinic_export_status", "clinic_export_download"]
)
def test_the_export_is_for_the_clinics_admins_only(
    clinics, django_capture_on_commit_callbacks, url_name
):
    export = _export(client_for(clinics.admin), django_capture_on_commit_callbacks)
    args = [] if url_name == "clinic_export" else [export.pk]
    outsiders = [clinics.home.desk, clinics.home.user, clinics.home.patient_user, make_user()]
    if args:
        outsiders.append(clinics.away.admin)  # the other clinic's admin: their own page only
    for outsider in outsiders:
        assert client_for(outsider).get(reverse(url_name, args=args)).status_code == 404
    away_page = client_for(clinics.away.admin).get(reverse("clinic_export")).content.decode()
    assert str(export.pk) not in away_page
    assert client_for(clinics.home.desk).post(reverse("clinic_export")).status_code == 404
    assert ClinicExport.objects.count() == 1


@pytest.mark.parametrize("url_name", ["clinic_export_status", "clinic_export_download"])
def test_an_unknown_export_id_is_404(clinics, url_name):
    response = client_for(clinics.admin).get(reverse(url_name, args=[uuid.uuid4()]))
    assert response.status_code == 404


def test_an_export_not_yet_written_cannot_be_downloaded(clinics):
    export = ClinicExport.objects.create(clinic=clinics.clinic, requested_by=clinics.admin)
    response = client_for(clinics.admin).get(reverse("clinic_export_download", args=[export.pk]))
    assert response.status_code == 404


def test_the_export_file_has_an_unguessable_name_under_the_clinics_folder(
    clinics, django_capture_on_commit_callbacks
):
    export = _export(client_for(clinics.admin), django_capture_on_commit_callbacks)
    folder, name = str(export.file.name).rsplit("/", 1)
    assert folder == f"exports/{clinics.clinic.pk}"
    assert len(name.removesuffix(".zip")) >= 32


# --- Progress and memory: counted in rows, never in seconds ------------------------------------


class Fetches:
    """Records each block of rows the database hands over, and what had been written then."""

    def __init__(self, monkeypatch, export: ClinicExport | None = None) -> None:
        self.written = 0
        self.fetched = 0
        self.held: list[int] = []
        self.progress: list[int] = []
        self.looking = False
        original = compiler.cursor_iter

        def counting(*args, **kwargs):
            if self.looking:  # the progress read below
                yield from original(*args, **kwargs)
                return
            for block in original(*args, **kwargs):
                self.fetched += len(block)
                self.held.append(self.fetched - self.written)
                if export is not None:
                    self.looking = True
                    export.refresh_from_db(fields=["rows_done"])
                    self.looking = False
                    self.progress.append(export.rows_done)
                yield block

        monkeypatch.setattr(compiler, "cursor_iter", counting)

    def on_row(self) -> None:
        self.written += 1


def _grow_measurements(world: VisitWorld, count: int) -> None:
    start = timezone.now() - timedelta(days=400)
    OutcomeMeasurement.objects.bulk_create(
        OutcomeMeasurement(
            clinic=world.clinic,
            patient=world.patient,
            instrument="pain_nrs",
            instrument_version="NRS-11",
            measured_at=start + timedelta(days=n),
            method="paper",
            entered_by=world.user,
            answers={"now": 5},
            valid=True,
            score_exact="5",
            score_display="5",
        )
        for n in range(count)
    )


@pytest.mark.parametrize("grown", [0, 120])
def test_rows_held_at_once_stay_within_the_chunk_size_however_big_the_clinic(
    clinics, monkeypatch, grown
):
    _grow_measurements(clinics.home, grown)
    tables = domain_tables(clinics.admin, clinics.clinic)
    total = sum(t.count() for t in tables)
    fetches = Fetches(monkeypatch)
    write_tables(io.BytesIO(), tables, chunk_size=7, on_row=fetches.on_row)
    assert fetches.written == total
    assert max(fetches.held) <= 7
    assert len(fetches.held) >= total // 7  # read in many small blocks, never the whole table


def test_progress_goes_from_nothing_to_the_total_as_the_rows_are_written(
    clinics, monkeypatch, django_capture_on_commit_callbacks
):
    _grow_measurements(clinics.home, 60)
    with django_capture_on_commit_callbacks(execute=False):
        export = services.request_clinic_export(requested_by=clinics.admin, clinic=clinics.clinic)
    assert (export.status, export.rows_done) == (ExportStatus.QUEUED, 0)
    total = export.rows_total
    assert total > 60
    fetches = Fetches(monkeypatch, export)
    services.run_clinic_export(export_id=str(export.pk), chunk_size=10)
    assert fetches.progress[0] == 0
    assert fetches.progress == sorted(fetches.progress)
    assert len(set(fetches.progress)) > total // 20  # seen moving, not jumping to the end
    export.refresh_from_db()
    assert (export.status, export.rows_done, export.rows_total) == (ExportStatus.DONE, total, total)


def test_a_job_already_written_is_not_run_again(clinics, django_capture_on_commit_callbacks):
    export = _export(client_for(clinics.admin), django_capture_on_commit_callbacks)
    name = export.file.name
    services.run_clinic_export(export_id=str(export.pk))
    export.refresh_from_db()
    assert export.file.name == name


def test_the_export_page_takes_the_same_queries_however_many_exports(
    clinics, django_capture_on_commit_callbacks
):
    client = client_for(clinics.admin)
    _export(client, django_capture_on_commit_callbacks)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("clinic_export")).status_code == 200
        return len(captured.captured_queries)

    small = count()
    for _ in range(12):
        ClinicExport.objects.create(
            clinic=clinics.clinic, requested_by=make_member(clinics.clinic, Role.CLINIC_ADMIN)
        )
    assert count() == small


def test_a_job_that_cannot_be_written_is_marked_failed_and_the_page_says_what_to_do(
    clinics, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(services, "write_tables", broken)
    client = client_for(clinics.admin)
    export = _export(client, django_capture_on_commit_callbacks)
    assert export.status == ExportStatus.FAILED
    page = client.get(reverse("clinic_export")).content.decode()
    assert "The export could not be written. Start a new one." in page
    assert reverse("clinic_export_download", args=[export.pk]) not in page


def test_the_patients_zip_holds_nothing_of_another_clinic(world):
    elsewhere = make_clinic("Elsewhere")
    desk = make_member(elsewhere, Role.FRONT_DESK)
    stranger = make_patient(elsewhere, given_name="Zelda", user=make_user())
    record_measurement(
        actor=desk,
        patient_id=stranger.pk,
        instrument="pain_nrs",
        answers={"now": 1},
        method="paper",
    )
    archive = _zip(client_for(world.patient_user).get(reverse("portal_my_data_zip")))
    everything = "".join(archive.read(name).decode() for name in archive.namelist())
    assert "Zelda" not in everything
    assert [r["value"] for r in _rows(archive, "measurements.csv")] == ["7", "4"]
