from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "backcare.patients"
    label = "patients"
    verbose_name = "Patients"
