from django.urls import path

from backcare.accounts import views

urlpatterns = [
    path("clinic/switch/", views.clinic_switch, name="clinic_switch"),
    path("clinic/settings/", views.clinic_settings, name="clinic_settings"),
    path("clinic/rooms/", views.room_add, name="room_add"),
    path("clinic/rooms/<uuid:room_id>/active/", views.room_set_active, name="room_set_active"),
    path("clinic/team/", views.team_list, name="team_list"),
    path("clinic/team/add/", views.member_add, name="member_add"),
    path(
        "clinic/team/<uuid:membership_id>/active/",
        views.membership_set_active,
        name="membership_set_active",
    ),
    path(
        "invitations/<uuid:membership_id>/",
        views.invitation_answer,
        name="invitation_answer",
    ),
    path("clinic/licences/", views.licence_list, name="licence_list"),
    path("therapists/", views.therapist_list, name="therapist_list"),
    path("therapists/me/", views.my_therapist_profile, name="my_therapist_profile"),
    path("therapists/<uuid:therapist_id>/", views.therapist_detail, name="therapist_detail"),
    path("therapists/<uuid:therapist_id>/edit/", views.therapist_edit, name="therapist_edit"),
    path("therapists/<uuid:therapist_id>/licences/add/", views.licence_add, name="licence_add"),
    path("licences/<uuid:licence_id>/edit/", views.licence_edit, name="licence_edit"),
    path("licences/<uuid:licence_id>/verify/", views.licence_verify, name="licence_verify"),
    path("clinic/webhooks/", views.webhook_endpoints, name="webhook_endpoints"),
    path(
        "clinic/webhooks/<uuid:endpoint_id>/active/",
        views.webhook_endpoint_set_active,
        name="webhook_endpoint_set_active",
    ),
    path(
        "clinic/webhooks/<uuid:endpoint_id>/deliveries/",
        views.webhook_deliveries,
        name="webhook_deliveries",
    ),
    path("api-tokens/", views.api_tokens, name="api_tokens"),
    path("api-tokens/<uuid:token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
]
