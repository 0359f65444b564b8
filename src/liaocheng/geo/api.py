"""Geo JSON API: locate points (one or many), read and edit divisions within the caller's scope."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.security import django_auth

from liaocheng.core.errors import InvalidInput

from . import services
from .models import Division

router = Router(tags=["geo"])

Datum = Literal["gcj02", "wgs84"]


class LocationOut(Schema):
    lon: float = Field(description="GCJ-02 longitude")
    lat: float = Field(description="GCJ-02 latitude")
    grid_code: str
    community_code: str
    community_name: str
    township_code: str
    township_name: str
    county_code: str
    county_name: str


def _names(codes: list[str]) -> dict[str, str]:
    return dict(Division.objects.filter(code__in=codes, valid_to__isnull=True).values_list("code", "name"))


@router.get("/locate", response=LocationOut,
            summary="坐标定位到网格、社区、乡镇、县 / locate a point",
            description="`datum=wgs84` for GPS fixes (converted to GCJ-02); default GCJ-02. "
                        "A point outside Liaocheng gives 400 with error `outside_liaocheng`.")
def locate(request: HttpRequest, lon: float, lat: float, datum: Datum = "gcj02") -> dict[str, Any]:
    found = services.locate(lon, lat, input_datum=datum)
    loc = found.location
    names = _names([loc.community_code, loc.township_code, loc.county_code])
    return {
        "lon": found.lon, "lat": found.lat, "grid_code": loc.grid_code,
        "community_code": loc.community_code, "community_name": names.get(loc.community_code, ""),
        "township_code": loc.township_code, "township_name": names.get(loc.township_code, ""),
        "county_code": loc.county_code, "county_name": names.get(loc.county_code, ""),
    }


class BulkIn(Schema):
    points: list[tuple[float, float]] = Field(description="[[lon, lat], ...], at most 100,000")
    datum: Datum = "gcj02"


class BulkOut(Schema):
    grid_codes: list[str | None] = Field(description="grid code per point; null = outside Liaocheng")


@router.post("/locate/bulk", response=BulkOut, summary="批量定位 / locate many points")
def locate_bulk(request: HttpRequest, payload: BulkIn) -> dict[str, Any]:
    if len(payload.points) > 100_000:
        raise InvalidInput("一次最多100000个点", "at most 100,000 points per request", field="points")
    if not payload.points:
        return {"grid_codes": []}
    arr = np.asarray(payload.points, dtype=float)
    codes = services.locate_many(arr[:, 0], arr[:, 1], input_datum=payload.datum)
    return {"grid_codes": [c or None for c in codes.tolist()]}


class DivisionOut(Schema):
    code: str
    name: str
    level: str
    kind: str
    parent_code: str | None
    valid_from: str | None
    valid_to: str | None
    code_is_local: bool
    geometry_generated: bool
    lon: float | None
    lat: float | None
    point_generated: bool


def _division_out(div: Division) -> dict[str, Any]:
    return {
        "code": div.code, "name": div.name, "level": div.level, "kind": div.kind,
        "parent_code": div.parent.code if div.parent else None,
        "valid_from": div.valid_from.isoformat() if div.valid_from else None,
        "valid_to": div.valid_to.isoformat() if div.valid_to else None,
        "code_is_local": div.code_is_local, "geometry_generated": div.geometry_generated,
        "lon": div.lon, "lat": div.lat, "point_generated": div.point_generated,
    }


@router.get("/divisions/{code}", response=DivisionOut, auth=django_auth,
            summary="区划详情（按授权范围） / a division (within your scope)")
def get_division(request: HttpRequest, code: str) -> dict[str, Any]:
    return _division_out(services.get_division(acting_user=request.user, code=code))


class DivisionPatch(Schema):
    name: str | None = None
    lon: float | None = None
    lat: float | None = None
    datum: Datum = "gcj02"


@router.patch("/divisions/{code}", response=DivisionOut, auth=django_auth,
              summary="修改区划名称或位置（按授权范围） / edit a division (within your scope)")
def patch_division(request: HttpRequest, code: str, payload: DivisionPatch) -> dict[str, Any]:
    div = services.update_division(acting_user=request.user, code=code, name=payload.name, lon=payload.lon,
                                   lat=payload.lat, input_datum=payload.datum)
    return _division_out(div)


class BoundaryIn(Schema):
    geometry: dict[str, Any] = Field(
        description="GeoJSON Polygon/MultiPolygon, Feature or one-feature FeatureCollection"
    )
    datum: Datum = "gcj02"


@router.put("/divisions/{code}/boundary", response=DivisionOut, auth=django_auth,
            summary="导入官方边界（按授权范围） / import an official boundary (within your scope)")
def put_boundary(request: HttpRequest, code: str, payload: BoundaryIn) -> dict[str, Any]:
    div = services.import_division_boundary(acting_user=request.user, code=code, geojson=payload.geometry,
                                            input_datum=payload.datum)
    return _division_out(div)
