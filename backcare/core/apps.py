from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "backcare.core"
    label = "core"
    verbose_name = "BackCare core"

    def ready(self) -> None:
        from backcare.core.protection import guard_clinical_models

        guard_clinical_models()
