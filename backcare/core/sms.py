"""Text messages behind one small interface, like Django's mail backends: `settings.SMS_BACKEND`
names the class. BackCare ships no provider; a clinic's deployment adds an adapter for its own.

`reference` is the sender's idempotency key (the outbox row id): a provider that honours it
sends a message once even when a worker dies after handing it over and it is handed over again.
"""

import sys
import threading
from dataclasses import dataclass
from typing import ClassVar, Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class TextMessage:
    to: str
    body: str
    reference: str


class SmsError(Exception):
    """The message could not be handed to the provider; the sender retries later."""


class SmsBackend(Protocol):
    def send(self, message: TextMessage) -> None: ...


class ConsoleSmsBackend:
    """Prints each message (the demo)."""

    def send(self, message: TextMessage) -> None:
        sys.stdout.write(f"SMS to {message.to} [{message.reference}]: {message.body}\n")
        sys.stdout.flush()


class NoSmsBackend:
    """Production default until a provider is configured: refuses, so the outbox records why."""

    def send(self, message: TextMessage) -> None:
        raise SmsError("No text message provider is configured (SMS_BACKEND).")


class RecordingSmsBackend:
    """Keeps every message in `outbox` (tests), like Django's locmem mail backend."""

    outbox: ClassVar[list[TextMessage]] = []
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def send(self, message: TextMessage) -> None:
        with self._lock:
            self.outbox.append(message)


def send_text_message(message: TextMessage) -> None:
    """Hand `message` to the configured backend; raises `SmsError` when it cannot."""
    backend: SmsBackend = import_string(settings.SMS_BACKEND)()
    backend.send(message)
