"""Demo services and working hours: three services, weekday hours for the demo therapists."""

from datetime import datetime, time, timedelta

from backcare.accounts.models import Clinic
from backcare.accounts.queries import list_techniques
from backcare.core.demo import State, demo_id
from backcare.outcomes.demo import ANALYTICS_COURSES
from backcare.scheduling.models import Appointment, AppointmentStatus, Service, WorkingHours

# name, minutes, buffer, price, technique codes
SERVICES = [
    ("Initial assessment and massage (90 min)", 90, 15, "95.00", ["swedish", "myofascial_release"]),
    ("Back massage (60 min)", 60, 15, "75.00", ["swedish", "deep_tissue", "myofascial_release"]),
    ("Back massage (30 min)", 30, 10, "45.00", ["swedish"]),
]
# therapist login, weekdays, start and end hours
HOURS = [
    ("therapist", (0, 1, 2, 3, 4), 9, 17),
    ("therapist2", (0, 2, 4), 10, 18),
    ("therapist3", (1, 3), 9, 15),
    ("therapist4", (0, 1, 3), 12, 20),
]


def build(state: State) -> None:
    clinic: Clinic = state["clinic"]
    techniques = {t.code: t for t in list_techniques()}
    for name, minutes, buffer, price, codes in SERVICES:
        service, _ = Service.objects.update_or_create(
            clinic=clinic,
            name=name,
            defaults={"duration_minutes": minutes, "buffer_minutes": buffer, "price": price},
        )
        service.techniques.set([techniques[c] for c in codes if c in techniques])
    for login, weekdays, start, end in HOURS:
        therapist = state["users"][login].therapist
        for weekday in weekdays:
            WorkingHours.objects.get_or_create(
                clinic=clinic,
                therapist=therapist,
                weekday=weekday,
                defaults={"starts": time(start), "ends": time(end)},
            )
    _past_sessions(state)
    _analytics_sessions(state)


# Maria's past sessions (weeks ago, 10:00 with the demo therapist): the visits demo documents
# them, so her progress shows sessions and points.
PAST_SESSIONS_WEEKS_AGO = (3, 2, 1)


def _past_sessions(state: State) -> None:
    clinic: Clinic = state["clinic"]
    therapist = state["users"]["therapist"].therapist
    maria = state["patients"][0]
    service = Service.objects.get(clinic=clinic, name="Back massage (60 min)")
    today = clinic.local_date()
    past = []
    for weeks in PAST_SESSIONS_WEEKS_AGO:
        starts = datetime.combine(today - timedelta(weeks=weeks), time(10)).replace(
            tzinfo=clinic.zone
        )
        appointment, _ = Appointment.objects.get_or_create(
            id=demo_id(f"past-session-{weeks}"),
            defaults={
                "clinic": clinic,
                "patient": maria,
                "therapist": therapist,
                "service": service,
                "starts_at": starts,
                "ends_at": starts + timedelta(minutes=service.duration_minutes),
                "blocked_until": starts
                + timedelta(minutes=service.duration_minutes + service.buffer_minutes),
                "status": AppointmentStatus.BOOKED,
                "booked_by": state["users"]["frontdesk"],
            },
        )
        past.append(appointment)
    state["past_sessions"] = past


def _analytics_sessions(state: State) -> None:
    """The attended sessions of the past courses of `outcomes.demo.ANALYTICS_COURSES`."""
    clinic: Clinic = state["clinic"]
    service = Service.objects.get(clinic=clinic, name="Back massage (60 min)")
    sessions = []
    for course in ANALYTICS_COURSES:
        for number in range(course.attended):
            starts = course.session_at(clinic, number)
            appointment, _ = Appointment.objects.get_or_create(
                id=demo_id(f"analytics-session-{course.patient}-{number}"),
                defaults={
                    "clinic": clinic,
                    "patient": state["patients"][course.patient],
                    "therapist": state["users"][course.therapist].therapist,
                    "service": service,
                    "starts_at": starts,
                    "ends_at": starts + timedelta(minutes=service.duration_minutes),
                    "blocked_until": starts
                    + timedelta(minutes=service.duration_minutes + service.buffer_minutes),
                    "status": AppointmentStatus.COMPLETED,
                    "booked_by": state["users"]["frontdesk"],
                },
            )
            sessions.append((course, number, appointment))
    state["analytics_sessions"] = sessions
