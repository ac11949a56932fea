from django.urls import path

from backcare.plans import views

urlpatterns = [
    path("patients/<uuid:patient_id>/plan/", views.plan_detail, name="plan_detail"),
    path("patients/<uuid:patient_id>/plan/new/", views.plan_create, name="plan_create"),
    path(
        "patients/<uuid:patient_id>/plan/techniques/",
        views.plan_technique_add,
        name="plan_technique_add",
    ),
    path(
        "plan-techniques/<uuid:technique_id>/remove/",
        views.plan_technique_remove,
        name="plan_technique_remove",
    ),
    path("plans/<uuid:plan_id>/end/", views.plan_end, name="plan_end"),
]
