"""Pages and map data of the component census (部件普查); see ``component_views``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import component_views as views

app_name = "urban_components"

urlpatterns: list[URLPattern | URLResolver] = [
    path("urban/components/", views.component_list, name="list"),
    path("urban/components/import/", views.import_page, name="import"),
    path("urban/components/data.geojson", views.component_data, name="data"),
    path("urban/components/nearby.json", views.nearby, name="nearby"),
    path("urban/components/<str:code>/", views.component_detail, name="detail"),
    path("urban/components/<str:code>/update/", views.component_update, name="update"),
]
