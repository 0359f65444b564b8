"""Public warnings: the staff console under ``emergency/warnings/`` and the public pages, CAP alerts and Atom
feed under ``warnings/`` (no login)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

from . import warning_views as views

app_name = "emergency_warnings"

IDENTIFIER = r"(?P<identifier>[0-9]{14}_[0-9]{14})"

urlpatterns: list[URLPattern | URLResolver] = [
    path("emergency/warnings/", views.console, name="console"),
    path("emergency/warnings/approvals/", views.approvals, name="approvals"),
    path("emergency/warnings/new/", views.new, name="new"),
    path("emergency/warnings/<int:pk>/", views.detail, name="detail"),
    path("emergency/warnings/<int:pk>/edit/", views.edit, name="edit"),
    path("emergency/warnings/<int:pk>/act/", views.act, name="act"),
    path("emergency/warnings/<int:pk>/update/", views.update, name="update"),
    path("emergency/warnings/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("warnings/", views.public_list, name="public_list"),
    path("warnings/feed.atom", views.feed, name="feed"),
    re_path(rf"^warnings/{IDENTIFIER}\.xml$", views.public_xml, name="public_xml"),
    re_path(rf"^warnings/{IDENTIFIER}/$", views.public_detail, name="public_detail"),
]
