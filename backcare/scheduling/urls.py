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
    path(
        "appointments/<uuid:appointment_id>/move/",
        views.appointment_reschedule,
        name="appointment_reschedule",
    ),
]
