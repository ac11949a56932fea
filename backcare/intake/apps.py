from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "backcare.intake"
    label = "intake"
    verbose_name = "Intake"
