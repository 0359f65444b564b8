from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "urban"

urlpatterns: list[URLPattern | URLResolver] = [
    path("urban/report/", views.report, name="report"),
    path("urban/cases/", views.case_list, name="cases"),
    path("urban/cases/<int:pk>/", views.case_detail, name="case"),
    path("urban/cases/<int:pk>/act/", views.case_action, name="case_action"),
    path("urban/cases/<int:pk>/merge/", views.case_merge, name="case_merge"),
    path("urban/photos/<int:pk>/", views.photo, name="photo"),
    path("urban/command/", views.command, name="command"),
    path("urban/command/data.json", views.command_data, name="command_data"),
    path("urban/evaluation/", views.evaluation_page, name="evaluation"),
]
