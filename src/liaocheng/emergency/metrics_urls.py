"""Pages of the response metrics (响应时效统计)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import metrics_views as views

app_name = "emergency_metrics"

urlpatterns: list[URLPattern | URLResolver] = [
    path("emergency/metrics/", views.metrics_page, name="metrics"),
]
