"""Background work of outcomes (django.tasks)."""

from django.core.mail import send_mail
from django.tasks import task


@task
def send_progress_link(to: str, clinic_name: str, link: str) -> None:
    """Email a referring clinician the link to a progress report. The email names no patient
    and carries no clinical details: the report is read after signing in."""
    send_mail(
        subject=f"[BackCare] A progress report from {clinic_name}",
        message=(
            f"A progress report about a patient you referred to {clinic_name} is ready.\n\n"
            f"Sign in to BackCare to read it: {link}\n"
        ),
        from_email=None,
        recipient_list=[to],
    )
