from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from backcare.core.demo import DEMO_PASSWORD, build_demo


class Command(BaseCommand):
    help = "Create or refresh the demo clinic, its people and patients (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "load_demo creates accounts with a published password, so it runs only with "
                "DEBUG=1 (the demo). It refuses to touch a production database."
            )
        with transaction.atomic():
            state = build_demo()
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for role, email in state["logins"]:
            self.stdout.write(f"  {role:<22} {email}")
