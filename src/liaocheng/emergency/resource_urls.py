"""Resource management pages: stations, units and fixed resources (shelters, hospitals, depots)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import resource_views as views

app_name = "emergency_resources"

urlpatterns: list[URLPattern | URLResolver] = [
    path("emergency/resources/", views.resources, name="resources"),
    path("emergency/resources/stations/new/", views.station_form, name="station_new"),
    path("emergency/resources/stations/<int:pk>/", views.station_form, name="station"),
    path("emergency/resources/units/new/", views.unit_form, name="unit_new"),
    path("emergency/resources/units/<int:pk>/", views.unit_form, name="unit"),
    path("emergency/resources/fixed/new/", views.fixed_form, name="fixed_new"),
    path("emergency/resources/fixed/<int:pk>/", views.fixed_form, name="fixed"),
    path("emergency/resources/fixed/<int:pk>/available/", views.fixed_available, name="fixed_available"),
]
