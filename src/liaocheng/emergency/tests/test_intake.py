"""Call intake and incidents: types and plans, calls, attach/merge/split/link, state, transfers, pages."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import shapely
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from liaocheng.core.errors import Conflict, InvalidInput, NotFound
from liaocheng.core.models import AuditRecord, Department
from liaocheng.emergency import intake
from liaocheng.emergency.models import (
    Call,
    Incident,
    IncidentEvent,
    IncidentLink,
    IncidentType,
    ResponsePlan,
    Transfer,
    Unit,
)
from liaocheng.geo.models import Grid
from liaocheng.geo.services import OutsideCity

DC = "371502"  # 东昌府区
SX = "371522"  # 莘县
CITY = "371500"


@pytest.fixture
def em(db: None, staff_factory: Any) -> dict[str, Any]:
    intake.load_incident_types()
    return {
        "taker": staff_factory("e_taker", department_code=f"{DC}-fire_rescue", roles=(("emergency_call_taker", DC),)),
        "taker_sx": staff_factory("e_taker_sx", department_code=f"{SX}-fire_rescue",
                                  roles=(("emergency_call_taker", SX),)),
        "dispatcher": staff_factory("e_disp", department_code=f"{DC}-fire_rescue",
                                    roles=(("emergency_dispatcher", DC),)),
        "police": staff_factory("e_police", department_code=f"{DC}-public_security",
                                roles=(("emergency_dispatcher", DC),)),
        "hotline": staff_factory("e_hotline", department_code=f"{CITY}-hotline_12345",
                                 roles=(("emergency_dispatcher", CITY),)),
        "city": staff_factory("e_city", department_code=f"{CITY}-emergency_management",
                              roles=(("emergency_dispatcher", CITY),)),
        "leader": staff_factory("e_leader", department_code=f"{DC}-emergency_management", real_name="王值班",
                                roles=(("emergency_duty_leader", DC),)),
        "leader_city": staff_factory("e_leader_city", department_code=f"{CITY}-emergency_management",
                                     real_name="李市值班", roles=(("emergency_duty_leader", CITY),)),
        "leader_sx": staff_factory("e_leader_sx", department_code=f"{SX}-emergency_management",
                                   real_name="赵莘县", roles=(("emergency_duty_leader", SX),)),
        "admin": staff_factory("e_admin", roles=(("emergency_admin", CITY),)),
        "supervisor": staff_factory("e_super", department_code=f"{DC}-public_security",
                                    roles=(("emergency_dispatcher", DC), ("data_admin", DC))),
    }


def point_in(county: str = DC, nth: int = 0) -> tuple[float, float]:
    grids = Grid.objects.filter(county_code=county, size_class="urban").order_by("code")
    grid = grids[nth] if grids.count() > nth else Grid.objects.filter(county_code=county).order_by("code")[nth]
    p = shapely.from_geojson(grid.geometry).representative_point()
    return p.x, p.y


def call(u: Any, **kw: Any) -> intake.IntakeResult:
    lon, lat = point_in()
    args: dict[str, Any] = {"line": "119", "caller_number": "13812345678", "lon": lon, "lat": lat,
                            "address": "东昌府区柳园路 18 号", "narrative": "18 楼起火，浓烟很大，有人被困",
                            "incident_type_code": "12G04", "severity": 4}
    args.update(kw)
    return intake.take_call(acting_user=u, **args)


def add_unit(incident: Incident | None, sign: str = "DC-119-01") -> Unit:
    now = timezone.now()
    lon, lat = point_in()
    return Unit.objects.create(call_sign=sign, unit_type="fire_engine",
                               department=Department.objects.get(code=f"{DC}-fire_rescue"), status="dispatched",
                               status_at=now, lon=lon, lat=lat, position_at=now, incident=incident, county_code=DC)


# --- types and plans ----------------------------------------------------------------------------------------

def test_types_load_idempotent_plans_resolve_and_edits_are_audited(em: dict[str, Any]) -> None:
    assert IncidentType.objects.filter(code="12G04", name="高层民用建筑火灾", owning_kind="fire_rescue").exists()
    assert IncidentType.objects.get(code="11A01").parent.code == "11A00"  # type: ignore[union-attr]
    assert IncidentType.objects.get(code="11000").parent.code == "10000"  # type: ignore[union-attr]
    assert intake.owning_kind_of(IncidentType.objects.get(code="12H02")) == "traffic_police"
    assert intake.load_incident_types() == 0
    call_command("load_incident_types", stdout=io.StringIO())

    def needs(code: str, severity: int | None) -> dict[str, int]:
        return intake.response_needs(IncidentType.objects.get(code=code), severity)

    assert needs("12G04", 4) == {"fire_engine": 3, "aerial_ladder": 1, "ambulance": 1, "police_car": 1}
    assert needs("12G04", 2)["aerial_ladder"] == 2  # its own level-Ⅱ plan
    assert needs("12G03", 4) == {"fire_engine": 2, "ambulance": 1}  # no own plan: 12G00's
    assert needs("12G03", 1)["fire_engine"] == 8  # 12G00 at level Ⅰ
    assert needs("12H02", 4) == {"traffic_police": 1, "ambulance": 1}
    assert needs("12D02", 4) == {"hazmat": 1, "fire_engine": 2, "ambulance": 1}
    assert needs("11A52", 4) == {"rescue_team": 1, "water_crew": 1}  # 11A00's
    assert needs("12P10", 3) == {"rescue_team": 1, "police_car": 1}  # 12P00's

    for bad in ("12I01", "12O00", "15A00", "11012", "1A000", "12g0", ""):
        with pytest.raises(InvalidInput):
            intake.validate_type_code(bad)
    assert intake.validate_type_code("12g04") == "12G04"
    assert intake.validate_type_code("10000") == "10000"

    with pytest.raises(PermissionDenied):
        intake.update_incident_type(acting_user=em["dispatcher"], code="12G04", default_priority=2)
    with pytest.raises(InvalidInput):
        intake.update_incident_type(acting_user=em["admin"], code="12G04", owning_kind="nope")
    intake.update_incident_type(acting_user=em["admin"], code="12G04", name="高层建筑火灾", default_priority=2)
    intake.set_response_plan(acting_user=em["admin"], code="12G04", severity=None,
                             needs={"fire_engine": 4, "aerial_ladder": 1})
    with pytest.raises(InvalidInput):
        intake.set_response_plan(acting_user=em["admin"], code="12G04", severity=None, needs={"tank": 1})
    assert intake.load_incident_types() == 0  # edits survive a reload
    itype = IncidentType.objects.get(code="12G04")
    assert (itype.name, itype.default_priority) == ("高层建筑火灾", 2)
    assert needs("12G04", 4) == {"fire_engine": 4, "aerial_ladder": 1}
    assert intake.set_response_plan(acting_user=em["admin"], code="12G04", severity=None, needs={}) is None
    assert needs("12G04", 4) == {"fire_engine": 2, "ambulance": 1}  # back to 12G00's
    assert AuditRecord.objects.filter(action="emergency.update_type", object_id="12G04").exists()
    assert AuditRecord.objects.filter(action="emergency.set_plan").count() == 2

    local = intake.create_incident_type(acting_user=em["admin"], code="12P14", name="城市燃气管网泄漏",
                                        owning_kind="gas")
    assert local.parent is not None and local.parent.code == "12P00"
    with pytest.raises(InvalidInput):  # the parent 12Z00 does not exist
        intake.create_incident_type(acting_user=em["admin"], code="12Z01", name="x")
    with pytest.raises(Conflict):
        intake.create_incident_type(acting_user=em["admin"], code="12P14", name="x")


# --- calls and incidents ---------------------------------------------------------------------------------

def test_a_119_call_becomes_an_incident_of_the_county_fire_department(em: dict[str, Any]) -> None:
    answered = timezone.now() - dt.timedelta(seconds=30)
    result = call(em["taker"], received_at=answered - dt.timedelta(seconds=6), answered_at=answered)
    inc = result.incident
    assert result.created and result.repeat_calls == 0
    assert inc.number.startswith(f"YJ{DC}{timezone.localtime(inc.created_at):%Y%m%d}")
    assert (inc.county_code, inc.centre_code, inc.state) == (DC, DC, "new")
    assert inc.grid_code.startswith(DC) and len(inc.grid_code) == 15
    assert inc.township_code == inc.grid_code[:9] and inc.community_code == inc.grid_code[:12]
    assert inc.owning_department is not None and inc.owning_department.code == f"{DC}-fire_rescue"
    assert inc.incident_type.code == "12G04" and inc.priority == 1  # fires: priority 1
    assert inc.first_answered_at == answered
    c = Call.objects.get(incident=inc)
    assert c.narrative == "18 楼起火，浓烟很大，有人被困" and c.line == "119" and c.location_source == "map"
    assert c.caller_number == "13812345678" and c.caller_index == intake.caller_index("13812345678")
    with connection.cursor() as cur:
        cur.execute("SELECT caller_number FROM emergency_call WHERE id = %s", [c.pk])
        assert "13812345678" not in cur.fetchone()[0]  # encrypted at rest
    assert list(inc.events.values_list("action", flat=True)) == ["create", "call"]
    rec = AuditRecord.objects.get(action="emergency.take_call")
    assert rec.after["caller"] == "138****5678" and rec.after["incident"] == inc.number
    assert not inc.events.filter(action="notify").exists()  # Ⅳ: no leader notification

    # a 120 call with a device fix (WGS84): the city 120 centre leads (no county 120 department)
    lon, lat = point_in(nth=1)
    amb = call(em["taker"], line="120", lon=lon - 0.005, lat=lat - 0.002, datum="wgs84",
               incident_type_code="13C00", narrative="食堂多人呕吐").incident
    assert amb.owning_department is not None and amb.owning_department.code == f"{CITY}-emergency_medical"
    assert Call.objects.get(incident=amb).location_source == "device"


def test_a_second_call_nearby_is_offered_and_attached(em: dict[str, Any]) -> None:
    first = call(em["taker"]).incident
    lon, lat = point_in()
    near = intake.nearby_open_incidents(lon + 0.001, lat + 0.0005, acting_user=em["taker"])
    assert [n.incident.number for n in near] == [first.number] and 0 < near[0].distance_m < 500
    assert intake.nearby_open_incidents(lon + 0.02, lat, acting_user=em["taker"]) == []  # ~1.8 km away
    assert intake.nearby_open_incidents(lon, lat, acting_user=em["taker_sx"]) == []  # not in their scope
    second = call(em["taker"], lon=lon + 0.001, lat=lat + 0.0005, caller_number="13900001111",
                  narrative="柳园路那栋高楼冒黑烟", attach_to=near[0].incident)
    assert not second.created and second.incident.pk == first.pk
    assert list(Call.objects.filter(incident=first).values_list("narrative", flat=True)) == [
        "18 楼起火，浓烟很大，有人被困", "柳园路那栋高楼冒黑烟"]
    third = call(em["taker"], attach_to=first, narrative="还在烧")  # the first caller again
    assert third.repeat_calls == 1
    assert intake.repeat_calls("138-1234-5678").count() == 2
    assert Incident.objects.count() == 1
    assert list(first.events.values_list("action", flat=True)) == ["create", "call", "call", "call"]


def test_serious_incidents_notify_the_duty_leaders_of_the_centre(
        em: dict[str, Any], django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]) -> None:
    em["leader"].email = "wang.duty@liaocheng.example"
    em["leader"].save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        inc = call(em["taker"], severity=2).incident
    [mail] = mailoutbox  # only the county leader has an address
    assert mail.to == ["wang.duty@liaocheng.example"] and inc.number in mail.subject
    assert f"/emergency/incidents/{inc.number}/" in mail.body
    event = inc.events.get(action="notify")
    names = {x["username"] for x in event.data["leaders"]}
    assert names == {"e_leader", "e_leader_city"}  # the county's and the city's, not 莘县's
    assert "王值班" in event.note
    assert AuditRecord.objects.filter(action="emergency.notify_leaders", object_id=inc.number).exists()
    # raising a Ⅳ incident to Ⅲ notifies; lowering does not
    low = call(em["taker"], severity=4, lon=point_in(nth=3)[0], lat=point_in(nth=3)[1]).incident
    intake.classify_incident(acting_user=em["taker"], incident=low, severity=3)
    intake.classify_incident(acting_user=em["taker"], incident=low, severity=4)
    assert low.events.filter(action="notify").count() == 1
    low.refresh_from_db()
    assert (low.severity, low.priority) == (4, 1)
    # reclassifying to a road accident hands the lead to the traffic police
    intake.classify_incident(acting_user=em["taker"], incident=low, incident_type_code="12H02")
    low.refresh_from_db()
    assert low.owning_department is not None and low.owning_department.code == f"{DC}-traffic_police"


def test_merge_split_and_link_keep_every_narrative(em: dict[str, Any]) -> None:
    u = em["taker"]
    a = call(u).incident
    call(u, attach_to=a, narrative="第二个电话：有人在阳台呼救")
    b = call(u, lon=point_in(nth=2)[0], lat=point_in(nth=2)[1], narrative="又一起：同一火灾，另一侧看到明火",
             severity=2).incident
    survivor = intake.merge_incidents(acting_user=u, incident=b, into=a, note="同一火灾")
    b.refresh_from_db()
    assert survivor.pk == a.pk and b.state == "merged" and b.merged_into_id == a.pk
    assert survivor.severity == 2  # the higher severity survives
    assert Call.objects.filter(incident=a).count() == 3 and not Call.objects.filter(incident=b).exists()
    assert b.events.filter(action="merged", data__into=a.number).exists()
    assert a.events.filter(action="merge_in", data__from=b.number).exists()
    assert a.events.filter(action="notify").exists()  # raised to Ⅱ by the merge
    with pytest.raises(Conflict):
        intake.merge_incidents(acting_user=u, incident=b, into=a)
    with pytest.raises(Conflict):  # calls cannot be attached to a merged incident
        call(u, attach_to=b)

    # split: the call about the other side becomes its own incident, a child of the first
    moved = Call.objects.get(narrative__startswith="又一起")
    with pytest.raises(InvalidInput):  # all calls cannot leave
        intake.split_incident(acting_user=u, incident=a, call_ids=Call.objects.filter(incident=a).values_list(
            "pk", flat=True))
    child = intake.split_incident(acting_user=u, incident=a, call_ids=[moved.pk], incident_type_code="12G03",
                                  severity=4)
    assert Call.objects.get(pk=moved.pk).incident_id == child.pk
    assert Call.objects.filter(incident=a).count() == 2
    assert child.incident_type.code == "12G03" and child.centre_code == a.centre_code
    assert [(v.other.pk, v.kind) for v in intake.links_of(a)] == [(child.pk, "child")]
    assert [(v.other.pk, v.kind) for v in intake.links_of(child)] == [(a.pk, "parent")]
    assert sorted(Call.objects.values_list("narrative", flat=True)) == sorted([
        "18 楼起火，浓烟很大，有人被困", "第二个电话：有人在阳台呼救", "又一起：同一火灾，另一侧看到明火"])

    c = call(u, line="110", lon=point_in(nth=4)[0], lat=point_in(nth=4)[1], incident_type_code="14B03",
             narrative="有人故意纵火后逃跑").incident
    intake.link_incidents(acting_user=u, incident=c, other=a, kind="related")
    assert [(v.other.pk, v.kind) for v in intake.links_of(a) if v.other.pk == c.pk] == [(c.pk, "related")]
    with pytest.raises(Conflict):
        intake.link_incidents(acting_user=u, incident=a, other=c, kind="parent")
    with pytest.raises(InvalidInput):
        intake.link_incidents(acting_user=u, incident=a, other=c, kind="cousin")
    intake.unlink_incidents(acting_user=u, incident=a, other=c)
    assert not IncidentLink.objects.filter(kind="related").exists()
    assert c.events.filter(action="unlink").exists()


def test_state_changes_and_closing_with_units_assigned(em: dict[str, Any]) -> None:
    inc = call(em["taker"]).incident
    with pytest.raises(PermissionDenied):  # call-takers do not close incidents
        intake.set_incident_state(acting_user=em["taker"], incident=inc, state="closed", disposition="已扑灭")
    unit = add_unit(inc)
    with pytest.raises(Conflict) as exc:
        intake.set_incident_state(acting_user=em["dispatcher"], incident=inc, state="closed", disposition="已扑灭")
    assert "DC-119-01" in exc.value.message_zh
    with pytest.raises(InvalidInput) as bad:
        intake.set_incident_state(acting_user=em["dispatcher"], incident=inc, state="closed")
    assert bad.value.field == "disposition"
    with pytest.raises(Conflict):
        intake.set_incident_state(acting_user=em["dispatcher"], incident=inc, state="on_scene")  # dispatch's job
    inc = intake.set_incident_state(acting_user=em["dispatcher"], incident=inc, state="under_control")
    assert inc.controlled_at is not None
    unit.incident = None
    unit.save()
    inc = intake.set_incident_state(acting_user=em["dispatcher"], incident=inc, state="closed",
                                    disposition="明火已扑灭，无人员伤亡")
    assert (inc.state, inc.disposition) == ("closed", "明火已扑灭，无人员伤亡") and inc.closed_at is not None
    with pytest.raises(Conflict):
        intake.set_incident_state(acting_user=em["dispatcher"], incident=inc, state="under_control")
    assert list(inc.events.filter(action="state").values_list("data__to", flat=True)) == ["under_control", "closed"]
    intake.add_note(acting_user=em["dispatcher"], incident=inc, text="已通知物业排查")
    with pytest.raises(PermissionDenied):
        intake.add_note(acting_user=em["taker_sx"], incident=inc, text="x")
    other = call(em["taker"]).incident
    other = intake.set_assisting_departments(acting_user=em["dispatcher"], incident=other,
                                             departments=[f"{DC}-public_security", f"{CITY}-emergency_medical"])
    assert other.assisting_departments.count() == 2
    with pytest.raises(InvalidInput):
        intake.set_assisting_departments(acting_user=em["dispatcher"], incident=other, departments=["nope"])
    with pytest.raises(InvalidInput):  # the owning department does not assist itself
        intake.set_assisting_departments(acting_user=em["dispatcher"], incident=other,
                                         departments=[f"{DC}-fire_rescue"])


def test_bad_input_is_refused_and_nothing_is_written(em: dict[str, Any]) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"lon": None, "lat": None, "address": ""}, "lon"),
        ({"lon": None, "lat": None, "address": "东昌府区柳园路 18 号"}, "lon"),  # an address alone
        ({"lon": "abc"}, "lon"),
        ({"lon": 100.0, "lat": 30.0}, "lon"),  # outside Liaocheng
        ({"incident_type_code": "12Z99"}, "incident_type"),
        ({"incident_type_code": ""}, "incident_type"),
        ({"narrative": "火" * 4001}, "narrative"),
        ({"narrative": "   "}, "narrative"),
        ({"line": "999"}, "line"),
        ({"caller_number": "13812abc"}, "caller_number"),
        ({"severity": 7}, "severity"),
        ({"answered_at": timezone.now() + dt.timedelta(hours=1)}, "answered_at"),
        ({"received_at": timezone.now() + dt.timedelta(minutes=1), "answered_at": timezone.now()}, "received_at"),
        ({"datum": "bd09"}, "datum"),
        ({"location_source": "psychic"}, "location_source"),
    ]
    for kw, field in cases:
        with pytest.raises(InvalidInput) as exc:
            call(em["taker"], **kw)
        assert exc.value.field == field, kw
        assert exc.value.message_zh and exc.value.message_en
    with pytest.raises(OutsideCity):
        call(em["taker"], lon=116.4, lat=39.9)
    assert not Incident.objects.exists() and not Call.objects.exists() and not IncidentEvent.objects.exists()
    assert not AuditRecord.objects.filter(action__startswith="emergency.take").exists()
    # closed incident: attaching refused, nothing written
    inc = call(em["taker"]).incident
    intake.set_incident_state(acting_user=em["dispatcher"], incident=inc, state="closed", disposition="误报")
    with pytest.raises(Conflict):
        call(em["taker"], attach_to=inc)
    assert Call.objects.count() == 1


def test_another_countys_call_taker_is_refused(em: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        call(em["taker_sx"])  # a point in 东昌府区
    assert not Incident.objects.exists()
    inc = call(em["taker"]).incident
    with pytest.raises(PermissionDenied):
        call(em["taker_sx"], attach_to=inc)
    lon, lat = point_in(SX)
    other = call(em["taker_sx"], lon=lon, lat=lat).incident
    with pytest.raises(PermissionDenied):
        intake.merge_incidents(acting_user=em["taker"], incident=other, into=inc)
    with pytest.raises(PermissionDenied):
        intake.get_incident(acting_user=em["taker_sx"], number=inc.number)
    assert Call.objects.count() == 2
    assert other.owning_department is not None and other.owning_department.code == f"{SX}-fire_rescue"


def test_caller_number_is_masked_without_personal_data_rights(em: dict[str, Any]) -> None:
    c = call(em["taker"]).call
    assert intake.caller_display(c, em["dispatcher"]) == "138****5678"
    assert intake.caller_display(c, em["supervisor"]) == "13812345678"


# --- linkage: 12345 ↔ 110, county ↔ city ---------------------------------------------------------------------

def test_12345_to_110_transfer_and_the_result_flows_back(em: dict[str, Any]) -> None:
    inc = call(em["hotline"], line="12345", caller_number="13600002222", incident_type_code="14000",
               narrative="楼下有人持刀吵架，很吓人").incident
    assert inc.owning_department is not None and inc.owning_department.code == f"{DC}-public_security"
    with pytest.raises(PermissionDenied):  # call-takers cannot transfer
        intake.transfer_incident(acting_user=em["taker"], incident=inc, to_line="110", reason="涉警")
    with pytest.raises(InvalidInput):
        intake.transfer_incident(acting_user=em["hotline"], incident=inc, to_line="12345", reason="x")
    t = intake.transfer_incident(acting_user=em["hotline"], incident=inc, to_line="110",
                                 reason="涉及人身安全，一键转 110")
    assert (t.from_line, t.to_line, t.status) == ("12345", "110", "sent")
    with pytest.raises(Conflict):  # one open transfer at a time
        intake.transfer_incident(acting_user=em["hotline"], incident=inc, to_line="110", reason="again")
    with pytest.raises(PermissionDenied):  # the hotline cannot accept its own work order for 110
        intake.accept_transfer(acting_user=em["hotline"], transfer=t)
    with pytest.raises(Conflict):  # a result before acceptance
        intake.return_transfer_result(acting_user=em["police"], transfer=t, result="x")
    intake.accept_transfer(acting_user=em["police"], transfer=t)
    t = intake.return_transfer_result(acting_user=em["police"], transfer=t, result="民警到场，已将两人带离调解")
    assert (t.status, t.result) == ("returned", "民警到场，已将两人带离调解") and t.answered_at is not None
    inc.refresh_from_db()
    result_event = inc.events.get(action="transfer_result")
    assert result_event.note == "民警到场，已将两人带离调解" and result_event.data["to"] == "12345"
    assert AuditRecord.objects.filter(action="emergency.transfer_result").exists()

    # unresolved: 110 refuses, the first line (12345) keeps it
    t2 = intake.transfer_incident(acting_user=em["hotline"], incident=inc, to_line="110", reason="再次转办")
    t2 = intake.refuse_transfer(acting_user=em["police"], transfer=t2, reason="非警情，属物业纠纷")
    assert t2.status == "refused"
    assert inc.events.filter(action="transfer_refuse", data__kept_by="12345").exists()


def test_county_to_city_centre_transfer(em: dict[str, Any]) -> None:
    inc = call(em["taker"], severity=2).incident
    t = intake.transfer_incident(acting_user=em["dispatcher"], incident=inc, to_centre=CITY,
                                 reason="跨区域，需市级统一调度")
    with pytest.raises(InvalidInput):
        intake.transfer_incident(acting_user=em["dispatcher"], incident=inc, to_centre=SX, reason="x")
    with pytest.raises(PermissionDenied):  # the county cannot accept for the city
        intake.accept_transfer(acting_user=em["dispatcher"], transfer=t)
    intake.accept_transfer(acting_user=em["city"], transfer=t)
    inc.refresh_from_db()
    assert inc.centre_code == CITY
    intake.return_transfer_result(acting_user=em["city"], transfer=t, result="市级中心已接管并调派增援")
    back = intake.transfer_incident(acting_user=em["city"], incident=inc, to_centre=DC, reason="火势已控制，交回属地")
    intake.accept_transfer(acting_user=em["dispatcher"], transfer=back)
    inc.refresh_from_db()
    assert inc.centre_code == DC
    assert Transfer.objects.filter(incident=inc).count() == 2


# --- pages ------------------------------------------------------------------------------------------------

def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_console_posts_a_call_and_the_pages_render(em: dict[str, Any]) -> None:
    c = client_for(em["taker"])
    page = c.get("/emergency/intake/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="intake-map"' in html and "12G04" in html and "emergency-intake.js" in html
    lon, lat = point_in()
    form = {"line": "119", "caller_number": "13812345678", "address": "柳园路 18 号", "lon": f"{lon:.6f}",
            "lat": f"{lat:.6f}", "datum": "gcj02", "narrative": "高层住宅起火", "incident_type": "12G04",
            "severity": "4", "answered_at": timezone.now().isoformat()}
    resp = c.post("/emergency/intake/", form)
    assert resp.status_code == 302
    inc = Incident.objects.get()
    assert Call.objects.get().taker == em["taker"]
    # the nearby fragment offers it for the next call, which attaches
    frag = c.get("/emergency/intake/nearby/", {"lon": f"{lon:.6f}", "lat": f"{lat:.6f}"}).content.decode()
    assert f'value="{inc.number}"' in frag
    resp = c.post("/emergency/intake/", {**form, "narrative": "同一火灾，第二个电话", "attach_to": inc.number,
                                         "next": "incident"})
    assert resp.status_code == 302 and resp["Location"] == f"/emergency/incidents/{inc.number}/"
    assert Incident.objects.count() == 1 and Call.objects.count() == 2
    # bad input shows the error, nothing written
    resp = c.post("/emergency/intake/", {**form, "lon": "", "lat": ""})
    assert resp.status_code == 400 and "请在地图上点选" in resp.content.decode()
    assert Call.objects.count() == 2
    assert "该位置不在聊城市范围内" in c.get("/emergency/intake/nearby/", {"lon": "100", "lat": "30"}).content.decode()

    d = client_for(em["dispatcher"])
    assert inc.number in d.get("/emergency/incidents/").content.decode()
    detail = d.get(f"/emergency/incidents/{inc.number}/")
    html = detail.content.decode()
    assert detail.status_code == 200
    assert "高层住宅起火" in html and "同一火灾，第二个电话" in html
    assert "138****5678" in html and "13812345678" not in html
    assert 'data-action="closed"' in html and 'id="timeline"' in html
    resp = d.post(f"/emergency/incidents/{inc.number}/act/", {"action": "closed", "disposition": ""})
    assert resp.status_code == 400 and 'id="action-error"' in resp.content.decode()
    resp = d.post(f"/emergency/incidents/{inc.number}/act/", {"action": "note", "text": "现场指挥部已设立"})
    assert resp.status_code == 302
    resp = d.post(f"/emergency/incidents/{inc.number}/act/", {"action": "closed", "disposition": "已扑灭"})
    assert resp.status_code == 302
    inc.refresh_from_db()
    assert inc.state == "closed"
    assert d.get("/emergency/types/").status_code == 200
    plan_form = {"action": "plan", "code": "12G04", "severity": "", "needs": "fire_engine=5, ambulance=2"}
    assert client_for(em["admin"]).post("/emergency/types/", plan_form).status_code == 302
    assert ResponsePlan.objects.get(incident_type__code="12G04", severity=None).needs == {"fire_engine": 5,
                                                                                          "ambulance": 2}

    # other counties and other staff
    assert client_for(em["taker_sx"]).get(f"/emergency/incidents/{inc.number}/").status_code == 403
    assert client_for(em["leader"]).get("/emergency/intake/").status_code == 403  # no take_calls
    nav = client_for(em["leader"]).get("/emergency/incidents/").content.decode()
    assert 'href="/emergency/incidents/"' in nav


def test_incident_page_actions_merge_link_transfer(em: dict[str, Any]) -> None:
    a = call(em["taker"]).incident
    b = call(em["taker"], lon=point_in(nth=2)[0], lat=point_in(nth=2)[1], narrative="另一个电话").incident
    d = client_for(em["dispatcher"])
    url = f"/emergency/incidents/{b.number}/act/"
    assert d.post(url, {"action": "link", "other": a.number, "kind": "child"}).status_code == 302
    assert f'data-link="{a.number}"' in d.get(f"/emergency/incidents/{b.number}/").content.decode()
    assert [v.kind for v in intake.links_of(b)] == ["parent"]  # b is a child of a: a is b's parent
    assert d.post(url, {"action": "unlink", "other": a.number}).status_code == 302
    resp = d.post(url, {"action": "merge", "into": "YJ000"})
    assert resp.status_code == 400
    assert d.post(url, {"action": "merge", "into": a.number}).status_code == 302
    b.refresh_from_db()
    assert b.state == "merged"
    resp = d.post(f"/emergency/incidents/{a.number}/act/", {"action": "transfer", "to_centre": CITY, "reason": "升级"})
    assert resp.status_code == 302
    t = Transfer.objects.get()
    c = client_for(em["city"])
    page = c.get(f"/emergency/incidents/{a.number}/").content.decode()
    assert 'data-action="transfer_accept"' in page
    assert c.post(f"/emergency/incidents/{a.number}/act/", {"action": "transfer_accept",
                                                            "transfer": str(t.pk)}).status_code == 302
    a.refresh_from_db()
    assert a.centre_code == CITY
    resp = d.post(f"/emergency/incidents/{a.number}/act/", {"action": "transfer_result", "transfer": str(t.pk),
                                                            "result": "x"})
    assert resp.status_code == 403


def test_get_incident_unknown_number(em: dict[str, Any]) -> None:
    with pytest.raises(NotFound):
        intake.get_incident(acting_user=em["dispatcher"], number="YJ0")
