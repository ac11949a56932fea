from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "backcare.reports"
    label = "reports"
    verbose_name = "Dashboards, reports and the audit log"
