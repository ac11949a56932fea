from django.urls import path

from backcare.api.api import api

urlpatterns = [path("api/v1/", api.urls)]
