from __future__ import annotations

from django.urls import path

from . import catalogue_views as views

app_name = "egov_catalogue"

urlpatterns = [
    path("egov/items/", views.item_list, name="items"),
    path("egov/items/<str:code>/", views.item_detail, name="item"),
    path("egov/bundles/", views.bundle_list, name="bundles"),
    path("egov/bundles/<str:code>/", views.bundle_detail, name="bundle"),
    path("egov/indicators/", views.indicators, name="indicators"),
    path("egov/manage/items/", views.staff_list, name="staff_list"),
    path("egov/manage/items/new/", views.staff_new, name="staff_new"),
    path("egov/manage/items/<str:code>/", views.staff_edit, name="staff_edit"),
    path("egov/manage/items/<str:code>/publish/", views.staff_publish, name="staff_publish"),
]
