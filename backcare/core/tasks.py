"""Background work of core (django.tasks): sending the webhook outbox.
`manage.py deliver_webhooks` runs it from cron for retries and anything left over."""

from django.tasks import task

from backcare.core import webhooks


@task
def deliver_webhooks() -> int:
    """Send what is due in the webhook outbox; returns how many were accepted."""
    return webhooks.deliver_due_webhooks().delivered
