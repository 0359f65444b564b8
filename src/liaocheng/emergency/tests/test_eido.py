"""NENA EIDO export: structure and required fields after the NENA EIDO-JSON schema, resolvable references,
times with offsets, WGS84 locations, merge/split/link components, caller data only with permission, the
download on the incident page."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from liaocheng.emergency import dispatch, eido, intake
from liaocheng.emergency.models import Incident
from liaocheng.geo.datum import wgs84_to_gcj02

from .test_recommend import FIRE, SX, em, new_unit, offset, plan, urban_point

__all__ = ["em"]

CALLER = "13912340987"
CALLER_NAME = "王晓明"
OFFSET_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")

# required properties per component (NENA911/EIDO-JSON Schema/openapi.yaml, EIDO 1.0)
REQUIRED: dict[str, tuple[str, ...]] = {
    "agencyComponent": ("agencyRoleDescriptionRegistryText", "agencyType"),
    "agentComponent": ("agentRoleRegistryText", "agencyReference"),
    "callComponent": ("callStateRegistryText", "standardPrimaryCallType", "direction", "callStartTimestamp"),
    "callbackComponent": (),
    "locationComponent": ("locationTypeDescriptionRegistryText",),
    "personComponent": ("personIncidentRoleRegistryText",),
    "emergencyResourceComponent": ("agentReference", "emergencyResourceTypeCommonRegistryText",
                                   "primaryUnitStatusRegistryText", "resourceAttributeRegistryText",
                                   "secondaryUnitStatusRegistryText"),
    "dispatchComponent": (),
    "notesComponent": ("notesActionComments",),
    "mergeComponent": ("incidentMergeDirectionCode", "incidentTrackingIdentifier"),
    "linkComponent": ("incidentTrackingIdentifier", "linkDirectionCode"),
}
PROLOGUE = ("$id", "lastUpdateTimeStamp", "updatedByAgencyReference")
TIME_KEYS = ("lastUpdateTimeStamp", "callStartTimestamp", "answerDate", "eta")


def components(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield "document", doc
    yield "incidentComponent", doc["incidentComponent"]
    for disposition in doc["incidentComponent"].get("dispositionComponent", []):
        yield "dispositionComponent", disposition
    for key, value in doc.items():
        if key.endswith("Component") and isinstance(value, list):
            for item in value:
                yield key, item


def refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if set(value) == {"$ref"}:
            yield value["$ref"]
        for item in value.values():
            yield from refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from refs(item)


def times(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in TIME_KEYS:
                yield item
            else:
                yield from times(item)
    elif isinstance(value, list):
        for item in value:
            yield from times(item)


def check_structure(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every component has the prologue and its required fields; ids are unique; references resolve; times
    carry an offset. Returns the components by $id."""
    assert doc["eidoVersion"] == "1.0" and doc["issuingElementIdentification"] and doc["agencyComponent"]
    assert doc["$id"].startswith("urn:emergency:uid:incidentid:")
    by_id: dict[str, dict[str, Any]] = {}
    for kind, comp in components(doc):
        for key in PROLOGUE:
            assert comp.get(key), f"{kind} {comp.get('$id')} lacks {key}"
        for key in REQUIRED.get(kind, ()):
            assert key in comp, f"{kind} {comp['$id']} lacks {key}"
        assert comp["$id"] not in by_id, f"duplicate $id {comp['$id']}"
        by_id[comp["$id"]] = comp
    assert doc["incidentComponent"]["incidentTypeCommonRegistryText"]
    for disposition in doc["incidentComponent"].get("dispositionComponent", []):
        assert disposition["dispositionCommonRegistryCode"]
    for target in refs(doc):
        assert target in by_id, f"unresolved reference {target}"
    for value in times(doc):
        assert OFFSET_RE.match(value), value
        assert dt.datetime.fromisoformat(value).utcoffset() == dt.timedelta(hours=8)
    for call in doc.get("callComponent", []):
        assert call["direction"] in ("incoming", "outgoing", "internal")
        assert call["$id"].startswith("urn:emergency:uid:callid:")
    for merge in doc.get("mergeComponent", []):
        assert merge["incidentMergeDirectionCode"] in ("REPLACING", "REPLACED", "SPLIT")
    for link in doc.get("linkComponent", []):
        assert link["linkDirectionCode"] in ("PARENT", "CHILD", "RELATED", "UNLINK")
    for agent in doc.get("agentComponent", []):
        assert agent["agentRoleRegistryText"]
    return by_id


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    import math

    dx = (lon2 - lon1) * 111_320 * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(dx, (lat2 - lat1) * 110_574)


