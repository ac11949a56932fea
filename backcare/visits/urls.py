from django.urls import path

from backcare.visits import views

urlpatterns = [
    path("appointments/<uuid:appointment_id>/visit/", views.visit_open, name="visit_open"),
    path("visits/<uuid:visit_id>/", views.visit_detail, name="visit_detail"),
    path("visits/<uuid:visit_id>/note/", views.visit_note_save, name="visit_note_save"),
    path("visits/<uuid:visit_id>/note/sign/", views.visit_note_sign, name="visit_note_sign"),
    path(
        "visit-notes/<uuid:note_id>/autosave/",
        views.visit_note_autosave,
        name="visit_note_autosave",
    ),
    path(
        "visits/<uuid:visit_id>/techniques/",
        views.visit_technique_add,
        name="visit_technique_add",
    ),
    path(
        "applied-techniques/<uuid:technique_id>/remove/",
        views.visit_technique_remove,
        name="visit_technique_remove",
    ),
    path("visits/<uuid:visit_id>/amendments/", views.visit_note_amend, name="visit_note_amend"),
    path(
        "visits/<uuid:visit_id>/entered-in-error/",
        views.visit_note_entered_in_error,
        name="visit_note_entered_in_error",
    ),
]
