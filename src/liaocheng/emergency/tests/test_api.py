"""The emergency JSON API (``/api/emergency/``): intake with nearby incidents, incident list and detail
(caller masked by right), recommendation, dispatch (409 naming the unit on a double dispatch), unit status,
the units board; errors (400 with field, 401, 403, 404, 409) with nothing written on a refusal."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
import shapely
from django.test import Client
from django.utils import timezone

from liaocheng.core.models import AuditRecord
from liaocheng.emergency import dispatch, intake, recommend
from liaocheng.emergency.models import (
    Assignment,
    Call,
    Incident,
    IncidentEvent,
    IncidentType,
    ResponsePlan,
    Unit,
    UnitStatus,
)
from liaocheng.geo.models import Grid

pytestmark = pytest.mark.django_db

DC = "371502"  # 东昌府区
SX = "371522"  # 莘县
CITY = "371500"
BASE = "/api/emergency"
JSON = "application/json"


def point_in(county: str = DC, nth: int = 0) -> tuple[float, float]:
    grid = Grid.objects.filter(county_code=county, size_class="urban").order_by("code")[nth]
    p = shapely.from_geojson(grid.geometry).representative_point()
    return p.x, p.y


def offset(lon: float, lat: float, north_m: float = 0.0, east_m: float = 0.0) -> tuple[float, float]:
    return lon + east_m / (111_320 * math.cos(math.radians(lat))), lat + north_m / 111_320


def client_for(user: Any | None = None, **kw: Any) -> Client:
    c = Client(**kw)
    if user is not None:
        c.force_login(user)
    return c


@pytest.fixture
def em(staff_factory: Any) -> dict[str, Any]:
    intake.load_incident_types()
    fire = IncidentType.objects.get(code="12G04")
    ResponsePlan.objects.filter(incident_type=fire).delete()
    ResponsePlan.objects.create(incident_type=fire, severity=None, needs={"fire_engine": 2, "ambulance": 1})
    recommend.invalidate_index()
    users = {
        "taker": staff_factory("a_taker", department_code=f"{DC}-fire_rescue", roles=(("emergency_call_taker", DC),)),
        "taker_sx": staff_factory("a_taker_sx", department_code=f"{SX}-fire_rescue",
                                  roles=(("emergency_call_taker", SX),)),
        "disp": staff_factory("a_disp", department_code=f"{DC}-fire_rescue", roles=(("emergency_dispatcher", DC),)),
        "disp2": staff_factory("a_disp2", department_code=f"{DC}-public_security",
                               roles=(("emergency_dispatcher", DC),)),
        "disp_sx": staff_factory("a_disp_sx", department_code=f"{SX}-fire_rescue",
                                 roles=(("emergency_dispatcher", SX),)),
        "crew_sx": staff_factory("a_crew_sx", department_code=f"{SX}-fire_rescue", roles=(("emergency_unit", SX),)),
        "supervisor": staff_factory("a_super", department_code=f"{DC}-public_security",
                                    roles=(("emergency_dispatcher", DC), ("data_admin", DC))),
        "admin": staff_factory("a_admin", department_code=f"{CITY}-emergency_management",
                               roles=(("emergency_admin", CITY),)),
    }
    lon, lat = point_in()
    admin = users["admin"]
    units = {
        "e1": dispatch.create_unit(acting_user=admin, call_sign="东昌水罐1", unit_type="fire_engine",
                                   department=f"{DC}-fire_rescue", lon=offset(lon, lat, north_m=800)[0],
                                   lat=offset(lon, lat, north_m=800)[1]),
        "e2": dispatch.create_unit(acting_user=admin, call_sign="东昌水罐2", unit_type="fire_engine",
                                   department=f"{DC}-fire_rescue", lon=offset(lon, lat, east_m=1500)[0],
                                   lat=offset(lon, lat, east_m=1500)[1]),
        "e3": dispatch.create_unit(acting_user=admin, call_sign="东昌水罐3", unit_type="fire_engine",
                                   department=f"{DC}-fire_rescue", lon=offset(lon, lat, north_m=6000)[0],
                                   lat=offset(lon, lat, north_m=6000)[1]),
        "a1": dispatch.create_unit(acting_user=admin, call_sign="东昌急救1", unit_type="ambulance",
                                   department=f"{CITY}-emergency_medical", lon=offset(lon, lat, east_m=900)[0],
                                   lat=offset(lon, lat, east_m=900)[1]),
    }
    sx_lon, sx_lat = point_in(SX)
    units["sx1"] = dispatch.create_unit(acting_user=admin, call_sign="莘县水罐1", unit_type="fire_engine",
                                        department=f"{SX}-fire_rescue", lon=sx_lon, lat=sx_lat)
    return {**users, **units, "lon": lon, "lat": lat}


def call_body(em: dict[str, Any], **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"line": "119", "caller_number": "13812345678", "caller_name": "张三",
                            "lon": em["lon"], "lat": em["lat"], "location_source": "map",
                            "address": "东昌府区柳园路 18 号", "narrative": "18 楼起火，浓烟很大，有人被困",
                            "incident_type": "12G04", "severity": 4}
    body.update(kw)
    return body


def post_call(c: Client, em: dict[str, Any], **kw: Any) -> Any:
    return c.post(f"{BASE}/calls", call_body(em, **kw), content_type=JSON)


# --- calls ----------------------------------------------------------------------------------------------------

def test_take_call_creates_an_incident_and_lists_nearby_ones(em: dict[str, Any]) -> None:
    c = client_for(em["taker"])
    received = (timezone.now() - dt.timedelta(seconds=40)).isoformat()
    first = post_call(c, em, received_at=received)
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["created"] is True and body["nearby"] == [] and body["repeat_calls"] == 0
    inc = body["incident"]
    assert inc["number"].startswith(f"YJ{DC}") and inc["state"] == "new" and inc["incident_type"] == "12G04"
    assert inc["county_code"] == DC and inc["centre_code"] == DC and inc["grid_code"].startswith(DC)
    assert inc["owning_department"] == f"{DC}-fire_rescue" and inc["severity"] == 4
    call = Call.objects.get(pk=body["call_id"])
    assert call.incident.number == inc["number"] and call.taker == em["taker"]
    assert call.received_at == dt.datetime.fromisoformat(received) and call.caller_number == "13812345678"

    # a second call 150 m away about another matter: a new incident, the first listed as nearby
    lon2, lat2 = offset(em["lon"], em["lat"], north_m=150)
    second = post_call(c, em, lon=lon2, lat=lat2, incident_type="12H02", line="122", narrative="两车相撞")
    assert second.status_code == 201
    data = second.json()
    assert data["created"] is True and data["repeat_calls"] == 1
    assert [n["number"] for n in data["nearby"]] == [inc["number"]] and 100 < data["nearby"][0]["distance_m"] < 200

    # a third call attaches to the first incident; a GPS fix (wgs84) is converted
    third = post_call(c, em, attach_to=inc["number"], incident_type="", datum="wgs84", location_source="device",
                      lon=em["lon"] - 0.005, lat=em["lat"] + 0.001, caller_number="13900000001")
    assert third.status_code == 201, third.content
    assert third.json()["created"] is False and third.json()["incident"]["number"] == inc["number"]
    assert Call.objects.filter(incident__number=inc["number"]).count() == 2
    # the nearby look-up before taking a call
    near = c.get(f"{BASE}/nearby", {"lon": em["lon"], "lat": em["lat"]}).json()
    assert {n["number"] for n in near} == {inc["number"], data["incident"]["number"]}


def test_take_call_bad_input_is_400_naming_the_field_and_writes_nothing(em: dict[str, Any]) -> None:
    c = client_for(em["taker"])
    calls, incidents, audits = Call.objects.count(), Incident.objects.count(), AuditRecord.objects.count()
    cases = [
        ({"lon": None, "lat": None}, "lon"),  # an address alone
        ({"lon": "abc"}, "lon"),
        ({"incident_type": "12Z99"}, "incident_type"),
        ({"incident_type": ""}, "incident_type"),
        ({"line": "999"}, "line"),
        ({"narrative": "  "}, "narrative"),
        ({"caller_number": "12ab"}, "caller_number"),
        ({"severity": 7}, "severity"),
        ({"received_at": "yesterday"}, "received_at"),
        ({"answered_at": (timezone.now() + dt.timedelta(hours=1)).isoformat()}, "answered_at"),
        ({"location_source": "radio"}, "location_source"),
        ({"attach_to": "YJ000"}, "attach_to"),
    ]
    for change, field in cases:
        response = post_call(c, em, **change)
        assert response.status_code == 400, (change, response.content)
        assert response.json()["field"] == field, (change, response.json())
        assert response.json()["message_zh"] and response.json()["message_en"]
    outside = post_call(c, em, lon=116.4, lat=39.9)  # Beijing
    assert outside.status_code == 400 and outside.json()["error"] == "outside_liaocheng"
    assert (Call.objects.count(), Incident.objects.count(), AuditRecord.objects.count()) == (calls, incidents, audits)


def test_take_call_permissions_and_closed_incident(em: dict[str, Any]) -> None:
    # anonymous: 401; a call-taker of 莘县 taking a call in 东昌府区: 403; nothing written
    assert post_call(client_for(), em).status_code == 401
    response = post_call(client_for(em["taker_sx"]), em)
    assert response.status_code == 403 and response.json()["error"] == "permission_denied"
    assert not Call.objects.exists()
    # attaching to a closed incident: 409
    number = post_call(client_for(em["taker"]), em).json()["incident"]["number"]
    intake.set_incident_state(acting_user=em["disp"], incident=Incident.objects.get(number=number), state="closed",
                              disposition="误报")
    response = post_call(client_for(em["taker"]), em, attach_to=number)
    assert response.status_code == 409 and response.json()["field"] == "attach_to"
    assert Call.objects.count() == 1


def test_unsafe_methods_need_the_csrf_token(em: dict[str, Any]) -> None:
    c = client_for(em["taker"], enforce_csrf_checks=True)
    assert post_call(c, em).status_code == 403
    c.cookies["csrftoken"] = "a" * 32
    response = c.post(f"{BASE}/calls", call_body(em), content_type=JSON, HTTP_X_CSRFTOKEN="a" * 32)
    assert response.status_code == 201


# --- incidents ------------------------------------------------------------------------------------------------

def test_incident_list_filters_and_scope(em: dict[str, Any], staff_factory: Any) -> None:
    c = client_for(em["taker"])
    fire = post_call(c, em).json()["incident"]["number"]
    crash = post_call(c, em, incident_type="12H02", line="122",
                      lon=offset(em["lon"], em["lat"], east_m=3000)[0]).json()["incident"]["number"]
    sx_lon, sx_lat = point_in(SX)
    sx = post_call(client_for(em["taker_sx"]), em, lon=sx_lon, lat=sx_lat).json()["incident"]["number"]
    Incident.objects.filter(number=crash).update(created_at=timezone.now() - dt.timedelta(hours=3))

    disp = client_for(em["disp"])

    def numbers(**params: Any) -> list[str]:
        response = disp.get(f"{BASE}/incidents", params)
        assert response.status_code == 200, response.content
        return [i["number"] for i in response.json()["incidents"]]

    assert numbers() == [fire, crash]  # newest first, only 东昌府区 (scope)
    assert disp.get(f"{BASE}/incidents").json()["total"] == 2
    assert numbers(state="open") == [fire, crash] and numbers(state="closed") == []
    assert numbers(type="12G04") == [fire] and numbers(type="12H00") == [crash] and numbers(type="12000") == [
        fire, crash]
    assert numbers(county=SX) == []
    since = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    assert numbers(since=since) == [fire]
    assert numbers(limit=1, offset=1) == [crash]
    city = client_for(em["admin"])  # emergency_admin holds emergency.view for the city
    assert {r["number"] for r in city.get(f"{BASE}/incidents").json()["incidents"]} == {fire, crash, sx}
    assert [r["number"] for r in city.get(f"{BASE}/incidents", {"county": SX}).json()["incidents"]] == [sx]
    for params, field in (({"state": "burning"}, "state"), ({"county": "3715"}, "county"), ({"type": "xx"}, "type"),
                          ({"since": "soon"}, "since"), ({"limit": 0}, "limit")):
        response = disp.get(f"{BASE}/incidents", params)
        assert response.status_code == 400 and response.json()["field"] == field, params
    # a user without emergency.view anywhere: 403
    clerk = staff_factory("a_clerk")
    response = client_for(clerk).get(f"{BASE}/incidents")
    assert response.status_code == 403 and response.json()["error"] == "permission_denied"
    assert client_for().get(f"{BASE}/incidents").status_code == 401


def test_incident_detail_masks_the_caller_without_personal_data_right(em: dict[str, Any]) -> None:
    number = post_call(client_for(em["taker"]), em).json()["incident"]["number"]
    detail = client_for(em["disp"]).get(f"{BASE}/incidents/{number}")
    assert detail.status_code == 200
    data = detail.json()
    (row,) = data["calls"]
    assert row["caller_number"] == "138****5678" and row["caller_name"] == "张*"
    assert row["narrative"] == "18 楼起火，浓烟很大，有人被困" and row["line"] == "119"
    assert [e["action"] for e in data["timeline"]] == ["create", "call"]
    assert data["timeline"][1]["data"]["caller"] == "138****5678"
    assert data["assignments"] == [] and data["links"] == [] and data["transfers"] == []
    full = client_for(em["supervisor"]).get(f"{BASE}/incidents/{number}").json()
    assert full["calls"][0]["caller_number"] == "13812345678" and full["calls"][0]["caller_name"] == "张三"
    # other county: 403; unknown: 404
    response = client_for(em["disp_sx"]).get(f"{BASE}/incidents/{number}")
    assert response.status_code == 403 and response.json()["error"] == "permission_denied"
    response = client_for(em["disp"]).get(f"{BASE}/incidents/YJ000000")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


# --- recommendation and dispatch --------------------------------------------------------------------------------

def test_recommendation_then_dispatch_then_409_for_a_unit_already_taken(em: dict[str, Any]) -> None:
    number = post_call(client_for(em["taker"]), em).json()["incident"]["number"]
    disp, disp2 = client_for(em["disp"]), client_for(em["disp2"])
    rec = disp.get(f"{BASE}/incidents/{number}/recommendation")
    assert rec.status_code == 200, rec.content
    data = rec.json()
    assert data["recommended_ids"] == [em["e1"].pk, em["e2"].pk, em["a1"].pk]
    assert data["plan_code"] == "12G04" and data["area"] == "urban" and data["shortfall"] == {}
    engines = data["needs"][0]
    assert engines["unit_type"] == "fire_engine" and engines["needed"] == 2 and engines["missing"] == 2
    assert [c["call_sign"] for c in engines["chosen"]] == ["东昌水罐1", "东昌水罐2"]
    assert engines["chosen"][0]["eta_seconds"] > 80 and engines["chosen"][0]["distance_m"] == pytest.approx(800, abs=5)
    assert [c["call_sign"] for c in engines["alternatives"]][:1] == ["东昌水罐3"]
    # a call-taker may not see the recommendation (no emergency.dispatch); unknown incident: 404
    assert client_for(em["taker"]).get(f"{BASE}/incidents/{number}/recommendation").status_code == 403
    assert disp.get(f"{BASE}/incidents/YJ0/recommendation").status_code == 404

    done = disp.post(f"{BASE}/incidents/{number}/dispatch",
                     {"unit_ids": data["recommended_ids"], "recommended_ids": data["recommended_ids"],
                      "note": "按预案出动"}, content_type=JSON)
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["state"] == "dispatched" and [a["call_sign"] for a in body["assignments"]] == [
        "东昌水罐1", "东昌水罐2", "东昌急救1"]
    assert all(a["recommended"] and a["unit_status"] == "dispatched" and a["eta_seconds"] for a in body["assignments"])

    # a second dispatcher sends 水罐3 and the already taken 水罐1 to another incident: 409 naming 水罐1, nothing written
    other = post_call(client_for(em["taker"]), em, lon=offset(em["lon"], em["lat"], north_m=3000)[0],
                      lat=offset(em["lon"], em["lat"], north_m=3000)[1]).json()["incident"]["number"]
    events = IncidentEvent.objects.count()
    clash = disp2.post(f"{BASE}/incidents/{other}/dispatch", {"unit_ids": [em["e3"].pk, em["e1"].pk]},
                       content_type=JSON)
    assert clash.status_code == 409
    err = clash.json()
    assert err["error"] == "unit_unavailable" and err["field"] == "unit_ids"
    assert "东昌水罐1" in err["message_zh"] and "东昌水罐1" in err["message_en"]
    assert Unit.objects.get(pk=em["e3"].pk).status == UnitStatus.AVAILABLE
    assert not Assignment.objects.filter(incident__number=other).exists() and IncidentEvent.objects.count() == events
    # the same units again to the same incident: 409 too
    again = disp.post(f"{BASE}/incidents/{number}/dispatch", {"unit_ids": [em["e1"].pk]}, content_type=JSON)
    assert again.status_code == 409 and again.json()["error"] == "unit_unavailable"

    # the detail now shows the assignments and the dispatch in the timeline
    detail = disp.get(f"{BASE}/incidents/{number}").json()
    assert [a["call_sign"] for a in detail["assignments"]] == ["东昌水罐1", "东昌水罐2", "东昌急救1"]
    assert [e["action"] for e in detail["timeline"]].count("dispatch") == 3
    # the recommendation now counts the units on the incident: nothing more needed
    rec = disp.get(f"{BASE}/incidents/{number}/recommendation").json()
    assert rec["recommended_ids"] == [] and rec["needs"][0]["assigned"] == 2


def test_dispatch_errors(em: dict[str, Any]) -> None:
    number = post_call(client_for(em["taker"]), em).json()["incident"]["number"]
    disp = client_for(em["disp"])
    url = f"{BASE}/incidents/{number}/dispatch"
    for body, status, field in (({"unit_ids": []}, 400, "unit_ids"), ({"unit_ids": ["x"]}, 400, "unit_ids"),
                                ({"unit_ids": [987654]}, 404, "unit_ids")):
        response = disp.post(url, body, content_type=JSON)
        assert response.status_code == status and response.json()["field"] == field, body
    # outside the dispatcher's scope, or a call-taker: 403; unknown incident: 404
    assert client_for(em["disp_sx"]).post(url, {"unit_ids": [em["e1"].pk]}, content_type=JSON).status_code == 403
    assert client_for(em["taker"]).post(url, {"unit_ids": [em["e1"].pk]}, content_type=JSON).status_code == 403
    assert disp.post(f"{BASE}/incidents/YJ0/dispatch", {"unit_ids": [em["e1"].pk]},
                     content_type=JSON).status_code == 404
    assert not Assignment.objects.exists()
    # a closed incident: dispatch and recommendation are refused with 409
    intake.set_incident_state(acting_user=em["disp"], incident=Incident.objects.get(number=number), state="closed",
                              disposition="已处置")
    assert disp.post(url, {"unit_ids": [em["e1"].pk]}, content_type=JSON).status_code == 409
    assert disp.get(f"{BASE}/incidents/{number}/recommendation").status_code == 409


# --- units ------------------------------------------------------------------------------------------------------

def test_unit_status_steps_and_errors(em: dict[str, Any]) -> None:
    number = post_call(client_for(em["taker"]), em).json()["incident"]["number"]
    disp = client_for(em["disp"])
    disp.post(f"{BASE}/incidents/{number}/dispatch", {"unit_ids": [em["e1"].pk]}, content_type=JSON)
    url = f"{BASE}/units/{em['e1'].pk}/status"
    response = disp.post(url, {"status": "en_route"}, content_type=JSON)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "en_route" and response.json()["incident"] == number
    assert response.json()["allowed_next"] == ["on_scene", "cleared"]
    on_scene = disp.post(url, {"status": "on_scene", "note": "到场"}, content_type=JSON).json()
    assert on_scene["status"] == "on_scene"
    assert Incident.objects.get(number=number).state == "on_scene"
    # not allowed: 409; unknown status: 400; dispatched only through dispatch: 409
    bad = disp.post(url, {"status": "available"}, content_type=JSON)
    assert bad.status_code == 409 and bad.json()["error"] == "invalid_status_change" and bad.json()["field"] == "status"
    assert disp.post(url, {"status": "flying"}, content_type=JSON).status_code == 400
    assert disp.post(url, {"status": "dispatched"}, content_type=JSON).status_code == 409
    # unknown unit: 404; a crew of another county: 403
    assert disp.post(f"{BASE}/units/987654/status", {"status": "en_route"}, content_type=JSON).status_code == 404
    response = client_for(em["crew_sx"]).post(url, {"status": "cleared"}, content_type=JSON)
    assert response.status_code == 403
    assert Unit.objects.get(pk=em["e1"].pk).status == UnitStatus.ON_SCENE
    # cleared, then available again: released from the incident
    disp.post(url, {"status": "cleared"}, content_type=JSON)
    back = disp.post(url, {"status": "available"}, content_type=JSON).json()
    assert back["status"] == "available" and back["incident"] is None


def test_units_board_filters_counts_and_scope(em: dict[str, Any]) -> None:
    number = post_call(client_for(em["taker"]), em).json()["incident"]["number"]
    disp = client_for(em["disp"])
    disp.post(f"{BASE}/incidents/{number}/dispatch", {"unit_ids": [em["e2"].pk]}, content_type=JSON)
    board = disp.get(f"{BASE}/units").json()
    # 东昌府区's dispatcher sees the units of 东昌府区 (not 莘县's)
    assert {u["call_sign"] for u in board["units"]} == {"东昌水罐1", "东昌水罐2", "东昌水罐3", "东昌急救1"}
    assert board["total"] == 4 and board["counts"]["available"] == 3 and board["counts"]["dispatched"] == 1
    taken = next(u for u in board["units"] if u["call_sign"] == "东昌水罐2")
    assert taken["status"] == "dispatched" and taken["incident"] == number and taken["status_label"]
    assert taken["department"] == f"{DC}-fire_rescue" and taken["unit_type_label"]

    def signs(**params: Any) -> list[str]:
        response = disp.get(f"{BASE}/units", params)
        assert response.status_code == 200, response.content
        return [u["call_sign"] for u in response.json()["units"]]

    assert signs(status="dispatched") == ["东昌水罐2"]
    assert signs(type="ambulance") == ["东昌急救1"]
    assert signs(county=SX) == []
    assert disp.get(f"{BASE}/units", {"status": "available"}).json()["total"] == 3
    city = client_for(em["admin"])
    assert "莘县水罐1" in [u["call_sign"] for u in city.get(f"{BASE}/units", {"county": SX}).json()["units"]]
    for params, field in (({"status": "x"}, "status"), ({"type": "tank"}, "type"), ({"county": "1"}, "county"),
                          ({"limit": 5000}, "limit")):
        response = disp.get(f"{BASE}/units", params)
        assert response.status_code == 400 and response.json()["field"] == field, params
    assert client_for().get(f"{BASE}/units").status_code == 401


def test_openapi_documents_the_emergency_operations(client: Client) -> None:
    paths = set(client.get("/api/openapi.json").json()["paths"])
    assert {f"{BASE}/calls", f"{BASE}/incidents", f"{BASE}/incidents/{{number}}",
            f"{BASE}/incidents/{{number}}/recommendation", f"{BASE}/incidents/{{number}}/dispatch",
            f"{BASE}/units", f"{BASE}/units/{{unit_id}}/status", f"{BASE}/nearby"} <= paths
