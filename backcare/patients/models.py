"""The patient record: demographics, contact, emergency contact, preferences and consent."""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from backcare.accounts.models import ClinicScopedModel, Gender, User
from backcare.clinical.body import BODY_AREAS, unknown_areas


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    INTERSEX = "intersex", "Intersex"
    UNKNOWN = "unknown", "Not stated"


def validate_birth_date(value: date) -> None:
    if value > timezone.localdate():
        raise ValidationError("The date of birth cannot be in the future.")
    if value.year < 1900:
        raise ValidationError("Enter a date of birth after 1900.")


class Patient(ClinicScopedModel):
    """A person receiving care at one clinic. A person treated at two clinics has two records,
    each linked to the same portal login (`user`)."""

    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="patient_records"
    )
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(validators=[validate_birth_date])
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    pronouns = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address_line1 = models.CharField("address", max_length=200, blank=True)
    address_line2 = models.CharField("address (line 2)", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("state, province or county", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=100, blank=True)
    emergency_contact_name = models.CharField(max_length=150, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    emergency_contact_phone = models.CharField(max_length=40, blank=True)
    referred_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referred_patients",
        help_text="The referring clinician, who may follow this patient's progress.",
    )
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        ordering = ["family_name", "given_name"]
        indexes = [
            models.Index(
                fields=["clinic", "family_name", "given_name"], name="patient_clinic_name"
            ),
            models.Index(fields=["clinic", "user"], name="patient_clinic_user"),
            models.Index(fields=["clinic", "referred_by"], name="patient_clinic_referrer"),
            models.Index(fields=["clinic", "id"], name="patient_clinic_pk"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.given_name
        return f"{first} {self.family_name}".strip()

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class PressurePreference(models.IntegerChoices):
    """Plain-words pressure levels, the 1-5 scale used in plans and notes."""

    VERY_LIGHT = 1, "1 · Very light: gentle, relaxing touch"
    LIGHT = 2, "2 · Light: soothing, little pressure"
    MEDIUM = 3, "3 · Medium: firm but comfortable"
    FIRM = 4, "4 · Firm: strong pressure on tight muscles"
    DEEP = 5, "5 · Deep: strong, sustained pressure"


class TherapistGenderPreference(models.TextChoices):
    NONE = "", "No preference"
    FEMALE = Gender.FEMALE.value, "A woman"
    MALE = Gender.MALE.value, "A man"
    NONBINARY = Gender.NONBINARY.value, "A non-binary therapist"


def validate_body_areas(value: list[str]) -> None:
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise ValidationError("Choose body areas from the list.")
    if unknown := unknown_areas(value):
        raise ValidationError(f"Unknown body areas: {', '.join(unknown)}.")


class PatientPreferences(ClinicScopedModel):
    """What the patient wants from their massage. Shown beside every plan and note."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="preferences")
    pressure = models.PositiveSmallIntegerField(
        "pressure preference",
        null=True,
        blank=True,
        choices=PressurePreference.choices,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    avoid_areas = models.JSONField(
        "areas not to be touched",
        default=list,
        blank=True,
        validators=[validate_body_areas],
        help_text="Codes from the body-area list.",
    )
    avoid_areas_note = models.CharField("more about areas to avoid", max_length=300, blank=True)
    therapist_gender = models.CharField(
        "preferred therapist gender",
        max_length=16,
        choices=TherapistGenderPreference.choices,
        blank=True,
        default="",
    )
    language = models.CharField("preferred language", max_length=60, blank=True)
    notes = models.TextField(max_length=2000, blank=True)

    class Meta:
        verbose_name_plural = "patient preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.patient}"

    @property
    def avoid_area_labels(self) -> list[str]:
        labels = {area.code: area.label for area in BODY_AREAS}
        return [labels.get(code, code) for code in self.avoid_areas]


class ConsentKind(models.TextChoices):
    TREATMENT = "treatment", "Consent to massage therapy"
    PRIVACY = "privacy", "Use of my health information"
    COMMUNICATION = "communication", "Email and text reminders"


class ConsentText(ClinicScopedModel):
    """One version of a consent statement. Never edited once published: a change is a new
    version, and each consent record points at the exact version the patient agreed to."""

    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    version = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=150)
    body = models.TextField(max_length=10_000)
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "kind", "version"], name="consent_text_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} (version {self.version})"


class ConsentMethod(models.TextChoices):
    PORTAL = "portal", "Online, in the patient portal"
    PAPER = "paper", "Signed paper form"
    VERBAL = "verbal", "Verbal, recorded by staff"


class Consent(ClinicScopedModel):
    """A patient's consent to one version of a consent text, and its withdrawal if any."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=10, choices=ConsentMethod.choices)
    given_at = models.DateTimeField()
    given_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-given_at"]
        indexes = [
            models.Index(fields=["clinic", "patient", "given_at"], name="consent_patient"),
            models.Index(fields=["clinic", "id"], name="consent_clinic_pk"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "patient", "text"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="consent_one_in_force_per_text",
                violation_error_message="This consent is already recorded and in force.",
            ),
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True, withdrawn_by__isnull=True)
                | models.Q(withdrawn_at__isnull=False, withdrawn_by__isnull=False),
                name="consent_withdrawn_by_and_at_together",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient}: {self.text}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None
