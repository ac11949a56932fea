from django.urls import path

from backcare.reports import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("clinic/audit/", views.audit_log, name="audit_log"),
    path("clinic/analytics/", views.clinic_analytics, name="clinic_analytics"),
    path("clinic/analytics/group/", views.group_analytics, name="group_analytics"),
    path("clinic/export/", views.clinic_export, name="clinic_export"),
    path(
        "clinic/export/<uuid:export_id>/status/",
        views.clinic_export_status,
        name="clinic_export_status",
    ),
    path(
        "clinic/export/<uuid:export_id>/download/",
        views.clinic_export_download,
        name="clinic_export_download",
    ),
    path("portal/my-data/", views.portal_my_data, name="portal_my_data"),
    path("portal/my-data/download.zip", views.portal_my_data_zip, name="portal_my_data_zip"),
    path("clinic/measurements.csv", views.measurements_csv, name="measurements_csv"),
    path("portal/progress/", views.portal_progress, name="portal_progress"),
    path("portal/questionnaires/", views.portal_questionnaires, name="portal_questionnaires"),
    path(
        "patients/<uuid:patient_id>/questionnaires/",
        views.patient_questionnaires,
        name="patient_questionnaires",
    ),
    path("patients/<uuid:patient_id>/progress/", views.patient_progress, name="patient_progress"),
    path("patients/<uuid:patient_id>/progress.pdf", views.progress_pdf, name="progress_pdf"),
]
