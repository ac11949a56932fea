"""The classification of every URL for the access walk and the header crawler (issue 9).

Each URL name maps to its kind and the actors of `scenario.py` it lets in. A new URL must be
added here (the walk fails listing it); the header crawler then checks its responses too.
"""

from dataclasses import dataclass

from tests.security.scenario import (
    ACTORS,
    ADMIN,
    ANONYMOUS,
    CLINICIAN,
    DESK,
    OTHER_CLINIC_ADMIN,
    OTHER_CLINIC_PATIENT,
    OTHER_PATIENT,
    OWNER,
    STRANGER,
    THERAPIST,
    Route,
    walk_urls,
)

# Kinds of URL.
PUBLIC = "public"  # anyone, signed in or not
LINK = "link"  # a secret token in the address is the key; the walk's token is unknown
SIGNED_IN = "signed-in"  # any signed-in person, about their own things only
CLINIC = "clinic"  # a clinic's own pages, by role, no patient in the address
RECORD = "record"  # a clinic-A record in the address: patient data, object-scoped
FORM = "form"  # a record-scoped form that shows no patient data (its write is audited)
PORTAL = "portal"  # the signed-in patient's own record
API = "api"  # a JSON API operation (401 without a token or session)

EVERYONE = frozenset(ACTORS)
SIGNED = EVERYONE - {ANONYMOUS}
NOBODY: frozenset[str] = frozenset()
PATIENTS = frozenset({OWNER, OTHER_PATIENT, OTHER_CLINIC_PATIENT})
ADMINS = frozenset({ADMIN, OTHER_CLINIC_ADMIN})  # clinic pages: each admin in their own clinic
CARE = frozenset({ADMIN, DESK, THERAPIST})  # clinic A's staff who see all its patients
CARE_AND_OWNER = CARE | {OWNER}
CLINICAL = frozenset({ADMIN, THERAPIST})  # clinical notes, hours: not the front desk
SCHEDULE = frozenset({ADMIN, DESK, OTHER_CLINIC_ADMIN})
STAFF_LISTS = frozenset({ADMIN, DESK, THERAPIST, CLINICIAN, OTHER_CLINIC_ADMIN})


@dataclass(frozen=True)
class Access:
    kind: str
    allowed: frozenset[str]
    post_only: bool = False


def _get(kind: str, allowed: frozenset[str]) -> Access:
    return Access(kind, allowed)


def _post(kind: str, allowed: frozenset[str]) -> Access:
    return Access(kind, allowed, post_only=True)


