"""The platform's JSON API (django-ninja), assembled from each app's router."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from liaocheng.core.api import router as core_router
from liaocheng.core.errors import DomainError
from liaocheng.economy.api import router as economy_router
from liaocheng.egov.api import router as egov_router
from liaocheng.emergency.api import router as emergency_router
from liaocheng.exchange.api import router as exchange_router
from liaocheng.geo.api import router as geo_router
from liaocheng.registry.api import router as registry_router

api = NinjaAPI(
    title="数字聊城 Digital Liaocheng API",
    version="1",
    description="JSON API of the Digital Liaocheng platform. Coordinates are GCJ-02 unless a "
    "parameter says otherwise (``datum=wgs84`` accepts GPS fixes).",
    docs_url="/docs",
    urls_namespace="api",
)
api.add_router("/core", core_router)
api.add_router("/geo", geo_router)
api.add_router("/registry", registry_router)
api.add_router("/exchange", exchange_router)
api.add_router("/economy", economy_router)
api.add_router("/emergency", emergency_router)
api.add_router("/egov", egov_router)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    message = str(exc) or "无权访问 / permission denied"
    return api.create_response(request, {"error": "permission_denied", "message": message}, status=403)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(
        request, {"error": "invalid", "message": "; ".join(exc.messages)}, status=400
    )
