"""URLs of government information disclosure (see ``disclosure_views``)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import disclosure_views as views

app_name = "egov_disclosure"

urlpatterns: list[URLPattern | URLResolver] = [
    path("egov/disclosure/", views.index, name="index"),
    path("egov/disclosure/documents/<int:pk>/", views.document, name="document"),
    path("egov/disclosure/departments/<str:code>/", views.department, name="department"),
    path("egov/disclosure/departments/<str:code>/reports/", views.annual_reports, name="reports"),
    path("egov/disclosure/departments/<str:code>/report/<int:year>/", views.annual_report, name="report"),
    path("egov/disclosure/request/", views.request_form, name="request"),
    path("egov/disclosure/mine/", views.mine, name="mine"),
    path("egov/disclosure/manage/publish/", views.staff_publish, name="staff_publish"),
    path("egov/disclosure/manage/documents/", views.staff_documents, name="staff_documents"),
    path("egov/disclosure/manage/documents/<int:pk>/", views.staff_document_edit, name="staff_document"),
    path("egov/disclosure/manage/documents/<int:pk>/withdraw/", views.staff_document_withdraw,
         name="staff_document_withdraw"),
    path("egov/disclosure/manage/reports/", views.staff_reports, name="staff_reports"),
    path("egov/disclosure/manage/reports/<str:code>/<int:year>/", views.staff_report, name="staff_report"),
    path("egov/disclosure/manage/requests/", views.staff_requests, name="staff_requests"),
    path("egov/disclosure/manage/requests/<int:pk>/", views.staff_request_action, name="staff_request_action"),
]
