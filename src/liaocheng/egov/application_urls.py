"""Online application (applicant) and case handling (staff) pages."""

from __future__ import annotations

from django.urls import path

from . import application_views as views

app_name = "egov_apply"

urlpatterns = [
    path("egov/apply/bundle/<str:code>/", views.apply_bundle, name="apply_bundle"),
    path("egov/apply/<str:item_code>/", views.apply_item, name="apply_item"),
    path("egov/mine/", views.mine_list, name="mine"),
    path("egov/mine/<str:number>/", views.mine_detail, name="mine_detail"),
    path("egov/mine/<str:number>/materials/<int:pk>/", views.mine_material, name="mine_material"),
    path("egov/cases/", views.case_list, name="cases"),
    path("egov/cases/<str:number>/", views.case_detail, name="case_detail"),
    path("egov/cases/<str:number>/materials/<int:pk>/", views.case_material, name="case_material"),
]
