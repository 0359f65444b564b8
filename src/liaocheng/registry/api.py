"""Base-database JSON API for staff: person lookup (masked by right, scoped by division), history,
residents of a grid or community on a date, legal-entity lookup and search.

ID numbers travel in POST bodies, never in URLs, so they do not end up in access logs.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.security import django_auth

from . import services

router = Router(tags=["registry"])


class IdNumberIn(Schema):
    id_number: str


class PersonOut(Schema):
    id_number: str
    name: str
    masked: bool
    sex: str
    sex_label: str
    birth_date: dt.date
    ethnic: str
    ethnic_label: str
    hukou_division: str
    household_number: str
    relationship: str
    relationship_label: str
    residence_address: str
    lon: float | None
    lat: float | None
    community_code: str
    grid_code: str
    marital_status: str
    marital_status_label: str
    status: str
    phone: str
    version: int
    valid_from: dt.date | None
    valid_to: dt.date | None
    source_department: str
    changed_by: str
    recorded_at: dt.datetime
    change_kind: str
    changed_fields: list[str]
    reason: str


class ResidentsOut(Schema):
    code: str
    date: dt.date
    total: int
    residents: list[PersonOut]


class EntityOut(Schema):
    credit_code: str
    credit_code_warning: str
    name: str
    entity_type: str
    entity_type_derived: bool
    legal_representative: str
    masked: bool
    registered_capital: Decimal | None
    industry_code: str
    industry_label: str
    address: str
    lon: float | None
    lat: float | None
    county_code: str
    community_code: str
    grid_code: str
    status: str
    registering_authority: str
    established_date: dt.date | None
    changed_date: dt.date | None
    version: int
    valid_from: dt.date | None
    valid_to: dt.date | None
    source_department: str
    changed_by: str
    recorded_at: dt.datetime
    change_kind: str
    changed_fields: list[str]
    reason: str


class EntityPageOut(Schema):
    total: int
    entities: list[EntityOut]


@router.post("/persons/lookup", response=PersonOut, auth=django_auth,
             summary="按身份证号查询人口 / person by ID number (masked by right)")
def person_lookup(request: HttpRequest, payload: IdNumberIn) -> dict[str, Any]:
    return services.find_person(acting_user=request.user, id_number=payload.id_number)


@router.post("/persons/history", response=list[PersonOut], auth=django_auth,
             summary="人口变更历史 / a person's versions, oldest first")
def person_history(request: HttpRequest, payload: IdNumberIn) -> list[dict[str, Any]]:
    return services.person_history(acting_user=request.user, id_number=payload.id_number)


@router.get("/residents", response=ResidentsOut, auth=django_auth,
            summary="某日居住在网格/社区的人口 / who lived in a grid or community on a date")
def residents(request: HttpRequest, code: str, date: dt.date, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    total, rows = services.residents_at(acting_user=request.user, code=code, on=date,
                                        limit=max(1, min(limit, 1000)), offset=max(0, offset))
    return {"code": code, "date": date, "total": total, "residents": rows}


@router.get("/entities/{credit_code}", response=EntityOut, auth=django_auth,
            summary="按统一社会信用代码查询法人单位 / legal entity by credit code")
def entity_lookup(request: HttpRequest, credit_code: str) -> dict[str, Any]:
    return services.find_entity(acting_user=request.user, credit_code=credit_code)


@router.get("/entities/{credit_code}/history", response=list[EntityOut], auth=django_auth,
            summary="法人单位变更历史 / a legal entity's versions")
def entity_history(request: HttpRequest, credit_code: str) -> list[dict[str, Any]]:
    return services.entity_history(acting_user=request.user, credit_code=credit_code)


@router.get("/entities", response=EntityPageOut, auth=django_auth,
            summary="检索法人单位 / search legal entities by name prefix, industry, county")
def entity_search(request: HttpRequest, name: str = "", industry: str = "", county: str = "", status: str = "",
                  limit: int = 50, offset: int = 0) -> dict[str, Any]:
    total, rows = services.search_entities(acting_user=request.user, name_prefix=name, industry=industry,
                                           county=county, status=status, limit=limit, offset=max(0, offset))
    return {"total": total, "entities": rows}
