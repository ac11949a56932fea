from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "backcare.outcomes"
    label = "outcomes"
    verbose_name = "Outcome measurement"
