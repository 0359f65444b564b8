"""OGC API – Features, Part 1: Core (GeoJSON, OpenAPI 3.0) over divisions, unit grids and layers.

Plain Django views, read-only, JSON only; mounted by ``geo.urls`` under ``ogcapi/``. Standard clients
(OWSLib ``owslib.ogcapi.features.Features``, QGIS, GDAL's OAPIF driver) read it unchanged.

Coordinates are the stored GCJ-02 longitude/latitude. The advertised CRS is CRS84 (what clients
require and what the axis order is), and every collection says in its description and in a
``datum`` member that the positions are GCJ-02, offset from true WGS 84 by up to a few hundred metres.

Items are rendered without re-serialising geometries: the stored GeoJSON geometry text is
concatenated into the response as is, only the small properties object goes through ``json.dumps``.

Collections of divisions hold every record of their level, historical ones included (茌平县 371523
with ``valid_to`` set); ``datetime`` selects the records valid at an instant or during an interval.
A feature's id is its code; when a level holds several records with the same code, the current one
(else the latest) keeps the bare code and the others are ``code@valid_from``.

Every spatial layer (``geo.models.Layer``: points of interest, land parcels, water...) is a collection
too, with the layer's code as id (``layer-<code>`` when the code is one of the ids above). Its attributes
are its queryables (filter by ``?name=value``), besides the division codes of each feature's location.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import wraps
from typing import Any, Literal

from django.db.models import Count, Max, Min, Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import re_path, reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from . import layers as layer_services
from .models import Division, DivisionLevel, Feature, Grid, Layer

app_name = "ogcapi"

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_CRS84_ALIASES = frozenset(
    {CRS84, "https://www.opengis.net/def/crs/OGC/1.3/CRS84", "[OGC:CRS84]", "OGC:CRS84"}
)
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
DEFAULT_LIMIT = 10
MAX_LIMIT = 10000
DATUM = "GCJ-02"
DATUM_NOTE = (
    "Coordinates are longitude/latitude on the GCJ-02 datum (the offset datum of Chinese web maps such as "
    "AMap), not WGS 84: they are served as CRS84 (lon, lat axis order) but are shifted from true WGS 84 "
    "positions by up to a few hundred metres."
)
_FORMATS = frozenset({"json", "geojson"})


class OgcError(Exception):
    """An error answered as an OGC exception document ``{"code": ..., "description": ...}``."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description

    def response(self) -> HttpResponse:
        return _json({"code": self.code, "description": self.description}, status=self.status)


def _invalid(description: str) -> OgcError:
    return OgcError(400, "InvalidParameterValue", description)


def _not_found(description: str) -> OgcError:
    return OgcError(404, "NotFound", description)


# --- collections --------------------------------------------------------------------------------

FilterType = Literal["string", "boolean", "integer", "number"]


@dataclass(frozen=True)
class CollectionDef:
    id: str
    title: str
    description: str
    level: str | None  # the division level; None for unit grids and layers
    points: bool = False  # features are the divisions' points (lon/lat), not their boundaries
    layer: Layer | None = None  # a spatial layer's collection

    @property
    def filters(self) -> dict[str, tuple[str, FilterType, str]]:
        if self.layer is not None:
            return _layer_filters(self.layer)
        return GRID_FILTERS if self.level is None else DIVISION_FILTERS


_HISTORY_NOTE = (
    " Includes historical records (valid_to set, e.g. 茌平县 371523 replaced by 茌平区 371503 in 2019); "
    "use datetime=YYYY-MM-DD to get the records valid on a day."
)

COLLECTIONS: dict[str, CollectionDef] = {
    c.id: c
    for c in (
        CollectionDef(
            "city", "聊城市 City of Liaocheng",
            "地级市边界。Boundary of the prefecture-level city." + _HISTORY_NOTE,
            DivisionLevel.CITY,
        ),
        CollectionDef(
            "counties", "县级行政区 Counties and districts",
            "县、县级市、市辖区边界。County-level divisions (districts, counties, county-level city)."
            + _HISTORY_NOTE,
            DivisionLevel.COUNTY,
        ),
        CollectionDef(
            "townships", "乡镇、街道 Townships and subdistricts",
            "乡、镇、街道边界（部分为生成的边界，见 geometry_generated）。"
            "Township-level divisions; boundaries marked geometry_generated are generated, not surveyed."
            + _HISTORY_NOTE,
            DivisionLevel.TOWNSHIP,
        ),
        CollectionDef(
            "villages", "村、社区 Villages and communities",
            "村委会、居委会位置（点）。Village and community committees as points (lon/lat); "
            "point_generated marks generated positions." + _HISTORY_NOTE,
            DivisionLevel.VILLAGE, points=True,
        ),
        CollectionDef(
            "grids", "单元网格 Unit grids",
            "城市管理单元网格，15 位编码（县 6 + 乡镇 3 + 社区 3 + 序号 3）。"
            "Unit grids for city management with 15-digit codes (county 6 + township 3 + community 3 + "
            "sequence 3).",
            None,
        ),
    )
}

