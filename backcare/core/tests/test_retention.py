"""The retention job removes only what its rules allow: expired sessions and old finished
outbox messages; never clinical records, never audit events (those older than six years are
only counted)."""

import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.core.management import call_command

from backcare.accounts.models import Role
from backcare.core.models import AuditEvent, WebhookDelivery, WebhookDeliveryStatus, WebhookEvent
from backcare.core.retention import AUDIT_YEARS, apply_retention, rules, years_before
from backcare.fhir import services as fhir_services
from backcare.fhir.models import ExportJob
from backcare.patients.models import Patient
from backcare.reports.models import ClinicExport
from backcare.scheduling.models import Notification, NotificationStatus
from tests.factories import make_clinic, make_member, make_patient, make_webhook_endpoint

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def _notification(patient: Patient, *, days_ago: int, status: str) -> Notification:
    due = NOW - timedelta(days=days_ago)
    return Notification.objects.create(
        clinic=patient.clinic,
        patient=patient,
        kind="reminder",
        channel="email",
        about_starts_at=due,
        key=f"test-{days_ago}-{status}",
        due_at=due,
        status=status,
    )


def _event(occurred_at: datetime) -> AuditEvent:
    return AuditEvent.objects.create(action="patient.view", occurred_at=occurred_at)


def test_expired_sessions_are_removed_and_live_ones_kept():
    expired, live = SessionStore(), SessionStore()
    expired.create()
    live.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=NOW - timedelta(seconds=1)
    )
    Session.objects.filter(session_key=live.session_key).update(
        expire_date=NOW + timedelta(hours=1)
    )
    report = apply_retention(now=NOW)
    assert report.removed["expired_sessions"] == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


def test_finished_messages_go_after_the_retention_days_and_pending_ones_never(settings):
    settings.BACKCARE_RETENTION_NOTIFICATION_DAYS = 180
    patient = make_patient(make_clinic())
    old_sent = _notification(patient, days_ago=181, status=NotificationStatus.SENT)
    old_failed = _notification(patient, days_ago=400, status=NotificationStatus.FAILED)
    recent_sent = _notification(patient, days_ago=179, status=NotificationStatus.SENT)
    old_pending = _notification(patient, days_ago=400, status=NotificationStatus.PENDING)
    report = apply_retention(now=NOW)
    assert report.removed["finished_notifications"] == 2
    kept = set(Notification.objects.values_list("pk", flat=True))
    assert kept == {recent_sent.pk, old_pending.pk}
    assert not kept & {old_sent.pk, old_failed.pk}


def test_finished_webhook_deliveries_go_after_the_retention_days_and_pending_ones_never(settings):
    settings.BACKCARE_RETENTION_NOTIFICATION_DAYS = 180
    clinic = make_clinic()
    endpoint = make_webhook_endpoint(clinic)

    def delivery(days_ago: int, status: str) -> WebhookDelivery:
        return WebhookDelivery.objects.create(
            clinic_id=clinic.pk,
            endpoint=endpoint,
            event_id=uuid.uuid4(),
            event_type=WebhookEvent.APPOINTMENT_BOOKED,
            payload={},
            status=status,
            due_at=NOW - timedelta(days=days_ago),
        )

    delivery(181, WebhookDeliveryStatus.DELIVERED)
    delivery(365, WebhookDeliveryStatus.FAILED)
    kept = {
        delivery(179, WebhookDeliveryStatus.DELIVERED).pk,
        delivery(365, WebhookDeliveryStatus.PENDING).pk,
    }
    report = apply_retention(now=NOW)
    assert report.removed["finished_webhook_deliveries"] == 2
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == kept


def test_export_files_go_with_their_jobs_after_the_retention_days(settings, tmp_path):
    """A whole clinic's records in a file: removed from disk a week after it was written; a job
    still running (not finished) is never removed, however old."""
    settings.BACKCARE_RETENTION_EXPORT_DAYS = 7
    settings.MEDIA_ROOT = str(tmp_path)
    clinic = make_clinic()
    admin = make_member(clinic, Role.CLINIC_ADMIN)

    def csv_export(days_ago: int | None) -> ClinicExport:
        export = ClinicExport.objects.create(clinic=clinic, requested_by=admin)
        export.file.save("export.zip", ContentFile(b"PK"), save=False)
        export.finished_at = None if days_ago is None else NOW - timedelta(days=days_ago)
        export.save()
        return export

    def fhir_export(days_ago: int | None) -> ExportJob:
        job = ExportJob.objects.create(
            clinic=clinic,
            requested_by=admin,
            finished_at=None if days_ago is None else NOW - timedelta(days=days_ago),
        )
        folder = fhir_services.export_folder(job)
        folder.mkdir(parents=True)
        (folder / "Patient.ndjson").write_text("{}\n")
        return job

    old_csv, old_fhir = csv_export(8), fhir_export(30)
    old_files = [Path(old_csv.file.path), fhir_services.export_folder(old_fhir)]
    kept_csv = {csv_export(6).pk, csv_export(None).pk}
    kept_fhir = {fhir_export(6).pk, fhir_export(None).pk}
    report = apply_retention(now=NOW)
    assert (report.removed["old_reports_exports"], report.removed["old_fhir_exports"]) == (1, 1)
    assert set(ClinicExport.objects.values_list("pk", flat=True)) == kept_csv
    assert set(ExportJob.objects.values_list("pk", flat=True)) == kept_fhir
    assert not any(path.exists() for path in old_files)
    assert all(Path(e.file.path).exists() for e in ClinicExport.objects.all())
    assert all(fhir_services.export_folder(j).exists() for j in ExportJob.objects.all())


def test_audit_events_are_never_removed_and_those_past_six_years_are_counted():
    cutoff = years_before(NOW, AUDIT_YEARS)
    younger = _event(cutoff + timedelta(days=1))
    older = _event(cutoff - timedelta(days=1))
    report = apply_retention(now=NOW)
    assert report.audit_events_past_retention == 1
    assert AuditEvent.objects.filter(pk__in=[younger.pk, older.pk]).count() == 2


def test_clinical_records_are_untouched_and_the_run_is_audited():
    patient = make_patient(make_clinic())
    _notification(patient, days_ago=365, status=NotificationStatus.SENT)
    report = apply_retention(now=NOW)
    assert Patient.objects.filter(pk=patient.pk).exists()
    run = AuditEvent.objects.get(action="retention.apply")
    assert run.detail["removed"] == report.removed
    assert set(report.removed) == {
        "expired_sessions",
        "finished_notifications",
        "finished_webhook_deliveries",
        "old_fhir_exports",
        "old_reports_exports",
    }


def test_every_rule_is_stated_in_words():
    assert all(rule.rule.strip() for rule in rules())


def test_six_years_before_the_29th_of_february_is_the_28th():
    assert years_before(datetime(2028, 2, 29, tzinfo=UTC), 6) == datetime(2022, 2, 28, tzinfo=UTC)


def test_the_command_reports_each_rule():
    out = io.StringIO()
    call_command("apply_retention", stdout=out)
    text = out.getvalue()
    assert "expired_sessions: 0 removed." in text
    assert "finished_notifications: 0 removed." in text
    assert "finished_webhook_deliveries: 0 removed." in text
    assert f"Audit events older than {AUDIT_YEARS} years: 0 (kept" in text
