"""Django admin: read-only views of core data, except the calendar, whose edits go through services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from . import services
from .models import AuditRecord, CalendarOverride, Department, Role, RoleGrant, User


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Department)
class DepartmentAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "level", "kind", "division_code")
    list_filter = ("level", "kind")
    search_fields = ("code", "name")


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ("username", "real_name", "kind", "department", "is_active", "totp_confirmed")
    list_filter = ("kind", "is_active")
    search_fields = ("username", "real_name")
    exclude = ("password", "id_number", "phone", "totp_secret", "id_number_bidx", "phone_bidx")


@admin.register(Role)
class RoleAdmin(ReadOnlyAdmin):
    list_display = ("code", "name")


@admin.register(RoleGrant)
class RoleGrantAdmin(ReadOnlyAdmin):
    list_display = ("user", "role", "scope_division", "granted_at")


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "actor_label", "action", "object_type", "object_id", "request_id")
    list_filter = ("action",)
    search_fields = ("object_id", "actor_label", "request_id")


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    """Edits call ``services.set_calendar_override`` so they are checked and audited."""

    list_display = ("date", "is_workday", "note")

    def save_model(self, request: HttpRequest, obj: CalendarOverride, form: Any, change: bool) -> None:
        saved = services.set_calendar_override(acting_user=request.user, date=obj.date,
                                               is_workday=obj.is_workday, note=obj.note)
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: CalendarOverride) -> None:
        services.remove_calendar_override(acting_user=request.user, date=obj.date)
