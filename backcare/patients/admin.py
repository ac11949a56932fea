"""Django admin: consent texts are configuration; patient records are not edited here (their
pages are scoped and audited)."""

from django.contrib import admin

from backcare.patients.models import ConsentText


@admin.register(ConsentText)
class ConsentTextAdmin(admin.ModelAdmin):
    list_display = ["title", "clinic", "kind", "version", "published_at"]
    list_filter = ["kind", "clinic"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        # A published text is never edited: consent records point at the exact version.
        return obj is None
