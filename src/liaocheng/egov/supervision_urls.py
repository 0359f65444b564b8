"""Pages of electronic supervision (staff console) and of certificate verification (public) and download."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import certificate_staff_views, certificate_views, supervision_views

app_name = "egov_supervision"

urlpatterns: list[URLPattern | URLResolver] = [
    path("egov/supervision/", supervision_views.console, name="console"),
    path("egov/supervision/cards.csv", supervision_views.cards_csv, name="cards_csv"),
    path("egov/supervision/report/", supervision_views.report, name="report"),
    path("egov/supervision/report.csv", supervision_views.report_csv, name="report_csv"),
    path("egov/verify/", certificate_views.verify_form, name="verify_form"),
    path("egov/verify/<str:code>/", certificate_views.verify, name="verify"),
    path("egov/certificates/<str:number>.pdf", certificate_views.download, name="certificate_pdf"),
    path("egov/manage/certificates/", certificate_staff_views.lookup, name="staff_certificates"),
    path("egov/manage/certificates/<str:number>/revoke/", certificate_staff_views.revoke,
         name="staff_certificate_revoke"),
]
