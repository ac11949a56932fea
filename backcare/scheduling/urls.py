from django.urls import path

from backcare.scheduling import views

urlpatterns = [
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("calendar-feeds/", views.calendar_feeds, name="calendar_feeds"),
    path("clinic/calendar/", views.staff_calendar, name="staff_calendar"),
    path("portal/book/", views.portal_booking, name="portal_booking"),
    path("portal/appointments/", views.portal_appointments, name="portal_appointments"),
    path("patients/<uuid:patient_id>/book/", views.patient_booking, name="patient_booking"),
    path(
        "patients/<uuid:patient_id>/appointments/",
        views.patient_appointments,
        name="patient_appointments",
    ),
    path(
        "appointments/<uuid:appointment_id>/cancel/",
        views.appointment_cancel,
        name="appointment_cancel",
    ),
    path("portal/waitlist/", views.portal_waitlist, name="portal_waitlist"),
    path("patients/<uuid:patient_id>/waitlist/", views.patient_waitlist, name="patient_waitlist"),
    path("waitlist/<uuid:entry_id>/leave/", views.waitlist_leave, name="waitlist_leave"),
    path("waitlist/offers/<str:token>/", views.waitlist_offer, name="waitlist_offer"),
    path("clinic/waitlist/", views.clinic_waitlist, name="clinic_waitlist"),
    path(
        "appointments/<uuid:appointment_id>/move/",
        views.appointment_reschedule,
        name="appointment_reschedule",
    ),
]

# The clinic's scheduling configuration.
urlpatterns += [
    path("clinic/services/", views.service_list, name="service_list"),
    path("clinic/services/add/", views.service_add, name="service_add"),
    path("clinic/services/<uuid:service_id>/edit/", views.service_edit, name="service_edit"),
    path(
        "clinic/scheduling-settings/",
        views.scheduling_settings_edit,
        name="scheduling_settings",
    ),
    path("therapists/<uuid:therapist_id>/hours/", views.therapist_hours, name="therapist_hours"),
    path(
        "therapists/<uuid:therapist_id>/hours/weekly/",
        views.working_hours_add,
        name="working_hours_add",
    ),
    path(
        "therapists/<uuid:therapist_id>/hours/dated/",
        views.dated_hours_add,
        name="dated_hours_add",
    ),
    path(
        "therapists/<uuid:therapist_id>/hours/<uuid:hours_id>/remove/",
        views.working_hours_remove,
        name="working_hours_remove",
    ),
    path(
        "therapists/<uuid:therapist_id>/time-off/",
        views.time_off_add,
        name="time_off_add",
    ),
    path(
        "therapists/<uuid:therapist_id>/time-off/<uuid:time_off_id>/remove/",
        views.time_off_remove,
        name="time_off_remove",
    ),
]
