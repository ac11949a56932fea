"""URLs served with BACKCARE_BENCH=1 only: every page of the site plus the benchmarks'
hello-world baseline, which goes through the same middleware as every other page."""

from django.urls import path

from backcare.core import views as core_views
from config.urls import handler400, handler403, handler404, handler500
from config.urls import urlpatterns as site

urlpatterns = [path("bench/hello", core_views.bench_hello, name="bench_hello"), *site]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
