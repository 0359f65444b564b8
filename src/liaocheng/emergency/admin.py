from django.contrib import admin

from . import models


@admin.register(models.IncidentType)
class IncidentTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "incident_class", "owning_kind", "default_priority", "active")
    search_fields = ("code", "name")
    list_filter = ("incident_class", "active")


@admin.register(models.Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("number", "incident_type", "severity", "state", "county_code", "created_at")
    list_filter = ("state", "severity", "county_code")
    search_fields = ("number", "summary")
    readonly_fields = [f.name for f in models.Incident._meta.fields]  # changes go through the services

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(models.Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("call_sign", "unit_type", "department", "status", "county_code")
    list_filter = ("unit_type", "status", "county_code")
    search_fields = ("call_sign",)
    readonly_fields = ("status", "status_at", "incident")
