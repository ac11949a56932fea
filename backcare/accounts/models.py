"""People, clinics, roles, therapists and their licences."""

import uuid
import zoneinfo
from datetime import date, datetime
from functools import cache
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone

from backcare.accounts.licensing import LicenceFacts, LicenceStatus, licence_status
from backcare.core.models import BaseModel

# Names in the zone database that are not places: a clinic must name where it is.
_NOT_PLACES = frozenset({"localtime", "posixrules", "Factory"})


@cache
def time_zone_names() -> tuple[str, ...]:
    """IANA time zone names of places (from the tzdata package, so the same on every host)."""
    return tuple(sorted(zoneinfo.available_timezones() - _NOT_PLACES))


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(
            "Choose a time zone from the list, for example Europe/London or America/Toronto."
        )


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address. What they may do depends on memberships."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="May sign in to the Django admin (configuration only)."
    )
    date_joined = models.DateTimeField(default=timezone.now)
    sessions_revoked_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Sessions begun before this moment are over (set when the user signs out).",
    )

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = self.email.lower()
        super().save(*args, **kwargs)


class Role(models.TextChoices):
    PATIENT = "patient", "Patient"
    THERAPIST = "therapist", "Therapist"
    FRONT_DESK = "front_desk", "Front desk"
    CLINIC_ADMIN = "clinic_admin", "Clinic admin"
    REFERRING_CLINICIAN = "referring_clinician", "Referring clinician"


# Roles that see clinical data of people other than themselves: MFA is required for them.
STAFF_ROLES = frozenset(
    {Role.THERAPIST, Role.FRONT_DESK, Role.CLINIC_ADMIN, Role.REFERRING_CLINICIAN}
)


class Clinic(BaseModel):
    """A place where massage is given. Times are stored in UTC and shown in `time_zone`."""

    name = models.CharField(max_length=120)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    address_line1 = models.CharField("address", max_length=200, blank=True)
    address_line2 = models.CharField("address (line 2)", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("state, province or county", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The clinic's zone; UTC if the stored name is unknown here (so pages still work and
        the admin can correct it in the clinic settings)."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    def local_date(self, moment: datetime | None = None) -> date:
        """The calendar date at the clinic at `moment` (default: now)."""
        return (moment or timezone.now()).astimezone(self.zone).date()


class ClinicScopedModel(BaseModel):
    """A row owned by one clinic; keyed and indexed by clinic first (ARCHITECTURE.md §2)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True


class Room(ClinicScopedModel):
    name = models.CharField(max_length=80)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["clinic", "id"], name="room_clinic_pk")]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="room_name_unique_in_clinic")
        ]

    def __str__(self) -> str:
        return self.name


def in_force(prefix: str = "") -> models.Q:
    """Condition for a membership that counts: kept by the clinic and accepted by the person.
    `prefix` reaches it through a relation, e.g. in_force("memberships__")."""
    return models.Q(**{f"{prefix}is_active": True, f"{prefix}accepted_at__isnull": False})


class MembershipQuerySet(models.QuerySet["Membership"]):
    def in_force(self) -> "MembershipQuerySet":
        return self.filter(in_force())


class Membership(ClinicScopedModel):
    """A person's role in a clinic. A person may hold several roles in several clinics.

    A role counts only while the clinic keeps it (`is_active`) and once the person accepted it
    (`accepted_at`). A new account accepts by setting its password from the invitation; a person
    who already has an account accepts on their home page, so that no clinic can claim someone
    else's professional profile or patient login by typing their email address.
    """

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["clinic__name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "user", "role"], name="membership_unique_role_per_clinic"
            )
        ]
        indexes = [models.Index(fields=["clinic", "role"], name="membership_clinic_role")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.clinic}"

    @property
    def is_pending(self) -> bool:
        return self.is_active and self.accepted_at is None


class Technique(models.Model):
    """A massage technique a therapist may offer; a managed list (Django admin)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=300, blank=True)
    sort_order = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class Gender(models.TextChoices):
    FEMALE = "female", "Woman"
    MALE = "male", "Man"
    NONBINARY = "nonbinary", "Non-binary"
    UNDISCLOSED = "undisclosed", "Prefer not to say"


class Therapist(BaseModel):
    """A massage therapist's professional profile; one per person, whatever their clinics."""

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="therapist")
    gender = models.CharField(
        max_length=16,
        choices=Gender.choices,
        default=Gender.UNDISCLOSED,
        help_text="Shown to patients who state a preference.",
    )
    years_of_experience = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(70)]
    )
    languages = models.CharField(
        max_length=200, blank=True, help_text="Languages spoken, separated by commas."
    )
    bio = models.TextField("short bio", max_length=1500, blank=True)
    techniques = models.ManyToManyField(Technique, blank=True, related_name="therapists")

    class Meta:
        ordering = ["user__full_name"]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def language_list(self) -> list[str]:
        return [part.strip() for part in self.languages.split(",") if part.strip()]


class Licence(BaseModel):
    """A licence to practise massage therapy, issued by a board in a jurisdiction."""

    therapist = models.ForeignKey(Therapist, on_delete=models.PROTECT, related_name="licences")
    number = models.CharField("licence number", max_length=60)
    issuing_board = models.CharField(max_length=150)
    jurisdiction = models.CharField(
        max_length=100, help_text="State, province or country where the licence applies."
    )
    licence_type = models.CharField(
        max_length=100, help_text="For example: Registered Massage Therapist (RMT)."
    )
    expires_on = models.DateField("expiry date")
    verified_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["expires_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["therapist", "issuing_board", "number"],
                name="licence_unique_number_per_board",
                violation_error_message=(
                    "This therapist already has a licence with this number from this board."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(verified_at__isnull=True, verified_by__isnull=True)
                | models.Q(verified_at__isnull=False, verified_by__isnull=False),
                name="licence_verified_by_and_at_together",
            ),
        ]
        indexes = [models.Index(fields=["therapist", "expires_on"], name="licence_therapist_exp")]

    def __str__(self) -> str:
        return f"{self.licence_type} {self.number} ({self.jurisdiction})"

    @property
    def facts(self) -> LicenceFacts:
        return LicenceFacts(expires_on=self.expires_on, verified=self.verified_at is not None)

    def status(self, on: date) -> LicenceStatus:
        return licence_status(self.facts, on=on)


class ApiScope(models.TextChoices):
    """What a personal access token may do: read (GET) or also write (book, cancel, record)."""

    READ = "read", "Read"
    WRITE = "write", "Write"


class ApiGroup(models.TextChoices):
    """The resource groups a personal access token may reach (decision 0024)."""

    PATIENTS = "patients", "Patients"
    SCHEDULING = "scheduling", "Scheduling (therapists, services, availability, appointments)"
    CLINICAL = "clinical", "Clinical (intake, triage, clearances, visit notes)"
    OUTCOMES = "outcomes", "Outcome measurements"


def all_api_groups() -> list[str]:
    """Every resource group: the default of a token (tokens made before groups keep working)."""
    return list(ApiGroup.values)


class ApiToken(ClinicScopedModel):
    """A personal access token for the JSON API: one person acting in one clinic, with scopes.

    Only the SHA-256 of the token is stored; the token itself is shown once when made. A revoked
    or expired token authenticates nobody (decision 0019)."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=80)
    scopes = models.JSONField(default=list)
    groups = models.JSONField(default=all_api_groups)
    token_sha256 = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["clinic", "user"], name="apitoken_clinic_user")]

    def __str__(self) -> str:
        return f"API token {self.name} of {self.user_id}"

    def is_usable(self, now: datetime) -> bool:
        """Neither revoked nor expired at `now`."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
