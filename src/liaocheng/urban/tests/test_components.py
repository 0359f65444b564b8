"""The component census (部件普查): CSV/GeoJSON import (validation by row, batches, upsert), the map layer and
nearby endpoints, reporting a case on a component, permissions, the demo census and the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import shapely
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from liaocheng.core.errors import InvalidInput
from liaocheng.core.models import AuditRecord
from liaocheng.geo import datum
from liaocheng.geo.models import Grid
from liaocheng.urban import components, services
from liaocheng.urban.models import Case, Component, MinorClass

DC = "371502"  # 东昌府区
SX = "371522"  # 莘县
CP_OLD, CP = "371523", "371503"  # 茌平县 (until 2019) → 茌平区


@pytest.fixture
def census(db: None, settings: Any, tmp_path: Any, staff_factory: Any) -> dict[str, Any]:
    settings.MEDIA_ROOT = str(tmp_path)
    services.load_classes()
    return {
        "admin": staff_factory("c_admin", roles=(("urban_admin", "371500"),)),
        "sx_admin": staff_factory("c_sx_admin", roles=(("urban_admin", SX),)),
        "supervisor": staff_factory("c_sup", roles=(("urban_supervisor", SX),)),
    }


def points(county: str, n: int = 1) -> list[tuple[float, float, str]]:
    """``n`` points (lon, lat, grid code) in distinct urban grids of the county."""
    out = []
    for grid in Grid.objects.filter(county_code=county, size_class="urban").order_by("code")[: n * 7: 7]:
        p = shapely.from_geojson(grid.geometry).representative_point()
        out.append((p.x, p.y, grid.code))
    assert len(out) == n
    return out


def code(county: str, minor: str, serial: int) -> str:
    return f"{county}{minor}{serial:06d}"


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def csv_bytes(rows: list[dict[str, Any]], header: str = "code,name,lon,lat,address,maintainer_name,status,surveyed_on"
              ) -> bytes:
    cols = header.split(",")
    lines = [header] + [",".join(str(r.get(c, "")) for c in cols) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def run(user: Any, data: bytes, fmt: str = "csv", **kw: Any) -> components.ImportResult:
    rows = components.parse_components_file(data, fmt)
    return components.import_components(acting_user=user, rows=rows, source_name=f"test.{fmt}", **kw)


# --- import ---------------------------------------------------------------------------------------------

def test_csv_import_creates_components_located_with_default_maintainer(census: dict[str, Any]) -> None:
    (lon1, lat1, grid1), = points(DC)
    (lon2, lat2, grid2), = points(SX)
    data = csv_bytes([
        {"code": code(DC, "0118", 1), "name": "东昌路路灯1", "lon": lon1, "lat": lat1, "address": "东昌路"},
        {"code": code(SX, "0101", 7), "lon": lon2, "lat": lat2, "maintainer_name": "莘县自来水公司",
         "status": "损坏", "surveyed_on": "2026-03-01"},
    ])
    audits = AuditRecord.objects.count()
    result = run(census["admin"], data)
    assert (result.created, result.updated, result.error_count) == (2, 0, 0)
    lamp = Component.objects.get(code=code(DC, "0118", 1))
    assert lamp.minor_class.full_code == "C0118" and lamp.name == "东昌路路灯1"
    assert lamp.grid_code == grid1 and lamp.county_code == DC and lamp.community_code == grid1[:12]
    assert lamp.maintainer == services.responsible_department(lamp.minor_class, DC)
    assert lamp.status == "normal"
    cover = Component.objects.get(code=code(SX, "0101", 7))
    assert cover.grid_code == grid2 and cover.status == "damaged" and str(cover.surveyed_on) == "2026-03-01"
    assert cover.maintainer is not None and cover.maintainer.kind == "water"
    assert cover.maintainer_name == "莘县自来水公司"
    assert AuditRecord.objects.count() == audits + 1  # one record for the batch
    rec = AuditRecord.objects.order_by("-seq").first()
    assert rec is not None and rec.action == "urban.import_components" and rec.after["created"] == 2


def test_geojson_import_with_chinese_properties_and_wgs84(census: dict[str, Any]) -> None:
    (lon, lat, grid), = points(SX)
    wlon, wlat = datum.gcj02_to_wgs84(lon, lat)
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [wlon, wlat]},
         "properties": {"部件编码": code(SX, "0305", 1), "名称": "垃圾箱", "状态": "完好", "权属单位": "莘县环卫所"}},
    ]}
    result = run(census["admin"], json.dumps(fc, ensure_ascii=False).encode(), "geojson", datum="wgs84")
    assert result.created == 1 and not result.errors
    comp = Component.objects.get()
    assert comp.owner == "莘县环卫所" and comp.minor_class.full_code == "C0305"
    assert abs(comp.lon - lon) < 1e-5 and abs(comp.lat - lat) < 1e-5  # stored in GCJ-02
    assert comp.grid_code == grid


def test_bad_rows_are_reported_by_row_and_field_and_their_batch_is_not_written(census: dict[str, Any]) -> None:
    (lon, lat, _g), (lon2, lat2, _g2) = points(SX, 2)
    (dlon, dlat, _dg), = points(DC)
    rows = [
        {"code": code(SX, "0118", 1), "lon": lon, "lat": lat},  # row 2: good
        {"code": "37152201180001", "lon": lon, "lat": lat},  # row 3: 14 digits
        {"code": code(SX, "0199", 1), "lon": lon, "lat": lat},  # row 4: no such component class
        {"code": code(SX, "0118", 2), "lon": dlon, "lat": dlat},  # row 5: point in 东昌府区
        {"code": code(SX, "0118", 3), "lon": 120.1, "lat": 30.2},  # row 6: Hangzhou
        {"code": code(SX, "0118", 4), "lon": lon2, "lat": lat2, "status": "broken"},  # row 7
        {"code": code(SX, "0118", 0), "lon": lon2, "lat": lat2},  # row 8: serial 000000
        {"code": code("371599", "0118", 1), "lon": lon2, "lat": lat2},  # row 9: not a county
    ]
    result = run(census["admin"], csv_bytes(rows))
    found = {(e.row, e.field) for e in result.errors}
    assert found == {(3, "code"), (4, "code"), (5, "lon"), (6, "lon"), (7, "status"), (8, "code"), (9, "code")}
    by_row = {e.row: e for e in result.errors}
    assert "16" in by_row[3].message_zh and "16 digits" in by_row[3].message_en
    assert "莘县" in by_row[5].message_zh and by_row[5].code == "county_mismatch"
    assert "不在聊城市范围内" in by_row[6].message_zh and "outside Liaocheng" in by_row[6].message_en
    assert result.created == 0 and result.failed == len(rows) and result.failed_batches == 1
    assert not Component.objects.exists()  # the good row was in the same batch


def test_only_the_batch_with_errors_is_skipped_and_rerun_resumes(census: dict[str, Any]) -> None:
    pts = points(SX, 4)
    rows = [{"code": code(SX, "0118", i + 1), "lon": p[0], "lat": p[1]} for i, p in enumerate(pts)]
    rows[2]["status"] = "??"
    result = run(census["admin"], csv_bytes(rows), batch_size=2)
    assert (result.created, result.failed, result.batches, result.failed_batches) == (2, 2, 2, 1)
    assert sorted(Component.objects.values_list("code", flat=True)) == [code(SX, "0118", 1), code(SX, "0118", 2)]
    rows[2]["status"] = "normal"
    again = run(census["admin"], csv_bytes(rows), batch_size=2)
    assert (again.created, again.updated, again.unchanged, again.error_count) == (2, 0, 2, 0)
    assert Component.objects.count() == 4


def test_reimport_is_idempotent_and_updates_changed_rows(census: dict[str, Any]) -> None:
    pts = points(DC, 3)
    rows = [{"code": code(DC, "0102", i + 1), "lon": p[0], "lat": p[1], "name": f"污水井{i}"}
            for i, p in enumerate(pts)]
    run(census["admin"], csv_bytes(rows))
    audits = AuditRecord.objects.count()
    again = run(census["admin"], csv_bytes(rows))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert Component.objects.count() == 3 and AuditRecord.objects.count() == audits
    rows[1]["status"] = "丢失"
    third = run(census["admin"], csv_bytes(rows))
    assert (third.created, third.updated, third.unchanged) == (0, 1, 2)
    assert Component.objects.get(code=code(DC, "0102", 2)).status == "missing"
    # a file without the status column leaves the status alone
    fourth = run(census["admin"], csv_bytes(rows, header="code,name,lon,lat"))
    assert fourth.updated == 0 and Component.objects.get(code=code(DC, "0102", 2)).status == "missing"


def test_duplicate_codes_and_class_column_and_historical_county(census: dict[str, Any]) -> None:
    (lon, lat, grid), (lon2, lat2, _g) = points(CP, 2)
    rows = [
        {"code": code(CP_OLD, "0118", 1), "lon": lon, "lat": lat, "class_code": "C0118"},  # 茌平县 code: fine
        {"code": code(CP_OLD, "0118", 1), "lon": lon2, "lat": lat2},  # row 3: duplicate
        {"code": code(CP, "0118", 2), "lon": lon2, "lat": lat2, "class_code": "C0305"},  # row 4: class mismatch
    ]
    result = run(census["admin"], csv_bytes(rows, header="code,lon,lat,class_code"))
    assert {(e.row, e.field) for e in result.errors} == {(3, "code"), (4, "class_code")}
    result = run(census["admin"], csv_bytes(rows[:1], header="code,lon,lat,class_code"))
    assert result.created == 1
    comp = Component.objects.get()
    assert comp.county_code == CP and comp.grid_code == grid


def test_file_level_problems_refuse_the_file(census: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as exc:
        components.parse_components_csv(b"name,lon\nx,1\n")
    assert exc.value.field == "header" and exc.value.row == 1 and "code" in exc.value.message_en
    with pytest.raises(InvalidInput):
        components.parse_components_geojson(b'{"type": "Feature"}')
    rows = components.parse_components_geojson(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]},
         "properties": {"code": code(SX, "0118", 1)}}]}).encode())
    result = components.import_components(acting_user=census["admin"], rows=rows, source_name="x")
    assert [(e.row, e.field) for e in result.errors] == [(1, "geometry")]


def test_gbk_csv_with_chinese_header(census: dict[str, Any]) -> None:
    (lon, lat, _g), = points(SX)
    text = f"部件编码,名称,经度,纬度,状态\n{code(SX, '0402', 1)},行道树,{lon},{lat},完好\n"
    result = run(census["admin"], text.encode("gbk"))
    assert result.created == 1 and Component.objects.get().name == "行道树"


# --- permissions ----------------------------------------------------------------------------------------

def test_permissions_for_import_and_update(census: dict[str, Any]) -> None:
    (lon, lat, _g), = points(SX)
    (dlon, dlat, _d), = points(DC)
    with pytest.raises(PermissionDenied):
        run(census["supervisor"], csv_bytes([{"code": code(SX, "0118", 1), "lon": lon, "lat": lat}]))
    # a county administrator: rows of another county are errors
    result = run(census["sx_admin"], csv_bytes([
        {"code": code(SX, "0118", 1), "lon": lon, "lat": lat},
        {"code": code(DC, "0118", 1), "lon": dlon, "lat": dlat},
    ]), batch_size=1)
    assert result.created == 1 and [(e.row, e.field, e.code) for e in result.errors] == [(3, "code", "out_of_scope")]
    c = client_for(census["supervisor"])
    assert c.get("/urban/components/import/").status_code == 403
    assert c.post(f"/urban/components/{code(SX, '0118', 1)}/update/", {"status": "damaged"}).status_code == 403
    with pytest.raises(PermissionDenied):
        components.update_component(acting_user=census["supervisor"], code=code(SX, "0118", 1), status="damaged")
    assert Component.objects.get(code=code(SX, "0118", 1)).status == "normal"


def test_update_component_status_is_audited(census: dict[str, Any]) -> None:
    (lon, lat, _g), = points(SX)
    run(census["admin"], csv_bytes([{"code": code(SX, "0118", 1), "lon": lon, "lat": lat}]))
    c = client_for(census["sx_admin"])
    page = c.get(f"/urban/components/{code(SX, '0118', 1)}/")
    assert page.status_code == 200 and 'id="component-update-form"' in page.content.decode()
    response = c.post(f"/urban/components/{code(SX, '0118', 1)}/update/",
                      {"status": "damaged", "name": "莘县路灯", "address": "", "owner": "", "maintainer_name": "",
                       "surveyed_on": ""})
    assert response.status_code == 302
    comp = Component.objects.get()
    assert comp.status == "damaged" and comp.name == "莘县路灯"
    rec = AuditRecord.objects.order_by("-seq").first()
    assert rec is not None and rec.action == "urban.update_component"
    assert rec.before["status"] == "normal" and rec.after["status"] == "damaged"
    with pytest.raises(InvalidInput) as exc:
        components.update_component(acting_user=census["admin"], code=comp.code, status="broken")
    assert exc.value.field == "status"


# --- pages and map data ---------------------------------------------------------------------------------

def test_import_page_shows_counts_and_errors_by_row(census: dict[str, Any]) -> None:
    (lon, lat, _g), = points(SX)
    c = client_for(census["admin"])
    good = SimpleUploadedFile("census.csv", csv_bytes([{"code": code(SX, "0118", 1), "lon": lon, "lat": lat}]),
                              content_type="text/csv")
    response = c.post("/urban/components/import/", {"file": good, "datum": "gcj02"})
    body = response.content.decode()
    assert response.status_code == 200 and 'id="import-counts"' in body and Component.objects.count() == 1
    bad = SimpleUploadedFile("census.csv", csv_bytes([{"code": "123", "lon": lon, "lat": lat}]),
                             content_type="text/csv")
    response = c.post("/urban/components/import/", {"file": bad, "datum": "gcj02"})
    body = response.content.decode()
    assert response.status_code == 400
    assert 'data-row="2" data-field="code"' in body and "部件编码应为16位数字" in body and "16 digits" in body


def test_list_and_detail_pages(census: dict[str, Any]) -> None:
    (lon, lat, _g), = points(SX)
    (dlon, dlat, _d), = points(DC)
    run(census["admin"], csv_bytes([{"code": code(SX, "0118", 1), "lon": lon, "lat": lat},
                                    {"code": code(DC, "0305", 1), "lon": dlon, "lat": dlat}]))
    c = client_for(census["supervisor"])
    body = c.get("/urban/components/").content.decode()
    assert code(SX, "0118", 1) in body and code(DC, "0305", 1) not in body  # a 莘县 supervisor sees 莘县 only
    assert "/urban/components/" in c.get("/urban/cases/").content.decode()  # the nav entry
    body = c.get("/urban/components/", {"cls": "C03"}).content.decode()
    assert code(SX, "0118", 1) not in body
    body = c.get("/urban/components/", {"q": code(SX, "0118", 1)[:10]}).content.decode()
    assert code(SX, "0118", 1) in body
    assert c.get(f"/urban/components/{code(DC, '0305', 1)}/").status_code == 403
    assert c.get("/urban/components/3715229999000001/").status_code == 404


def test_geojson_endpoint_returns_features_in_bbox(census: dict[str, Any]) -> None:
    (lon, lat, _g), (lon2, lat2, _g2) = points(SX, 2)
    run(census["admin"], csv_bytes([{"code": code(SX, "0118", 1), "lon": lon, "lat": lat},
                                    {"code": code(SX, "0101", 1), "lon": lon2, "lat": lat2}]))
    c = client_for(census["supervisor"])
    bbox = f"{lon - 0.0005},{lat - 0.0005},{lon + 0.0005},{lat + 0.0005}"
    response = c.get("/urban/components/data.geojson", {"bbox": bbox})
    assert response.status_code == 200
    fc = response.json()
    assert fc["type"] == "FeatureCollection" and [f["id"] for f in fc["features"]] == [code(SX, "0118", 1)]
    assert fc["features"][0]["geometry"]["coordinates"] == pytest.approx([lon, lat])
    assert fc["features"][0]["properties"]["class_code"] == "C0118" and fc["truncated"] is False
    wide = f"{min(lon, lon2) - 0.01},{min(lat, lat2) - 0.01},{max(lon, lon2) + 0.01},{max(lat, lat2) + 0.01}"
    assert len(c.get("/urban/components/data.geojson", {"bbox": wide}).json()["features"]) == 2
    only = c.get("/urban/components/data.geojson", {"bbox": wide, "class": "C0101"}).json()
    assert [f["id"] for f in only["features"]] == [code(SX, "0101", 1)]
    assert c.get("/urban/components/data.geojson").status_code == 400
    command = c.get("/urban/command/").content.decode()
    assert 'id="layer-components"' in command and "urban-components.js" in command


def test_nearby_endpoint_for_the_report_picker(census: dict[str, Any]) -> None:
    (lon, lat, _g), = points(SX)
    run(census["admin"], csv_bytes([{"code": code(SX, "0118", 1), "lon": lon, "lat": lat}]))
    c = client_for(census["supervisor"])
    near = c.get("/urban/components/nearby.json", {"lon": lon + 0.0001, "lat": lat}).json()
    assert [x["code"] for x in near["components"]] == [code(SX, "0118", 1)]
    assert 5 < near["components"][0]["distance_m"] < 15
    wlon, wlat = datum.gcj02_to_wgs84(lon, lat)
    assert c.get("/urban/components/nearby.json", {"lon": wlon, "lat": wlat, "datum": "wgs84"}).json()["count"] == 1
    assert c.get("/urban/components/nearby.json", {"lon": lon + 0.01, "lat": lat}).json()["count"] == 0
    assert c.get("/urban/components/nearby.json", {"lon": "x", "lat": lat}).status_code == 400


# --- reporting a case on a component --------------------------------------------------------------------

def test_report_case_with_component_takes_its_class_and_point(census: dict[str, Any]) -> None:
    (lon, lat, grid), = points(SX)
    run(census["admin"], csv_bytes([{"code": code(SX, "0118", 1), "lon": lon, "lat": lat}]))
    comp = Component.objects.get()
    result = services.report_case(acting_user=census["supervisor"], channel="supervisor", class_code="",
                                  component_code=comp.code, description="路灯不亮")
    case = result.case
    assert case.component == comp and case.minor_class.full_code == "C0118"
    assert (case.lon, case.lat, case.grid_code) == (pytest.approx(lon), pytest.approx(lat), grid)
    with pytest.raises(InvalidInput) as exc:
        services.report_case(acting_user=census["supervisor"], channel="supervisor", class_code="E0102",
                             component_code=comp.code, description="x")
    assert exc.value.field == "class_code"
    with pytest.raises(InvalidInput) as exc:
        services.report_case(acting_user=census["supervisor"], channel="supervisor", class_code="C0118",
                             component_code="3715220118999999", description="x")
    assert exc.value.field == "component_code"
    # the detail page lists the component's cases
    body = client_for(census["supervisor"]).get(f"/urban/components/{comp.code}/").content.decode()
    assert case.number in body


def test_report_page_submits_component_code(census: dict[str, Any]) -> None:
    (lon, lat, _g), = points(SX)
    run(census["admin"], csv_bytes([{"code": code(SX, "0101", 3), "lon": lon, "lat": lat}]))
    c = client_for(census["supervisor"])
    page = c.get("/urban/report/").content.decode()
    assert 'id="component_code"' in page and 'id="component-picker"' in page
    response = c.post("/urban/report/", {"class_code": "C0101", "component_code": code(SX, "0101", 3),
                                         "lon": "", "lat": "", "datum": "gcj02", "description": "井盖松动"},
                      HTTP_X_URBAN_REPORT="1")
    assert response.status_code == 201
    case = Case.objects.get()
    assert case.component is not None and case.component.code == code(SX, "0101", 3)
    assert case.lon == pytest.approx(lon)
    # without a component nothing changes: lon/lat are still required
    response = c.post("/urban/report/", {"class_code": "E0102", "lon": "", "lat": "", "description": "垃圾"},
                      HTTP_X_URBAN_REPORT="1")
    assert response.status_code == 400 and Case.objects.count() == 1


# --- demo and CLI ---------------------------------------------------------------------------------------

def test_demo_census_is_valid_deterministic_and_once(census: dict[str, Any]) -> None:
    written = components.ensure_demo_components(400)
    assert 380 <= written <= 400
    comps = list(Component.objects.select_related("minor_class"))
    kinds = {c.minor_class.full_code for c in comps}
    assert {"C0118", "C0102", "C0305", "C0402"} <= kinds
    assert all(c.code[:6] == c.county_code and c.grid_code.startswith(c.county_code) for c in comps)
    assert all(c.maintainer_id is not None for c in comps)
    assert len({c.county_code for c in comps}) == 8
    assert components.ensure_demo_components(400) == 0
    first = sorted((c.code, round(c.lon, 6)) for c in comps)[:20]
    Component.objects.all().delete()
    components.ensure_demo_components(400)
    assert sorted((c.code, round(c.lon, 6)) for c in Component.objects.all())[:20] == first
    assert MinorClass.objects.filter(kind="component").count() >= len(components.DEMO_CLASSES)


def test_cli_import(census: dict[str, Any], tmp_path: Path) -> None:
    (lon, lat, _g), = points(SX)
    path = tmp_path / "census.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
         "properties": {"code": code(SX, "0118", 1)}}]}), encoding="utf-8")
    call_command("import_components", str(path), "--user", "c_admin", stdout=io.StringIO())
    assert Component.objects.filter(code=code(SX, "0118", 1)).exists()
    call_command("import_components", str(path), "--format", "geojson", stdout=io.StringIO())
    assert Component.objects.count() == 1


# --- in the browser: pick the exact lamp on the report page, the layer on the command map ------------------

@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_report_picks_nearby_component_and_command_map_layer(
    live_server: Any, browser: Any, staff_factory: Any, settings: Any, tmp_path: Any
) -> None:
    from liaocheng.core.testing import totp_code

    settings.MEDIA_ROOT = str(tmp_path)
    services.load_classes()
    base = live_server.url
    supervisor = staff_factory("cb_sup", roles=(("urban_supervisor", "371500"),))
    (lon, lat, _grid), = points(DC)
    run(components.SYSTEM, csv_bytes([{"code": code(DC, "0118", 1), "name": "柳园路路灯0001", "lon": lon, "lat": lat}]))
    wlon, wlat = datum.gcj02_to_wgs84(lon + 0.00008, lat)  # the supervisor stands about 7 m away
    errors: list[str] = []
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, geolocation={"longitude": wlon, "latitude": wlat, "accuracy": 5},
                                  permissions=["geolocation"])
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{base}/login/")
        page.fill("#id_username", supervisor.username)
        page.fill("#id_password", supervisor.raw_password)
        page.fill("#id_totp", totp_code(supervisor))
        page.click("form[action='/login/'] button[type=submit]")
        page.wait_for_url(f"{base}/workbench/")

        page.goto(f"{base}/urban/report/")
        assert page.locator("#component-picker").is_hidden()
        page.click("#locate-me")
        item = page.locator(f"#component-options li[data-component='{code(DC, '0118', 1)}']")
        item.wait_for()
        assert "路灯" in item.inner_text() and "m" in item.inner_text()
        item.locator("button").click()
        assert page.input_value("#component_code") == code(DC, "0118", 1)
        assert page.input_value("#class_code") == "C0118"
        assert page.input_value("#datum") == "gcj02"
        assert code(DC, "0118", 1) in page.locator("#component-picked").inner_text()
        page.fill("#description", "路灯不亮")
        page.tap("#report-submit")
        page.wait_for_selector("#report-ok")
        case = Case.objects.get()
        assert case.component is not None and case.component.code == code(DC, "0118", 1)
        assert case.minor_class.full_code == "C0118"
        assert abs(case.lon - lon) < 1e-6 and abs(case.lat - lat) < 1e-6  # the lamp's own point

        page.set_viewport_size({"width": 1280, "height": 860})
        page.goto(f"{base}/urban/command/")  # the map fits the open case (zoom 14): the lamp beside it shows
        page.wait_for_function("document.body.dataset.casesLoaded === '1'")
        page.check("#layer-components")
        page.wait_for_function("document.body.dataset.componentsLoaded === '1'")
        assert "1" in page.locator("#layer-components-status").inner_text()
        page.locator("#command-map").focus()
        for _ in range(3):
            page.keyboard.press("Minus")  # zoomed out, the layer asks to zoom in instead of loading the city
        page.wait_for_function("document.getElementById('layer-components-status').textContent.includes('放大')")
    finally:
        context.close()
    assert not errors, errors
