"""Django admin: scheduling configuration only (services, working hours, time off, settings).
Appointments are patient data: they are read and changed only through BackCare's own pages,
where access is scoped and audited."""

from django.contrib import admin

from backcare.scheduling.models import SchedulingSettings, Service, TimeOff, WorkingHours


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "clinic", "duration_minutes", "buffer_minutes", "price", "is_active"]
    list_filter = ["clinic", "is_active"]
    filter_horizontal = ["techniques"]


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ["therapist", "clinic", "weekday", "starts", "ends", "room"]
    list_filter = ["clinic", "weekday"]


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ["therapist", "clinic", "starts_at", "ends_at", "reason"]
    list_filter = ["clinic"]


@admin.register(SchedulingSettings)
class SchedulingSettingsAdmin(admin.ModelAdmin):
    list_display = ["clinic", "cancellation_window_hours", "new_patients_need_approval"]
