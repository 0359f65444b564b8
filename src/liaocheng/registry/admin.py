"""Read-only admin views of the base databases: every change goes through registry.services."""

from __future__ import annotations

from django.contrib import admin

from liaocheng.core.admin import ReadOnlyAdmin

from .models import ChangeEvent, ImportJob, ImportRowError, LegalEntity, Person


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ("id", "hukou_division", "community_code", "status", "version", "valid_from", "source_department")
    list_filter = ("status",)
    search_fields = ("hukou_division", "grid_code", "household_number")
    # personal data stays out of the admin (ID numbers, phones, names, addresses): use the registry API,
    # which masks them by right
    exclude = ("id_number", "id_number_bidx", "phone", "phone_bidx", "name", "residence_address", "lon", "lat")


@admin.register(LegalEntity)
class LegalEntityAdmin(ReadOnlyAdmin):
    list_display = ("credit_code", "name", "entity_type", "industry_code", "county_code", "status", "version")
    list_filter = ("entity_type", "status", "county_code")
    search_fields = ("credit_code", "name")
    exclude = ("legal_representative",)


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "file_name", "status", "rows_committed", "rows_failed", "error_count", "started_at",
                    "seconds")
    list_filter = ("kind", "status")


@admin.register(ImportRowError)
class ImportRowErrorAdmin(ReadOnlyAdmin):
    list_display = ("job", "batch_index", "row", "field", "code", "message_zh")
    list_filter = ("code",)


@admin.register(ChangeEvent)
class ChangeEventAdmin(ReadOnlyAdmin):
    list_display = ("resource", "seq_first", "seq_last", "kind", "effective_date", "recorded_at")
    list_filter = ("resource", "kind")
