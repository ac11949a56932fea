"""Services, therapists' working hours and time off, appointments, courses of sessions, and
each clinic's scheduling settings.

No two active appointments overlap for a therapist, a room or a patient (ARCHITECTURE.md §5):
on PostgreSQL, exclusion constraints (`btree_gist`; created in migration 0001, widened to the
statuses of `ACTIVE_STATUSES` in 0002) enforce it; on SQLite the booking services check under
the IMMEDIATE write lock.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from backcare.accounts.models import (
    Clinic,
    ClinicScopedModel,
    Room,
    Technique,
    Therapist,
    User,
)
from backcare.core.models import BaseModel
from backcare.patients.models import Patient


class Service(ClinicScopedModel):
    """What a patient books: a 30/60/90-minute back massage, an initial assessment."""

    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        "turnover buffer (minutes)", default=0, validators=[MaxValueValidator(120)]
    )
    price = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    techniques = models.ManyToManyField(Technique, blank=True, related_name="+")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="service_name_unique_in_clinic")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.duration_minutes} min)"


class WorkingHours(ClinicScopedModel):
    """One block of a therapist's weekly pattern at a clinic, in the clinic's local time."""

    therapist = models.ForeignKey(Therapist, on_delete=models.PROTECT, related_name="+")
    weekday = models.PositiveSmallIntegerField(
        choices=[
            (0, "Monday"),
            (1, "Tuesday"),
            (2, "Wednesday"),
            (3, "Thursday"),
            (4, "Friday"),
            (5, "Saturday"),
            (6, "Sunday"),
        ]
    )
    starts = models.TimeField()
    ends = models.TimeField()
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    on_date = models.DateField(
        null=True,
        blank=True,
        help_text="Set for a one-off change on this date: the rows of a date replace the weekly "
        "pattern that day. A day not worked at all is time off.",
    )

    class Meta:
        verbose_name_plural = "working hours"
        ordering = ["weekday", "starts"]
        indexes = [models.Index(fields=["clinic", "therapist"], name="hours_therapist")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends__gt=models.F("starts")), name="hours_end_after_start"
            )
        ]

    def __str__(self) -> str:
        day = f"{self.on_date:%Y-%m-%d}" if self.on_date else self.get_weekday_display()
        return f"{day} {self.starts:%H:%M}-{self.ends:%H:%M}"


class TimeOff(ClinicScopedModel):
    """A therapist's absence (holiday, training, illness): no slots in it."""

    therapist = models.ForeignKey(Therapist, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["therapist", "starts_at"], name="timeoff_therapist_time")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="timeoff_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"Time off {self.starts_at:%Y-%m-%d %H:%M} to {self.ends_at:%Y-%m-%d %H:%M}"


class AppointmentStatus(models.TextChoices):
    REQUESTED = "requested", "Waiting for approval"
    BOOKED = "booked", "Booked"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "Did not attend"


# Appointments that hold their time: they may not overlap. A requested appointment holds its time
# while the clinic decides, so approving it never finds the time gone. The PostgreSQL exclusion
# constraints spell out this list (migration 0002): change both together.
ACTIVE_STATUSES = (
    AppointmentStatus.REQUESTED,
    AppointmentStatus.BOOKED,
    AppointmentStatus.COMPLETED,
)
# Appointments still ahead of the patient, which may be cancelled or moved.
CHANGEABLE_STATUSES = (AppointmentStatus.REQUESTED, AppointmentStatus.BOOKED)

MAX_COURSE_SESSIONS = 52
MAX_COURSE_EVERY_WEEKS = 4
MAX_CANCELLATION_WINDOW_HOURS = 336  # two weeks
MAX_REMINDER_HOURS = 168  # one week
MAX_WAITLIST_OFFER_HOURS = 72