def take(user: Any, lon: float, lat: float, narrative: str, attach_to: Incident | None = None,
         number: str = "") -> Incident:
    return intake.take_call(acting_user=user, line="119", narrative=narrative, caller_number=number,
                            caller_name=CALLER_NAME if number else "", address="燕塔街道振兴路 18 号", lon=lon,
                            lat=lat, incident_type_code="12G04", attach_to=attach_to).incident


@pytest.fixture
def story(em: dict[str, Any]) -> dict[str, Any]:
    plan(em["types"], "12G04", None, {"fire_engine": 2})
    disp, admin = em["dispatcher"], em["admin"]
    lon, lat = urban_point()
    main = take(disp, lon, lat, "居民楼三楼起火，浓烟很大", number=CALLER)
    take(disp, *offset(lon, lat, east_m=30), "振兴路小区冒烟", attach_to=main)
    take(disp, *offset(lon, lat, north_m=60), "隔壁仓库也着火了")
    engines = [new_unit(admin, f"莘县水罐{i}", "fire_engine", *offset(lon, lat, north_m=700 * i)) for i in (1, 2)]
    dispatch.dispatch_units(acting_user=disp, incident=main, unit_ids=[u.pk for u in engines], note="按预案出动")
    dispatch.set_unit_status(acting_user=disp, unit=engines[0], status="en_route")
    intake.add_note(acting_user=disp, incident=main, text="现场指挥：<疏散> 三楼住户")
    return {**em, "main": main, "engines": engines, "lon": lon, "lat": lat}


