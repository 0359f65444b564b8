"""Resource management pages: the list with filters and map points, the station / unit / fixed resource
forms through the dispatch services, the hospitals' free-bed update, scope and permission refusals."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from liaocheng.core.models import AuditRecord, Department
from liaocheng.emergency import dispatch
from liaocheng.emergency.models import FixedResource, Station, Unit

from .test_recommend import FIRE, GX, SX, em, offset, urban_point

__all__ = ["em"]


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def points(body: str) -> list[dict[str, Any]]:
    match = re.search(r'<script id="resource-points" type="application/json">(.*?)</script>', body, re.S)
    assert match is not None
    return list(json.loads(match.group(1)))


@pytest.fixture
def res(em: dict[str, Any], staff_factory: Any) -> dict[str, Any]:
    admin = em["admin"]
    lon, lat = urban_point()
    gx_lon, gx_lat = urban_point(GX)
    station = dispatch.create_station(acting_user=admin, code="371522-FS-T1", name="燕塔消防救援站", department=FIRE,
                                      lon=lon, lat=lat)
    engine = dispatch.create_unit(acting_user=admin, call_sign="燕塔水罐1", unit_type="fire_engine", department=FIRE,
                                  station=station, capabilities=["水罐 8 t"])
    ambulance = dispatch.create_unit(acting_user=admin, call_sign="莘县急救1", unit_type="ambulance",
                                     department="371500-emergency_medical", lon=lon, lat=lat)
    gx_station = dispatch.create_station(acting_user=admin, code="371502-FS-T1", name="古楼消防救援站",
                                         department="371502-fire_rescue", lon=gx_lon, lat=gx_lat)
    hospital = dispatch.create_fixed_resource(acting_user=admin, kind="hospital", name="莘县人民医院",
                                              lon=lon, lat=lat, capacity=1100, available=120)
    shelter = dispatch.create_fixed_resource(acting_user=admin, kind="shelter", name="古楼广场应急避难场所",
                                             lon=gx_lon, lat=gx_lat, capacity=5000, available=5000)
    county_admin = staff_factory("res_cadmin", department_code=FIRE, roles=(("emergency_admin", SX),))
    return {**em, "lon": lon, "lat": lat, "gx": (gx_lon, gx_lat), "station": station, "engine": engine,
            "ambulance": ambulance, "gx_station": gx_station, "hospital": hospital, "shelter": shelter,
            "county_admin": county_admin}


def test_permission_and_scope(res: dict[str, Any]) -> None:
    assert Client().get("/emergency/resources/").status_code == 302  # to the login page
    dispatcher = client_for(res["dispatcher"])
    assert dispatcher.get("/emergency/resources/").status_code == 403
    assert dispatcher.get("/emergency/resources/stations/new/").status_code == 403
    assert dispatcher.post(f"/emergency/resources/fixed/{res['hospital'].pk}/available/",
                           {"available": "1"}).status_code == 403
    assert FixedResource.objects.get(pk=res["hospital"].pk).available == 120
    # the county administrator sees and edits only 莘县
    county = client_for(res["county_admin"])
    body = county.get("/emergency/resources/").content.decode()
    assert "燕塔消防救援站" in body and "古楼消防救援站" not in body
    assert county.get(f"/emergency/resources/stations/{res['gx_station'].pk}/").status_code == 403
    assert county.get(f"/emergency/resources/fixed/{res['shelter'].pk}/").status_code == 403
    assert county.get("/emergency/resources/units/999999/").status_code == 404
    # nav links: the admin sees the resources page in the emergency navigation, the dispatcher does not
    page = county.get("/emergency/incidents/").content.decode()
    assert 'href="/emergency/resources/"' in page and 'href="/emergency/board/"' in page
    assert 'href="/emergency/resources/"' not in dispatcher.get("/emergency/incidents/").content.decode()


def test_list_filters_and_map_points(res: dict[str, Any]) -> None:
    c = client_for(res["admin"])
    stations = c.get("/emergency/resources/")
    assert stations.status_code == 200
    body = stations.content.decode()
    assert 'id="station-table"' in body and "燕塔消防救援站" in body and "古楼消防救援站" in body
    assert {p["name"] for p in points(body)} >= {"燕塔消防救援站", "古楼消防救援站"}
    assert 'data-counties-url="/ogcapi/collections/counties/items?limit=100"' in body
    only_sx = c.get(f"/emergency/resources/?tab=stations&county={SX}").content.decode()
    assert "燕塔消防救援站" in only_sx and "古楼消防救援站" not in only_sx
    units = c.get("/emergency/resources/?tab=units&type=ambulance").content.decode()
    assert 'id="unit-table"' in units and "莘县急救1" in units and "燕塔水罐1" not in units
    assert [p["name"] for p in points(units)] == ["莘县急救1"]
    by_agency = c.get(f"/emergency/resources/?tab=units&agency={Department.objects.get(code=FIRE).pk}")
    assert "燕塔水罐1" in by_agency.content.decode() and "莘县急救1" not in by_agency.content.decode()
    fixed = c.get("/emergency/resources/?tab=fixed&kind=hospital").content.decode()
    assert 'id="fixed-table"' in fixed and "莘县人民医院" in fixed and "古楼广场应急避难场所" not in fixed
    assert f'id="available-{res["hospital"].pk}" name="available" value="120"' in fixed
    assert "空床" in fixed
    searched = c.get("/emergency/resources/?tab=fixed&q=广场").content.decode()
    assert "古楼广场应急避难场所" in searched and "莘县人民医院" not in searched
    depot = dispatch.create_fixed_resource(acting_user=res["admin"], kind="depot", name="莘县应急物资储备库",
                                           lon=res["lon"], lat=res["lat"], capacity=800, available=800,
                                           details={"items": {"帐篷": 300, "棉被": 500}})
    page = c.get(f"/emergency/resources/fixed/{depot.pk}/")
    assert page.status_code == 200 and "帐篷 300、棉被 500" in page.content.decode()


def test_create_and_edit_through_the_services(res: dict[str, Any]) -> None:
    c = client_for(res["county_admin"])
    lon, lat = offset(res["lon"], res["lat"], north_m=400)
    audits = AuditRecord.objects.count()
    assert c.get("/emergency/resources/stations/new/").status_code == 200
    made = c.post("/emergency/resources/stations/new/", {
        "code": "371522-FS-T2", "name": "莘亭消防救援站", "department": Department.objects.get(code=FIRE).pk,
        "lon": f"{lon:.6f}", "lat": f"{lat:.6f}", "datum": "gcj02"})
    assert made.status_code == 302, made.content.decode()[:2000]
    station = Station.objects.get(code="371522-FS-T2")
    assert station.county_code == SX and made["Location"].startswith("/emergency/resources/?tab=stations")
    # a unit at the new station, capabilities split on 、 and commas
    made = c.post("/emergency/resources/units/new/", {
        "call_sign": "莘亭抢险1", "unit_type": "rescue_engine", "department": Department.objects.get(code=FIRE).pk,
        "station": station.pk, "capabilities": "破拆、照明, 起重", "datum": "gcj02"})
    assert made.status_code == 302
    unit = Unit.objects.get(call_sign="莘亭抢险1")
    assert unit.station_id == station.pk and unit.capabilities == ["破拆", "照明", "起重"]
    assert (unit.lon, unit.lat) == (station.lon, station.lat) and unit.status == "available"
    # edit the unit: another station, new capabilities (its position is not on the form)
    page = c.get(f"/emergency/resources/units/{unit.pk}/").content.decode()
    assert 'name="lon"' not in page and "破拆、照明、起重" in page
    edited = c.post(f"/emergency/resources/units/{unit.pk}/", {
        "call_sign": "莘亭抢险1", "unit_type": "rescue_engine", "department": Department.objects.get(code=FIRE).pk,
        "station": res["station"].pk, "capabilities": "破拆"})
    assert edited.status_code == 302
    unit.refresh_from_db()
    assert unit.station_id == res["station"].pk and unit.capabilities == ["破拆"]
    # edit the station: name and position
    moved = offset(res["lon"], res["lat"], north_m=450)
    edited = c.post(f"/emergency/resources/stations/{station.pk}/", {
        "name": "莘亭消防救援站（新址）", "department": Department.objects.get(code=FIRE).pk,
        "lon": f"{moved[0]:.6f}", "lat": f"{moved[1]:.6f}", "datum": "gcj02", "code": "ignored"})
    assert edited.status_code == 302
    station.refresh_from_db()
    assert station.name == "莘亭消防救援站（新址）" and station.code == "371522-FS-T2"
    # a shelter, then edited
    made = c.post("/emergency/resources/fixed/new/", {
        "kind": "shelter", "name": "莘县体育场应急避难场所", "capacity": "5000", "available": "4800",
        "lon": f"{lon:.6f}", "lat": f"{lat:.6f}", "datum": "gcj02"})
    assert made.status_code == 302
    shelter = FixedResource.objects.get(name="莘县体育场应急避难场所")
    assert (shelter.capacity, shelter.available, shelter.county_code) == (5000, 4800, SX)
    assert c.post(f"/emergency/resources/fixed/{shelter.pk}/", {
        "name": shelter.name, "capacity": "6000", "available": "6000"}).status_code == 302
    assert FixedResource.objects.get(pk=shelter.pk).capacity == 6000
    assert AuditRecord.objects.count() == audits + 6


def test_free_beds_and_refusals(res: dict[str, Any]) -> None:
    c = client_for(res["county_admin"])
    hospital = res["hospital"]
    url = f"/emergency/resources/fixed/{hospital.pk}/available/"
    back = "/emergency/resources/?tab=fixed&kind=hospital"
    done = c.post(url, {"available": "97", "next": back})
    assert done.status_code == 302 and done["Location"] == back
    assert FixedResource.objects.get(pk=hospital.pk).available == 97
    assert "可用数已更新为 97" in c.get(back).content.decode()
    # more free beds than beds, not a number, an outside redirect: refused, nothing written
    too_many = c.post(url, {"available": "5000"})
    assert too_many.status_code == 400 and "可用数不能超过容量" in too_many.content.decode()
    assert c.post(url, {"available": "many"}).status_code == 400
    assert FixedResource.objects.get(pk=hospital.pk).available == 97
    assert c.post(url, {"available": "90", "next": "https://evil.example/"})["Location"].startswith(
        "/emergency/resources/")
    # a station in a county outside the administrator's scope: the form says so, nothing written
    gx_lon, gx_lat = res["gx"]
    refused = c.post("/emergency/resources/stations/new/", {
        "code": "371502-FS-X", "name": "越权站", "department": Department.objects.get(code=FIRE).pk,
        "lon": f"{gx_lon:.6f}", "lat": f"{gx_lat:.6f}", "datum": "gcj02"})
    assert refused.status_code == 403 and "371502" in refused.content.decode()
    assert not Station.objects.filter(code="371502-FS-X").exists()
    # bad input: no point, a point outside the city, a duplicate call sign, a duplicate station code
    no_point = c.post("/emergency/resources/stations/new/", {
        "code": "371522-FS-X", "name": "无位置", "department": Department.objects.get(code=FIRE).pk, "datum": "gcj02"})
    assert no_point.status_code == 400 and "请在地图上点选或填写坐标" in no_point.content.decode()
    outside = c.post("/emergency/resources/fixed/new/", {
        "kind": "depot", "name": "外地储备库", "capacity": "10", "available": "10", "lon": "120.0", "lat": "30.0",
        "datum": "gcj02"})
    assert outside.status_code == 400 and not FixedResource.objects.filter(name="外地储备库").exists()
    twice = c.post("/emergency/resources/units/new/", {
        "call_sign": "燕塔水罐1", "unit_type": "fire_engine", "department": Department.objects.get(code=FIRE).pk,
        "station": res["station"].pk})
    assert twice.status_code == 409 and "呼号已存在" in twice.content.decode()
    assert Unit.objects.filter(call_sign="燕塔水罐1").count() == 1
    nowhere = c.post("/emergency/resources/units/new/", {
        "call_sign": "无驻地1", "unit_type": "fire_engine", "department": Department.objects.get(code=FIRE).pk})
    assert nowhere.status_code == 400 and not Unit.objects.filter(call_sign="无驻地1").exists()
    dup = c.post("/emergency/resources/stations/new/", {
        "code": "371522-FS-T1", "name": "重复", "department": Department.objects.get(code=FIRE).pk,
        "lon": f"{res['lon']:.6f}", "lat": f"{res['lat']:.6f}", "datum": "gcj02"})
    assert dup.status_code == 409 and "站点编码已存在" in dup.content.decode()
    # a unit on a task keeps its type
    dispatch.dispatch_units(acting_user=res["city"], incident=_incident(res), unit_ids=[res["engine"].pk])
    busy = c.post(f"/emergency/resources/units/{res['engine'].pk}/", {
        "call_sign": "燕塔水罐1", "unit_type": "foam_tender", "department": Department.objects.get(code=FIRE).pk,
        "station": res["station"].pk, "capabilities": ""})
    assert busy.status_code == 409 and Unit.objects.get(pk=res["engine"].pk).unit_type == "fire_engine"


def _incident(res: dict[str, Any]) -> Any:
    from .test_recommend import new_incident

    return new_incident(res["dispatcher"], res["lon"], res["lat"])
