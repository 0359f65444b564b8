"""Natural resources and spatial base (自然资源和空间地理): layers of features with an attribute schema.

The one write path for layers and their features (permission through ``core.access``, change and audit
record in one transaction). A layer's features are imported from a GeoJSON FeatureCollection, validated
against the layer's geometry type and attribute schema; every bad feature is reported (index, field,
reason in Chinese and English) and nothing is written unless every feature is good.

Coordinates are stored in GCJ-02 like everything else (``input_datum="wgs84"`` converts GPS data). Each
feature carries the divisions of its location: the point itself, or a representative point of a line or
polygon, located in the unit grids by ``geo.services.locate_many``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import shapely
from django.db import transaction
from shapely.geometry.base import BaseGeometry

from liaocheng.core import access, audit
from liaocheng.core.errors import Conflict, InvalidInput, NotFound
from liaocheng.core.permissions import CITY_CODE

from . import datum
from .codelists import CODELISTS
from .models import Feature, GeometryType, Layer

SYSTEM = "system"
MANAGE_PERM = "geo.manage_layers"
EDIT_PERM = "geo.edit_features"

ATTRIBUTE_TYPES = ("string", "integer", "number", "boolean", "date", "code")
# OGC API collections that are not layers: a layer whose code is one of these is served as "layer-<code>".
RESERVED_COLLECTIONS = frozenset({"city", "counties", "townships", "villages", "grids"})
# Served with every feature (and queryable); an attribute may not take one of these names.
LOCATION_PROPERTIES = ("county_code", "township_code", "community_code", "grid_code", "generated")
RESERVED_ATTRIBUTES = frozenset({*LOCATION_PROPERTIES, "id", "geometry", "code", "bbox", "limit", "offset",
                                 "datetime", "f", "crs", "bbox-crs"})
LAYER_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
ATTRIBUTE_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_FEATURES = 100_000
MAX_PROBLEMS = 200
MAX_STRING = 500

_GEOMETRY_FAMILIES: dict[str, tuple[str, ...]] = {
    GeometryType.POINT: ("Point", "MultiPoint"),
    GeometryType.LINESTRING: ("LineString", "MultiLineString"),
    GeometryType.POLYGON: ("Polygon", "MultiPolygon"),
}


# --- attribute schema ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Attribute:
    name: str
    type: str
    label_zh: str
    label_en: str
    required: bool = False
    codelist: str = ""

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "type": self.type, "label_zh": self.label_zh,
                                "label_en": self.label_en, "required": self.required}
        if self.codelist:
            data["codelist"] = self.codelist
        return data


def parse_schema(raw: Any) -> list[Attribute]:
    """The attribute schema as a list of :class:`Attribute`; ``InvalidInput`` naming the entry otherwise."""
    if not isinstance(raw, list):
        raise InvalidInput("属性结构应为列表", "the attribute schema must be a list", field="attribute_schema")
    attributes: list[Attribute] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        where_zh, where_en = f"属性结构第{i + 1}项", f"attribute_schema[{i}]"

        def bad(zh: str, en: str, _i: int = i, _wz: str = where_zh, _we: str = where_en) -> InvalidInput:
            return InvalidInput(f"{_wz}：{zh}", f"{_we}: {en}", field="attribute_schema", row=_i)

        if not isinstance(entry, dict):
            raise bad("应为对象", "must be an object")
        name = entry.get("name")
        if not isinstance(name, str) or not ATTRIBUTE_NAME_RE.match(name):
            raise bad("名称应为小写字母开头的字母、数字或下划线", "name must be lower-case letters, digits or _")
        if name in RESERVED_ATTRIBUTES:
            raise bad(f"名称 {name} 为保留字", f"name {name} is reserved")
        if name in seen:
            raise bad(f"名称 {name} 重复", f"duplicate name {name}")
        seen.add(name)
        type_ = entry.get("type")
        if type_ not in ATTRIBUTE_TYPES:
            raise bad("类型应为 " + "/".join(ATTRIBUTE_TYPES), "type must be one of " + ", ".join(ATTRIBUTE_TYPES))
        codelist = entry.get("codelist") or ""
        if codelist and codelist not in CODELISTS:
            raise bad(f"未知代码表 {codelist}", f"unknown code list {codelist}")
        if type_ == "code" and not codelist:
            raise bad("代码类型须指定代码表", "an attribute of type code needs a codelist")
        label_zh = str(entry.get("label_zh") or name)
        label_en = str(entry.get("label_en") or name)
        required = entry.get("required", False)
        if not isinstance(required, bool):
            raise bad("required 应为 true 或 false", "required must be true or false")
        attributes.append(Attribute(name, str(type_), label_zh, label_en, required, str(codelist)))
    return attributes


def check_value(attr: Attribute, value: Any) -> tuple[Any, tuple[str, str] | None]:
    """The value to store, or a (Chinese, English) reason why it does not fit the attribute."""
    if value is None or value == "":
        if attr.required:
            return None, ("必填属性缺失", "required attribute is missing")
        return None, None
    t = attr.type
    if t == "string":
        if not isinstance(value, str):
            return None, ("应为文本", "must be a string")
        if len(value) > MAX_STRING:
            return None, (f"文本超过{MAX_STRING}字", f"string longer than {MAX_STRING} characters")
        return value.strip(), None
    if t == "integer":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, ("应为整数", "must be an integer")
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            return None, ("应为整数", "must be an integer")
        return int(value), None
    if t == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return None, ("应为数值", "must be a number")
        return value, None
    if t == "boolean":
        if not isinstance(value, bool):
            return None, ("应为 true 或 false", "must be true or false")
        return value, None
    if t == "date":
        if not isinstance(value, str):
            return None, ("应为日期（YYYY-MM-DD）", "must be a date (YYYY-MM-DD)")
        try:
            return date.fromisoformat(value.strip()).isoformat(), None
        except ValueError:
            return None, ("应为日期（YYYY-MM-DD）", "must be a date (YYYY-MM-DD)")
    # code
    code = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else None
    if code is None or code not in CODELISTS[attr.codelist]:
        return None, (f"不是代码表 {attr.codelist} 中的代码：{value}", f"not a code of {attr.codelist}: {value}")
    return code, None


def check_properties(attributes: Sequence[Attribute], properties: Any) -> tuple[dict[str, Any], list[
        tuple[str, str, str]]]:
    """Clean properties and a list of (field, reason_zh, reason_en) for every attribute that does not fit."""
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        return {}, [("properties", "properties 应为对象", "properties must be an object")]
    problems: list[tuple[str, str, str]] = []
    known = {a.name for a in attributes}
    for key in properties:
        if key not in known:
            problems.append((str(key), "图层属性结构中没有该属性", "not an attribute of the layer's schema"))
    clean: dict[str, Any] = {}
    for attr in attributes:
        value, reason = check_value(attr, properties.get(attr.name))
        if reason is not None:
            problems.append((attr.name, reason[0], reason[1]))
        elif value is not None:
            clean[attr.name] = value
    return clean, problems


def collection_id(layer_code: str) -> str:
    """The layer's OGC API collection id: its code, or ``layer-<code>`` when the code is taken."""
    return f"layer-{layer_code}" if layer_code in RESERVED_COLLECTIONS else layer_code