def test_eido_structure_locations_and_resources(story: dict[str, Any]) -> None:
    main = Incident.objects.get(pk=story["main"].pk)
    doc = eido.incident_to_eido(main)
    by_id = check_structure(doc)
    assert doc["$id"] == eido.tracking_id(main.number)
    inc = doc["incidentComponent"]
    assert inc["incidentTypeCommonRegistryText"] == "高层民用建筑火灾" and inc["incidentTypeInternalCode"] == "12G04"
    assert inc["internalIncidentId"] == main.number and inc["incidentStatusInternalText"] == ["dispatched"]
    assert inc["incidentStatusCommonRegistryText"] == ["Dispatched"]
    assert 0 <= inc["incidentCommonPriorityNumber"] <= 10
    # the owning department and the centre
    owner = [a for a in doc["agencyComponent"] if a.get("incidentOwningAgencyIndicator")]
    assert len(owner) == 1 and "消防救援" in json.loads(owner[0]["agencyJcard"])[1][2][3]
    assert any("psap" in a["agencyType"] for a in doc["agencyComponent"])
    # two calls with their narratives; answer times; the call taker and the dispatcher
    calls = doc["callComponent"]
    assert len(calls) == 2
    narratives = [by_id[c["notesReference"][0]["$ref"]]["notesActionComments"] for c in calls]
    assert narratives == ["居民楼三楼起火，浓烟很大", "振兴路小区冒烟"]
    first = main.calls.order_by("answered_at", "pk").first()
    assert first is not None and calls[0]["answerDate"] == eido.stamp(first.answered_at)
    roles = {r for a in doc["agentComponent"] for r in a["agentRoleRegistryText"]}
    assert roles == {"Call Taking", "Dispatching"}
    # every caller is a person linked to its call by the call identifier
    assert [p["callIdentifier"] for p in doc["personComponent"]] == [[c["$id"]] for c in calls]
    # the incident location: WGS84, a few hundred metres from the stored GCJ-02 point, converting back to it
    (loc,) = [by_id[r["$ref"]] for r in inc["locationReference"]]
    assert loc["locationTypeDescriptionRegistryText"] == "Incident"
    wlon, wlat = eido.wgs84_of(loc)
    back = wgs84_to_gcj02(wlon, wlat)
    assert metres(*back, main.lon, main.lat) < 1.0
    assert 100 < metres(wlon, wlat, main.lon, main.lat) < 1500
    assert "<ca:A3>莘县</ca:A3>" in loc["locationByValue"] and "振兴路 18 号" in loc["locationByValue"]
    assert "srsName=\"urn:ogc:def:crs:EPSG::4326\"" in loc["locationByValue"]
    # units: status, ETA after the dispatch, live position, destination the incident
    resources = {r["emergencyResourceName"]: r for r in doc["emergencyResourceComponent"]}
    assert set(resources) == {"莘县水罐1", "莘县水罐2"}
    assert resources["莘县水罐1"]["primaryUnitStatusRegistryText"] == "Enroute"
    assert resources["莘县水罐2"]["unitStatusInternal"] == ["dispatched"]
    for unit, row in zip(story["engines"], (resources["莘县水罐1"], resources["莘县水罐2"]), strict=True):
        assert row["emergencyResourceTypeCommonRegistryText"] == "Engine"
        assert dt.datetime.fromisoformat(row["eta"]) > dt.datetime.fromisoformat(calls[0]["answerDate"])
        position = by_id[row["unitLocationReference"]["$ref"]]
        ulon, ulat = eido.wgs84_of(position)
        assert metres(*wgs84_to_gcj02(ulon, ulat), unit.lon, unit.lat) < 1.0
        assert row["unitDestinationReference"]["$ref"] == loc["$id"]
    (dispatch_row,) = doc["dispatchComponent"]
    assert {r["$ref"] for r in dispatch_row["emergencyResourceReference"]} == {
        r["$id"] for r in resources.values()}
    assert by_id[dispatch_row["agencyReference"]["$ref"]]["agencyType"] == ["fire"]
    # the timeline as notes, HTML-escaped
    texts = [n["notesActionComments"] for n in doc["notesComponent"]]
    assert any("现场指挥：&lt;疏散&gt; 三楼住户" in t for t in texts)
    assert any(t.startswith("派警 · 莘县水罐1") for t in texts)


def test_caller_data_only_with_permission(story: dict[str, Any], staff_factory: Any) -> None:
    main = story["main"]
    for viewer in (None, story["dispatcher"]):
        text = json.dumps(eido.incident_to_eido(main, viewer=viewer), ensure_ascii=False)
        assert CALLER not in text and f"{CALLER[:3]}****{CALLER[-4:]}" not in text
        assert CALLER_NAME not in text and "tel:" not in text and "callbackComponent" not in text
    officer = staff_factory("eido_pd", department_code=FIRE,
                            roles=(("emergency_dispatcher", SX), ("data_admin", SX)))
    doc = eido.incident_to_eido(main, viewer=officer)
    by_id = check_structure(doc)
    (callback,) = doc["callbackComponent"]
    assert callback["callBackInformationUri"] == [f"tel:+86{CALLER}"]
    caller = doc["personComponent"][0]
    assert caller["callBackReference"]["$ref"] == callback["$id"]
    assert by_id[caller["notesReference"][0]["$ref"]]["notesActionComments"] == f"报警人：{CALLER_NAME}"
    assert doc["callComponent"][0]["callBackReference"]["$ref"] == callback["$id"]