ACCESS: dict[str, Access] = {
    "healthz": _get(PUBLIC, EVERYONE),
    "learn": _get(PUBLIC, EVERYONE),
    "dashboard": _get(SIGNED_IN, SIGNED),
    "api_tokens": _get(SIGNED_IN, SIGNED),
    "calendar_feeds": _get(SIGNED_IN, SIGNED),
    "clinic_switch": _post(SIGNED_IN, SIGNED),
    "my_therapist_profile": _get(SIGNED_IN, frozenset({THERAPIST})),
    "api_token_revoke": _post(SIGNED_IN, frozenset({ADMIN})),  # the token's owner only
    "invitation_answer": _post(SIGNED_IN, NOBODY),  # the invitee is none of the walkers
    "check_in": _get(LINK, NOBODY),
    "calendar_feed": _get(LINK, NOBODY),
    "waitlist_offer": _get(LINK, NOBODY),
    # Clinic pages.
    "audit_log": _get(CLINIC, ADMINS),
    "clinic_analytics": _get(CLINIC, ADMINS),
    # Admins of two clinics or more only; no walker administers two (reports/tests/test_group.py).
    "group_analytics": _get(CLINIC, NOBODY),
    "measurements_csv": _get(CLINIC, ADMINS),
    "clinic_settings": _get(CLINIC, ADMINS),
    "clinical_settings": _get(CLINIC, ADMINS),
    "rule_settings_save": _post(CLINIC, ADMINS),
    "outcome_settings_save": _post(CLINIC, ADMINS),
    "room_add": _post(CLINIC, ADMINS),
    "member_add": _get(CLINIC, ADMINS),
    "service_add": _get(CLINIC, ADMINS),
    "scheduling_settings": _get(CLINIC, ADMINS),
    "team_list": _get(CLINIC, SCHEDULE),
    "licence_list": _get(CLINIC, SCHEDULE),
    "service_list": _get(CLINIC, CARE | {OTHER_CLINIC_ADMIN}),
    "therapist_list": _get(CLINIC, CARE | {OTHER_CLINIC_ADMIN}),
    "patient_create": _get(CLINIC, CARE | {OTHER_CLINIC_ADMIN}),
    "patient_list": _get(CLINIC, STAFF_LISTS),
    "triage_queue": _get(CLINIC, CARE | {OTHER_CLINIC_ADMIN}),
    "staff_calendar": _get(CLINIC, CARE | {OTHER_CLINIC_ADMIN}),
    "clinic_waitlist": _get(CLINIC, CARE | {OTHER_CLINIC_ADMIN}),
    "referral_letter_list": _get(CLINIC, frozenset({CLINICIAN})),
    # Clinic A's records that are not a patient's.
    "room_set_active": _post(CLINIC, frozenset({ADMIN})),
    "membership_set_active": _post(CLINIC, frozenset({ADMIN})),
    "therapist_detail": _get(CLINIC, frozenset({ADMIN, DESK, THERAPIST, CLINICIAN})),
    "therapist_edit": _get(CLINIC, CLINICAL),
    "licence_add": _get(CLINIC, CLINICAL),
    "licence_edit": _get(CLINIC, CLINICAL),
    "licence_verify": _post(CLINIC, frozenset({ADMIN})),
    "service_edit": _get(CLINIC, frozenset({ADMIN})),
    "therapist_hours": _get(CLINIC, CLINICAL),
    "working_hours_add": _post(CLINIC, CLINICAL),
    "webhook_endpoints": _get(CLINIC, ADMINS),
    "webhook_endpoint_set_active": _post(CLINIC, frozenset({ADMIN})),
    "webhook_deliveries": _get(CLINIC, frozenset({ADMIN})),
    "dated_hours_add": _post(CLINIC, CLINICAL),
    "working_hours_remove": _post(CLINIC, CLINICAL),
    "time_off_add": _post(CLINIC, CLINICAL),
    "time_off_remove": _post(CLINIC, CLINICAL),
    # The owner's records.
    "patient_detail": _get(RECORD, CARE_AND_OWNER),
    "patient_edit": _get(RECORD, CARE),
    "patient_preferences": _get(RECORD, CARE),
    "consent_add": _get(RECORD, CARE),
    "consent_withdraw": _post(RECORD, CARE_AND_OWNER),
    "patient_invite": _post(RECORD, CARE),
    "patient_questionnaires": _get(RECORD, CARE_AND_OWNER),
    "patient_progress": _get(RECORD, CARE_AND_OWNER),
    "progress_pdf": _get(RECORD, CARE_AND_OWNER),
    "progress_send": _post(RECORD, CARE_AND_OWNER),
    "patient_questionnaire": _get(FORM, CARE_AND_OWNER),
    "flare_up_add": _get(RECORD, CARE),
    "patient_safety": _get(RECORD, CARE),
    "assessment_detail": _get(RECORD, CARE),
    "screening_outcome": _get(RECORD, CARE_AND_OWNER),
    "assessment_review": _post(RECORD, CARE),
    "referral_letter_create": _get(RECORD, CARE),
    "referral_letter_detail": _get(RECORD, CARE | {CLINICIAN}),
    "referral_letter_pdf": _get(RECORD, CARE | {CLINICIAN}),
    "clearance_create": _get(RECORD, CARE),
    "clearance_document": _get(RECORD, CARE),
    "hold_override": _get(RECORD, CLINICAL),
    "rescreen": _get(RECORD, CARE),
    "patient_intake_start": _post(RECORD, CARE_AND_OWNER),
    "intake_detail": _get(RECORD, CARE),
    "intake_document_add": _post(RECORD, CARE),
    "intake_document": _get(RECORD, CARE),
    "intake_result": _get(RECORD, CARE),
    "intake_step": _get(RECORD, CARE),
    "intake_autosave": _post(RECORD, CARE),
    "plan_detail": _get(RECORD, CARE),
    "plan_create": _get(RECORD, CARE),
    "plan_technique_add": _post(RECORD, CARE),
    "plan_technique_remove": _post(RECORD, CARE),
    "plan_end": _post(RECORD, CARE),
    "patient_booking": _get(RECORD, CARE),
    "patient_appointments": _get(RECORD, CARE_AND_OWNER),
    "appointment_cancel": _post(RECORD, CARE_AND_OWNER),
    "appointment_reschedule": _get(RECORD, CARE_AND_OWNER),
    "patient_waitlist": _get(RECORD, CARE_AND_OWNER),
    "waitlist_leave": _post(RECORD, CARE_AND_OWNER),
    "visit_open": _get(RECORD, CLINICAL),
    "visit_detail": _get(RECORD, CLINICAL),
    "visit_note_save": _post(RECORD, CLINICAL),
    "visit_note_sign": _post(RECORD, CLINICAL),
    "visit_note_autosave": _post(RECORD, CLINICAL),
    "visit_technique_add": _post(RECORD, CLINICAL),
    "visit_technique_remove": _post(RECORD, CLINICAL),
    "visit_note_amend": _post(RECORD, CLINICAL),
    "visit_note_entered_in_error": _post(RECORD, CLINICAL),
    # The signed-in patient's own pages.
    "portal_progress": _get(PORTAL, PATIENTS),
    "portal_questionnaires": _get(PORTAL, PATIENTS),
    "portal_questionnaire": _get(FORM, PATIENTS),
    "portal_details": _get(PORTAL, PATIENTS),
    "portal_contact_edit": _get(PORTAL, PATIENTS),
    "portal_preferences": _get(PORTAL, PATIENTS),
    "portal_consents": _get(PORTAL, PATIENTS),
    "portal_rescreen": _get(PORTAL, PATIENTS),
    "portal_intake": _get(PORTAL, PATIENTS),
    "portal_intake_again": _post(PORTAL, PATIENTS),
    "portal_booking": _get(PORTAL, PATIENTS),
    "portal_appointments": _get(PORTAL, PATIENTS),
    "portal_waitlist": _get(PORTAL, PATIENTS),
    # The JSON API's pages; its operations are walked from the OpenAPI schema below.
    # FHIR (decision 0023): OperationOutcomes, 401 without a session or token, like the API.
    "fhir_patient_everything": _get(API, CARE_AND_OWNER),
    "fhir_export_kickoff": _get(API, ADMINS),
    "fhir_export_status": _get(API, frozenset({ADMIN})),
    "fhir_export_file": _get(API, frozenset({ADMIN})),
    "fhir_import_bundle": _post(API, ADMINS),
    "fhir_clinic_export": _get(CLINIC, ADMINS),
    "portal_my_data": _get(PORTAL, PATIENTS),
    "portal_my_data_zip": _get(PORTAL, PATIENTS),
    "clinic_export": _get(CLINIC, ADMINS),
    "clinic_export_status": _get(CLINIC, frozenset({ADMIN})),
    "clinic_export_download": _get(CLINIC, frozenset({ADMIN})),
    "api-v1:openapi-json": _get(PUBLIC, EVERYONE),
    "api-v1:openapi-view": _get(PUBLIC, EVERYONE),
    "api-v1:api-root": _get(PUBLIC, NOBODY),  # ninja's bare prefix: 404 for all
    "api-v1:therapist_list": _get(API, CARE | {OTHER_CLINIC_ADMIN}),
    "api-v1:patient_list": _get(API, STAFF_LISTS),
    "api-v1:patient_detail": _get(API, CARE_AND_OWNER),
    "api-v1:measurement_list": _get(API, CARE_AND_OWNER),
    "api-v1:measurement_create": _post(API, CARE_AND_OWNER),
    "api-v1:service_list": _get(API, SIGNED - {STRANGER}),
    "api-v1:appointment_list": _get(API, CARE_AND_OWNER),
    "api-v1:appointment_book": _post(API, SIGNED - {STRANGER}),
    "api-v1:appointment_cancel": _post(API, CARE_AND_OWNER),
    "api-v1:appointment_reschedule": _post(API, CARE_AND_OWNER),
    "api-v1:availability": _get(API, SIGNED - {STRANGER, OTHER_CLINIC_ADMIN, OTHER_CLINIC_PATIENT}),
    "api-v1:triage_result": _get(API, CARE_AND_OWNER),
    "api-v1:intake_list": _get(API, CARE_AND_OWNER),
    "api-v1:clearance_status": _get(API, CARE),
    "api-v1:clearance_detail": _get(API, CARE),
    "api-v1:note_list": _get(API, CLINICAL),
    "api-v1:note_detail": _get(API, CLINICAL),
    "api-v1:note_draft": _post(API, CLINICAL),
    "api_root_not_found": _get(PUBLIC, NOBODY),  # the API's JSON 404 for its bare prefix
    "api_unknown_path": _get(PUBLIC, NOBODY),  # and for any path it does not know
}

# Whole families of URLs that are not ours, classified by where their views live.
# allauth: sign-in, sign-up, password and MFA pages (its own tests and allauth's cover them);
# the Django admin: superusers only (no walker is one; the walk checks its index page).
FOREIGN_MODULES = ("allauth.",)
FOREIGN_NAMESPACES = ("admin:",)


def _ours(route: Route) -> bool:
    return not (
        route.module.startswith(FOREIGN_MODULES) or route.name.startswith(FOREIGN_NAMESPACES)
    )


def our_routes() -> dict[str, Route]:
    """Every named URL of BackCare's own views, by name."""
    return {route.name: route for route in walk_urls() if _ours(route)}