class Course(ClinicScopedModel):
    """A planned course of sessions: the same therapist, service and local time every
    `every_weeks` weeks, booked in one step. Its appointments point to it; a session moved or
    cancelled later changes only that appointment."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    therapist = models.ForeignKey(Therapist, on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    every_weeks = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_COURSE_EVERY_WEEKS)]
    )
    sessions_count = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_COURSE_SESSIONS)]
    )
    first_starts_at = models.DateTimeField()
    booked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["first_starts_at"]
        indexes = [models.Index(fields=["clinic", "patient"], name="course_clinic_patient")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sessions_count__gte=1, sessions_count__lte=MAX_COURSE_SESSIONS)
                & models.Q(every_weeks__gte=1, every_weeks__lte=MAX_COURSE_EVERY_WEEKS),
                name="course_sizes_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"Course of {self.sessions_count} from {self.first_starts_at:%Y-%m-%d %H:%M}"


class Appointment(ClinicScopedModel):
    """A booked session. `blocked_until` is the end plus the service's turnover buffer: the
    therapist and the room are busy until then."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    therapist = models.ForeignKey(Therapist, on_delete=models.PROTECT, related_name="+")
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    blocked_until = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    booked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    course = models.ForeignKey(
        Course, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["therapist", "starts_at"], name="appointment_therapist_time"),
            models.Index(fields=["clinic", "room", "starts_at"], name="appointment_room_time"),
            models.Index(
                fields=["clinic", "patient", "starts_at"], name="appointment_patient_time"
            ),
            models.Index(fields=["clinic", "starts_at"], name="appointment_clinic_time"),
            models.Index(fields=["clinic", "id"], name="appointment_clinic_pk"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at"))
                & models.Q(blocked_until__gte=models.F("ends_at")),
                name="appointment_times_in_order",
            )
        ]

    def __str__(self) -> str:
        return f"Appointment {self.starts_at:%Y-%m-%d %H:%M} ({self.status})"


class SchedulingSettings(BaseModel):
    """A clinic's booking rules. Clinics without a row use the field defaults
    (`queries.scheduling_settings`)."""

    clinic = models.OneToOneField(Clinic, on_delete=models.PROTECT, related_name="+")
    cancellation_window_hours = models.PositiveSmallIntegerField(
        "cancellation window (hours)",
        default=24,
        validators=[MaxValueValidator(MAX_CANCELLATION_WINDOW_HOURS)],
        help_text="Patients may cancel or move an appointment up to this many hours before it; "
        "later, they call the clinic. Clinic staff may always.",
    )
    new_patients_need_approval = models.BooleanField(
        default=False,
        help_text="A patient's own first booking waits for the clinic's approval (it holds its "
        "time meanwhile).",
    )
    reminder_hours_before = models.PositiveSmallIntegerField(
        "reminder (hours before)",
        default=24,
        validators=[MaxValueValidator(MAX_REMINDER_HOURS)],
        help_text="Patients get a reminder this many hours before each appointment; 0 sends none.",
    )
    sms_enabled = models.BooleanField(
        "text messages",
        default=False,
        help_text="Also send confirmations and reminders by text message to patients with a "
        "phone number.",
    )
    waitlist_offer_hours = models.PositiveSmallIntegerField(
        "waitlist offer (hours)",
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WAITLIST_OFFER_HOURS)],
        help_text="A freed time offered to the first patient on the waitlist is theirs to take "
        "for this many hours, then it goes to the next.",
    )

    class Meta:
        verbose_name_plural = "scheduling settings"

    def __str__(self) -> str:
        return f"Scheduling settings of {self.clinic_id}"


class CalendarFeedKind(models.TextChoices):
    PATIENT = "patient", "My appointments (patient)"
    THERAPIST = "therapist", "My working calendar (therapist)"