def layer_for_collection(collection: str) -> Layer | None:
    if collection.startswith("layer-"):
        code = collection[len("layer-"):]
        return Layer.objects.filter(code=code).first() if code in RESERVED_COLLECTIONS else None
    if collection in RESERVED_COLLECTIONS:
        return None
    return Layer.objects.filter(code=collection).first()


# --- layers ---------------------------------------------------------------------------------------

def _layer_snapshot(layer: Layer) -> dict[str, Any]:
    return {"code": layer.code, "name_zh": layer.name_zh, "name_en": layer.name_en,
            "geometry_type": layer.geometry_type, "owner_department": layer.owner_department,
            "attribute_schema": layer.attribute_schema, "generated": layer.generated}


def _new_layer(code: str, name_zh: str, name_en: str, description: str, geometry_type: str,
               owner_department: str, attribute_schema: Any, generated: bool, sort_order: int) -> Layer:
    if not isinstance(code, str) or not LAYER_CODE_RE.match(code):
        raise InvalidInput("图层代码应为2-40位小写字母、数字或下划线，字母开头",
                           "layer code must be 2-40 lower-case letters, digits or _, starting with a letter",
                           field="code")
    if not name_zh.strip() or len(name_zh) > 60:
        raise InvalidInput("名称不能为空且不超过60字", "name must be 1-60 characters", field="name_zh")
    if geometry_type not in GeometryType.values:
        raise InvalidInput("几何类型应为 Point、LineString 或 Polygon",
                           "geometry type must be Point, LineString or Polygon", field="geometry_type")
    attributes = parse_schema(attribute_schema)
    return Layer(code=code, name_zh=name_zh.strip(), name_en=name_en.strip(), description=description.strip(),
                 geometry_type=geometry_type, owner_department=owner_department.strip(),
                 attribute_schema=[a.as_dict() for a in attributes], generated=generated, sort_order=sort_order)


