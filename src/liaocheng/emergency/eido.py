"""Export of an incident as a NENA Emergency Incident Data Object (EIDO), JSON.

Standard: NENA-STA-021.1a-2022 (EIDO JSON, ``eidoVersion`` "1.0"). Property names follow the OpenAPI schema
published by NENA (GitHub ``NENA911/EIDO-JSON``, ``Schema/openapi.yaml``, info.version 1.0.0: the
``EmergencyIncidentDataObjectType`` and its component types) and NENA's sample "call transfer" EIDO
(``urn:emergency:uid:incidentid:…`` / ``urn:emergency:uid:callid:…`` identifiers, ``{"$ref": …}`` references,
registry values such as ``Call Taking``, ``callAnswered``, ``Caller``, ``incoming``, ``emergency``). Only the
components of 021.1a are written:

- every component carries the prologue: ``$id`` (unique in the document), ``lastUpdateTimeStamp`` (ISO 8601
  with the +08:00 offset, milliseconds) and ``updatedByAgencyReference`` (the working centre); where a user
  made the last change, ``updatedByAgentReference`` too;
- document: ``$id`` = the incident tracking identifier ``urn:emergency:uid:incidentid:<number>:<element>``,
  ``eidoVersion``, ``issuingElementIdentification`` (``emergency.<domain>``);
- ``agencyComponent``: the working centre (the PSAP: ``CallReceiving``/``Dispatch``, type ``psap``), the
  owning department (``incidentOwningAgencyIndicator``), assisting departments and the departments of the
  units and agents; ``agencyJcard`` (RFC 7095 jCard text) carries the Chinese name;
- ``agentComponent``: call-takers (``Call Taking``) and dispatchers (``Dispatching``), ``agencyReference``
  to their department;
- ``incidentComponent`` (one object): ``incidentTypeCommonRegistryText`` = the GB/T 35561 name,
  ``incidentTypeInternalCode`` = the GB/T 35561 code, ``incidentTypeInternalText`` = code and name,
  ``incidentStatusCommonRegistryText`` / ``incidentStatusInternalText`` (``STATUS``), ``internalIncidentId``,
  ``incidentPriorityInternalText`` (priority 1–5 and severity Ⅰ–Ⅳ), ``incidentCommonPriorityNumber`` (0–10,
  10 highest: priority 1 → 10 … 5 → 2), ``beatOrDispatchGroupText`` (the unit grid),
  ``dispositionComponent`` once a disposition is recorded (``dispositionCommonRegistryCode`` ``Other``: our
  dispositions are free text, kept in ``dispositionDescriptionText``);
- ``callComponent`` per call: ``$id`` = the call identifier ``urn:emergency:uid:callid:…`` (021.1a has no
  separate property for it; person components refer to it in ``callIdentifier``), ``callStartTimestamp``
  (rang), ``answerDate``, ``callStateRegistryText`` (``callAnswered``/``callEnd``), ``direction``
  ``incoming``, ``standardPrimaryCallType`` (``emergency``; ``nonEmergency`` for 12345 and urban hand-offs),
  ``localCallType`` (the line), the caller's narrative as a note;
- ``locationComponent``: the incident location (``Incident``), each call's location (``Caller``) and the
  live position of each unit on the incident (``Unit``), as PIDF-LO in ``locationByValue``: a WGS84 point
  (``gml:Point`` srsName EPSG::4326, "lat lon"; converted from the stored GCJ-02 with
  ``geo.datum.gcj02_to_wgs84``) and an RFC 5139 civic address (CN / 山东省 / 聊城市 / county / township /
  community, the spoken address in ``LOC``); ``locationDescriptionText`` has the same as plain text;
- ``personComponent`` per call: role ``Caller`` and the ``callIdentifier``. **Personal data** (caller number
  as a ``tel:`` URI in a ``callbackComponent``, caller name in a note) only when the viewer holds
  ``core.view_personal_data`` for the incident's division; otherwise neither appears, not even masked;
- ``emergencyResourceComponent`` per assignment: ``emergencyResourceName`` (call sign),
  ``emergencyResourceTypeCommonRegistryText`` (``RESOURCE_TYPES``), ``primaryUnitStatusRegistryText``
  (``UNIT_STATUS``; the local status in ``unitStatusInternal``), ``secondaryUnitStatusRegistryText`` and
  ``resourceAttributeRegistryText`` (empty; capabilities in ``resourceAttributeInternalText``), ``eta``
  (dispatch time + estimated seconds), ``unitLocationReference`` / ``unitDestinationReference`` while the unit
  is on the incident, ``agentReference`` (the dispatcher);
- ``dispatchComponent`` per dispatch action and agency: ``agencyReference``, ``agentReference``,
  ``emergencyResourceReference``;
- ``notesComponent``: the callers' narratives and the timeline (notes, messages, state changes, dispatches,
  transfers …), ``notesActionComments`` as escaped HTML;
- ``mergeComponent`` and ``linkComponent``. Their codes say what the incident *named in the component* is to
  the exported one: ``REPLACING`` — it replaced this one (this incident was merged into it); ``REPLACED`` —
  it was merged into this one; ``SPLIT`` — it was split off this one, or this one off it; links ``PARENT`` /
  ``CHILD`` / ``RELATED`` likewise (``PARENT``: the named incident is this one's parent).

Registry values outside the NENA samples (incident status, unit status, resource types, location types
``Incident``/``Unit``, agency role ``Responding``) are this platform's mapping, listed in the tables below.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import uuid
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from lxml import etree

from liaocheng.core import access
from liaocheng.core.errors import DomainError
from liaocheng.core.models import Department
from liaocheng.geo import services as geo_services
from liaocheng.geo.datum import gcj02_to_wgs84
from liaocheng.geo.locator import Location
from liaocheng.geo.models import Division

from .models import (
    Assignment,
    Call,
    Incident,
    IncidentEvent,
    IncidentLink,
    IncidentState,
    Line,
    LinkKind,
    LocationSource,
    Severity,
    Unit,
    UnitStatus,
    UnitType,
)

EIDO_VERSION = "1.0"
MEDIA_TYPE = "application/emergencyCallData.eido+json"

# incident state -> Incident Status registry text
STATUS: dict[str, str] = {
    IncidentState.NEW: "Created", IncidentState.DISPATCHED: "Dispatched", IncidentState.ON_SCENE: "OnScene",
    IncidentState.UNDER_CONTROL: "UnderControl", IncidentState.CLOSED: "Closed", IncidentState.MERGED: "Merged",
}
# unit status -> Primary Unit Status registry text
UNIT_STATUS: dict[str, str] = {
    UnitStatus.AVAILABLE: "Available", UnitStatus.DISPATCHED: "Dispatched", UnitStatus.EN_ROUTE: "Enroute",
    UnitStatus.ON_SCENE: "OnScene", UnitStatus.TRANSPORTING: "Transporting", UnitStatus.AT_HOSPITAL: "AtDestination",
    UnitStatus.CLEARED: "Cleared", UnitStatus.OUT_OF_SERVICE: "OutOfService",
}
# unit type -> Emergency Resource Type registry text
RESOURCE_TYPES: dict[str, str] = {
    UnitType.POLICE_CAR: "Patrol", UnitType.TRAFFIC_POLICE: "Traffic", UnitType.FIRE_ENGINE: "Engine",
    UnitType.FOAM_TENDER: "Engine", UnitType.AERIAL_LADDER: "Ladder", UnitType.RESCUE_ENGINE: "Rescue",
    UnitType.HAZMAT: "HazMat", UnitType.AMBULANCE: "Ambulance", UnitType.WATER_CREW: "Utility",
    UnitType.POWER_CREW: "Utility", UnitType.GAS_CREW: "Utility", UnitType.RESCUE_TEAM: "Rescue",
    UnitType.COMMAND: "Command",
}
# department kind -> IANA urn:emergency:service:responder sub-service (without the prefix)
AGENCY_TYPES: dict[str, str] = {
    "public_security": "police", "traffic_police": "police", "fire_rescue": "fire", "emergency_medical": "ems",
    "health": "ems", "hotline_12345": "psap",
}
NON_EMERGENCY_LINES = (Line.HOTLINE, Line.URBAN)
LOCATION_METHOD: dict[str, str] = {LocationSource.DEVICE: "GPS", LocationSource.MAP: "Manual",
                                   LocationSource.ADDRESS: "Manual"}
# timeline actions -> the agent role of the user who did them
DISPATCH_ACTIONS = frozenset({"dispatch", "unit_status", "state", "assist", "transfer", "transfer_accept",
                              "transfer_refuse", "transfer_result", "note", "message", "notify"})
EVENT_TEXT: dict[str, str] = {
    "create": "立案", "notify": "通知值班领导", "classify": "更改分类或级别", "merged": "合并到其他事件",
    "merge_in": "合并其他事件", "split": "拆分出子事件", "split_from": "由事件拆分", "link": "关联事件",
    "unlink": "取消关联", "state": "状态变更", "note": "说明", "message": "消息", "assist": "协办部门",
    "transfer": "转办", "transfer_accept": "接收转办", "transfer_refuse": "退回转办", "transfer_result": "反馈办理结果",
    "dispatch": "派警", "unit_status": "力量状态",
}
_INVERSE = {LinkKind.PARENT: LinkKind.CHILD, LinkKind.CHILD: LinkKind.PARENT, LinkKind.RELATED: LinkKind.RELATED}
_NS = {"pidf": "urn:ietf:params:xml:ns:pidf", "gp": "urn:ietf:params:xml:ns:pidf:geopriv10",
       "gml": "http://www.opengis.net/gml", "ca": "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr",
       "dm": "urn:ietf:params:xml:ns:pidf:data-model"}


def domain() -> str:
    """The platform's domain (``LIAOCHENG_EIDO_DOMAIN``, else the CAP sender domain, else liaocheng.gov.cn)."""
    return (getattr(settings, "LIAOCHENG_EIDO_DOMAIN", "") or getattr(settings, "LIAOCHENG_CAP_SENDER_DOMAIN", "")
            or "liaocheng.gov.cn")


