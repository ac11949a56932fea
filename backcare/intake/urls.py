from django.urls import path

from backcare.intake import views

urlpatterns = [
    path("learn/", views.learn, name="learn"),
    path("portal/intake/", views.portal_intake, name="portal_intake"),
    path("portal/intake/again/", views.portal_intake_again, name="portal_intake_again"),
    path(
        "patients/<uuid:patient_id>/intake/",
        views.patient_intake_start,
        name="patient_intake_start",
    ),
    path("intake/<uuid:intake_id>/", views.intake_detail, name="intake_detail"),
    path(
        "intake/<uuid:intake_id>/documents/",
        views.intake_document_add,
        name="intake_document_add",
    ),
    path("intake-documents/<uuid:document_id>/", views.intake_document, name="intake_document"),
    path("intake/<uuid:intake_id>/result/", views.intake_result, name="intake_result"),
    path("intake/<uuid:intake_id>/<slug:step>/", views.intake_step, name="intake_step"),
    path(
        "intake/<uuid:intake_id>/<slug:step>/autosave/",
        views.intake_autosave,
        name="intake_autosave",
    ),
]
