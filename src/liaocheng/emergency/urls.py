from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import intake_views

app_name = "emergency"

urlpatterns: list[URLPattern | URLResolver] = [
    # call intake and incidents (intake_views)
    path("emergency/intake/", intake_views.console, name="intake"),
    path("emergency/intake/nearby/", intake_views.nearby, name="intake_nearby"),
    path("emergency/incidents/", intake_views.incident_list, name="incidents"),
    path("emergency/incidents/<str:number>/", intake_views.incident_detail, name="incident"),
    path("emergency/incidents/<str:number>/act/", intake_views.incident_action, name="incident_action"),
    path("emergency/incidents/<str:number>/eido.json", intake_views.incident_eido, name="incident_eido"),
    path("emergency/types/", intake_views.type_list, name="types"),
]
