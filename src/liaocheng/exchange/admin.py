"""Read-only admin views: every change goes through ``exchange.services`` (audited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Application, CatalogueResource, ConsumerSystem, ExchangeLog, Grant, Subscription


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CatalogueResource)
class CatalogueResourceAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "department", "sharing_class", "is_open", "modified_at")
    list_filter = ("sharing_class", "is_open")
    search_fields = ("code", "name")


@admin.register(ConsumerSystem)
class ConsumerSystemAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "department", "active", "created_at")
    exclude = ("token_hash",)


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = ("pk", "consumer", "resource", "status", "created_at")
    list_filter = ("status",)


@admin.register(Grant)
class GrantAdmin(ReadOnlyAdmin):
    list_display = ("consumer", "resource", "field_name", "allow_clear", "granted_at", "revoked_at")


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("consumer", "resource", "active", "cursor")


@admin.register(ExchangeLog)
class ExchangeLogAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "consumer_code", "operation", "resource_code", "status")
    list_filter = ("operation", "status")
    search_fields = ("consumer_code", "resource_code", "request_id")
