from django.urls import path

from backcare.reports import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("clinic/audit/", views.audit_log, name="audit_log"),
]
