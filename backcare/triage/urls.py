from django.urls import path

from backcare.triage import views

urlpatterns = [
    path("clinic/triage/", views.triage_queue, name="triage_queue"),
    path("patients/<uuid:patient_id>/safety/", views.patient_safety, name="patient_safety"),
    path("screenings/<uuid:assessment_id>/", views.assessment_detail, name="assessment_detail"),
    path(
        "screenings/<uuid:assessment_id>/outcome/",
        views.screening_outcome,
        name="screening_outcome",
    ),
    path(
        "screenings/<uuid:assessment_id>/review/",
        views.assessment_review,
        name="assessment_review",
    ),
    path(
        "patients/<uuid:patient_id>/referral-letters/new/",
        views.referral_letter_create,
        name="referral_letter_create",
    ),
    path(
        "referral-letters/<uuid:letter_id>/",
        views.referral_letter_detail,
        name="referral_letter_detail",
    ),
    path(
        "referral-letters/<uuid:letter_id>/pdf/",
        views.referral_letter_pdf,
        name="referral_letter_pdf",
    ),
    path("referrals/", views.referral_letter_list, name="referral_letter_list"),
    path(
        "patients/<uuid:patient_id>/clearances/new/",
        views.clearance_create,
        name="clearance_create",
    ),
    path(
        "clearances/<uuid:clearance_id>/document/",
        views.clearance_document,
        name="clearance_document",
    ),
    path("patients/<uuid:patient_id>/hold/override/", views.hold_override, name="hold_override"),
    path("patients/<uuid:patient_id>/rescreen/", views.rescreen, name="rescreen"),
    path("portal/rescreen/", views.portal_rescreen, name="portal_rescreen"),
]
