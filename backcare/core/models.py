"""Base models and the append-only audit log."""

import uuid
from typing import Any, NoReturn

from django.db import models
from django.utils import timezone


class BaseModel(models.Model):
    """UUID primary key (URLs carry UUIDs, never guessable counters) and timestamps."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit events are append-only.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Audit events are append-only.")


class AuditEvent(models.Model):
    """One read, write or denied attempt on protected data. Never updated, never deleted.

    Actor, clinic and patient are stored as plain ids (no foreign keys), so that the log does not
    depend on the rows it describes and keeps its meaning when they change.
    """

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", "Allowed"
        DENIED = "denied", "Denied"

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(default=timezone.now, editable=False)
    actor_id = models.UUIDField(null=True, blank=True, editable=False)
    actor_email = models.CharField(max_length=254, blank=True, editable=False)
    clinic_id = models.UUIDField(null=True, blank=True, editable=False)
    patient_id = models.UUIDField(null=True, blank=True, editable=False)
    action = models.CharField(max_length=64, editable=False)
    object_type = models.CharField(max_length=64, blank=True, editable=False)
    object_id = models.CharField(max_length=64, blank=True, editable=False)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, editable=False)
    ip_address = models.GenericIPAddressField(null=True, blank=True, editable=False)
    detail = models.JSONField(default=dict, blank=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["clinic_id", "occurred_at"], name="audit_clinic_time"),
            models.Index(
                fields=["clinic_id", "patient_id", "occurred_at"], name="audit_clinic_patient"
            ),
            models.Index(
                fields=["clinic_id", "actor_id", "occurred_at"], name="audit_clinic_actor"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_email or 'anonymous'} {self.action}"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit events are append-only.")


class AuditSealQuerySet(models.QuerySet["AuditSeal"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit seals are append-only.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Audit seals are append-only.")


class AuditSeal(models.Model):
    """One link of the audit log's hash chain: the event it seals and the SHA-256 of the
    previous link's hash and the event's content. Written by `manage.py seal_audit` in event id
    order; checked by `manage.py verify_audit`, which finds an event changed, deleted, inserted
    or moved after it was sealed. Never updated, never deleted."""

    id = models.BigAutoField(primary_key=True)
    event_id = models.BigIntegerField(unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, unique=True, editable=False)
    hash = models.CharField(max_length=64, editable=False)
    sealed_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AuditSealQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Seal of audit event {self.event_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit seals are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit seals are append-only.")


class WebhookEvent(models.TextChoices):
    """The fixed list of events a clinic may send to its endpoints (docs/webhooks.md)."""

    APPOINTMENT_BOOKED = "appointment.booked", "Appointment booked"
    APPOINTMENT_CHANGED = "appointment.changed", "Appointment changed"
    APPOINTMENT_CANCELLED = "appointment.cancelled", "Appointment cancelled"
    MEASUREMENT_RECORDED = "measurement.recorded", "Measurement recorded"
    INTAKE_TRIAGED = "intake.triaged", "Intake triaged"


class WebhookEndpoint(BaseModel):
    """A URL of a clinic's own system that receives the events it chose, signed with `secret`.

    The clinic is a plain id, as in `AuditEvent`: core sits left of accounts and holds no foreign
    key to it. The secret is stored because signing needs it; it is shown once, when made.
    Endpoints are disabled, never deleted: their delivery log keeps pointing at them.
    """

    clinic_id = models.UUIDField(editable=False)
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=80, editable=False)
    is_active = models.BooleanField(default=True)
    created_by_id = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-is_active", "-created_at"]
        indexes = [
            models.Index(fields=["clinic_id", "is_active"], name="webhook_endpoint_clinic"),
        ]

    def __str__(self) -> str:
        return self.url


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    DELIVERED = "delivered", "Delivered"
    SKIPPED = "skipped", "Not sent (endpoint disabled)"
    FAILED = "failed", "Failed"


class WebhookDelivery(BaseModel):
    """The webhook outbox: one event for one endpoint, written in the transaction of the change
    it reports, accepted by the receiver at most once. `payload` holds ids, never clinical text;
    `event_id` is the same on every try, so that receivers can drop repeats."""

    clinic_id = models.UUIDField(editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="+")
    event_id = models.UUIDField(editable=False)
    event_type = models.CharField(max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10,
        choices=WebhookDeliveryStatus.choices,
        default=WebhookDeliveryStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic_id", "endpoint", "event_id"],
                name="webhook_delivery_once_per_endpoint",
            )
        ]
        indexes = [
            models.Index(
                fields=["clinic_id", "endpoint", "created_at"], name="webhook_delivery_log"
            ),
            # The sender's work list: small, because delivered rows leave it.
            models.Index(
                fields=["due_at"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_pending_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint_id} ({self.status})"
