"""JSON API: the clinic's therapists with their licence status (derived on the clinic's date,
as on the therapists page)."""

import uuid

from django.http import HttpRequest
from ninja import Router, Schema

from backcare.accounts.api_auth import caller
from backcare.accounts.models import ApiGroup
from backcare.accounts.queries import list_therapists
from backcare.core.api import ERRORS

router = Router(tags=["therapists"])


class TherapistOut(Schema):
    id: uuid.UUID
    full_name: str
    years_of_experience: int
    languages: str
    licence_status: str


@router.get("/therapists", response={200: list[TherapistOut], **ERRORS}, url_name="therapist_list")
def therapist_list(request: HttpRequest) -> list[TherapistOut]:
    """The therapists of the caller's clinic (staff only), with licence status: valid,
    expiring, expired or unverified."""
    who = caller(request, ApiGroup.SCHEDULING)
    return [
        TherapistOut(
            id=row.therapist.pk,
            full_name=row.therapist.user.full_name,
            years_of_experience=row.therapist.years_of_experience,
            languages=row.therapist.languages,
            licence_status=str(row.status),
        )
        for row in list_therapists(who.user, who.clinic)
    ]