# query parameter -> (ORM lookup, type, description)
DIVISION_FILTERS: dict[str, tuple[str, FilterType, str]] = {
    "code": ("code", "string", "Division code (GB/T 2260 or local code)"),
    "name": ("name", "string", "Name"),
    "kind": ("kind", "string", "Kind (市辖区/县/县级市/街道/镇/乡/居委会/村委会)"),
    "parent_code": ("parent__code", "string", "Code of the parent division"),
    "successor_code": ("successor__code", "string", "Code of the division that replaced this one"),
    "code_is_local": ("code_is_local", "boolean", "The code is a local code generated by the platform"),
    "geometry_generated": ("geometry_generated", "boolean", "The boundary is generated, not surveyed"),
    "point_generated": ("point_generated", "boolean", "The position is generated"),
}
GRID_FILTERS: dict[str, tuple[str, FilterType, str]] = {
    "code": ("code", "string", "15-digit grid code"),
    "community_code": ("community_code", "string", "Code of the community/village"),
    "township_code": ("township_code", "string", "Code of the township"),
    "county_code": ("county_code", "string", "Code of the county"),
    "size_class": ("size_class", "string", "Grid type (urban / rural)"),
    "generated": ("generated", "boolean", "The grid is generated"),
}
_DIVISION_PROPERTIES: dict[str, tuple[str, str]] = {
    "code": ("string", "Division code"),
    "name": ("string", "Name"),
    "level": ("string", "Level (city/county/township/village)"),
    "kind": ("string", "Kind"),
    "parent_code": ("string", "Code of the parent division"),
    "valid_from": ("string", "First day of validity (date)"),
    "valid_to": ("string", "Day the record stopped being valid (date), null when current"),
    "successor_code": ("string", "Code of the division that replaced this one"),
    "code_is_local": ("boolean", "The code is a local code generated by the platform"),
    "geometry_generated": ("boolean", "The boundary is generated"),
    "point_generated": ("boolean", "The position is generated"),
}
_GRID_PROPERTIES: dict[str, tuple[str, str]] = {
    "code": ("string", "15-digit grid code"),
    "community_code": ("string", "Code of the community/village"),
    "township_code": ("string", "Code of the township"),
    "county_code": ("string", "Code of the county"),
    "size_class": ("string", "Grid type (urban / rural)"),
    "area_m2": ("number", "Area in square metres"),
    "generated": ("boolean", "The grid is generated"),
}


_ATTRIBUTE_FILTER_TYPES: dict[str, FilterType] = {
    "string": "string", "code": "string", "date": "string", "integer": "integer", "number": "number",
    "boolean": "boolean",
}
_LAYER_LOCATION_FILTERS: dict[str, tuple[str, FilterType, str]] = {
    "county_code": ("county_code", "string", "Code of the county of the feature's location"),
    "township_code": ("township_code", "string", "Code of the township of the feature's location"),
    "community_code": ("community_code", "string", "Code of the community/village of the feature's location"),
    "grid_code": ("grid_code", "string", "Code of the unit grid of the feature's location"),
    "generated": ("generated", "boolean", "The feature is generated demo data, not surveyed"),
}


def _layer_filters(layer: Layer) -> dict[str, tuple[str, FilterType, str]]:
    filters: dict[str, tuple[str, FilterType, str]] = {}
    for attr in layer_services.attributes_of(layer):
        description = f"{attr.label_zh} {attr.label_en}"
        if attr.codelist:
            description += f" (code list {attr.codelist})"
        # an explicit __exact: the key is never taken for a lookup name
        filters[attr.name] = (f"properties__{attr.name}__exact", _ATTRIBUTE_FILTER_TYPES[attr.type], description)
    filters.update(_LAYER_LOCATION_FILTERS)
    return filters


def _layer_collection(layer: Layer) -> CollectionDef:
    title = f"{layer.name_zh} {layer.name_en}".strip()
    description = layer.description or title
    if layer.generated and "generated" not in description.lower():
        description += " Generated demo data, not surveyed."
    return CollectionDef(layer_services.collection_id(layer.code), title, description, None, layer=layer)


def _all_collections() -> list[CollectionDef]:
    return [*COLLECTIONS.values(), *(_layer_collection(layer) for layer in Layer.objects.all())]


def _collection(collection_id: str) -> CollectionDef:
    coll = COLLECTIONS.get(collection_id)
    if coll is None:
        layer = layer_services.layer_for_collection(collection_id)
        if layer is not None:
            return _layer_collection(layer)
        raise _not_found(f"Collection {collection_id!r} does not exist.")
    return coll


def _queryset(coll: CollectionDef) -> QuerySet[Any]:
    if coll.layer is not None:
        return Feature.objects.filter(layer=coll.layer)
    if coll.level is None:
        return Grid.objects.all()
    return Division.objects.filter(level=coll.level)


