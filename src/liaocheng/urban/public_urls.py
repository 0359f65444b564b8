"""Public pages of grid urban management (see ``public_views``): no staff rights needed; the report form and
"my reports" need a signed-in citizen or enterprise account."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

from . import public_views

app_name = "urban_public"

urlpatterns: list[URLPattern | URLResolver] = [
    path("urban/public/report/", public_views.report, name="report"),
    path("urban/public/report/done/<str:number>/", public_views.report_done, name="report_done"),
    path("urban/public/mine/", public_views.mine, name="mine"),
    path("urban/public/cases/", public_views.case_list, name="cases"),
    path("urban/public/cases/<str:number>/", public_views.case_detail, name="case"),
    path("urban/public/photos/<int:pk>/", public_views.photo, name="photo"),
    re_path(r"^urban/public/feed/(?P<area_code>[0-9]{6,15})\.rss$", public_views.AreaFeed(), name="feed"),
    path("urban/public/subscribe/", public_views.subscribe, name="subscribe"),
    path("urban/public/subscribe/confirm/<str:token>/", public_views.subscribe_confirm, name="subscribe_confirm"),
    path("urban/public/subscribe/cancel/<str:token>/", public_views.subscribe_cancel, name="subscribe_cancel"),
]
