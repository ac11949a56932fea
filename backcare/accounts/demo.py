"""Demo clinics, staff and therapists with licences in every status."""

from datetime import timedelta

from django.utils import timezone

from backcare.accounts.models import (
    Clinic,
    Gender,
    Licence,
    Membership,
    Role,
    Room,
    Technique,
    Therapist,
    User,
)
from backcare.core.demo import DEMO_PASSWORD, State, demo_id

DOMAIN = "demo.backcare.example"

STAFF = [
    # email local part, full name, roles at the main clinic
    ("admin", "Morgan Reyes", [Role.CLINIC_ADMIN]),
    ("frontdesk", "Sam Patel", [Role.FRONT_DESK]),
    ("therapist", "Jordan Lee", [Role.THERAPIST]),
    ("therapist2", "Priya Nair", [Role.THERAPIST]),
    ("therapist3", "Tom Becker", [Role.THERAPIST]),
    ("therapist4", "Ana Souza", [Role.THERAPIST]),
    ("clinician", "Dr Helen Okafor", [Role.REFERRING_CLINICIAN]),
    ("patient", "Maria Gonzalez", [Role.PATIENT]),  # linked to her patient record by patients.demo
]

# email local part, gender, years, languages, techniques, licence expiry in days from today
THERAPISTS = [
    (
        "therapist",
        Gender.MALE,
        9,
        "English, Korean",
        ["swedish", "deep_tissue", "myofascial_release", "trigger_point"],
        400,
    ),
    (
        "therapist2",
        Gender.FEMALE,
        14,
        "English, Hindi, Malayalam",
        ["swedish", "myofascial_release", "passive_stretching"],
        30,
    ),
    (
        "therapist3",
        Gender.MALE,
        6,
        "English, German",
        ["sports", "deep_tissue", "trigger_point"],
        -20,
    ),
    (
        "therapist4",
        Gender.FEMALE,
        4,
        "English, Portuguese, Spanish",
        ["swedish", "neuromuscular", "cupping"],
        700,
    ),
]

BIOS = {
    "therapist": "Works mostly with desk workers and people with long-standing low back pain.",
    "therapist2": "Special interest in pregnancy-related back pain and gentle myofascial work.",
    "therapist3": "Former athletics coach; sports and deep tissue massage.",
    "therapist4": "Calm, relaxation-focused sessions for people new to massage.",
}


def _user(local: str, full_name: str) -> User:
    user, _ = User.objects.update_or_create(
        email=f"{local}@{DOMAIN}", defaults={"full_name": full_name, "is_active": True}
    )
    user.set_password(DEMO_PASSWORD)
    user.save(update_fields=["password"])
    return user


def _member(clinic: Clinic, user: User, role: Role) -> None:
    membership, _ = Membership.objects.get_or_create(clinic=clinic, user=user, role=role)
    membership.is_active = True
    membership.accepted_at = membership.accepted_at or timezone.now()
    membership.save()


def _clinic(label: str, **fields: str) -> Clinic:
    clinic, _ = Clinic.objects.update_or_create(pk=demo_id(f"clinic:{label}"), defaults=fields)
    return clinic


def build(state: State) -> None:
    main = _clinic(
        "main",
        name="Riverside Back Care",
        time_zone="America/Toronto",
        address_line1="120 Front Street West",
        city="Toronto",
        region="Ontario",
        postal_code="M5J 2M2",
        country="Canada",
        phone="+1 416 555 0100",
        email="hello@riverside.demo.backcare.example",
    )
    north = _clinic(
        "north",
        name="Riverside Back Care North",
        time_zone="America/Toronto",
        address_line1="4500 Yonge Street",
        city="Toronto",
        region="Ontario",
        postal_code="M2N 0A1",
        country="Canada",
    )
    for name in ("Willow", "Cedar", "Birch"):
        Room.objects.get_or_create(clinic=main, name=f"Room {name}")
    Room.objects.get_or_create(clinic=north, name="Room Maple")

    users = {}
    for local, full_name, roles in STAFF:
        user = _user(local, full_name)
        users[local] = user
        for role in roles:
            _member(main, user, role)
    # A small group: the admin and one therapist also work at the second clinic.
    for local, role in (("admin", Role.CLINIC_ADMIN), ("therapist4", Role.THERAPIST)):
        _member(north, users[local], role)

    today = main.local_date()
    techniques = {t.code: t for t in Technique.objects.all()}
    for index, (local, gender, years, languages, codes, expiry_days) in enumerate(THERAPISTS):
        therapist, _ = Therapist.objects.update_or_create(
            user=users[local],
            defaults={
                "gender": gender,
                "years_of_experience": years,
                "languages": languages,
                "bio": BIOS[local],
            },
        )
        therapist.techniques.set([techniques[c] for c in codes if c in techniques])
        Licence.objects.update_or_create(
            therapist=therapist,
            issuing_board="College of Massage Therapists of Ontario (demo)",
            number=f"RMT-{20400 + index}",
            defaults={
                "jurisdiction": "Ontario, Canada",
                "licence_type": "Registered Massage Therapist (RMT)",
                "expires_on": today + timedelta(days=expiry_days),
                "verified_by": users["admin"],
                "verified_at": timezone.now() - timedelta(days=30),
            },
        )

    state.update(clinic=main, second_clinic=north, users=users)
    state["logins"].extend(
        [
            ("Patient", users["patient"].email),
            ("Clinic admin", users["admin"].email),
            ("Front desk", users["frontdesk"].email),
            ("Therapist", users["therapist"].email),
            ("Referring clinician", users["clinician"].email),
        ]
    )