# --- responses, links ---------------------------------------------------------------------------

def _json(data: Any, *, status: int = 200, content_type: str = JSON) -> HttpResponse:
    return HttpResponse(json.dumps(data, ensure_ascii=False), status=status, content_type=content_type)


def _url(request: HttpRequest, name: str, query: str = "", **kwargs: str) -> str:
    match = request.resolver_match
    namespace = match.namespace if match is not None else ""
    path = reverse(f"{namespace}:{name}" if namespace else name, kwargs=kwargs or None)
    return request.build_absolute_uri(f"{path}?{query}" if query else path)


def _link(href: str, rel: str, type_: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": type_, "title": title}


def _wants_plain_json(request: HttpRequest) -> bool:
    """True when the client asks for application/json and not for application/geo+json."""
    accept = request.headers.get("Accept", "")
    types = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    return JSON in types and GEOJSON not in types


View = Callable[..., HttpResponse]


def ogc_view(view: View) -> View:
    """GET/HEAD only, ``f`` checked, OGC exception documents for errors, CORS for everyone."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            response["Allow"] = "GET, HEAD, OPTIONS"
        elif request.method not in ("GET", "HEAD"):
            response = OgcError(405, "MethodNotAllowed", "This API is read-only: use GET.").response()
            response["Allow"] = "GET, HEAD, OPTIONS"
        else:
            try:
                f = request.GET.get("f")
                if f is not None and f.lower() not in _FORMATS:
                    raise _invalid(f"Unsupported format f={f!r}: use f=json.")
                response = view(request, *args, **kwargs)
            except OgcError as err:
                response = err.response()
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Accept, Content-Type"
        return response

    return wrapper


# --- landing page, conformance, API definition ---------------------------------------------------

@ogc_view
def landing(request: HttpRequest) -> HttpResponse:
    conformance_url = _url(request, "conformance")
    collections_url = _url(request, "collections")
    return _json({
        "title": "数字聊城 Digital Liaocheng – OGC API Features",
        "description": (
            "聊城市行政区划、单元网格与空间图层（只读）。Administrative divisions, unit grids and spatial "
            "layers (points of interest, land use, water) of Liaocheng, Shandong (read-only). " + DATUM_NOTE
        ),
        "links": [
            _link(_url(request, "landing"), "self", JSON, "This document"),
            _link(_url(request, "api"), "service-desc", OPENAPI_JSON, "The API definition (OpenAPI 3.0)"),
            _link(conformance_url, "conformance", JSON, "Conformance classes"),
            _link(conformance_url, "http://www.opengis.net/def/rel/ogc/1.0/conformance", JSON,
                  "Conformance classes"),
            _link(collections_url, "data", JSON, "Feature collections"),
            _link(collections_url, "http://www.opengis.net/def/rel/ogc/1.0/data", JSON,
                  "Feature collections"),
        ],
    })


@ogc_view
def conformance(request: HttpRequest) -> HttpResponse:
    return _json({"conformsTo": CONFORMANCE})


def _param(name: str, description: str, schema: dict[str, Any], *, where: str = "query",
           required: bool = False, explode: bool | None = None) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": where, "description": description, "required": required,
                             "schema": schema}
    if where == "query":
        param["style"] = "form"
        param["explode"] = False if explode is None else explode
    return param


def _openapi(request: HttpRequest) -> dict[str, Any]:
    landing_url = _url(request, "landing").rstrip("/")

    def ref(name: str) -> dict[str, str]:
        return {"$ref": f"#/components/parameters/{name}"}

    def ok(description: str, media: str, schema: str) -> dict[str, Any]:
        schema_ref = {"$ref": f"#/components/schemas/{schema}"}
        return {"description": description, "content": {media: {"schema": schema_ref}}}

    errors = {
        "400": {"$ref": "#/components/responses/InvalidParameter"},
        "500": {"$ref": "#/components/responses/ServerError"},
    }
    not_found = {"404": {"$ref": "#/components/responses/NotFound"}}
    common_query = [ref("f")]
    items_query = [ref(name) for name in ("limit", "offset", "bbox", "bbox-crs", "datetime", "crs", "f")]

    paths: dict[str, Any] = {
        "/": {"get": {"summary": "Landing page", "operationId": "getLandingPage", "tags": ["Capabilities"],
                      "parameters": common_query,
                      "responses": {"200": ok("The landing page", JSON, "landingPage"), **errors}}},
        "/conformance": {"get": {
            "summary": "Conformance classes", "operationId": "getConformanceDeclaration",
            "tags": ["Capabilities"], "parameters": common_query,
            "responses": {"200": ok("The conformance classes", JSON, "confClasses"), **errors}}},
        "/api": {"get": {
            "summary": "This API definition", "operationId": "getAPIDefinition", "tags": ["Capabilities"],
            "parameters": common_query,
            "responses": {"200": {"description": "The OpenAPI 3.0 definition",
                                  "content": {OPENAPI_JSON: {"schema": {"type": "object"}}}}, **errors}}},
        "/collections": {"get": {
            "summary": "The feature collections", "operationId": "getCollections", "tags": ["Capabilities"],
            "parameters": common_query,
            "responses": {"200": ok("The feature collections", JSON, "collections"), **errors}}},
        "/collections/{collectionId}": {"get": {
            "summary": "A feature collection", "operationId": "describeCollection", "tags": ["Capabilities"],
            "parameters": [ref("collectionId"), *common_query],
            "responses": {"200": ok("The feature collection", JSON, "collection"), **not_found, **errors}}},
        "/collections/{collectionId}/queryables": {"get": {
            "summary": "The queryable properties of a collection", "operationId": "getQueryables",
            "tags": ["Capabilities"], "parameters": [ref("collectionId"), *common_query],
            "responses": {"200": {"description": "A JSON Schema of the queryables",
                                  "content": {SCHEMA_JSON: {"schema": {"type": "object"}}}},
                          **not_found, **errors}}},
        "/collections/{collectionId}/items": {"get": {
            "summary": "Features of a collection", "operationId": "getFeatures", "tags": ["Data"],
            "description": "Attribute filters by property name are listed per collection below. "
            + DATUM_NOTE,
            "parameters": [ref("collectionId"), *items_query],
            "responses": {"200": ok("The features", GEOJSON, "featureCollectionGeoJSON"), **not_found,
                          **errors}}},
        "/collections/{collectionId}/items/{featureId}": {"get": {
            "summary": "A single feature", "operationId": "getFeature", "tags": ["Data"],
            "parameters": [ref("collectionId"), ref("featureId"), ref("crs"), ref("f")],
            "responses": {"200": ok("The feature", GEOJSON, "featureGeoJSON"), **not_found, **errors}}},
    }
    all_collections = _all_collections()
    for coll in all_collections:
        attribute_params = [
            _param(name, description, {"type": type_})
            for name, (_lookup, type_, description) in coll.filters.items()
        ]
        op_id = "".join(part.capitalize() for part in coll.id.split("-"))
        paths[f"/collections/{coll.id}/items"] = {"get": {
            "summary": f"Features of {coll.title}", "operationId": f"get{op_id}Features", "tags": ["Data"],
            "description": coll.description + " " + DATUM_NOTE,
            "parameters": [*items_query, *attribute_params],
            "responses": {"200": ok("The features", GEOJSON, "featureCollectionGeoJSON"), **errors}}}

    link_schema = {"type": "object", "required": ["href", "rel"], "properties": {
        "href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
        "title": {"type": "string"}}}
    exception_schema = {"type": "object", "required": ["code"], "properties": {
        "code": {"type": "string"}, "description": {"type": "string"}}}

    def error(description: str) -> dict[str, Any]:
        return {"description": description,
                "content": {JSON: {"schema": {"$ref": "#/components/schemas/exception"}}}}

    return {
        "openapi": "3.0.3",
        "info": {
            "title": "数字聊城 Digital Liaocheng – OGC API Features",
            "version": "1.0.0",
            "description": "Administrative divisions, unit grids and spatial layers of Liaocheng. " + DATUM_NOTE,
            "license": {"name": "Public geography, read-only"},
        },
        "servers": [{"url": landing_url}],
        "tags": [{"name": "Capabilities"}, {"name": "Data"}],
        "paths": paths,
        "components": {
            "parameters": {
                "f": _param("f", "Response format (only JSON)", {"type": "string", "enum": sorted(_FORMATS)}),
                "collectionId": _param("collectionId", "Collection id", {"type": "string",
                                       "enum": [c.id for c in all_collections]}, where="path",
                                      required=True),
                "featureId": _param("featureId", "Feature id (the division or grid code)", {"type": "string"},
                                    where="path", required=True),
                "limit": _param("limit", "Maximum number of features in the response",
                                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                 "default": DEFAULT_LIMIT}),
                "offset": _param("offset", "Number of matching features to skip (paging)",
                                 {"type": "integer", "minimum": 0, "default": 0}),
                "bbox": _param(
                    "bbox", "minx,miny,maxx,maxy (4 or 6 numbers) in bbox-crs (only CRS84): features whose "
                    "bounding box intersects it",
                    {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}),
                "bbox-crs": _param("bbox-crs", "CRS of bbox (only CRS84)",
                                   {"type": "string", "format": "uri", "enum": [CRS84], "default": CRS84}),
                "crs": _param("crs", "CRS of the response (only CRS84)",
                              {"type": "string", "format": "uri", "enum": [CRS84], "default": CRS84}),
                "datetime": _param(
                    "datetime",
                    "Date or interval (RFC 3339, '..' open): divisions valid then (grids: ignored)",
                    {"type": "string"}),
            },
            "schemas": {
                "link": link_schema,
                "exception": exception_schema,
                "landingPage": {"type": "object", "required": ["links"], "properties": {
                    "title": {"type": "string"}, "description": {"type": "string"},
                    "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}}}},
                "confClasses": {"type": "object", "required": ["conformsTo"], "properties": {
                    "conformsTo": {"type": "array", "items": {"type": "string"}}}},
                "collection": {"type": "object", "required": ["id", "links"], "properties": {
                    "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
                    "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
                    "extent": {"type": "object"}, "itemType": {"type": "string"},
                    "crs": {"type": "array", "items": {"type": "string"}}}},
                "collections": {"type": "object", "required": ["links", "collections"], "properties": {
                    "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
                    "collections": {"type": "array", "items": {"$ref": "#/components/schemas/collection"}}}},
                "featureGeoJSON": {"type": "object", "required": ["type", "geometry", "properties"],
                                   "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "id": {"type": "string"},
                    "geometry": {"type": "object", "nullable": True},
                    "properties": {"type": "object", "nullable": True},
                    "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}}}},
                "featureCollectionGeoJSON": {"type": "object", "required": ["type", "features"],
                                             "properties": {
                    "type": {"type": "string", "enum": ["FeatureCollection"]},
                    "features": {"type": "array", "items": {"$ref": "#/components/schemas/featureGeoJSON"}},
                    "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
                    "timeStamp": {"type": "string", "format": "date-time"},
                    "numberMatched": {"type": "integer", "minimum": 0},
                    "numberReturned": {"type": "integer", "minimum": 0}}},
            },
            "responses": {
                "InvalidParameter": error("A query parameter has an invalid value"),
                "NotFound": error("The collection or feature does not exist"),
                "ServerError": error("A server error occurred"),
            },
        },
    }


@ogc_view
def api(request: HttpRequest) -> HttpResponse:
    return _json(_openapi(request), content_type=OPENAPI_JSON)


# --- collections ------------------------------------------------------------------------------

def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _collection_doc(request: HttpRequest, coll: CollectionDef) -> dict[str, Any]:
    qs = _queryset(coll)
    extent: dict[str, Any] = {}
    if coll.points:
        agg = qs.aggregate(minx=Min("lon"), miny=Min("lat"), maxx=Max("lon"), maxy=Max("lat"))
    else:
        agg = qs.aggregate(minx=Min("minx"), miny=Min("miny"), maxx=Max("maxx"), maxy=Max("maxy"))
    bbox = [agg["minx"], agg["miny"], agg["maxx"], agg["maxy"]]
    if None not in bbox:
        extent["spatial"] = {"bbox": [bbox], "crs": CRS84}
    if coll.level is not None:
        t = qs.aggregate(start=Min("valid_from"), end=Max("valid_to"),
                         current=Count("pk", filter=Q(valid_to__isnull=True)))
        end = None if t["current"] or t["end"] is None else t["end"]
        extent["temporal"] = {"interval": [[_iso(t["start"]), _iso(end)]], "trs": GREGORIAN}
    collection_url = _url(request, "collection", collection_id=coll.id)
    doc: dict[str, Any] = {
        "id": coll.id,
        "title": coll.title,
        "description": coll.description + " " + DATUM_NOTE,
        "links": [
            _link(collection_url, "self", JSON, "This collection"),
            _link(_url(request, "items", collection_id=coll.id), "items", GEOJSON, f"Features of {coll.id}"),
            _link(_url(request, "queryables", collection_id=coll.id),
                  "http://www.opengis.net/def/rel/ogc/1.0/queryables", SCHEMA_JSON, "Queryable properties"),
        ],
        "itemType": "feature",
        "crs": [CRS84],
        "datum": DATUM,
        "datumDescription": DATUM_NOTE,
    }
    if extent:
        doc["extent"] = extent
    if coll.layer is not None:
        layer = coll.layer
        # Not part of the standard: what a map client needs to label the layer and its properties.
        doc["layer"] = {
            "code": layer.code, "name_zh": layer.name_zh, "name_en": layer.name_en,
            "geometryType": layer.geometry_type, "generated": layer.generated,
            "ownerDepartment": layer.owner_department, "attributes": layer.attribute_schema,
        }
    return doc


@ogc_view
def collections(request: HttpRequest) -> HttpResponse:
    return _json({
        "links": [_link(_url(request, "collections"), "self", JSON, "The feature collections")],
        "collections": [_collection_doc(request, coll) for coll in _all_collections()],
    })


@ogc_view
def collection(request: HttpRequest, collection_id: str) -> HttpResponse:
    return _json(_collection_doc(request, _collection(collection_id)))


@ogc_view
def queryables(request: HttpRequest, collection_id: str) -> HttpResponse:
    coll = _collection(collection_id)
    properties: dict[str, Any] = {
        name: {"type": type_, "description": description}
        for name, (_lookup, type_, description) in coll.filters.items()
    }
    if coll.layer is not None:
        geometry = coll.layer.geometry_type
        for attr in layer_services.attributes_of(coll.layer):
            properties[attr.name]["title"] = attr.label_zh
            if attr.type == "date":
                properties[attr.name]["format"] = "date"
            if attr.codelist:
                properties[attr.name]["enum"] = sorted(layer_services.CODELISTS[attr.codelist])
    else:
        geometry = "Point" if coll.points else ("Polygon" if coll.level is None else "Geometry")
    properties["geometry"] = {"$ref": f"https://geojson.org/schema/{geometry}.json"}
    return _json({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _url(request, "queryables", collection_id=coll.id),
        "type": "object",
        "title": coll.title,
        "properties": properties,
        "additionalProperties": False,
    }, content_type=SCHEMA_JSON)


# --- parameters ---------------------------------------------------------------------------------

def _int_param(params: QueryDict, name: str, default: int, minimum: int, maximum: int | None) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise _invalid(f"{name} must be an integer, got {raw!r}.") from None
    if maximum is not None and not minimum <= value <= maximum:
        raise _invalid(f"{name} must be between {minimum} and {maximum}, got {value}.")
    if value < minimum:
        raise _invalid(f"{name} must be at least {minimum}, got {value}.")
    return value


def _check_crs(params: QueryDict, name: str) -> None:
    value = params.get(name)
    if value is not None and value.strip() not in _CRS84_ALIASES:
        raise _invalid(f"Only {CRS84} is supported for {name}, got {value!r}.")


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    """``minx,miny,maxx,maxy`` (or the 6-number 3D form, heights ignored) in CRS84."""
    parts = raw.split(",")
    if len(parts) not in (4, 6):
        raise _invalid(f"bbox must be 4 or 6 comma-separated numbers, got {raw!r}.")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise _invalid(f"bbox must be 4 or 6 comma-separated numbers, got {raw!r}.") from None
    if not all(math.isfinite(n) for n in numbers):
        raise _invalid(f"bbox must be finite numbers, got {raw!r}.")
    if len(numbers) == 6:
        minx, miny, _minz, maxx, maxy, _maxz = numbers
    else:
        minx, miny, maxx, maxy = numbers
    if miny > maxy:
        raise _invalid(f"bbox: miny must not exceed maxy, got {raw!r}.")
    if not (-90 <= miny <= 90 and -90 <= maxy <= 90 and -180 <= minx <= 180 and -180 <= maxx <= 180):
        raise _invalid(f"bbox is outside the range of longitude/latitude, got {raw!r}.")
    return minx, miny, maxx, maxy


def _bbox_q(coll: CollectionDef, bbox: tuple[float, float, float, float]) -> Q:
    minx, miny, maxx, maxy = bbox
    if coll.points:
        lat_q = Q(lat__gte=miny, lat__lte=maxy)
        if minx <= maxx:
            return lat_q & Q(lon__gte=minx, lon__lte=maxx)
        return lat_q & (Q(lon__gte=minx) | Q(lon__lte=maxx))  # crosses the antimeridian
    y_q = Q(maxy__gte=miny, miny__lte=maxy)
    if minx <= maxx:
        return y_q & Q(maxx__gte=minx, minx__lte=maxx)
    return y_q & (Q(maxx__gte=minx) | Q(minx__lte=maxx))


def _parse_instant(raw: str) -> date | None:
    raw = raw.strip()
    if raw in ("", ".."):
        return None
    try:
        if "T" in raw or "t" in raw or " " in raw:
            moment = datetime.fromisoformat(raw)
            return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()
        return date.fromisoformat(raw)
    except ValueError:
        raise _invalid(f"datetime must be an RFC 3339 date or date-time, got {raw!r}.") from None


def parse_datetime(raw: str) -> tuple[date | None, date | None]:
    """An instant or an interval ``start/end`` (``..`` or empty for open ends) as dates."""
    if "/" in raw:
        start_raw, end_raw = raw.split("/", 1)
        start, end = _parse_instant(start_raw), _parse_instant(end_raw)
        if start is not None and end is not None and start > end:
            raise _invalid(f"datetime interval ends before it starts: {raw!r}.")
        return start, end
    instant = _parse_instant(raw)
    if instant is None:
        raise _invalid("datetime must not be empty.")
    return instant, instant


def _time_q(start: date | None, end: date | None) -> Q:
    """Records whose validity [valid_from, valid_to) intersects [start, end]."""
    q = Q()
    if end is not None:
        q &= Q(valid_from__isnull=True) | Q(valid_from__lte=end)
    if start is not None:
        q &= Q(valid_to__isnull=True) | Q(valid_to__gt=start)
    return q


def _attribute_q(coll: CollectionDef, params: QueryDict) -> Q:
    q = Q()
    for name, (lookup, type_, _description) in coll.filters.items():
        raw = params.get(name)
        if raw is None:
            continue
        value: str | bool | int | float = raw
        if type_ == "boolean":
            lowered = raw.strip().lower()
            if lowered not in ("true", "false", "1", "0"):
                raise _invalid(f"{name} must be true or false, got {raw!r}.")
            value = lowered in ("true", "1")
        elif type_ in ("integer", "number"):
            try:
                value = int(raw.strip()) if type_ == "integer" else float(raw.strip())
            except ValueError:
                raise _invalid(f"{name} must be a{'n integer' if type_ == 'integer' else ' number'}, "
                               f"got {raw!r}.") from None
            if isinstance(value, float) and not math.isfinite(value):
                raise _invalid(f"{name} must be a finite number, got {raw!r}.")
        q &= Q(**{lookup: value})
    return q


# --- features -----------------------------------------------------------------------------------

_DIVISION_FIELDS = (
    "pk", "code", "name", "level", "kind", "parent__code", "valid_from", "valid_to", "successor__code",
    "code_is_local", "geometry_generated", "point_generated", "lon", "lat",
)
_GRID_FIELDS = (
    "code", "community_code", "township_code", "county_code", "size_class", "area_m2", "generated",
    "geometry",
)


def _point(lon: float | None, lat: float | None) -> str:
    if lon is None or lat is None:
        return "null"
    return f'{{"type":"Point","coordinates":{json.dumps([lon, lat])}}}'


def _feature(feature_id: str, geometry: str, properties: dict[str, Any]) -> str:
    return (
        f'{{"type":"Feature","id":{json.dumps(feature_id, ensure_ascii=False)},"geometry":{geometry},'
        f'"properties":{json.dumps(properties, ensure_ascii=False)}}}'
    )


def _division_ids(level: str, codes: Iterable[str]) -> dict[int, str]:
    """Ids for the records that do not keep their bare code: for a code held by several records of
    the level, every record but the current one (else the latest) is ``code@valid_from``."""
    codes = set(codes)
    if not codes:
        return {}
    same_level = Division.objects.filter(level=level)
    shared = list(
        same_level.filter(code__in=codes).values("code").annotate(n=Count("pk")).filter(n__gt=1)
        .values_list("code", flat=True)
    )
    if not shared:
        return {}
    by_code: dict[str, list[tuple[int, date | None, date | None]]] = {}
    for pk, code, valid_from, valid_to in same_level.filter(code__in=shared).values_list(
        "pk", "code", "valid_from", "valid_to"
    ):
        by_code.setdefault(code, []).append((pk, valid_from, valid_to))
    ids: dict[int, str] = {}
    for code, records in by_code.items():
        primary = max(records, key=lambda r: (r[2] is None, r[1] or date.min, r[0]))
        for pk, valid_from, _valid_to in records:
            if pk != primary[0]:
                ids[pk] = f"{code}@{valid_from.isoformat() if valid_from else pk}"
    return ids


def _division_features(coll: CollectionDef, qs: QuerySet[Any]) -> list[str]:
    assert coll.level is not None
    fields = _DIVISION_FIELDS if coll.points else (*_DIVISION_FIELDS, "geometry")
    rows = list(qs.values_list(*fields))
    ids = _division_ids(coll.level, (row[1] for row in rows))
    features = []
    for row in rows:
        (pk, code, name, level, kind, parent_code, valid_from, valid_to, successor_code,
         code_is_local, geometry_generated, point_generated, lon, lat) = row[:14]
        if coll.points:
            geometry = _point(lon, lat)
        else:
            text = row[14].strip()
            geometry = text if text else _point(lon, lat)
        features.append(_feature(ids.get(pk, code), geometry, {
            "code": code, "name": name, "level": level, "kind": kind, "parent_code": parent_code,
            "valid_from": _iso(valid_from), "valid_to": _iso(valid_to), "successor_code": successor_code,
            "code_is_local": code_is_local, "geometry_generated": geometry_generated,
            "point_generated": point_generated,
        }))
    return features


def _grid_features(qs: QuerySet[Any]) -> list[str]:
    dumps = json.dumps
    features = []
    for code, community_code, township_code, county_code, size_class, area_m2, generated, geometry in (
        qs.values_list(*_GRID_FIELDS)
    ):
        features.append(
            '{"type":"Feature","id":' + dumps(code) + ',"geometry":' + (geometry.strip() or "null")
            + ',"properties":' + dumps({
                "code": code, "community_code": community_code, "township_code": township_code,
                "county_code": county_code, "size_class": size_class, "area_m2": area_m2,
                "generated": generated,
            }, ensure_ascii=False) + "}"
        )
    return features


_LAYER_FIELDS = ("code", "properties", "geometry", "county_code", "township_code", "community_code", "grid_code",
                 "generated")


def _layer_features(qs: QuerySet[Any]) -> list[str]:
    dumps = json.dumps
    features = []
    for code, properties, geometry, county_code, township_code, community_code, grid_code, generated in (
        qs.values_list(*_LAYER_FIELDS)
    ):
        props = {**(properties or {}), "county_code": county_code, "township_code": township_code,
                 "community_code": community_code, "grid_code": grid_code, "generated": generated}
        features.append(
            '{"type":"Feature","id":' + dumps(code, ensure_ascii=False) + ',"geometry":'
            + (geometry.strip() or "null") + ',"properties":' + dumps(props, ensure_ascii=False) + "}"
        )
    return features


def _features(coll: CollectionDef, qs: QuerySet[Any]) -> list[str]:
    if coll.layer is not None:
        return _layer_features(qs)
    return _grid_features(qs) if coll.level is None else _division_features(coll, qs)


def _geojson_response(request: HttpRequest, body: str) -> HttpResponse:
    content_type = JSON if _wants_plain_json(request) else GEOJSON
    return HttpResponse(body.encode("utf-8"), content_type=content_type)


def _page_query(params: QueryDict, offset: int) -> str:
    query = params.copy()
    query["offset"] = str(offset)
    return query.urlencode(safe=",/:")


@ogc_view
def items(request: HttpRequest, collection_id: str) -> HttpResponse:
    coll = _collection(collection_id)
    params = request.GET
    limit = _int_param(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int_param(params, "offset", 0, 0, None)
    _check_crs(params, "bbox-crs")
    _check_crs(params, "crs")
    qs = _queryset(coll)
    bbox_raw = params.get("bbox")
    if bbox_raw is not None:
        qs = qs.filter(_bbox_q(coll, parse_bbox(bbox_raw)))
    datetime_raw = params.get("datetime")
    if datetime_raw is not None:
        start, end = parse_datetime(datetime_raw)
        if coll.level is not None:  # grids carry no time: the parameter does not restrict them
            qs = qs.filter(_time_q(start, end))
    qs = qs.filter(_attribute_q(coll, params))
    qs = qs.order_by("code") if coll.level is None else qs.order_by("code", "valid_from", "pk")

    matched = qs.count()
    features = _features(coll, qs[offset:offset + limit]) if offset < matched else []
    self_url = _url(request, "items", params.urlencode(safe=",/:"), collection_id=coll.id)
    links = [
        _link(self_url, "self", GEOJSON, "This page"),
        _link(_url(request, "collection", collection_id=coll.id), "collection", JSON, "The collection"),
    ]
    if offset + len(features) < matched:
        links.append(_link(_url(request, "items", _page_query(params, offset + limit), collection_id=coll.id),
                           "next", GEOJSON, "Next page"))
    if offset > 0:
        links.append(_link(_url(request, "items", _page_query(params, max(0, offset - limit)),
                                collection_id=coll.id), "prev", GEOJSON, "Previous page"))
    meta = {
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": len(features),
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "crs": CRS84,
        "datum": DATUM,
        "links": links,
    }
    head = json.dumps(meta, ensure_ascii=False)
    return _geojson_response(request, head[:-1] + ',"features":[' + ",".join(features) + "]}")


def _find_division(coll: CollectionDef, feature_id: str) -> QuerySet[Any]:
    assert coll.level is not None
    code = feature_id.partition("@")[0]
    candidates = list(Division.objects.filter(level=coll.level, code=code).values_list("pk", flat=True))
    ids = _division_ids(coll.level, [code])
    for pk in candidates:
        if ids.get(pk, code) == feature_id:
            return Division.objects.filter(pk=pk)
    raise _not_found(f"Feature {feature_id!r} does not exist in collection {coll.id!r}.")


@ogc_view
def item(request: HttpRequest, collection_id: str, feature_id: str) -> HttpResponse:
    coll = _collection(collection_id)
    _check_crs(request.GET, "crs")
    qs: QuerySet[Any]
    if coll.layer is not None:
        qs = Feature.objects.filter(layer=coll.layer, code=feature_id)
    elif coll.level is None:
        qs = Grid.objects.filter(code=feature_id)
    else:
        qs = _find_division(coll, feature_id)
    features = _features(coll, qs)
    if not features:
        raise _not_found(f"Feature {feature_id!r} does not exist in collection {coll.id!r}.")
    links = [
        _link(_url(request, "item", collection_id=coll.id, feature_id=feature_id), "self", GEOJSON,
              "This feature"),
        _link(_url(request, "collection", collection_id=coll.id), "collection", JSON, "The collection"),
    ]
    body = features[0][:-1] + ',"links":' + json.dumps(links, ensure_ascii=False) + "}"
    return _geojson_response(request, body)


_ID = r"(?P<collection_id>[^/]+)"
urlpatterns = [
    re_path(r"^$", landing, name="landing"),
    re_path(r"^conformance/?$", conformance, name="conformance"),
    re_path(r"^api/?$", api, name="api"),
    re_path(r"^collections/?$", collections, name="collections"),
    re_path(rf"^collections/{_ID}/?$", collection, name="collection"),
    re_path(rf"^collections/{_ID}/queryables/?$", queryables, name="queryables"),
    re_path(rf"^collections/{_ID}/items/?$", items, name="items"),
    re_path(rf"^collections/{_ID}/items/(?P<feature_id>[^/]+?)/?$", item, name="item"),
]
