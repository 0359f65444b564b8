"""Exchange JSON API for signed-in staff (mounted at ``/api/exchange/``): the resource catalogue.

Consumer systems use the X-Road-style API under ``/exchange/r1/`` (``xroad.py``) with a bearer token;
the open-data CKAN API is at ``/api/3/action/`` (``ckan.py``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.security import django_auth

from liaocheng.core import access

from . import services
from .models import SharingClass

router = Router(tags=["exchange"])


class FieldOut(Schema):
    name: str
    label_zh: str
    label_en: str
    personal: str
    sharing_class: str


class ResourceOut(Schema):
    code: str
    name: str
    name_en: str
    description: str
    department: str
    department_name: str
    sharing_class: str
    update_frequency: str
    is_open: bool
    fields: list[FieldOut]


def _out(resource: Any) -> dict[str, Any]:
    return {
        "code": resource.code, "name": resource.name, "name_en": resource.name_en,
        "description": resource.description, "department": resource.department.code,
        "department_name": resource.department.name, "sharing_class": resource.sharing_class,
        "update_frequency": resource.update_frequency, "is_open": resource.is_open,
        "fields": [
            {"name": f.name, "label_zh": f.label_zh, "label_en": f.label_en, "personal": f.personal,
             "sharing_class": f.sharing_class}
            for f in services.resource_fields(resource) if f.offered and f.sharing_class != SharingClass.NONE
        ],
    }


def _staff(request: HttpRequest) -> None:
    if not access.is_staff_user(request.user):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("仅限工作人员 / staff only")


@router.get("/catalogue", response=list[ResourceOut], auth=django_auth,
            summary="政务信息资源目录 / resource catalogue")
def catalogue(request: HttpRequest, q: str = "") -> list[dict[str, Any]]:
    _staff(request)
    qs = services.visible_catalogue(request.user).order_by("code")
    if q:
        qs = qs.filter(name__icontains=q) | qs.filter(code__icontains=q)
    return [_out(r) for r in qs[:500]]


@router.get("/catalogue/{code}", response=ResourceOut, auth=django_auth,
            summary="目录资源 / one catalogue entry")
def resource(request: HttpRequest, code: str) -> dict[str, Any]:
    _staff(request)
    found = services.visible_catalogue(request.user).filter(code=code).first()
    if found is None:
        from liaocheng.core.errors import NotFound

        raise NotFound("资源不存在", "no such resource", field="code")
    return _out(found)
