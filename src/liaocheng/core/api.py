"""Core JSON API: who am I, user personal data (masked by right), working-time calculations."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.security import django_auth

from . import access
from . import calendar as workcal
from .errors import NotFound
from .models import User
from .services import personal_data_for

router = Router(tags=["core"])


class MeOut(Schema):
    username: str
    kind: str
    real_name: str
    department: str | None
    id_number: str
    phone: str
    grants: list[dict[str, str]]


@router.get("/me", response=MeOut, auth=django_auth, summary="当前用户 / current user")
def me(request: HttpRequest) -> dict:
    user = request.user
    assert isinstance(user, User)
    pdata = personal_data_for(user, user)
    return {
        "username": user.username,
        "kind": user.kind,
        "real_name": user.real_name,
        "department": user.department.name if user.department else None,
        "id_number": pdata["id_number"],
        "phone": pdata["phone"],
        "grants": [{"role": g.role.code, "scope_division": g.scope_division}
                   for g in user.grants.select_related("role")],
    }


class UserOut(Schema):
    id: int
    username: str
    kind: str
    real_name: str
    department: str | None
    id_number: str
    phone: str


@router.get("/users/{user_id}", response=UserOut, auth=django_auth,
            summary="用户信息（个人信息按权限脱敏） / user (personal data masked by right)")
def get_user(request: HttpRequest, user_id: int) -> dict:
    viewer = request.user
    target = User.objects.select_related("department").filter(pk=user_id).first()
    if target is None:
        raise NotFound("用户不存在", "no such user")
    if target != viewer:
        division = target.department.division_code if target.department else None
        access.require(viewer, "core.manage_users", division)
    pdata = personal_data_for(viewer, target)
    return {"id": target.pk, "username": target.username, "kind": target.kind, "real_name": target.real_name,
            "department": target.department.name if target.department else None, **pdata}


class WorkingDaysOut(Schema):
    start: dt.date
    days: int
    result: dt.date


@router.get("/calendar/add-working-days", response=WorkingDaysOut,
            summary="加 N 个工作日 / add N working days")
def add_working_days(request: HttpRequest, start: dt.date, days: int) -> dict:
    return {"start": start, "days": days, "result": workcal.add_working_days(start, days)}


class WorkingHoursOut(Schema):
    start: dt.datetime
    hours: float
    result: dt.datetime


@router.get("/calendar/add-working-hours", response=WorkingHoursOut,
            summary="加 N 个工作小时 / add N working hours")
def add_working_hours(request: HttpRequest, start: dt.datetime, hours: float) -> dict:
    return {"start": start, "hours": hours, "result": workcal.add_working_hours(start, hours)}