def create_layer(*, acting_user: Any, code: str, name_zh: str, geometry_type: str, attribute_schema: Any,
                 name_en: str = "", description: str = "", owner_department: str = "", generated: bool = False,
                 sort_order: int = 100) -> Layer:
    """Define a new layer (a city-wide definition: needs ``geo.manage_layers`` for the whole city)."""
    access.require(acting_user, MANAGE_PERM, CITY_CODE)
    layer = _new_layer(code, name_zh, name_en, description, geometry_type, owner_department, attribute_schema,
                       generated, sort_order)
    with transaction.atomic():
        if Layer.objects.filter(code=layer.code).exists():
            raise Conflict("图层代码已存在", "a layer with this code already exists", field="code")
        layer.save()
        audit.record(actor=acting_user, action="geo.create_layer", object_type="geo.Layer", object_id=layer.code,
                     after=_layer_snapshot(layer), division_code=CITY_CODE)
    return layer


def get_layer(code: str) -> Layer:
    layer = Layer.objects.filter(code=code).first()
    if layer is None:
        raise NotFound(f"图层 {code} 不存在", f"layer {code} does not exist", field="layer")
    return layer


def attributes_of(layer: Layer) -> list[Attribute]:
    return parse_schema(layer.attribute_schema)


# --- features -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeatureProblem:
    index: int  # position in the FeatureCollection's "features" array (0-based)
    feature_id: str
    field: str
    reason_zh: str
    reason_en: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.feature_id, "field": self.field, "reason_zh": self.reason_zh,
                "reason_en": self.reason_en}

    def __str__(self) -> str:
        return f"features[{self.index}] {self.field}: {self.reason_zh} / {self.reason_en}"


class LayerImportError(InvalidInput):
    """A GeoJSON import with bad features: ``problems`` names every one (index, field, reason)."""

    code = "invalid_features"

    def __init__(self, problems: list[FeatureProblem], total: int) -> None:
        first = problems[0]
        shown = "；".join(f"第{p.index + 1}个要素（features[{p.index}]）{p.field}：{p.reason_zh}" for p in problems[:5])
        shown_en = "; ".join(f"features[{p.index}] {p.field}: {p.reason_en}" for p in problems[:5])
        more_zh = f"等共{len(problems)}处错误" if len(problems) > 5 else ""
        more_en = f" ({len(problems)} problems in all)" if len(problems) > 5 else ""
        super().__init__(f"{total}个要素中有错误，未导入任何要素：{shown}{more_zh}",
                         f"bad features among {total}, nothing imported: {shown_en}{more_en}",
                         field=first.field, row=first.index)
        self.problems = problems

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data["problems"] = [p.as_dict() for p in self.problems]
        return data


