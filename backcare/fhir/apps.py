from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "backcare.fhir"
    label = "fhir"
    verbose_name = "FHIR R4 export and import"

    def ready(self) -> None:
        from backcare.core.retention import RetentionRule, register
        from backcare.fhir.services import remove_old_exports

        register(
            RetentionRule(
                name="old_fhir_exports",
                rule="FHIR bulk exports (NDJSON files and job)"
                " finished more than BACKCARE_RETENTION_EXPORT_DAYS days ago.",
                remove=remove_old_exports,
            )
        )
