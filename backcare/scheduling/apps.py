from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "backcare.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"