@dataclass(frozen=True)
class FeatureInput:
    code: str
    properties: dict[str, Any]
    geometry: BaseGeometry  # GCJ-02
    generated: bool = False
    index: int = -1  # position in the imported file


@dataclass
class ImportResult:
    layer: Layer
    total: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    divisions: list[str] = field(default_factory=list)


def representative_points(geoms: Sequence[BaseGeometry]) -> tuple[np.ndarray, np.ndarray]:
    """(lons, lats) of a point on each geometry: the point itself, a point on the line (its middle when
    it is a single line), a point inside the polygon."""
    lons = np.empty(len(geoms))
    lats = np.empty(len(geoms))
    for i, geom in enumerate(geoms):
        line = geom.geom_type == "LineString"
        p = geom.interpolate(0.5, normalized=True) if line else shapely.point_on_surface(geom)
        lons[i], lats[i] = p.x, p.y
    return lons, lats


def _locate(geoms: Sequence[BaseGeometry]) -> list[str]:
    from .services import locate_many

    if not geoms:
        return []
    lons, lats = representative_points(geoms)
    return [str(c) for c in locate_many(lons, lats).tolist()]


def _parse_geometry(raw: Any, layer: Layer, input_datum: str) -> tuple[BaseGeometry | None, str, str]:
    """The shapely geometry or (None, reason_zh, reason_en)."""
    if not isinstance(raw, dict) or "type" not in raw:
        return None, "缺少几何或几何格式错误", "geometry missing or not a GeoJSON geometry"
    allowed = _GEOMETRY_FAMILIES[layer.geometry_type]
    if raw["type"] not in allowed:
        return (None, f"几何类型应为 {' 或 '.join(allowed)}，实为 {raw['type']}",
                f"geometry type must be {' or '.join(allowed)}, got {raw['type']}")
    try:
        geom = shapely.from_geojson(json.dumps(raw))
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        return None, "几何坐标无效", f"invalid coordinates: {exc}"
    if geom is None or geom.is_empty:
        return None, "几何为空", "geometry is empty"
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all() or not (
        (np.abs(coords[:, 0]) <= 180).all() and (np.abs(coords[:, 1]) <= 90).all()
    ):
        return None, "坐标超出经纬度范围", "coordinates out of longitude/latitude range"
    if input_datum == "wgs84":
        geom = shapely.transform(geom, lambda xy: np.column_stack(datum.wgs84_to_gcj02_many(xy[:, 0], xy[:, 1])))
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        return None, f"几何无效：{reason}", f"invalid geometry: {reason}"
    return geom, "", ""


