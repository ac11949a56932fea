from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "backcare.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        from backcare.core.retention import RetentionRule, register
        from backcare.scheduling.services import remove_finished_notifications

        register(
            RetentionRule(
                name="finished_notifications",
                rule="Outbox messages sent, skipped or failed more than "
                "BACKCARE_RETENTION_NOTIFICATION_DAYS days ago (they carry no text).",
                remove=remove_finished_notifications,
            )
        )
