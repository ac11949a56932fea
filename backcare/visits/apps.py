from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "backcare.visits"
    label = "visits"
    verbose_name = "Visits and notes"
