"""Tamper evidence for the audit log: a hash chain over the events, kept in `AuditSeal` rows.

Events are written by many requests at once, inside their own transactions; chaining them at
write time would make every audited transaction of a clinic wait for the one before it. So the
chain is built after the fact: `seal_events` (run by `manage.py seal_audit` from cron, a few
minutes apart) seals the events older than `SEAL_AFTER`, in id order, each link being
SHA-256(previous hash + the event's canonical content). `verify_chain` (`manage.py
verify_audit`) recomputes the chain and reports every event changed, deleted, inserted or moved
(its id changed) since it was sealed; events not sealed yet are counted, not judged.

The events themselves are append-only in the ORM and, on PostgreSQL, by triggers (decision
0004); the chain shows whether someone with more power than the application (a database
superuser, a restored old copy) changed them anyway.
"""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from backcare.core.models import AuditEvent, AuditSeal

GENESIS = "0" * 64
SEAL_AFTER = timedelta(minutes=10)  # longer than any transaction that writes events
BATCH = 2000


def canonical(event: AuditEvent) -> bytes:
    """The event's content as bytes: every field, in a fixed order, as JSON."""
    content = [
        event.pk,
        event.occurred_at.astimezone(UTC).isoformat(),
        str(event.actor_id or ""),
        event.actor_email,
        str(event.clinic_id or ""),
        str(event.patient_id or ""),
        event.action,
        event.object_type,
        event.object_id,
        event.outcome,
        event.ip_address or "",
        event.detail,
    ]
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()


def link_hash(prev_hash: str, event: AuditEvent) -> str:
    """The chain link of `event` after the link `prev_hash`."""
    return hashlib.sha256(prev_hash.encode() + canonical(event)).hexdigest()


def seal_events(*, now: datetime | None = None, limit: int = 100_000) -> int:
    """Seal up to `limit` events older than `SEAL_AFTER`, after the last sealed one, in id
    order; returns how many. Two sealers at once cannot fork the chain (each previous hash is
    used once): the one that loses stops and seals nothing."""
    moment = now or timezone.now()
    sealed = 0
    while sealed < limit:
        try:
            written = _seal_batch(moment - SEAL_AFTER, min(BATCH, limit - sealed))
        except IntegrityError:
            return sealed  # another sealer got there first
        if not written:
            break
        sealed += written
    return sealed


def _seal_batch(before: datetime, size: int) -> int:
    with transaction.atomic():
        last = AuditSeal.objects.order_by("-id").first()
        prev, after = (last.hash, last.event_id) if last else (GENESIS, 0)
        events = list(
            AuditEvent.objects.filter(id__gt=after, occurred_at__lt=before).order_by("id")[:size]
        )
        seals = []
        for event in events:
            link = link_hash(prev, event)
            seals.append(AuditSeal(event_id=event.pk, prev_hash=prev, hash=link))
            prev = link
        AuditSeal.objects.bulk_create(seals)
        return len(seals)


@dataclass
class ChainReport:
    """What `verify_chain` found: events checked, problems in words (each naming the event
    id), and events not sealed yet."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)
    unsealed: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(*, using: str = "default") -> ChainReport:
    """Recompute the whole chain of database `using`, in batches (constant memory), and report
    every event changed, deleted, inserted or moved since it was sealed, and broken links."""
    report = ChainReport()
    prev, last_event = GENESIS, 0
    for seals in _seal_batches(using):
        low, high = seals[0].event_id, seals[-1].event_id
        in_range = AuditEvent.objects.using(using).filter(
            id__gte=min(low, last_event + 1), id__lte=max(high, low)
        )
        events = {e.pk: e for e in in_range}
        sealed_ids = set()
        for seal in seals:
            if seal.prev_hash != prev or seal.event_id <= last_event:
                report.problems.append(f"The chain is broken at the seal of event {seal.event_id}.")
            event = events.get(seal.event_id)
            if event is None:
                report.problems.append(f"Event {seal.event_id} was deleted after it was sealed.")
            elif link_hash(seal.prev_hash, event) != seal.hash:
                report.problems.append(f"Event {seal.event_id} was changed after it was sealed.")
            else:
                report.checked += 1
            sealed_ids.add(seal.event_id)
            prev, last_event = seal.hash, max(last_event, seal.event_id)
        for event_id in sorted(set(events) - sealed_ids):
            report.problems.append(
                f"Event {event_id} is not in the chain: added or moved after sealing."
            )
    report.unsealed = AuditEvent.objects.using(using).filter(id__gt=last_event).count()
    return report


def _seal_batches(using: str) -> Iterator[list[AuditSeal]]:
    after = 0
    while True:
        batch = list(AuditSeal.objects.using(using).filter(id__gt=after).order_by("id")[:BATCH])
        if not batch:
            return
        yield batch
        after = batch[-1].id
