"""Macro-economy data changes go through economy.services (scoped and audited), never the admin."""

from __future__ import annotations

from django.contrib import admin

from liaocheng.core.admin import ReadOnlyAdmin

from .models import ImportJob, Indicator, IndicatorValue


@admin.register(Indicator)
class IndicatorAdmin(ReadOnlyAdmin):
    list_display = ("code", "name_zh", "unit_zh", "frequency", "public")
    list_filter = ("frequency", "public")
    search_fields = ("code", "name_zh", "name_en")


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ("pk", "kind", "file_name", "created_by_label", "created_at", "created", "replaced", "generated")
    list_filter = ("kind", "generated")


@admin.register(IndicatorValue)
class IndicatorValueAdmin(ReadOnlyAdmin):
    list_display = ("indicator", "division_code", "period", "value", "generated", "job")
    list_filter = ("indicator", "period_kind", "generated")
    search_fields = ("division_code", "period")