def parse_feature_collection(layer: Layer, data: str | bytes | dict[str, Any], *, input_datum: str = "gcj02"
                             ) -> tuple[list[FeatureInput], list[FeatureProblem], int]:
    """Validate a FeatureCollection against the layer: the good features and every problem found."""
    if input_datum not in ("gcj02", "wgs84"):
        raise InvalidInput("坐标系应为 gcj02 或 wgs84", "datum must be gcj02 or wgs84", field="datum")
    if isinstance(data, bytes | str):
        try:
            obj = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput("GeoJSON 格式错误", f"malformed GeoJSON: {exc}", field="file") from exc
    else:
        obj = data
    if not isinstance(obj, dict) or obj.get("type") != "FeatureCollection" or not isinstance(
            obj.get("features"), list):
        raise InvalidInput("应为 GeoJSON FeatureCollection", "expected a GeoJSON FeatureCollection", field="file")
    raw_features: list[Any] = obj["features"]
    if len(raw_features) > MAX_FEATURES:
        raise InvalidInput(f"一次最多导入{MAX_FEATURES}个要素", f"at most {MAX_FEATURES} features per import",
                           field="file")
    attributes = attributes_of(layer)
    good: list[FeatureInput] = []
    problems: list[FeatureProblem] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_features):
        if not isinstance(raw, dict) or raw.get("type") != "Feature":
            problems.append(FeatureProblem(i, "", "type", "应为 GeoJSON Feature", "must be a GeoJSON Feature"))
            continue
        fid_raw = raw.get("id")
        fid = str(fid_raw).strip() if isinstance(fid_raw, str | int) and not isinstance(fid_raw, bool) else ""
        bad_here = False
        if not fid:
            problems.append(FeatureProblem(i, "", "id", "缺少要素编号（id）", "feature id is missing"))
            bad_here = True
        elif len(fid) > 80 or "/" in fid:
            problems.append(FeatureProblem(i, fid, "id", "要素编号不超过80字且不含 /",
                                           "feature id must be at most 80 characters without /"))
            bad_here = True
        elif fid in seen:
            problems.append(FeatureProblem(i, fid, "id", f"要素编号与第{seen[fid] + 1}个要素重复",
                                           f"duplicate feature id (also features[{seen[fid]}])"))
            bad_here = True
        else:
            seen[fid] = i
        geom, zh, en = _parse_geometry(raw.get("geometry"), layer, input_datum)
        if geom is None:
            problems.append(FeatureProblem(i, fid, "geometry", zh, en))
            bad_here = True
        clean, prop_problems = check_properties(attributes, raw.get("properties"))
        for name, reason_zh, reason_en in prop_problems:
            problems.append(FeatureProblem(i, fid, name, reason_zh, reason_en))
            bad_here = True
        if not bad_here and geom is not None:
            good.append(FeatureInput(fid, clean, geom, index=i))
    return good, problems, len(raw_features)


def _feature_row(layer: Layer, item: FeatureInput, grid_code: str) -> Feature:
    minx, miny, maxx, maxy = item.geometry.bounds
    return Feature(
        layer=layer, code=item.code, properties=item.properties, geometry=shapely.to_geojson(item.geometry),
        minx=minx, miny=miny, maxx=maxx, maxy=maxy, grid_code=grid_code, community_code=grid_code[:12],
        township_code=grid_code[:9], county_code=grid_code[:6], generated=item.generated,
    )


_COMPARED = ("properties", "geometry", "grid_code", "generated")


def _store(layer: Layer, items: list[FeatureInput], grid_codes: list[str], *, replace: bool,
           result: ImportResult) -> None:
    """Create or update the features (by code); with ``replace`` delete the layer's other features."""
    existing = {f.code: f for f in Feature.objects.filter(layer=layer, code__in=[i.code for i in items])}
    to_create: list[Feature] = []
    to_update: list[Feature] = []
    for item, grid_code in zip(items, grid_codes, strict=True):
        row = _feature_row(layer, item, grid_code)
        old = existing.get(item.code)
        if old is None:
            to_create.append(row)
            continue
        if all(getattr(old, k) == getattr(row, k) for k in _COMPARED):
            result.unchanged += 1
            continue
        row.pk = old.pk
        to_update.append(row)
    if replace:
        result.deleted, _ = Feature.objects.filter(layer=layer).exclude(code__in=[i.code for i in items]).delete()
    Feature.objects.bulk_create(to_create, batch_size=1000)
    Feature.objects.bulk_update(to_update, ["properties", "geometry", "minx", "miny", "maxx", "maxy", "grid_code",
                                            "community_code", "township_code", "county_code", "generated"],
                                batch_size=1000)
    result.created, result.updated = len(to_create), len(to_update)
    still_generated = Feature.objects.filter(layer=layer, generated=True).exists()
    if layer.generated != still_generated:
        layer.generated = still_generated
        layer.save(update_fields=["generated", "updated_at"])


def _common_division(codes: Iterable[str]) -> str:
    counties = sorted({c for c in codes if c})
    return counties[0] if len(counties) == 1 else CITY_CODE


