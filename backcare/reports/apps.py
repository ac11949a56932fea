from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "backcare.reports"
    label = "reports"
    verbose_name = "Dashboards, reports and the audit log"

    def ready(self) -> None:
        from backcare.core.retention import RetentionRule, register
        from backcare.reports.services import remove_old_clinic_exports

        register(
            RetentionRule(
                name="old_reports_exports",
                rule="Whole-clinic CSV exports (zip file and job)"
                " finished more than BACKCARE_RETENTION_EXPORT_DAYS days ago.",
                remove=remove_old_clinic_exports,
            )
        )
