from django.contrib import admin

from backcare.plans.models import HomeCareAdvice


@admin.register(HomeCareAdvice)
class HomeCareAdviceAdmin(admin.ModelAdmin):
    """The managed list of home care advice; plans are changed on BackCare's own pages."""

    list_display = ("name", "code", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")