class CalendarFeed(ClinicScopedModel):
    """A private iCalendar feed of one person's appointments at a clinic, read by calendar apps
    with a secret token. Only the token's SHA-256 is stored; revoking ends it."""

    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=CalendarFeedKind.choices)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    therapist = models.ForeignKey(
        Therapist, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    token_sha256 = models.CharField(max_length=64, unique=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} feed of {self.owner_id}"


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    OFFERED = "offered", "Offered a time"
    BOOKED = "booked", "Booked"
    WITHDRAWN = "withdrawn", "Left the waitlist"


class WaitlistEntry(ClinicScopedModel):
    """A patient waiting for a time with a therapist (or any suitable one) between two dates,
    optionally within a time of day. First come, first offered."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    therapist = models.ForeignKey(
        Therapist, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    first_date = models.DateField()
    last_date = models.DateField()
    earliest_time = models.TimeField(null=True, blank=True)
    latest_time = models.TimeField(
        null=True, blank=True, help_text="The latest start time, in the clinic's time."
    )
    status = models.CharField(
        max_length=10, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "waitlist entries"
        indexes = [
            models.Index(fields=["clinic", "status", "created_at"], name="waitlist_clinic_line"),
            models.Index(fields=["clinic", "patient"], name="waitlist_clinic_patient"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_date__gte=models.F("first_date")),
                name="waitlist_dates_in_order",
            )
        ]

    def __str__(self) -> str:
        return f"Waitlist {self.first_date:%Y-%m-%d} to {self.last_date:%Y-%m-%d} ({self.status})"


class WaitlistOfferStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Booked"
    EXPIRED = "expired", "Expired"
    DECLINED = "declined", "Declined"
    TAKEN = "taken", "Taken by someone else"


class WaitlistOffer(ClinicScopedModel):
    """A freed time offered to one waitlist entry until `expires_at`. The emailed link carries a
    signed, expiring token of the offer's id (nothing secret is stored)."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.PROTECT, related_name="offers")
    therapist = models.ForeignKey(Therapist, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=WaitlistOfferStatus.choices, default=WaitlistOfferStatus.OPEN
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["clinic", "status", "expires_at"], name="offer_clinic_open"),
            models.Index(fields=["clinic", "entry"], name="offer_clinic_entry"),
        ]

    def __str__(self) -> str:
        return f"Offer of {self.starts_at:%Y-%m-%d %H:%M} ({self.status})"


class NotificationKind(models.TextChoices):
    CONFIRMATION = "confirmation", "Booking confirmation"
    REQUEST = "request", "Booking request received"
    REMINDER = "reminder", "Reminder"
    MOVED = "moved", "Appointment moved"
    CANCELLED = "cancelled", "Appointment cancelled"
    WAITLIST_OFFER = "waitlist_offer", "Waitlist offer"
    CHECK_IN = "check_in", "Check-in after a visit"
    FOLLOW_UP = "follow_up", "Follow-up after a course"


class NotificationChannel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Not sent (no longer true)"
    FAILED = "failed", "Failed"


class Notification(ClinicScopedModel):
    """The outbox: one message to a patient, sent at most once. `key` names what it is about
    (the appointment, kind, channel and the appointment's time), so writing it twice writes one
    row; at sending, a message whose appointment has since moved or been cancelled is skipped.
    Carries no text: the message is rendered when sent, without clinical details."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    waitlist_offer = models.ForeignKey(
        WaitlistOffer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    check_in = models.ForeignKey(
        "outcomes.CheckIn",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The follow-up check-in after a course that this message asks to answer.",
    )
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    channel = models.CharField(max_length=8, choices=NotificationChannel.choices)
    about_starts_at = models.DateTimeField(
        help_text="The appointment time the message is about (a follow-up: when it fell due)."
    )
    covers_course = models.BooleanField(
        default=False, help_text="Also about the later sessions of the appointment's course."
    )
    key = models.CharField(max_length=200, unique=True)
    due_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["due_at"]
        indexes = [
            models.Index(fields=["clinic", "appointment"], name="notification_clinic_appt"),
            # The senders' work list: small, because sent rows leave it.
            models.Index(
                fields=["due_at"],
                condition=models.Q(status="pending"),
                name="notification_pending_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.channel} ({self.status})"
