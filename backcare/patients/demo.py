"""Thirty demo patients with varied ages, preferences and consent histories."""

import random
from datetime import UTC, date, datetime, timedelta

from django.utils import timezone

from backcare.accounts.models import Clinic, User
from backcare.core.demo import State, demo_id
from backcare.patients.models import (
    Consent,
    ConsentKind,
    ConsentMethod,
    ConsentText,
    Patient,
    PatientPreferences,
    Sex,
)

CONSENT_TEXTS = {
    ConsentKind.TREATMENT: (
        "Consent to massage therapy",
        "I agree to receive massage therapy for my back pain at this clinic. My therapist will "
        "explain the techniques and pressure before starting, and I can ask them to change or "
        "stop at any time. I will tell my therapist about changes in my health. I understand "
        "that massage may cause short-lived soreness, and that if my answers raise a concern "
        "the clinic may ask me to see a doctor before treatment.",
    ),
    ConsentKind.PRIVACY: (
        "Use of my health information",
        "The clinic records my health information to give me safe care and to measure whether "
        "it helps. Only the people caring for me can see it, every access is logged, and I can "
        "ask for a copy of everything held about me.",
    ),
    ConsentKind.COMMUNICATION: (
        "Email and text reminders",
        "I agree to receive appointment reminders and short questionnaires by email or text. "
        "Messages do not contain clinical details.",
    ),
}

# given name, family name, sex, age, city
PEOPLE = [
    ("Maria", "Gonzalez", Sex.FEMALE, 46),
    ("David", "Chen", Sex.MALE, 52),
    ("Aisha", "Mohammed", Sex.FEMALE, 34),
    ("Liam", "O'Brien", Sex.MALE, 29),
    ("Sofia", "Rossi", Sex.FEMALE, 61),
    ("Kwame", "Mensah", Sex.MALE, 44),
    ("Emily", "Wright", Sex.FEMALE, 38),
    ("Hiroshi", "Tanaka", Sex.MALE, 67),
    ("Fatima", "Haddad", Sex.FEMALE, 55),
    ("Noah", "Martin", Sex.MALE, 23),
    ("Olivia", "Brown", Sex.FEMALE, 31),
    ("Mateus", "Silva", Sex.MALE, 48),
    ("Grace", "Kim", Sex.FEMALE, 72),
    ("Ethan", "Dubois", Sex.MALE, 36),
    ("Amara", "Okoye", Sex.FEMALE, 27),
    ("Lucas", "Novak", Sex.MALE, 58),
    ("Chloe", "Tremblay", Sex.FEMALE, 42),
    ("Omar", "Farouk", Sex.MALE, 64),
    ("Isabella", "Moreau", Sex.FEMALE, 50),
    ("Daniel", "Kowalski", Sex.MALE, 33),
    ("Zoe", "Papadopoulos", Sex.FEMALE, 45),
    ("Arjun", "Sharma", Sex.MALE, 39),
    ("Hannah", "Schmidt", Sex.FEMALE, 69),
    ("Samuel", "Adeyemi", Sex.MALE, 57),
    ("Leila", "Karimi", Sex.FEMALE, 26),
    ("Benjamin", "Lefebvre", Sex.MALE, 74),
    ("Mei", "Wong", Sex.FEMALE, 53),
    ("Jacob", "Anderson", Sex.MALE, 41),
    ("Nadia", "Petrova", Sex.FEMALE, 37),
    ("Robin", "Taylor", Sex.UNKNOWN, 30),
]

AVOID = [
    [],
    [],
    [],
    ["feet"],
    ["abdomen"],
    ["head_face"],
    ["feet", "hands"],
    ["chest"],
    ["buttocks"],
]
AVOID_NOTES = {
    "feet": "Very ticklish feet.",
    "abdomen": "Recent abdominal surgery; please ask first.",
    "buttocks": "Prefers no gluteal work without asking.",
}


def _consent_texts(clinic: Clinic, published: date) -> dict[str, ConsentText]:
    texts: dict[str, ConsentText] = {}
    for kind, (title, body) in CONSENT_TEXTS.items():
        # get_or_create: a published text is never edited, not even by the demo.
        text, _ = ConsentText.objects.get_or_create(
            clinic=clinic,
            kind=kind,
            version=1,
            defaults={
                "title": title,
                "body": body,
                "published_at": datetime(
                    published.year, published.month, published.day, 9, tzinfo=UTC
                ),
            },
        )
        texts[kind] = text
    return texts


