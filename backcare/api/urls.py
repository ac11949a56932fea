from django.urls import path, re_path

from backcare.api.api import api, unknown_path

# ninja resolves only its own operations; every other path under /api/v1/ (its root included)
# answers the API's JSON 404 body rather than the site's HTML page (decision 0024).
urlpatterns = [
    path("api/v1/", unknown_path, name="api_root_not_found"),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<rest>.*)$", unknown_path, name="api_unknown_path"),
]