def import_features(*, acting_user: Any, layer_code: str, data: str | bytes | dict[str, Any],
                    input_datum: str = "gcj02", replace: bool = False, source: str = "") -> ImportResult:
    """Import a layer's features from a GeoJSON FeatureCollection, all or nothing.

    Features are matched by id (created or updated); ``replace=True`` also deletes the layer's features
    missing from the file and needs the right for the whole city. Every feature must lie in Liaocheng
    and, for a county-scoped user, in the user's counties.
    """
    layer = get_layer(layer_code)
    access.require(acting_user, EDIT_PERM)
    if replace:
        access.require(acting_user, EDIT_PERM, CITY_CODE)
    items, problems, total = parse_feature_collection(layer, data, input_datum=input_datum)
    grid_codes = _locate([i.geometry for i in items])
    for item, grid_code in zip(items, grid_codes, strict=True):
        i = item.index
        if not grid_code:
            problems.append(FeatureProblem(i, item.code, "geometry", "位置不在聊城市范围内",
                                           "the location is outside Liaocheng"))
        elif not access.has_perm(acting_user, EDIT_PERM, grid_code):
            problems.append(FeatureProblem(i, item.code, "geometry", f"位置（{grid_code[:6]}）不在您的授权范围内",
                                           f"the location ({grid_code[:6]}) is outside your scope"))
    if problems:
        problems.sort(key=lambda p: p.index)
        raise LayerImportError(problems[:MAX_PROBLEMS], total)
    digest = hashlib.sha256(
        data if isinstance(data, bytes) else (data if isinstance(data, str) else json.dumps(data)).encode()
    ).hexdigest()
    result = ImportResult(layer=layer, total=total)
    with transaction.atomic():
        _store(layer, items, grid_codes, replace=replace, result=result)
        result.divisions = sorted({g[:6] for g in grid_codes})
        audit.record(actor=acting_user, action="geo.import_layer", object_type="geo.Layer", object_id=layer.code,
                     after={"features": total, "created": result.created, "updated": result.updated,
                            "unchanged": result.unchanged, "deleted": result.deleted, "replace": replace,
                            "sha256": digest, "source": source[:200], "datum": input_datum,
                            "counties": result.divisions},
                     division_code=_common_division(result.divisions))
    return result


# --- generated (demo) layers ------------------------------------------------------------------------

def store_generated_layer(spec: dict[str, Any], items: list[FeatureInput]) -> ImportResult:
    """Create a shipped layer (if missing) and store its generated features, by the system, audited once.
    Used by ``geo.demo_layers``; features outside the city keep blank division codes."""
    with transaction.atomic():
        layer = Layer.objects.select_for_update().filter(code=spec["code"]).first()
        created_layer = layer is None
        if layer is None:
            layer = _new_layer(spec["code"], spec["name_zh"], spec.get("name_en", ""), spec.get("description", ""),
                               spec["geometry_type"], spec.get("owner_department", ""), spec["attribute_schema"],
                               True, spec.get("sort_order", 100))
            layer.save()
        attributes = attributes_of(layer)
        for item in items:  # the generator must produce valid features
            _clean, problems = check_properties(attributes, item.properties)
            if problems:
                raise ValueError(f"generated feature {item.code} of {layer.code} is invalid: {problems}")
        grid_codes = _locate([i.geometry for i in items])
        result = ImportResult(layer=layer, total=len(items))
        _store(layer, items, grid_codes, replace=False, result=result)
        result.divisions = sorted({g[:6] for g in grid_codes if g})
        audit.record(actor=SYSTEM, action="geo.load_demo_layer", object_type="geo.Layer", object_id=layer.code,
                     after={"layer_created": created_layer, "features": len(items), "created": result.created,
                            "updated": result.updated, "generated": True},
                     division_code=CITY_CODE)
    return result


def ensure_demo_layers() -> dict[str, int]:
    """Create the shipped layers (POIs, land parcels, rivers, lakes) with generated demo features where a
    layer is missing or empty; idempotent and quick once done. Returns {layer code: features stored}."""
    from .demo_layers import ensure_demo_layers as ensure

    return ensure()
