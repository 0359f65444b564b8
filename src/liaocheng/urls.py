from django.contrib import admin
from django.urls import include, path

from .api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("open311/", include("liaocheng.urban.open311")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("liaocheng.geo.urls")),
    path("", include("liaocheng.registry.urls")),
    path("", include("liaocheng.exchange.urls")),
    path("", include("liaocheng.economy.urls")),
    path("", include("liaocheng.urban.urls")),
    path("", include("liaocheng.urban.public_urls")),
    path("", include("liaocheng.urban.component_urls")),
    path("", include("liaocheng.emergency.warning_urls")),
    path("", include("liaocheng.emergency.urls")),
    path("", include("liaocheng.emergency.dispatch_urls")),
    path("", include("liaocheng.emergency.metrics_urls")),
    path("", include("liaocheng.emergency.resource_urls")),
    path("", include("liaocheng.egov.catalogue_urls")),
    path("", include("liaocheng.egov.disclosure_urls")),
    path("", include("liaocheng.egov.supervision_urls")),
    path("", include("liaocheng.egov.application_urls")),
    path("", include("liaocheng.core.urls")),
]