def test_merge_split_and_link_components(story: dict[str, Any]) -> None:
    disp, main = story["dispatcher"], story["main"]
    lon, lat = story["lon"], story["lat"]
    duplicate = take(disp, *offset(lon, lat, east_m=-40), "同一栋楼起火")
    intake.merge_incidents(acting_user=disp, incident=duplicate, into=main, note="同一起火灾")
    calls = list(main.calls.order_by("answered_at", "pk").values_list("pk", flat=True))
    assert len(calls) == 3
    child = intake.split_incident(acting_user=disp, incident=main, call_ids=[calls[1]], summary="振兴路小区冒烟")
    related = take(disp, *offset(lon, lat, north_m=300), "附近变压器冒火花")
    intake.link_incidents(acting_user=disp, incident=related, other=main, kind="related", note="同一供电线路")
    intake.set_incident_state(acting_user=disp, incident=related, state="closed", disposition="变压器故障已排除")

    main_doc = eido.incident_to_eido(main)
    check_structure(main_doc)
    merges = {(m["incidentMergeDirectionCode"], m["incidentTrackingIdentifier"]) for m in main_doc["mergeComponent"]}
    assert merges == {("REPLACED", eido.tracking_id(duplicate.number)), ("SPLIT", eido.tracking_id(child.number))}
    links = {(x["linkDirectionCode"], x["incidentTrackingIdentifier"]) for x in main_doc["linkComponent"]}
    assert links == {("CHILD", eido.tracking_id(child.number)), ("RELATED", eido.tracking_id(related.number))}
    reason = next(x for x in main_doc["linkComponent"] if x["linkDirectionCode"] == "RELATED")["transactionReasonText"]
    assert reason == "同一供电线路"

    merged_doc = eido.incident_to_eido(Incident.objects.get(pk=duplicate.pk))
    check_structure(merged_doc)
    assert [(m["incidentMergeDirectionCode"], m["incidentTrackingIdentifier"]) for m in merged_doc["mergeComponent"]] \
        == [("REPLACING", eido.tracking_id(main.number))]
    assert merged_doc["incidentComponent"]["incidentStatusCommonRegistryText"] == ["Merged"]
    assert "callComponent" not in merged_doc  # its call moved to the survivor with its narrative

    child_doc = eido.incident_to_eido(child)
    check_structure(child_doc)
    assert [(m["incidentMergeDirectionCode"], m["incidentTrackingIdentifier"]) for m in child_doc["mergeComponent"]] \
        == [("SPLIT", eido.tracking_id(main.number))]
    assert [(x["linkDirectionCode"], x["incidentTrackingIdentifier"]) for x in child_doc["linkComponent"]] \
        == [("PARENT", eido.tracking_id(main.number))]
    assert [c["localCallType"] for c in child_doc["callComponent"]] == ["119 火警"]

    closed_doc = eido.incident_to_eido(related)
    check_structure(closed_doc)
    (disposition,) = closed_doc["incidentComponent"]["dispositionComponent"]
    assert disposition["dispositionDescriptionText"] == "变压器故障已排除"
    assert closed_doc["incidentComponent"]["incidentStatusCommonRegistryText"] == ["Closed"]
    assert [x["linkDirectionCode"] for x in closed_doc["linkComponent"]] == ["RELATED"]


def test_download_from_the_incident_page(story: dict[str, Any]) -> None:
    main = story["main"]
    c = Client()
    c.force_login(story["dispatcher"])
    page = c.get(f"/emergency/incidents/{main.number}/").content.decode()
    url = f"/emergency/incidents/{main.number}/eido.json"
    assert f'href="{url}"' in page
    answer = c.get(url)
    assert answer.status_code == 200
    assert answer["Content-Disposition"] == f'attachment; filename="EIDO-{main.number}.json"'
    assert answer["Content-Type"].startswith(eido.MEDIA_TYPE)
    doc = json.loads(answer.content)
    check_structure(doc)
    assert doc["incidentComponent"]["internalIncidentId"] == main.number and CALLER not in answer.content.decode()
    other = Client()
    other.force_login(story["other"])  # a dispatcher of another county
    assert other.get(url).status_code == 403
    assert c.get("/emergency/incidents/YJ000000/eido.json").status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
