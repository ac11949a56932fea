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
