"""Pages of dispatch: the dispatcher board, the incident's dispatch panel, the crew pages."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import dispatch_views as views

app_name = "emergency_dispatch"

urlpatterns: list[URLPattern | URLResolver] = [
    path("emergency/board/", views.board, name="board"),
    path("emergency/board/live/", views.board_live, name="board_live"),
    path("emergency/incidents/<str:number>/dispatch/", views.incident_dispatch, name="incident_dispatch"),
    path("emergency/incidents/<str:number>/dispatch/panel/", views.dispatch_panel, name="panel"),
    path("emergency/units/", views.unit_list, name="units"),
    path("emergency/units/<int:pk>/", views.unit_detail, name="unit"),
    path("emergency/units/<int:pk>/status/", views.unit_status, name="unit_status"),
    path("emergency/units/<int:pk>/position/", views.unit_position, name="unit_position"),
]
