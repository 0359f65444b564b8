"""Urban-management data changes go through urban.services (scoped and audited), never the admin."""

from __future__ import annotations

from django.contrib import admin

from liaocheng.core.admin import ReadOnlyAdmin

from .models import (
    Case,
    CaseEvent,
    CasePhoto,
    CaseRequest,
    Component,
    MajorClass,
    MinorClass,
    Open311Client,
    Supervision,
)


@admin.register(MajorClass)
class MajorClassAdmin(ReadOnlyAdmin):
    list_display = ("kind", "code", "name")
    list_filter = ("kind",)


@admin.register(MinorClass)
class MinorClassAdmin(ReadOnlyAdmin):
    list_display = ("full_code", "name", "department_kind", "deadline_value", "deadline_unit", "active")
    list_filter = ("kind", "deadline_unit", "department_kind")
    search_fields = ("full_code", "name")


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("number", "minor_class", "state", "channel", "department", "due_at", "overdue", "reported_at")
    list_filter = ("state", "channel", "overdue", "county_code")
    search_fields = ("number", "grid_code", "address")


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ("case", "at", "actor_label", "action", "from_state", "to_state")
    list_filter = ("action",)


@admin.register(CaseRequest)
class CaseRequestAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "status", "requested_at", "decided_at")
    list_filter = ("kind", "status")


@admin.register(Supervision)
class SupervisionAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "created_at", "due_at", "department")


@admin.register(CasePhoto)
class CasePhotoAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "content_type", "size", "uploaded_at")


@admin.register(Open311Client)
class Open311ClientAdmin(ReadOnlyAdmin):
    """Keys are issued with `liaocheng open311_client NAME`; only their SM3 hash is stored."""

    list_display = ("name", "contact", "active")
    exclude = ("key_hash",)


@admin.register(Component)
class ComponentAdmin(ReadOnlyAdmin):
    """The census is written through urban.components (import, update_component)."""

    list_display = ("code", "minor_class", "name", "status", "county_code", "grid_code", "maintainer", "surveyed_on")
    list_filter = ("status", "county_code", "minor_class")
    search_fields = ("code", "name", "address")
