"""Dispatch: assignment with automatic unit status and incident state, the timeline, all-or-nothing
refusals, the two-dispatcher race, unit status steps, positions, resources, the board and panel pages,
the crew page, the demo resources."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import OperationalError, connection
from django.test import Client

from liaocheng.core.errors import Conflict, InvalidInput
from liaocheng.core.models import AuditRecord
from liaocheng.emergency import dispatch, intake, recommend
from liaocheng.emergency.dispatch import InvalidStatusChange, UnitUnavailable
from liaocheng.emergency.models import (
    Assignment,
    FixedResource,
    Incident,
    IncidentEvent,
    IncidentState,
    Station,
    Unit,
    UnitStatus,
)

from .test_recommend import FIRE, GX, SX, em, new_incident, new_unit, offset, plan, urban_point

__all__ = ["em"]  # the fixture, imported for this module

US = UnitStatus


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def scene(em: dict[str, Any]) -> dict[str, Any]:
    """A 12G04 incident in 莘县 with a plan of 2 engines + 1 ambulance, and units around it."""
    plan(em["types"], "12G04", None, {"fire_engine": 2, "ambulance": 1})
    lon, lat = urban_point()
    admin = em["admin"]
    units = {
        "e1": new_unit(admin, "莘县水罐1", "fire_engine", *offset(lon, lat, north_m=900)),
        "e2": new_unit(admin, "莘县水罐2", "fire_engine", *offset(lon, lat, east_m=1800)),
        "e3": new_unit(admin, "莘县水罐3", "fire_engine", *offset(lon, lat, north_m=5000)),
        "a1": new_unit(admin, "莘县急救1", "ambulance", *offset(lon, lat, east_m=1200),
                       department="371500-emergency_medical"),
    }
    return {**em, **units, "lon": lon, "lat": lat, "incident": new_incident(em["dispatcher"], lon, lat)}


# --- dispatch ----------------------------------------------------------------------------------------------

def test_dispatch_sets_unit_status_incident_state_and_timeline(scene: dict[str, Any]) -> None:
    incident, disp = scene["incident"], scene["dispatcher"]
    rec = recommend.recommend(incident)
    assert rec.recommended_ids == [scene["e1"].pk, scene["e2"].pk, scene["a1"].pk]
    audits = AuditRecord.objects.count()
    made = dispatch.dispatch_units(acting_user=disp, incident=incident, unit_ids=rec.recommended_ids,
                                   recommended_ids=rec.recommended_ids, note="按预案出动")
    assert len(made) == 3 and all(a.recommended and a.eta_seconds and a.dispatcher == disp for a in made)
    for key in ("e1", "e2", "a1"):
        unit = Unit.objects.get(pk=scene[key].pk)
        assert unit.status == US.DISPATCHED and unit.incident_id == incident.pk
    incident.refresh_from_db()
    assert incident.state == IncidentState.DISPATCHED and incident.first_dispatched_at is not None
    events = list(IncidentEvent.objects.filter(incident=incident).values_list("action", "data"))
    dispatched = [d for a, d in events if a == "dispatch"]
    assert [d["call_sign"] for d in dispatched] == ["莘县水罐1", "莘县水罐2", "莘县急救1"]
    assert dispatched[0]["eta_seconds"] == made[0].eta_seconds and dispatched[0]["recommended"] is True
    assert ("state", {"from": "new", "to": "dispatched", "automatic": True}) in events
    assert AuditRecord.objects.count() == audits + 1
    assert AuditRecord.objects.order_by("-seq").first().action == "emergency.dispatch"  # type: ignore[union-attr]
    # a later dispatch keeps the first time and the state; an extra unit, not recommended
    first = incident.first_dispatched_at
    (extra,) = dispatch.dispatch_units(acting_user=disp, incident=incident, unit_ids=[scene["e3"].pk])
    incident.refresh_from_db()
    assert not extra.recommended and incident.first_dispatched_at == first
    assert IncidentEvent.objects.filter(incident=incident, action="state").count() == 1


def test_unit_not_available_refuses_the_whole_request(scene: dict[str, Any]) -> None:
    incident, disp = scene["incident"], scene["dispatcher"]
    dispatch.dispatch_units(acting_user=disp, incident=incident, unit_ids=[scene["e1"].pk])
    second = new_incident(disp, *offset(scene["lon"], scene["lat"], north_m=2000))
    events = IncidentEvent.objects.count()
    with pytest.raises(UnitUnavailable) as info:
        dispatch.dispatch_units(acting_user=disp, incident=second, unit_ids=[scene["e2"].pk, scene["e1"].pk])
    assert "莘县水罐1" in info.value.message_zh and "莘县水罐1" in info.value.message_en
    assert info.value.status == 409 and info.value.field == "unit_ids"
    # nothing written for the request: e2 still available, no assignment, no event, incident still new
    assert Unit.objects.get(pk=scene["e2"].pk).status == US.AVAILABLE
    assert not Assignment.objects.filter(incident=second).exists()
    assert IncidentEvent.objects.count() == events
    second.refresh_from_db()
    assert second.state == IncidentState.NEW and second.first_dispatched_at is None
    # dispatching the same unit twice to the same incident is refused too
    with pytest.raises(UnitUnavailable):
        dispatch.dispatch_units(acting_user=disp, incident=incident, unit_ids=[scene["e1"].pk])
    # bad input
    with pytest.raises(InvalidInput):
        dispatch.dispatch_units(acting_user=disp, incident=incident, unit_ids=[])
    with pytest.raises(InvalidInput):
        dispatch.dispatch_units(acting_user=disp, incident=incident, unit_ids=["x"])


def test_the_database_refuses_a_second_open_assignment(scene: dict[str, Any]) -> None:
    """Even if a unit row were set back to available by hand, the partial unique constraint holds."""
    incident, disp = scene["incident"], scene["dispatcher"]
    dispatch.dispatch_units(acting_user=disp, incident=incident, unit_ids=[scene["e1"].pk])
    Unit.objects.filter(pk=scene["e1"].pk).update(status=US.AVAILABLE, incident=None)
    with pytest.raises(UnitUnavailable, match="莘县水罐1"):
        dispatch.dispatch_units(acting_user=disp, incident=incident, unit_ids=[scene["e2"].pk, scene["e1"].pk])
    assert Unit.objects.get(pk=scene["e2"].pk).status == US.AVAILABLE
    assert Assignment.objects.filter(unit=scene["e1"]).count() == 1


def test_closed_or_merged_incidents_get_no_units(scene: dict[str, Any]) -> None:
    incident, disp = scene["incident"], scene["dispatcher"]
    intake.set_incident_state(acting_user=disp, incident=incident, state="closed", disposition="误报")
    with pytest.raises(Conflict, match="已结束"):
        dispatch.dispatch_units(acting_user=disp, incident=incident, unit_ids=[scene["e1"].pk])
    Incident.objects.filter(pk=incident.pk).update(state=IncidentState.MERGED)
    with pytest.raises(Conflict):
        dispatch.dispatch_units(acting_user=disp, incident=incident, unit_ids=[scene["e1"].pk])
    assert Unit.objects.get(pk=scene["e1"].pk).status == US.AVAILABLE


def test_dispatcher_of_another_county_is_refused(scene: dict[str, Any]) -> None:
    incident = scene["incident"]
    with pytest.raises(PermissionDenied):
        dispatch.dispatch_units(acting_user=scene["other"], incident=incident, unit_ids=[scene["e1"].pk])
    with pytest.raises(PermissionDenied):
        dispatch.recommend_for(acting_user=scene["other"], incident=incident)
    assert Unit.objects.get(pk=scene["e1"].pk).status == US.AVAILABLE
    # the city centre may dispatch anywhere, units of any county
    dispatch.dispatch_units(acting_user=scene["city"], incident=incident, unit_ids=[scene["e1"].pk])
    c = client_for(scene["other"])
    assert c.get(f"/emergency/incidents/{incident.number}/dispatch/panel/").status_code == 403
    assert c.post(f"/emergency/incidents/{incident.number}/dispatch/", {"unit": [scene["e2"].pk]}).status_code == 403
    assert Unit.objects.get(pk=scene["e2"].pk).status == US.AVAILABLE


# --- the race -------------------------------------------------------------------------------------------

def _busy_retry(fn: Any) -> Any:
    """The in-memory shared-cache SQLite test database reports a held write lock at once ("database table
    is locked") where a file database waits for it (busy_timeout); retry like the busy handler would. The
    failed attempt rolled back entirely. PostgreSQL blocks on the row lock instead and never gets here."""
    for _ in range(400):
        try:
            return fn()
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.005)
    raise AssertionError("lock never released")


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_racing_for_one_unit_exactly_one_wins(transactional_db: None, staff_factory: Any) -> None:
    from .test_recommend import make_types

    types = make_types()
    plan(types, "12G04", None, {"fire_engine": 1})
    admin = staff_factory("race_admin", department_code="371500-emergency_management",
                          roles=(("emergency_admin", "371500"),))
    users = [staff_factory(f"race_d{i}", department_code=FIRE, roles=(("emergency_dispatcher", SX),))
             for i in range(2)]
    lon, lat = urban_point()
    unit = new_unit(admin, "莘县水罐9", "fire_engine", *offset(lon, lat, north_m=700))
    incidents = [new_incident(users[i], *offset(lon, lat, east_m=300 * i)) for i in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[Any] = [None, None]

    def work(i: int) -> None:
        try:
            barrier.wait()
            outcomes[i] = _busy_retry(lambda: dispatch.dispatch_units(
                acting_user=users[i], incident=incidents[i], unit_ids=[unit.pk]))
        except Exception as exc:  # the outcome is inspected below
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    winners = [i for i, o in enumerate(outcomes) if isinstance(o, list)]
    losers = [i for i, o in enumerate(outcomes) if isinstance(o, UnitUnavailable)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert "莘县水罐9" in outcomes[losers[0]].message_zh
    assert Assignment.objects.filter(unit=unit).count() == 1
    row = Unit.objects.get(pk=unit.pk)
    assert row.status == US.DISPATCHED and row.incident_id == incidents[winners[0]].pk
    assert Incident.objects.get(pk=incidents[losers[0]].pk).state == IncidentState.NEW


# --- unit status ----------------------------------------------------------------------------------------

def test_status_steps_time_stamp_the_assignment_and_move_the_incident(scene: dict[str, Any]) -> None:
    incident, disp, crew = scene["incident"], scene["dispatcher"], scene["crew"]
    amb, eng = scene["a1"], scene["e1"]
    dispatch.dispatch_units(acting_user=disp, incident=incident, unit_ids=[amb.pk, eng.pk])
    # refused steps: skipping, transporting with an engine, dispatching through the status
    with pytest.raises(InvalidStatusChange) as info:
        dispatch.set_unit_status(acting_user=crew, unit=eng, status="on_scene")
    assert "莘县水罐1" in info.value.message_zh and info.value.status == 409
    with pytest.raises(InvalidStatusChange):
        dispatch.set_unit_status(acting_user=crew, unit=eng, status="dispatched")
    with pytest.raises(InvalidStatusChange):
        dispatch.set_unit_status(acting_user=crew, unit=eng, status="out_of_service")
    with pytest.raises(InvalidInput):
        dispatch.set_unit_status(acting_user=crew, unit=eng, status="flying")
    for status in ("en_route", "on_scene"):
        dispatch.set_unit_status(acting_user=crew, unit=eng, status=status)
    with pytest.raises(InvalidStatusChange):
        dispatch.set_unit_status(acting_user=crew, unit=eng, status="transporting")
    incident.refresh_from_db()
    assert incident.state == IncidentState.ON_SCENE and incident.first_on_scene_at is not None
    first_on_scene = incident.first_on_scene_at
    for status in ("en_route", "on_scene", "transporting", "at_hospital", "cleared"):
        dispatch.set_unit_status(acting_user=disp, unit=amb, status=status)  # the dispatcher, by radio
    a = Assignment.objects.get(unit=amb)
    stamps = [a.dispatched_at, a.en_route_at, a.on_scene_at, a.transporting_at, a.at_hospital_at, a.cleared_at]
    assert all(stamps) and stamps == sorted(stamps)  # type: ignore[type-var]
    amb.refresh_from_db()
    assert amb.status == US.CLEARED and amb.incident_id is None
    incident.refresh_from_db()
    assert incident.first_on_scene_at == first_on_scene
    steps = [(d["call_sign"], d["to"]) for d in IncidentEvent.objects.filter(incident=incident, action="unit_status")
             .values_list("data", flat=True)]
    assert steps == [("莘县水罐1", "en_route"), ("莘县水罐1", "on_scene"), ("莘县急救1", "en_route"),
                     ("莘县急救1", "on_scene"), ("莘县急救1", "transporting"), ("莘县急救1", "at_hospital"),
                     ("莘县急救1", "cleared")]
    assert [d["to"] for d in IncidentEvent.objects.filter(incident=incident, action="state")
            .values_list("data", flat=True)] == ["dispatched", "on_scene"]
    # back in service, then out of service and back; cleared units can be sent again only once available
    with pytest.raises(UnitUnavailable):
        dispatch.dispatch_units(acting_user=disp, incident=incident, unit_ids=[amb.pk])
    assert dispatch.set_unit_status(acting_user=crew, unit=amb, status="available").status == US.AVAILABLE
    assert dispatch.set_unit_status(acting_user=crew, unit=amb, status="out_of_service").status == US.OUT_OF_SERVICE
    with pytest.raises(UnitUnavailable):
        dispatch.dispatch_units(acting_user=disp, incident=incident, unit_ids=[amb.pk])
    dispatch.set_unit_status(acting_user=crew, unit=amb, status="available")
    (again,) = dispatch.dispatch_units(acting_user=disp, incident=incident, unit_ids=[amb.pk])
    assert Assignment.objects.filter(unit=amb).count() == 2 and again.cleared_at is None
    # a crew of another county may not step this unit
    with pytest.raises(PermissionDenied):
        dispatch.set_unit_status(acting_user=scene["other"], unit=eng, status="cleared")


def test_recalled_units_and_closing(scene: dict[str, Any]) -> None:
    incident, disp = scene["incident"], scene["dispatcher"]
    dispatch.dispatch_units(acting_user=disp, incident=incident, unit_ids=[scene["e1"].pk])
    with pytest.raises(Conflict):  # intake refuses to close with units assigned
        intake.set_incident_state(acting_user=disp, incident=incident, state="closed", disposition="扑灭")
    dispatch.set_unit_status(acting_user=disp, unit=scene["e1"], status="cleared")  # recalled before arrival
    intake.set_incident_state(acting_user=disp, incident=incident, state="closed", disposition="扑灭")


def test_position_pings_are_validated_and_not_audited(scene: dict[str, Any]) -> None:
    import datetime as dt

    from django.utils import timezone

    unit, crew = scene["e1"], scene["crew"]
    audits = AuditRecord.objects.count()
    lon, lat = offset(scene["lon"], scene["lat"], north_m=100)
    assert dispatch.update_position(acting_user=crew, unit=unit, lon=lon, lat=lat)
    unit.refresh_from_db()
    assert (unit.lon, unit.lat) == (lon, lat)
    old = timezone.now() - dt.timedelta(minutes=5)
    assert not dispatch.update_position(acting_user=crew, unit=unit, lon=lon + 0.01, lat=lat, at=old)  # stale
    assert dispatch.update_position(acting_user=crew, unit=unit, lon="115.60", lat="36.20", datum="wgs84")
    unit.refresh_from_db()
    assert unit.lon != 115.60  # converted to GCJ-02
    for bad in ({"lon": "abc", "lat": lat}, {"lon": float("nan"), "lat": lat}, {"lon": 100.0, "lat": lat},
                {"lon": lon, "lat": lat, "datum": "bd09"},
                {"lon": lon, "lat": lat, "at": timezone.now() + dt.timedelta(hours=1)}):
        with pytest.raises(InvalidInput):
            dispatch.update_position(acting_user=crew, unit=unit, **bad)
    with pytest.raises(PermissionDenied):
        dispatch.update_position(acting_user=scene["other"], unit=unit, lon=lon, lat=lat)
    assert AuditRecord.objects.count() == audits


# --- resources ----------------------------------------------------------------------------------------

def test_resources_are_created_in_scope_and_audited(em: dict[str, Any], staff_factory: Any) -> None:
    lon, lat = urban_point()
    county_admin = staff_factory("em_cadmin", department_code=FIRE, roles=(("emergency_admin", SX),))
    audits = AuditRecord.objects.count()
    station = dispatch.create_station(acting_user=county_admin, code="371522-FS-T1", name="燕塔消防救援站",
                                      department=FIRE, lon=lon, lat=lat)
    assert station.county_code == SX
    unit = dispatch.create_unit(acting_user=county_admin, call_sign="燕塔水罐1", unit_type="fire_engine",
                                department=FIRE, station=station, capabilities=["水罐 8 t", "水罐 8 t"])
    assert (unit.lon, unit.lat, unit.county_code, unit.capabilities) == (station.lon, station.lat, SX, ["水罐 8 t"])
    res = dispatch.create_fixed_resource(acting_user=county_admin, kind="hospital", name="莘县人民医院", lon=lon,
                                         lat=lat, capacity=1100, available=120)
    dispatch.update_fixed_resource(acting_user=county_admin, resource=res, available=98)
    assert FixedResource.objects.get(pk=res.pk).available == 98
    dispatch.update_unit(acting_user=county_admin, unit=unit, unit_type="foam_tender")
    assert AuditRecord.objects.count() == audits + 5
    gx_lon, gx_lat = urban_point(GX)
    with pytest.raises(PermissionDenied):
        dispatch.create_station(acting_user=county_admin, code="371502-X", name="x", department=FIRE, lon=gx_lon,
                                lat=gx_lat)
    with pytest.raises(PermissionDenied):
        dispatch.create_unit(acting_user=em["dispatcher"], call_sign="X1", unit_type="fire_engine", department=FIRE,
                             station=station)
    with pytest.raises(Conflict):
        dispatch.create_unit(acting_user=county_admin, call_sign="燕塔水罐1", unit_type="fire_engine",
                             department=FIRE, station=station)
    with pytest.raises(InvalidInput):
        dispatch.create_unit(acting_user=county_admin, call_sign="燕塔X", unit_type="tank", department=FIRE,
                             station=station)
    with pytest.raises(InvalidInput):
        dispatch.create_fixed_resource(acting_user=county_admin, kind="hospital", name="x", lon=lon, lat=lat,
                                       capacity=10, available=11)
    with pytest.raises(InvalidInput):
        dispatch.create_station(acting_user=county_admin, code="Y", name="y", department=FIRE, lon=120.0, lat=30.0)
    assert not Station.objects.filter(code__in=["371502-X", "Y"]).exists()


def test_demo_resources_cover_every_county(db: None) -> None:
    import numpy as np

    from liaocheng.core.departments import COUNTIES
    from liaocheng.emergency.demo import ensure_demo_resources
    from liaocheng.geo import services as geo_services

    created = ensure_demo_resources()
    assert 400 <= created["units"] <= 900 and created["stations"] >= 150 and created["resources"] >= 30
    assert ensure_demo_resources() == {"stations": 0, "units": 0, "resources": 0}
    rows = list(Unit.objects.values_list("county_code", "unit_type", "lon", "lat"))
    grids = geo_services.locate_many(np.array([r[2] for r in rows]), np.array([r[3] for r in rows]))
    assert all(g.startswith(r[0]) for g, r in zip(grids, rows, strict=True))  # inside its own county
    counties = {code for code, _name in COUNTIES}
    for kind in ("police_car", "fire_engine", "ambulance", "traffic_police", "water_crew", "power_crew",
                 "gas_crew", "rescue_team", "aerial_ladder"):
        assert {r[0] for r in rows if r[1] == kind} == counties, kind
    assert set(FixedResource.objects.values_list("kind", flat=True)) == {"hospital", "shelter", "depot"}
    assert set(FixedResource.objects.values_list("county_code", flat=True)) == counties


# --- pages ------------------------------------------------------------------------------------------------

def test_panel_recommends_and_dispatch_shows_on_another_dispatchers_board(scene: dict[str, Any],
                                                                         staff_factory: Any) -> None:
    incident = scene["incident"]
    first = client_for(scene["dispatcher"])
    second = client_for(staff_factory("em_disp2", department_code=FIRE, roles=(("emergency_dispatcher", SX),)))
    panel = first.get(f"/emergency/incidents/{incident.number}/dispatch/panel/")
    assert panel.status_code == 200
    body = panel.content.decode()
    for key in ("e1", "e2", "a1"):
        assert f'value="{scene[key].pk}" id="unit-{scene[key].pk}" checked' in body
    assert f'value="{scene["e3"].pk}" id="unit-{scene["e3"].pk}">' in body  # an alternative, unticked
    board = second.get("/emergency/board/")
    assert board.status_code == 200 and 'hx-trigger="every 2s"' in board.content.decode()
    before = second.get("/emergency/board/live/").content.decode()
    assert f'data-unit="{scene["e1"].pk}" data-status="available"' in before
    # accept with a change: the second engine swapped for the third
    chosen = [scene["e1"].pk, scene["e3"].pk, scene["a1"].pk]
    recommended = ",".join(str(scene[k].pk) for k in ("e1", "e2", "a1"))
    answer = first.post(f"/emergency/incidents/{incident.number}/dispatch/",
                        {"unit": chosen, "recommended": recommended, "note": ""}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    assert "已派出" in answer.content.decode() and 'id="assigned-units"' in answer.content.decode()
    assert set(Assignment.objects.filter(incident=incident, recommended=True).values_list("unit_id", flat=True)) == {
        scene["e1"].pk, scene["a1"].pk}
    after = second.get("/emergency/board/live/").content.decode()  # the other dispatcher's next poll
    for key in ("e1", "e3", "a1"):
        assert f'data-unit="{scene[key].pk}" data-status="dispatched"' in after
    assert f'data-unit="{scene["e2"].pk}" data-status="available"' in after
    assert incident.number in after and "已派警" in after
    # the unit was taken meanwhile: the error names it, nothing written
    taken = second.post(f"/emergency/incidents/{incident.number}/dispatch/",
                        {"unit": [scene["e2"].pk, scene["e1"].pk]}, HTTP_HX_REQUEST="true")
    assert taken.status_code == 409 and "莘县水罐1" in taken.content.decode()
    assert 'id="dispatch-error"' in taken.content.decode()
    assert Unit.objects.get(pk=scene["e2"].pk).status == US.AVAILABLE
    # without HTMX: redirect to the incident page; extra units by call sign
    plain = second.post(f"/emergency/incidents/{incident.number}/dispatch/", {"extra": "莘县水罐2"})
    assert plain.status_code == 302 and plain["Location"] == f"/emergency/incidents/{incident.number}/"
    unknown = second.post(f"/emergency/incidents/{incident.number}/dispatch/", {"extra": "无此呼号"})
    assert unknown.status_code == 400 and "无此呼号" in unknown.content.decode()
    # filters
    only_amb = second.get("/emergency/board/live/?type=ambulance").content.decode()
    assert f'data-unit="{scene["a1"].pk}" data-status=' in only_amb
    assert f'data-unit="{scene["e1"].pk}" data-status=' not in only_amb


def test_incident_page_loads_the_panel_and_crew_page_steps(scene: dict[str, Any]) -> None:
    incident = scene["incident"]
    disp = client_for(scene["dispatcher"])
    page = disp.get(f"/emergency/incidents/{incident.number}/")
    assert page.status_code == 200
    body = page.content.decode()
    # the panel: rendered inline by the incident page (``panel_context``) or loaded by HTMX from the include
    assert 'id="dispatch-panel"' in body
    assert (f'id="unit-{scene["e1"].pk}" checked' in body
            or f'hx-get="/emergency/incidents/{incident.number}/dispatch/panel/"' in body)
    standalone = disp.get(f"/emergency/incidents/{incident.number}/dispatch/")
    assert standalone.status_code == 200 and "接受并派出" in standalone.content.decode()
    dispatch.dispatch_units(acting_user=scene["dispatcher"], incident=incident, unit_ids=[scene["e1"].pk])
    crew = client_for(scene["crew"])
    assert scene["e1"].call_sign in crew.get("/emergency/units/").content.decode()
    page = crew.get(f"/emergency/units/{scene['e1'].pk}/").content.decode()
    assert incident.number in page and 'value="en_route"' in page and 'value="on_scene"' not in page
    assert crew.post(f"/emergency/units/{scene['e1'].pk}/status/", {"status": "en_route"}).status_code == 302
    refused = crew.post(f"/emergency/units/{scene['e1'].pk}/status/", {"status": "at_hospital"})
    assert refused.status_code == 409 and 'id="crew-error"' in refused.content.decode()
    ping = crew.post(f"/emergency/units/{scene['e1'].pk}/position/", {"lon": scene["lon"], "lat": scene["lat"]})
    assert ping.status_code == 200 and ping.json() == {"applied": True}
    assert crew.post(f"/emergency/units/{scene['e1'].pk}/position/", {"lon": "x", "lat": "1"}).status_code == 400
    # the dispatcher steps a unit from the panel
    stepped = disp.post(f"/emergency/units/{scene['e1'].pk}/status/", {"status": "on_scene",
                                                                       "panel": incident.number},
                        HTTP_HX_REQUEST="true")
    assert stepped.status_code == 200 and 'data-status="on_scene"' in stepped.content.decode()
    other = client_for(scene["other"])
    assert other.get(f"/emergency/units/{scene['e1'].pk}/").status_code == 403
    assert other.get("/emergency/units/").status_code == 403 or scene["e1"].call_sign not in other.get(
        "/emergency/units/").content.decode()


# --- in the browser: accept the recommendation, another dispatcher's board follows without a reload ------

@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_board_follows_a_dispatch_live_in_the_browser(live_server: Any, browser: Any, staff_factory: Any) -> None:
    from pathlib import Path

    from liaocheng.core.testing import totp_code

    from .test_recommend import make_types

    plan(make_types(), "12G04", None, {"fire_engine": 2})
    admin = staff_factory("live_admin", department_code="371500-emergency_management",
                          roles=(("emergency_admin", "371500"),))
    first, second = (staff_factory(f"live_d{i}", department_code=FIRE, roles=(("emergency_dispatcher", SX),))
                     for i in range(2))
    lon, lat = urban_point()
    near = [new_unit(admin, f"莘县水罐{i}", "fire_engine", *offset(lon, lat, north_m=800 * i)) for i in (1, 2, 3)]
    incident = new_incident(first, lon, lat)
    errors: list[str] = []
    pages = []
    for user in (first, second):
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", user.raw_password)
        page.fill("#id_totp", totp_code(user))
        page.click("form[action='/login/'] button[type=submit]")
        page.wait_for_url(f"{live_server.url}/workbench/")
        pages.append(page)
    board, panel = pages[1], pages[0]
    board.goto(f"{live_server.url}/emergency/board/")
    row = f"#unit-table tr[data-unit='{near[0].pk}']"
    assert board.locator(row).get_attribute("data-status") == "available"
    panel.goto(f"{live_server.url}/emergency/incidents/{incident.number}/")
    panel.wait_for_selector("#dispatch-form")
    assert panel.locator(f"#unit-{near[0].pk}").is_checked() and panel.locator(f"#unit-{near[1].pk}").is_checked()
    assert not panel.locator(f"#unit-{near[2].pk}").is_checked()
    panel.click("#dispatch-accept")
    panel.wait_for_selector("#dispatch-done")
    assert panel.locator("#assigned-units tr[data-unit]").count() == 2
    board.wait_for_selector(f"{row}[data-status='dispatched']", timeout=10_000)  # the poll, no reload
    assert board.locator(f"article[data-incident='{incident.number}'] .unit-status").count() == 2
    shots = Path.cwd() / "var" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    board.screenshot(path=str(shots / "emergency-board.png"), full_page=True)
    panel.locator("#dispatch-panel").screenshot(path=str(shots / "emergency-dispatch-panel.png"))
    for page in pages:
        page.context.close()
    assert not errors, errors
