from django.urls import path

from backcare.patients import views

urlpatterns = [
    path("patients/", views.patient_list, name="patient_list"),
    path("patients/new/", views.patient_create, name="patient_create"),
    path("patients/<uuid:patient_id>/", views.patient_detail, name="patient_detail"),
    path("patients/<uuid:patient_id>/edit/", views.patient_edit, name="patient_edit"),
    path(
        "patients/<uuid:patient_id>/preferences/",
        views.patient_preferences,
        name="patient_preferences",
    ),
    path("patients/<uuid:patient_id>/consents/add/", views.consent_add, name="consent_add"),
    path(
        "patients/<uuid:patient_id>/consents/<uuid:consent_id>/withdraw/",
        views.consent_withdraw,
        name="consent_withdraw",
    ),
    path("patients/<uuid:patient_id>/invite/", views.patient_invite, name="patient_invite"),
    path("portal/details/", views.portal_details, name="portal_details"),
    path("portal/details/edit/", views.portal_contact_edit, name="portal_contact_edit"),
    path("portal/preferences/", views.portal_preferences, name="portal_preferences"),
    path("portal/consents/", views.portal_consents, name="portal_consents"),
]
