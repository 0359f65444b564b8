from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import ckan, views, views_open, xroad

app_name = "exchange"

urlpatterns: list[URLPattern | URLResolver] = [
    # Staff workbench pages
    path("exchange/", views.catalogue, name="catalogue"),
    path("exchange/mine/", views.my_resources, name="my_resources"),
    path("exchange/resources/<str:code>/", views.resource_detail, name="resource"),
    path("exchange/resources/<str:code>/edit/", views.resource_edit, name="resource_edit"),
    path("exchange/resources/<str:code>/apply/", views.apply, name="apply"),
    path("exchange/applications/", views.applications, name="applications"),
    path("exchange/applications/<int:pk>/", views.application_detail, name="application"),
    path("exchange/grants/<int:pk>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("exchange/systems/", views.systems, name="systems"),
    path("exchange/systems/<str:code>/", views.system_detail, name="system"),
    path("exchange/systems/<str:code>/rotate/", views.system_rotate, name="system_rotate"),
    path("exchange/systems/<str:code>/revoke/", views.system_revoke, name="system_revoke"),
    path("exchange/systems/<str:code>/subscribe/", views.system_subscribe, name="system_subscribe"),
    path("exchange/systems/<str:code>/subscriptions/<int:pk>/cancel/", views.system_unsubscribe,
         name="system_unsubscribe"),
    path("exchange/log/", views.log_list, name="log"),
    path("exchange/log/<int:seq>/", views.log_detail, name="log_detail"),
    path("exchange/log/<int:seq>/evidence.json", views.log_evidence, name="log_evidence"),
    # Exchange API for consumer systems (X-Road style)
    path("exchange/r1/listProviders", xroad.list_providers, name="x_list_providers"),
    path("exchange/r1/listServices", xroad.list_services, name="x_list_services"),
    path("exchange/r1/allowedServices", xroad.allowed_services, name="x_allowed_services"),
    path("exchange/r1/<str:resource_code>/records/<str:key>", xroad.record, name="x_record"),
    path("exchange/r1/<str:resource_code>/records", xroad.records, name="x_records"),
    path("exchange/r1/<str:resource_code>/changes", xroad.changes, name="x_changes"),
    path("exchange/r1/<str:resource_code>/subscription", xroad.subscription, name="x_subscription"),
    # Open data portal, DCAT-AP and the CKAN Action API
    path("open/", views_open.portal, name="open"),
    path("open/catalog.jsonld", views_open.catalog_jsonld, name="open_jsonld"),
    path("open/catalog.ttl", views_open.catalog_ttl, name="open_ttl"),
    path("open/datasets/<slug:name>/", views_open.dataset, name="open_dataset"),
    path("open/datasets/<slug:name>/download.csv", views_open.download_csv, name="open_csv"),
    path("api/3/action/<str:name>", ckan.dispatch, name="ckan_action"),
    path("api/action/<str:name>", ckan.dispatch, name="ckan_action_unversioned"),
]
