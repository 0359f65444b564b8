"""Geography changes go through geo.services (scoped and audited), never the admin."""

from __future__ import annotations

from django.contrib import admin

from liaocheng.core.admin import ReadOnlyAdmin

from .models import Division, Grid


@admin.register(Division)
class DivisionAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "level", "kind", "valid_from", "valid_to", "code_is_local")
    list_filter = ("level", "code_is_local")
    search_fields = ("code", "name")
    exclude = ("geometry",)


@admin.register(Grid)
class GridAdmin(ReadOnlyAdmin):
    list_display = ("code", "size_class", "area_m2", "community_code")
    list_filter = ("size_class", "county_code")
    search_fields = ("code",)
    exclude = ("geometry",)
