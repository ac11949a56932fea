"""The retention job (`manage.py apply_retention`, daily from cron; decision 0026).

It removes only what a registered rule names, each rule stated in words here and in
docs/security.md. Apps register the rules for their own tables (`register`, from their
`AppConfig.ready`). Never removed: clinical records (`core.protection` refuses it) and audit
events. Audit events older than `AUDIT_YEARS` are counted for the operator, who may archive
them through the privileged path of docs/security.md; the job has no way to delete them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from backcare.core.audit import record_event
from backcare.core.models import AuditEvent, WebhookDelivery, WebhookDeliveryStatus

AUDIT_YEARS = 6


@dataclass(frozen=True)
class RetentionRule:
    """One thing the job may remove: `rule` says what, in words; `remove(now)` removes it and
    returns how many rows went."""

    name: str
    rule: str
    remove: Callable[[datetime], int]


@dataclass
class RetentionReport:
    removed: dict[str, int] = field(default_factory=dict)
    audit_events_past_retention: int = 0


_RULES: dict[str, RetentionRule] = {}


def register(rule: RetentionRule) -> None:
    """Add a rule (once per name; registering again replaces it)."""
    _RULES[rule.name] = rule


def rules() -> list[RetentionRule]:
    return [_RULES[name] for name in sorted(_RULES)]


def years_before(moment: datetime, years: int) -> datetime:
    """The same calendar moment `years` earlier (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def _remove_expired_sessions(now: datetime) -> int:
    removed, _ = Session.objects.filter(expire_date__lt=now).delete()
    return removed


register(
    RetentionRule(
        name="expired_sessions",
        rule="Sign-in sessions past their expiry date.",
        remove=_remove_expired_sessions,
    )
)


def _remove_finished_webhook_deliveries(now: datetime) -> int:
    cutoff = now - timedelta(days=settings.BACKCARE_RETENTION_NOTIFICATION_DAYS)
    finished = WebhookDelivery.objects.exclude(status=WebhookDeliveryStatus.PENDING)
    removed, _ = finished.filter(due_at__lt=cutoff).delete()
    return removed


register(
    RetentionRule(
        name="finished_webhook_deliveries",
        rule="Webhook deliveries delivered, skipped or failed more than "
        "BACKCARE_RETENTION_NOTIFICATION_DAYS days ago (they carry ids only).",
        remove=_remove_finished_webhook_deliveries,
    )
)


def apply_retention(*, now: datetime | None = None) -> RetentionReport:
    """Apply every registered rule (each in its own transaction), count the audit events
    older than AUDIT_YEARS (left in place), and record one audit event with the counts."""
    moment = now or timezone.now()
    report = RetentionReport()
    for rule in rules():
        with transaction.atomic():
            report.removed[rule.name] = rule.remove(moment)
    cutoff = years_before(moment, AUDIT_YEARS)
    report.audit_events_past_retention = AuditEvent.objects.filter(occurred_at__lt=cutoff).count()
    record_event(
        actor=None,
        action="retention.apply",
        detail={
            "removed": report.removed,
            "audit_events_past_retention": report.audit_events_past_retention,
        },
    )
    return report