def _patient(
    clinic: Clinic, index: int, rng: random.Random, today: date, **extra: object
) -> Patient:
    given, family, sex, age = PEOPLE[index]
    born = date(today.year - age, 1, 1) + timedelta(days=rng.randrange(0, 365))
    local = f"{given}.{family}".lower().replace("'", "")
    street = rng.choice(["King", "Queen", "Dundas", "Bloor"])
    letter = rng.choice("ABCEHJKLMNPRSTV")
    postal = f"M{rng.randint(1, 9)}{letter} {rng.randint(1, 9)}A{rng.randint(1, 9)}"
    emergency = index % 5 != 4  # every fifth patient has not named an emergency contact
    patient, _ = Patient.objects.update_or_create(
        pk=demo_id(f"patient:{clinic.pk}:{index}"),
        defaults={
            "clinic": clinic,
            "given_name": given,
            "family_name": family,
            "date_of_birth": born,
            "sex": sex,
            "email": f"{local}@example.com",
            "phone": f"+1 416 555 {1000 + index:04d}",
            "address_line1": f"{10 + index * 7} {street} Street",
            "city": "Toronto",
            "region": "Ontario",
            "postal_code": postal,
            "country": "Canada",
            "emergency_contact_name": f"{rng.choice(['Alex', 'Chris', 'Jamie'])} {family}"
            if emergency
            else "",
            "emergency_contact_relationship": rng.choice(["Partner", "Parent", "Sibling", "Friend"])
            if emergency
            else "",
            "emergency_contact_phone": f"+1 647 555 {2000 + index:04d}" if emergency else "",
            **extra,
        },
    )
    return patient


def _preferences(patient: Patient, index: int, rng: random.Random) -> None:
    avoid = AVOID[index % len(AVOID)]
    PatientPreferences.objects.update_or_create(
        patient=patient,
        defaults={
            "clinic_id": patient.clinic_id,
            "pressure": None if index % 6 == 5 else rng.choice([2, 3, 3, 4, 4, 5]),
            "avoid_areas": avoid,
            "avoid_areas_note": " ".join(AVOID_NOTES[a] for a in avoid if a in AVOID_NOTES),
            "therapist_gender": rng.choice(["", "", "", "female", "male"]),
            "language": rng.choice(
                ["English", "English", "English", "French", "Spanish", "Mandarin"]
            ),
        },
    )


def _consents(
    patient: Patient, index: int, texts: dict[str, ConsentText], staff: User, today: date
) -> None:
    if index % 7 == 6:
        return  # a few patients have not consented yet: their portal shows it as a next step
    given_at = timezone.now() - timedelta(days=30 + index * 3)
    kinds = [ConsentKind.TREATMENT, ConsentKind.PRIVACY]
    if index % 3 != 2 and index != 0:  # the portal demo patient has one consent still to give
        kinds.append(ConsentKind.COMMUNICATION)
    for kind in kinds:
        withdrawn = kind == ConsentKind.COMMUNICATION and index % 4 == 3
        Consent.objects.update_or_create(
            pk=demo_id(f"consent:{patient.pk}:{kind}"),
            defaults={
                "clinic_id": patient.clinic_id,
                "patient": patient,
                "text": texts[kind],
                "method": ConsentMethod.PAPER,
                "given_at": given_at,
                "given_by": staff,
                "withdrawn_at": given_at + timedelta(days=10) if withdrawn else None,
                "withdrawn_by": staff if withdrawn else None,
            },
        )


def build(state: State) -> None:
    clinic: Clinic = state["clinic"]
    north: Clinic = state["second_clinic"]
    users: dict[str, User] = state["users"]
    rng = random.Random(20261124)
    today = clinic.local_date()
    texts = _consent_texts(clinic, today - timedelta(days=365))
    _consent_texts(north, today - timedelta(days=365))

    portal_user = users["patient"]

    patients = []
    for index in range(len(PEOPLE)):
        extra: dict[str, object] = {}
        if index == 0:
            extra = {"user": portal_user, "email": portal_user.email}
        if index % 4 == 1:
            extra["referred_by"] = users["clinician"]
        patient = _patient(clinic, index, rng, today, **extra)
        _preferences(patient, index, rng)
        _consents(patient, index, texts, users["frontdesk"], today)
        patients.append(patient)
    state["patients"] = patients
    for index in (10, 11, 12):
        patient = _patient(north, index, rng, today)
        _preferences(patient, index, rng)
