from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "backcare.fhir"
    label = "fhir"
    verbose_name = "FHIR R4 export and import"
