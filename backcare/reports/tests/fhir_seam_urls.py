"""The project's URLs plus stand-ins named like the FHIR app's exports, to check that the open
data pages link to them once they exist (the FHIR app is wired in at merge)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as project_urls


def _stand_in(request: HttpRequest, **_: object) -> HttpResponse:
    return HttpResponse("{}", content_type="application/fhir+json")


urlpatterns = [
    *project_urls,
    path("fhir-stand-in/<uuid:patient_id>/", _stand_in, name="fhir_patient_everything"),
    path("fhir-stand-in/clinic/", _stand_in, name="fhir_clinic_export"),
]
