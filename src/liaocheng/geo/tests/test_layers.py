"""Spatial layers (geo.layers): schema validation, GeoJSON import, OGC API collections, demo layers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from liaocheng.core.departments import department_code
from liaocheng.core.errors import Conflict, InvalidInput
from liaocheng.core.models import AuditRecord
from liaocheng.geo import layers
from liaocheng.geo.models import Feature, Layer

SHENXIAN_SEAT = (115.671, 36.234)
GUANXIAN_SEAT = (115.442, 36.484)

SCHEMA = [
    {"name": "name", "type": "string", "label_zh": "名称", "label_en": "Name", "required": True},
    {"name": "beds", "type": "integer", "label_zh": "床位数", "label_en": "Beds"},
    {"name": "rating", "type": "number", "label_zh": "评分", "label_en": "Rating"},
    {"name": "open", "type": "boolean", "label_zh": "开放", "label_en": "Open"},
    {"name": "since", "type": "date", "label_zh": "启用日期", "label_en": "Since"},
    {"name": "landuse", "type": "code", "label_zh": "地类", "label_en": "Land use", "codelist": "gbt21010"},
]


def _point(fid: Any, lon: float, lat: float, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "id": fid, "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": props}


def _fc(*features: dict[str, Any]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False)


@pytest.fixture
def gis_admin(staff_factory: Any) -> Any:
    return staff_factory("gis_admin", department_code=department_code("371500", "natural_resources"),
                         roles=(("gis_admin", "371500"),))


@pytest.fixture
def layer(gis_admin: Any) -> Layer:
    return layers.create_layer(acting_user=gis_admin, code="clinics", name_zh="诊所", name_en="Clinics",
                               geometry_type="Point", attribute_schema=SCHEMA,
                               owner_department=department_code("371500", "health"))


# --- schema -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("schema", "fragment"), [
    ({"name": "x"}, "must be a list"),
    ([{"name": "Bad Name", "type": "string"}], "attribute_schema[0]"),
    ([{"name": "ok", "type": "string"}, {"name": "county_code", "type": "string"}], "attribute_schema[1]"),
    ([{"name": "a", "type": "text"}], "type must be one of"),
    ([{"name": "a", "type": "code"}], "needs a codelist"),
    ([{"name": "a", "type": "code", "codelist": "nope"}], "unknown code list"),
    ([{"name": "a", "type": "string"}, {"name": "a", "type": "integer"}], "duplicate"),
])
def test_schema_validation_names_the_entry(schema: Any, fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        layers.parse_schema(schema)
    assert fragment in info.value.message_en
    assert info.value.field == "attribute_schema"


@pytest.mark.django_db
def test_create_layer_needs_the_right_and_a_free_code(staff_factory: Any, gis_admin: Any, layer: Layer) -> None:
    clerk = staff_factory("plain_clerk")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        layers.create_layer(acting_user=clerk, code="other", name_zh="其他", geometry_type="Point",
                            attribute_schema=[])
    with pytest.raises(Conflict):
        layers.create_layer(acting_user=gis_admin, code="clinics", name_zh="诊所", geometry_type="Point",
                            attribute_schema=[])
    with pytest.raises(InvalidInput) as info:
        layers.create_layer(acting_user=gis_admin, code="x", name_zh="x", geometry_type="Circle",
                            attribute_schema=[])
    assert info.value.field == "code"
    assert AuditRecord.objects.filter(action="geo.create_layer", object_id="clinics").count() == 1


# --- import -----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_bad_features_are_all_reported_and_nothing_is_written(gis_admin: Any, layer: Layer) -> None:
    good = _point("ok-1", *SHENXIAN_SEAT, name="莘县诊所", beds=10)
    data = _fc(
        good,
        _point("bad-type", *SHENXIAN_SEAT, name="诊所", beds="ten"),              # 1 beds
        _point("bad-req", *SHENXIAN_SEAT, beds=3),                              # 2 name missing
        {"type": "Feature", "id": "line", "geometry": {"type": "LineString", "coordinates": [
            [115.6, 36.2], [115.7, 36.3]]}, "properties": {"name": "线"}},       # 3 geometry type
        _point("far", 100.0, 10.0, name="远处"),                                 # 4 outside Liaocheng
        _point("ok-1", *SHENXIAN_SEAT, name="重复"),                             # 5 duplicate id
        _point("extra", *SHENXIAN_SEAT, name="多余", colour="red"),               # 6 unknown attribute
        _point("codes", *SHENXIAN_SEAT, name="地类", landuse="9999", since="2024-13-01", open="yes",
               rating=float("nan")),                                            # 7 several
        _point(None, *SHENXIAN_SEAT, name="无编号"),                              # 8 id missing
    )
    before = (Feature.objects.count(), AuditRecord.objects.count())
    with pytest.raises(layers.LayerImportError) as info:
        layers.import_features(acting_user=gis_admin, layer_code="clinics", data=data)
    found = {(p.index, p.field) for p in info.value.problems}
    assert {(1, "beds"), (2, "name"), (3, "geometry"), (4, "geometry"), (5, "id"), (6, "colour"),
            (7, "landuse"), (7, "since"), (7, "open"), (7, "rating"), (8, "id")} <= found
    assert 0 not in {p.index for p in info.value.problems}
    assert info.value.row == 1 and info.value.field == "beds"
    assert "features[1] beds" in info.value.message_en and "第2个要素" in info.value.message_zh
    problem = next(p for p in info.value.problems if p.index == 4)
    assert "outside Liaocheng" in problem.reason_en
    assert info.value.as_dict()["problems"][0]["index"] == 1
    assert (Feature.objects.count(), AuditRecord.objects.count()) == before


@pytest.mark.django_db
def test_malformed_files() -> None:
    layer = Layer.objects.create(code="pts", name_zh="点", geometry_type="Point", attribute_schema=[])
    for data in ("{not json", json.dumps({"type": "Feature"}), json.dumps([1, 2])):
        with pytest.raises(InvalidInput) as info:
            layers.parse_feature_collection(layer, data)
        assert info.value.field == "file"


@pytest.mark.django_db
def test_import_creates_updates_and_audits_once(gis_admin: Any, layer: Layer) -> None:
    data = _fc(
        _point("a", *SHENXIAN_SEAT, name="莘县诊所", beds=12, rating=4.5, open=True, since="2020-05-01",
               landuse="0805"),
        _point(7, *GUANXIAN_SEAT, name="冠县诊所"),
    )
    result = layers.import_features(acting_user=gis_admin, layer_code="clinics", data=data, source="t.geojson")
    assert (result.created, result.updated, result.total) == (2, 0, 2)
    a = Feature.objects.get(layer=layer, code="a")
    assert a.county_code == "371522" and a.township_code.startswith("371522") and len(a.grid_code) == 15
    assert a.properties == {"name": "莘县诊所", "beds": 12, "rating": 4.5, "open": True, "since": "2020-05-01",
                            "landuse": "0805"}
    assert a.minx == a.maxx == SHENXIAN_SEAT[0] and not a.generated
    assert Feature.objects.get(layer=layer, code="7").county_code == "371525"
    records = AuditRecord.objects.filter(action="geo.import_layer", object_id="clinics")
    assert records.count() == 1 and records[0].after["created"] == 2

    # re-import: one changed, one unchanged; replace drops the one missing
    again = layers.import_features(acting_user=gis_admin, layer_code="clinics", replace=True,
                                   data=_fc(_point("a", *SHENXIAN_SEAT, name="莘县诊所（新）")))
    assert (again.created, again.updated, again.deleted) == (0, 1, 1)
    assert list(Feature.objects.filter(layer=layer).values_list("properties__name", flat=True)) == ["莘县诊所（新）"]
    assert AuditRecord.objects.filter(action="geo.import_layer").count() == 2


@pytest.mark.django_db
def test_wgs84_input_is_converted(gis_admin: Any, layer: Layer) -> None:
    from liaocheng.geo import datum

    wlon, wlat = 115.665, 36.232
    layers.import_features(acting_user=gis_admin, layer_code="clinics", input_datum="wgs84",
                           data=_fc(_point("w", wlon, wlat, name="GPS")))
    feature = Feature.objects.get(code="w")
    glon, glat = datum.wgs84_to_gcj02(wlon, wlat)
    assert json.loads(feature.geometry)["coordinates"] == pytest.approx([glon, glat])


@pytest.mark.django_db
def test_county_scope_limits_imports(staff_factory: Any, layer: Layer) -> None:
    clerk = staff_factory("shen_gis", roles=(("gis_admin", "371522"),))
    with pytest.raises(layers.LayerImportError) as info:
        layers.import_features(acting_user=clerk, layer_code="clinics",
                               data=_fc(_point("s", *SHENXIAN_SEAT, name="莘县"),
                                        _point("g", *GUANXIAN_SEAT, name="冠县")))
    assert [(p.index, p.field) for p in info.value.problems] == [(1, "geometry")]
    assert "outside your scope" in info.value.problems[0].reason_en
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):  # replacing the whole layer needs the whole city
        layers.import_features(acting_user=clerk, layer_code="clinics", replace=True,
                               data=_fc(_point("s", *SHENXIAN_SEAT, name="莘县")))
    result = layers.import_features(acting_user=clerk, layer_code="clinics",
                                    data=_fc(_point("s", *SHENXIAN_SEAT, name="莘县")))
    assert result.created == 1
    assert AuditRecord.objects.get(action="geo.import_layer").division_code == "371522"


@pytest.mark.django_db
def test_import_layer_command(tmp_path: Path, gis_admin: Any, layer: Layer) -> None:
    good = tmp_path / "good.geojson"
    good.write_text(_fc(_point("c1", *SHENXIAN_SEAT, name="莘县诊所")), encoding="utf-8-sig")
    call_command("import_layer", "clinics", str(good), "--as-user", "gis_admin")
    assert Feature.objects.filter(layer=layer).count() == 1
    bad = tmp_path / "bad.geojson"
    bad.write_text(_fc(_point("c2", *SHENXIAN_SEAT, beds=1)), encoding="utf-8")
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_layer", "clinics", str(bad), "--as-user", "gis_admin")
    with pytest.raises(CommandError, match="layer nope does not exist"):
        call_command("import_layer", "nope", str(good), "--as-user", "gis_admin")
    assert Feature.objects.filter(layer=layer).count() == 1


# --- OGC API ----------------------------------------------------------------------------------------

def _load(layer: Layer, user: Any) -> None:
    features = [_point(f"p{i:02d}", 115.60 + i * 0.01, 36.234, name=f"点{i}", beds=i, open=i % 2 == 0)
                for i in range(12)]
    layers.import_features(acting_user=user, layer_code=layer.code, data=_fc(*features))


@pytest.mark.django_db
def test_ogcapi_serves_a_layer(client: Client, gis_admin: Any, layer: Layer) -> None:
    _load(layer, gis_admin)
    ids = [c["id"] for c in client.get("/ogcapi/collections").json()["collections"]]
    assert "clinics" in ids and "grids" in ids
    coll = client.get("/ogcapi/collections/clinics").json()
    assert coll["itemType"] == "feature" and "诊所" in coll["title"] and coll["datum"] == "GCJ-02"
    assert coll["extent"]["spatial"]["bbox"][0] == pytest.approx([115.60, 36.234, 115.71, 36.234])
    assert coll["layer"]["geometryType"] == "Point" and coll["layer"]["attributes"][0]["name"] == "name"

    q = client.get("/ogcapi/collections/clinics/queryables")
    assert q["Content-Type"] == "application/schema+json"
    props = q.json()["properties"]
    assert props["beds"]["type"] == "integer" and props["open"]["type"] == "boolean"
    assert props["since"]["format"] == "date" and "0101" in props["landuse"]["enum"]
    assert props["county_code"]["type"] == "string" and props["geometry"]["$ref"].endswith("/Point.json")

    page = client.get("/ogcapi/collections/clinics/items?limit=5")
    assert page["Content-Type"] == "application/geo+json"
    body = page.json()
    assert body["numberMatched"] == 12 and body["numberReturned"] == 5
    assert [f["id"] for f in body["features"]] == ["p00", "p01", "p02", "p03", "p04"]
    assert body["features"][0]["properties"]["county_code"] == "371522"
    nxt = next(link["href"] for link in body["links"] if link["rel"] == "next")
    assert "offset=5" in nxt
    assert client.get("/ogcapi/collections/clinics/items?offset=10&limit=5").json()["numberReturned"] == 2

    bbox = client.get("/ogcapi/collections/clinics/items?bbox=115.625,36.2,115.655,36.3").json()
    assert sorted(f["id"] for f in bbox["features"]) == ["p03", "p04", "p05"]
    assert client.get("/ogcapi/collections/clinics/items?beds=4").json()["features"][0]["id"] == "p04"
    assert client.get("/ogcapi/collections/clinics/items?open=true").json()["numberMatched"] == 6
    assert client.get("/ogcapi/collections/clinics/items?name=点3").json()["numberMatched"] == 1
    assert client.get("/ogcapi/collections/clinics/items?beds=x").status_code == 400

    one = client.get("/ogcapi/collections/clinics/items/p07").json()
    assert one["id"] == "p07" and one["properties"]["beds"] == 7
    assert client.get("/ogcapi/collections/clinics/items/nope").status_code == 404
    api = client.get("/ogcapi/api").json()
    assert "/collections/clinics/items" in api["paths"]
    assert "clinics" in api["components"]["parameters"]["collectionId"]["schema"]["enum"]


@pytest.mark.django_db
def test_reserved_codes_are_served_with_a_prefix(client: Client) -> None:
    Layer.objects.create(code="grids", name_zh="另一个网格", geometry_type="Polygon", attribute_schema=[])
    ids = [c["id"] for c in client.get("/ogcapi/collections").json()["collections"]]
    assert ids.count("grids") == 1 and "layer-grids" in ids
    assert client.get("/ogcapi/collections/layer-grids/items").json()["numberMatched"] == 0
    assert client.get("/ogcapi/collections/layer-clinics").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_owslib_reads_a_layer(live_server: Any, staff_factory: Any) -> None:
    from owslib.ogcapi.features import Features

    user = staff_factory("gis_live", roles=(("gis_admin", "371500"),))
    layer = layers.create_layer(acting_user=user, code="clinics", name_zh="诊所", geometry_type="Point",
                                attribute_schema=SCHEMA)
    _load(layer, user)
    api = Features(live_server.url + "/ogcapi/")
    assert "clinics" in api.feature_collections()
    assert api.collection("clinics")["layer"]["code"] == "clinics"
    result = api.collection_items("clinics", bbox=[115.625, 36.2, 115.655, 36.3], limit=2)
    assert result["numberMatched"] == 3 and result["numberReturned"] == 2
    rest = api.collection_items("clinics", bbox=[115.625, 36.2, 115.655, 36.3], limit=2, offset=2)
    assert {f["id"] for f in result["features"] + rest["features"]} == {"p03", "p04", "p05"}
    assert api.collection_item("clinics", "p04")["properties"]["name"] == "点4"
    assert api.collection_queryables("clinics")["properties"]["beds"]["type"] == "integer"


# --- generated demo layers ----------------------------------------------------------------------------

@pytest.mark.django_db
def test_demo_layers(client: Client) -> None:
    counts = layers.ensure_demo_layers()
    assert set(counts) == {"schools", "hospitals", "shelters", "fire_stations", "land_parcels", "rivers", "lakes"}
    assert layers.ensure_demo_layers() == {}  # idempotent
    assert all(Layer.objects.filter(generated=True).values_list("code", flat=True))
    assert not Feature.objects.filter(generated=False).exists()
    names = dict(Feature.objects.filter(layer__code__in=["schools", "hospitals", "fire_stations"])
                 .values_list("properties__name", "county_code"))
    assert names["莘县第一中学"] == "371522"
    assert names["冠县人民医院"] == "371525"
    assert names["东昌府区消防救援站"] == "371502"
    # every township has a school, a clinic and a shelter inside it
    for code in ("schools", "hospitals", "shelters"):
        for f in Feature.objects.filter(layer__code=code, code__regex=r"^\d{9}-"):
            assert f.township_code == f.code[:9], (code, f.code)
    parcels = Feature.objects.filter(layer__code="land_parcels")
    assert parcels.count() >= 100
    assert {p["landuse"] for p in parcels.values_list("properties", flat=True)} <= set(layers.CODELISTS["gbt21010"])
    water = dict(Feature.objects.filter(layer__code__in=["rivers", "lakes"]).values_list("code", "county_code"))
    assert set(water) == {"grand_canal", "tuhai", "majia", "weiyun", "dongchang_lake"}
    assert water["dongchang_lake"] == "371502"
    coll = client.get("/ogcapi/collections/schools").json()
    assert coll["layer"]["generated"] is True and "demo" in coll["description"]
    assert AuditRecord.objects.filter(action="geo.load_demo_layer").count() == 7


@pytest.mark.django_db
def test_map_page_offers_the_layers(client: Client, staff_factory: Any) -> None:
    client.force_login(staff_factory("map_reader"))
    html = client.get("/map/").content.decode()
    assert 'data-collections-url="/ogcapi/collections"' in html
    assert 'id="layer-strings"' in html and "生成的演示数据" in html
