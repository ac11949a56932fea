from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "backcare.accounts"
    label = "accounts"
    verbose_name = "People, clinics and licences"

    def ready(self) -> None:
        from backcare.accounts import signals  # noqa: F401 (connects the receivers)
