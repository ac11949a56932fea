from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "backcare.triage"
    label = "triage"
    verbose_name = "Safety triage"