def element_id() -> str:
    """The functional element issuing EIDOs (``issuingElementIdentification``)."""
    return f"emergency.{domain()}"


def tracking_id(number: str) -> str:
    """The incident tracking identifier of an incident number (NENA-STA-010 ``urn:emergency:uid:incidentid``)."""
    return f"urn:emergency:uid:incidentid:{number}:{element_id()}"


def call_id(call: Call) -> str:
    """The call identifier (``urn:emergency:uid:callid``); stable when the call moves to another incident."""
    return f"urn:emergency:uid:callid:{call.centre_code}{call.pk:010d}:{element_id()}"


def stamp(value: dt.datetime) -> str:
    """ISO 8601 with the local offset and milliseconds: 2026-03-01T09:15:02.000+08:00."""
    return timezone.localtime(value).isoformat(timespec="milliseconds")


def _ref(target: str) -> dict[str, str]:
    return {"$ref": target}


def _jcard(name: str, kind: str = "org") -> str:
    return json.dumps(["vcard", [["version", {}, "text", "4.0"], ["kind", {}, "text", kind],
                                 ["fn", {}, "text", name]]], ensure_ascii=False)


def _html(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def tel_uri(number: str) -> str:
    """A caller number as a ``tel:`` URI: mainland mobiles get +86, other numbers the 0635 (聊城) context."""
    if number.startswith("+"):
        return f"tel:{number}"
    if len(number) == 11 and number.startswith("1"):
        return f"tel:+86{number}"
    return f"tel:{number};phone-context=+86-635"


def pidf_lo(entity: str, lon: float, lat: float, civic: dict[str, str], at: dt.datetime, method: str) -> str:
    """A PIDF-LO document (RFC 4119 / 5491 / 5139) with a WGS84 point and a civic address. ``lon``/``lat`` are
    GCJ-02 (as stored) and converted here."""
    wlon, wlat = gcj02_to_wgs84(lon, lat)
    for prefix, uri in _NS.items():
        ET.register_namespace("" if prefix == "pidf" else prefix, uri)
    presence = ET.Element(f"{{{_NS['pidf']}}}presence", {"entity": entity})
    device = ET.SubElement(presence, f"{{{_NS['dm']}}}device", {"id": entity.split(":", 1)[-1]})
    geopriv = ET.SubElement(device, f"{{{_NS['gp']}}}geopriv")
    info = ET.SubElement(geopriv, f"{{{_NS['gp']}}}location-info")
    point = ET.SubElement(info, f"{{{_NS['gml']}}}Point", {"srsName": "urn:ogc:def:crs:EPSG::4326"})
    ET.SubElement(point, f"{{{_NS['gml']}}}pos").text = f"{wlat:.6f} {wlon:.6f}"
    address = ET.SubElement(info, f"{{{_NS['ca']}}}civicAddress", {"{http://www.w3.org/XML/1998/namespace}lang": "zh"})
    for key, value in civic.items():
        if value:
            ET.SubElement(address, f"{{{_NS['ca']}}}{key}").text = value
    ET.SubElement(geopriv, f"{{{_NS['gp']}}}usage-rules")
    ET.SubElement(geopriv, f"{{{_NS['gp']}}}method").text = method
    ET.SubElement(device, f"{{{_NS['dm']}}}timestamp").text = stamp(at)
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(presence, encoding="unicode")


def wgs84_of(location_component: dict[str, Any]) -> tuple[float, float]:
    """(lon, lat) WGS84 of a location component written by this module (tests, consumers)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(location_component["locationByValue"].encode(), parser=parser)
    pos = root.find(".//gml:Point/gml:pos", _NS)
    if pos is None or not pos.text:
        raise ValueError("no gml:pos in the location")
    lat, lon = (float(v) for v in pos.text.split())
    return lon, lat


class _Builder:
    def __init__(self, incident: Incident, personal: bool) -> None:
        self.incident = incident
        self.personal = personal
        self.domain = domain()
        self.element = element_id()
        self.tracking = tracking_id(incident.number)
        self.agencies: dict[str, dict[str, Any]] = {}
        self.agents: dict[str, dict[str, Any]] = {}
        self.locations: list[dict[str, Any]] = []
        self.persons: list[dict[str, Any]] = []
        self.callbacks: list[dict[str, Any]] = []
        self.notes: list[dict[str, Any]] = []
        self.times: list[dt.datetime] = []
        self.division_names: dict[str, str] = dict(Division.objects.filter(
            code__in={"371500", incident.county_code, incident.township_code, incident.community_code,
                      incident.centre_code}).order_by("valid_from").values_list("code", "name"))
        self.centre_id = self._centre_agency()

    # --- identifiers and prologue ---------------------------------------------------------------------

    def uid(self, kind: str, key: Any) -> str:
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{self.element}/{self.incident.number}/{kind}/{key}')}"

    def prologue(self, cid: str, at: dt.datetime | None, agent: str | None = None) -> dict[str, Any]:
        when = at or self.incident.created_at
        self.times.append(when)
        head: dict[str, Any] = {"$id": cid, "lastUpdateTimeStamp": stamp(when),
                                "updatedByAgencyReference": _ref(self.centre_id)}
        if agent:
            head["updatedByAgentReference"] = _ref(agent)
        return head

    # --- agencies and agents ----------------------------------------------------------------------------

    def _centre_agency(self) -> str:
        code = self.incident.centre_code
        aid = f"centre-{code}.{self.domain}"
        place = "聊城市" if code.endswith("00") else self.division_names.get(code, code)
        name = f"{place}应急联动指挥中心"
        self.agencies[aid] = {
            "$id": aid, "lastUpdateTimeStamp": stamp(self.incident.created_at),
            "updatedByAgencyReference": _ref(aid), "agencyJcard": _jcard(name),
            "agencyRoleDescriptionRegistryText": ["CallReceiving", "Dispatch"], "agencyType": ["psap"],
            "incidentOwningAgencyIndicator": self.incident.owning_department_id is None,
        }
        return aid

    def agency(self, dept: Department | None) -> str:
        if dept is None:
            return self.centre_id
        aid = f"{dept.code.replace('_', '-').lower()}.{self.domain}"
        if aid not in self.agencies:
            self.agencies[aid] = {
                **self.prologue(aid, self.incident.created_at), "agencyJcard": _jcard(dept.name),
                "agencyRoleDescriptionRegistryText": ["Responding"],
                "agencyType": [AGENCY_TYPES.get(dept.kind, dept.kind)],
                "incidentOwningAgencyIndicator": dept.pk == self.incident.owning_department_id,
            }
        return aid

    def agent(self, user: Any, role: str, at: dt.datetime | None = None) -> str | None:
        if user is None or getattr(user, "pk", None) is None:
            return None
        agency = self.agency(getattr(user, "department", None))
        aid = f"{user.username}@{agency}"
        row = self.agents.get(aid)
        if row is None:
            row = self.agents[aid] = {**self.prologue(aid, at), "agentRoleRegistryText": [],
                                      "agencyReference": _ref(agency)}
        if role not in row["agentRoleRegistryText"]:
            row["agentRoleRegistryText"].append(role)
        if at is not None and stamp(at) > row["lastUpdateTimeStamp"]:
            row["lastUpdateTimeStamp"] = stamp(at)
            self.times.append(at)
        return aid

    # --- places -----------------------------------------------------------------------------------------

    def place(self, lon: float, lat: float, *, own: bool = False) -> Location | None:
        """The divisions of a point (the incident's stored ones for its own location; None outside the city)."""
        inc = self.incident
        if own:
            return Location(inc.grid_code, inc.community_code, inc.township_code, inc.county_code)
        try:
            return geo_services.locate(lon, lat).location
        except DomainError:
            return None

    def civic(self, address: str, where: Location | None) -> dict[str, str]:
        codes = (where.county_code, where.township_code, where.community_code) if where else ("", "", "")
        missing = {c for c in codes if c and c not in self.division_names}
        if missing:
            self.division_names.update(Division.objects.filter(code__in=missing).order_by("valid_from")
                                       .values_list("code", "name"))
        names = self.division_names
        return {"country": "CN", "A1": "山东省", "A2": names.get("371500", "聊城市") if where else "",
                "A3": names.get(codes[0], ""), "A4": names.get(codes[1], ""), "A5": names.get(codes[2], ""),
                "LOC": address}

    def location(self, key: str, kind: str, lon: float, lat: float, address: str, at: dt.datetime,
                 method: str = "Manual", agent: str | None = None, *, own: bool = False) -> str:
        cid = self.uid("location", key)
        where = self.place(lon, lat, own=own)
        civic = self.civic(address, where)
        wlon, wlat = gcj02_to_wgs84(lon, lat)
        places = "".join(civic[k] for k in ("A2", "A3", "A4", "A5") if civic[k])
        text = "，".join(p for p in (address, places, f"单元网格 {where.grid_code}" if where else "",
                                     f"WGS84 {wlat:.6f}, {wlon:.6f}") if p)
        self.locations.append({
            **self.prologue(cid, at, agent), "locationTypeDescriptionRegistryText": kind,
            "locationByValue": pidf_lo(f"pres:{key}@{self.domain}", lon, lat, civic, at, method),
            "locationDescriptionText": text,
        })
        return cid

    def note(self, key: str, text: str, at: dt.datetime, agent: str | None = None) -> str:
        cid = self.uid("note", key)
        self.notes.append({**self.prologue(cid, at, agent), "notesActionComments": _html(text),
                           **({"agentReference": _ref(agent)} if agent else {})})
        return cid

    # --- the document -------------------------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        inc = self.incident
        centre = self.agencies[self.centre_id]
        owner = self.agency(inc.owning_department) if inc.owning_department_id else None
        for dept in inc.assisting_departments.all():
            self.agency(dept)
        calls = list(Call.objects.filter(incident=inc).select_related("taker", "taker__department")
                     .order_by("answered_at", "pk"))
        events = list(IncidentEvent.objects.filter(incident=inc).select_related("actor", "actor__department")
                      .order_by("at", "pk"))
        assignments = list(Assignment.objects.filter(incident=inc)
                           .select_related("unit", "unit__department", "dispatcher", "dispatcher__department")
                           .order_by("dispatched_at", "pk"))
        incident_location = self.location(f"incident-{inc.number}", "Incident", inc.lon, inc.lat, inc.address,
                                          inc.created_at, own=True)
        call_rows = [self.call(c) for c in calls]
        resources, dispatches = self.resources(assignments, incident_location)
        event_notes = [self.event_note(e) for e in events if e.action != "call"]
        merges = self.merges(events)
        links = self.links(events)
        incident_component = self.incident_component(
            events, [incident_location], [p["$id"] for p in self.persons], [n for n in event_notes if n])
        doc: dict[str, Any] = {
            "$id": self.tracking, "lastUpdateTimeStamp": stamp(max(self.times)),
            "updatedByAgencyReference": _ref(self.centre_id),
            "eidoVersion": EIDO_VERSION, "issuingElementIdentification": self.element,
            "incidentComponent": incident_component,
            "callComponent": call_rows, "callbackComponent": self.callbacks, "dispatchComponent": dispatches,
            "notesComponent": self.notes, "emergencyResourceComponent": resources,
            "agencyComponent": list(self.agencies.values()), "agentComponent": list(self.agents.values()),
            "locationComponent": self.locations, "personComponent": self.persons,
            "mergeComponent": merges, "linkComponent": links,
        }
        if owner is None:
            centre["incidentOwningAgencyIndicator"] = True
        return {k: v for k, v in doc.items() if v != [] or k == "agencyComponent"}

    def incident_component(self, events: list[IncidentEvent], locations: list[str], persons: list[str],
                           notes: list[str]) -> dict[str, Any]:
        inc = self.incident
        itype = inc.incident_type
        last = events[-1] if events else None
        at = max([inc.created_at, *(e.at for e in events), *(t for t in (inc.closed_at, inc.controlled_at) if t)])
        agent = self.agent(last.actor, self.role_of(last.action), last.at) if last is not None else None
        severity = Severity(inc.severity).label if inc.severity in Severity.values else str(inc.severity)
        row: dict[str, Any] = {
            **self.prologue(self.uid("incident", inc.pk), at, agent),
            "incidentTypeCommonRegistryText": itype.name,
            "incidentTypeInternalCode": itype.code,
            "incidentTypeInternalText": f"GB/T 35561-2017 {itype.code} {itype.name}",
            "incidentStatusCommonRegistryText": [STATUS.get(inc.state, inc.state)],
            "incidentStatusInternalText": [inc.state],
            "internalIncidentId": inc.number,
            "incidentPriorityInternalText": f"优先级 {inc.priority}（1 最高，5 最低）· {severity}",
            "incidentCommonPriorityNumber": max(0, min(10, (6 - inc.priority) * 2)),
            "beatOrDispatchGroupText": inc.grid_code,
            "agentReference": [_ref(a) for a in self.agents],
            "locationReference": [_ref(x) for x in locations],
            "personReference": [_ref(x) for x in persons],
            "notesReference": [_ref(x) for x in notes],
        }
        if inc.disposition:
            row["dispositionComponent"] = [{
                **self.prologue(self.uid("disposition", inc.pk), inc.closed_at or at, agent),
                "dispositionCommonRegistryCode": "Other", "dispositionPrimaryIndicator": True,
                "dispositionCategoryText": str(IncidentState(inc.state).label) if inc.state in IncidentState.values
                else inc.state,
                "dispositionDescriptionText": inc.disposition,
            }]
        return {k: v for k, v in row.items() if v != []}

    @staticmethod
    def role_of(action: str) -> str:
        return "Dispatching" if action in DISPATCH_ACTIONS or action.startswith("warning") else "Call Taking"

    def call(self, call: Call) -> dict[str, Any]:
        cid = call_id(call)
        at = call.ended_at or call.answered_at
        taker = self.agent(call.taker, "Call Taking", at)
        location = self.location(f"call-{call.pk}", "Caller", call.lon, call.lat, call.address, call.answered_at,
                                 LOCATION_METHOD.get(call.location_source, "Manual"), taker)
        narrative = self.note(f"call-{call.pk}", call.narrative, call.answered_at, taker)
        person: dict[str, Any] = {**self.prologue(self.uid("person", call.pk), call.answered_at, taker),
                                  "personIncidentRoleRegistryText": ["Caller"], "callIdentifier": [cid]}
        callback = None
        if self.personal:
            if call.caller_number:
                callback = self.uid("callback", call.pk)
                self.callbacks.append({**self.prologue(callback, call.answered_at, taker),
                                       "callBackInformationUri": [tel_uri(call.caller_number)]})
                person["callBackReference"] = _ref(callback)
            if call.caller_name:
                person["notesReference"] = [_ref(self.note(f"caller-{call.pk}", f"报警人：{call.caller_name}",
                                                           call.answered_at, taker))]
            person["locationReference"] = [_ref(location)]
        self.persons.append(person)
        line = Line(call.line).label if call.line in Line.values else call.line
        row: dict[str, Any] = {
            **self.prologue(cid, at, taker),
            "standardPrimaryCallType": "nonEmergency" if call.line in NON_EMERGENCY_LINES else "emergency",
            "localCallType": str(line), "direction": "incoming",
            "callStartTimestamp": stamp(call.received_at), "answerDate": stamp(call.answered_at),
            "callStateRegistryText": "callEnd" if call.ended_at else "callAnswered",
            "agentReference": [_ref(taker)] if taker else [],
            "locationReference": [_ref(location)], "personReference": [_ref(person["$id"])],
            "notesReference": [_ref(narrative)],
        }
        if callback:
            row["callBackReference"] = _ref(callback)
        return {k: v for k, v in row.items() if v != []}

    def resources(self, assignments: list[Assignment], destination: str
                  ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        resources: list[dict[str, Any]] = []
        groups: dict[tuple[Any, ...], list[str]] = defaultdict(list)
        group_rows: dict[tuple[Any, ...], Assignment] = {}
        for a in assignments:
            unit: Unit = a.unit
            steps = [t for t in (a.dispatched_at, a.en_route_at, a.on_scene_at, a.transporting_at, a.at_hospital_at,
                                 a.cleared_at) if t]
            is_open = a.cleared_at is None
            status = unit.status if is_open and unit.incident_id == self.incident.pk else UnitStatus.CLEARED
            dispatcher = self.agent(a.dispatcher, "Dispatching", a.dispatched_at)
            cid = self.uid("resource", a.pk)
            row: dict[str, Any] = {
                **self.prologue(cid, max(steps), dispatcher),
                "emergencyResourceTypeCommonRegistryText": RESOURCE_TYPES.get(unit.unit_type, "Other"),
                "emergencyResourceTypeInternalText": f"{unit.unit_type} {UnitType(unit.unit_type).label}"
                if unit.unit_type in UnitType.values else unit.unit_type,
                "emergencyResourceName": unit.call_sign,
                "resourceAttributeRegistryText": [],
                "primaryUnitStatusRegistryText": UNIT_STATUS.get(status, status),
                "secondaryUnitStatusRegistryText": [],
                "unitStatusInternal": [status],
                "agentReference": [_ref(dispatcher)] if dispatcher else [],
            }
            if unit.capabilities:
                row["resourceAttributeInternalText"] = [str(c) for c in unit.capabilities]
            if a.eta_seconds is not None:
                row["eta"] = stamp(a.dispatched_at + dt.timedelta(seconds=a.eta_seconds))
            if is_open:
                row["unitLocationReference"] = _ref(self.location(f"unit-{unit.pk}", "Unit", unit.lon, unit.lat, "",
                                                                  unit.position_at, "GPS"))
                row["unitDestinationReference"] = _ref(destination)
            resources.append(row)
            key = (a.dispatched_at, a.dispatcher_id, unit.department_id)
            groups[key].append(cid)
            group_rows.setdefault(key, a)
        dispatches = []
        for key, refs in groups.items():
            first = group_rows[key]
            agent = self.agent(first.dispatcher, "Dispatching", first.dispatched_at)
            row = {**self.prologue(self.uid("dispatch", first.pk), first.dispatched_at, agent),
                   "agencyReference": _ref(self.agency(first.unit.department)),
                   "emergencyResourceReference": [_ref(r) for r in refs]}
            if agent:
                row["agentReference"] = _ref(agent)
            dispatches.append(row)
        return resources, dispatches

    def event_note(self, event: IncidentEvent) -> str | None:
        label = EVENT_TEXT.get(event.action, event.action)
        data = event.data or {}
        parts = [label]
        if data.get("call_sign"):
            parts.append(str(data["call_sign"]))
        if event.action in ("state", "unit_status") and data.get("to"):
            parts.append(f"{data.get('from', '')} → {data['to']}")
        for key in ("into", "from", "to", "other"):
            value = data.get(key)
            if event.action not in ("state", "unit_status") and isinstance(value, str) and value:
                parts.append(f"{key} {value}")
        if event.note:
            parts.append(event.note)
        agent = self.agent(event.actor, self.role_of(event.action), event.at)
        return self.note(f"event-{event.pk}", " · ".join(parts), event.at, agent)

    def _event_at(self, events: list[IncidentEvent], action: str, key: str, number: str) -> IncidentEvent | None:
        found = [e for e in events if e.action == action and (e.data or {}).get(key) == number]
        return found[-1] if found else None

    def merges(self, events: list[IncidentEvent]) -> list[dict[str, Any]]:
        inc = self.incident
        rows = []

        def add(number: str, code: str, event: IncidentEvent | None) -> None:
            agent = self.agent(event.actor, "Call Taking", event.at) if event else None
            rows.append({**self.prologue(self.uid("merge", f"{code}-{number}"), event.at if event else None, agent),
                         "incidentTrackingIdentifier": tracking_id(number), "incidentMergeDirectionCode": code})

        if inc.merged_into_id:
            into = Incident.objects.filter(pk=inc.merged_into_id).values_list("number", flat=True).first() or ""
            add(into, "REPLACING", self._event_at(events, "merged", "into", into))
        for number in inc.merged_incidents.order_by("created_at", "pk").values_list("number", flat=True):
            add(number, "REPLACED", self._event_at(events, "merge_in", "from", number))
        for e in events:
            other = (e.data or {}).get("to" if e.action == "split" else "from") if e.action in ("split", "split_from") \
                else None
            if isinstance(other, str) and other:
                add(other, "SPLIT", e)
        return rows

    def links(self, events: list[IncidentEvent]) -> list[dict[str, Any]]:
        inc = self.incident
        rows = []
        for link in (IncidentLink.objects.filter(Q(source=inc) | Q(target=inc)).select_related("source", "target")
                     .order_by("created_at", "pk")):
            if link.source_id == inc.pk:
                other, kind = link.target, _INVERSE[LinkKind(link.kind)].value
            else:
                other, kind = link.source, link.kind
            event = self._event_at(events, "link", "other", other.number)
            reason = event.note if event is not None and event.note else (
                "拆分" if self._event_at(events, "split", "to", other.number) or self._event_at(
                    events, "split_from", "from", other.number) else "")
            agent = self.agent(event.actor, "Call Taking", event.at) if event else None
            row = {**self.prologue(self.uid("link", link.pk), link.created_at, agent),
                   "incidentTrackingIdentifier": tracking_id(other.number), "linkDirectionCode": kind.upper()}
            if reason:
                row["transactionReasonText"] = reason
            rows.append(row)
        return rows


def can_see_personal_data(viewer: Any, incident: Incident) -> bool:
    return viewer is not None and access.can_see_personal_data(viewer, incident.grid_code)


def incident_to_eido(incident: Incident, *, viewer: Any = None) -> dict[str, Any]:
    """The incident as an EIDO (a JSON-ready dict). Caller numbers and names appear only when ``viewer`` holds
    ``core.view_personal_data`` for the incident's division (no viewer: none)."""
    incident = (Incident.objects.select_related("incident_type", "owning_department").get(pk=incident.pk))
    return _Builder(incident, can_see_personal_data(viewer, incident)).build()


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2)
