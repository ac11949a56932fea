from django.urls import path

from backcare.outcomes import views

urlpatterns = [
    path("clinic/clinical-settings/", views.clinical_settings, name="clinical_settings"),
    path("clinic/clinical-settings/rules/", views.rule_settings_save, name="rule_settings_save"),
    path(
        "clinic/clinical-settings/outcomes/",
        views.outcome_settings_save,
        name="outcome_settings_save",
    ),
    path("check-in/<str:token>/", views.check_in, name="check_in"),
    path(
        "portal/questionnaires/<slug:instrument>/",
        views.portal_questionnaire,
        name="portal_questionnaire",
    ),
    path(
        "patients/<uuid:patient_id>/questionnaires/<slug:instrument>/",
        views.patient_questionnaire,
        name="patient_questionnaire",
    ),
    path("patients/<uuid:patient_id>/progress/send/", views.progress_send, name="progress_send"),
    path("patients/<uuid:patient_id>/flare-ups/add/", views.flare_up_add, name="flare_up_add"),
]
