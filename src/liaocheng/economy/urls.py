from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "economy"

urlpatterns: list[URLPattern | URLResolver] = [
    path("economy/", views.indicator_list, name="indicators"),
    path("economy/indicators/<str:code>/", views.indicator_detail, name="indicator"),
    path("economy/import/", views.import_page, name="import"),
    path("economy/public/", views.public_summary, name="public"),
]
