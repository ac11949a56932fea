from django.urls import path

from backcare.fhir import views

urlpatterns = [
    path(
        "fhir/Patient/<uuid:patient_id>/$everything",
        views.patient_everything,
        name="fhir_patient_everything",
    ),
    path("fhir/$export", views.export_kickoff, name="fhir_export_kickoff"),
    path("fhir/$export-status/<uuid:job_id>", views.export_status, name="fhir_export_status"),
    path(
        "fhir/$export-file/<uuid:job_id>/<str:resource_type>.ndjson",
        views.export_file,
        name="fhir_export_file",
    ),
    path("fhir/$import-bundle", views.import_bundle, name="fhir_import_bundle"),
    path("clinic/export/fhir/", views.clinic_export, name="fhir_clinic_export"),
]
