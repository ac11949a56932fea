"""Top-level URL configuration: each app's urls.py, allauth and the Django admin."""

from django.contrib import admin
from django.urls import include, path

from backcare.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("backcare.reports.urls")),
    path("", include("backcare.accounts.urls")),
    path("", include("backcare.patients.urls")),
    path("", include("backcare.triage.urls")),
    path("", include("backcare.outcomes.urls")),
    path("", include("backcare.intake.urls")),
    path("", include("backcare.plans.urls")),
    path("", include("backcare.scheduling.urls")),
    path("", include("backcare.visits.urls")),
    path("", include("backcare.fhir.urls")),
    path("", include("backcare.api.urls")),
]

handler400 = "backcare.core.views.bad_request"
handler403 = "backcare.core.views.permission_denied"
handler404 = "backcare.core.views.page_not_found"
handler500 = "backcare.core.views.server_error"
