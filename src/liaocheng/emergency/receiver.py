"""The emergency side of the urban hand-off (``urban.handoff``, ADR 0007/0008).

An urban-management case that turns out to be an emergency (a road collapse with people hurt, a smell of
gas) arrives as an ``EmergencyReferral``; ``UrbanCaseReceiver.receive`` turns it into an incident on line
"urban" with one call holding the case's description and the reason for the hand-off, and returns the
incident number. Idempotent on ``referral_id`` (stored on ``Incident.referral_id``): the same referral
delivered twice yields the same incident. The urban transition locks the case row while delivering, so two
hand-offs of one case never race.

The receiver runs inside the urban service's transaction: if the urban side fails after delivery, the
incident rolls back with it. The incident is worked by the county centre of the case's location.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from liaocheng.core import audit
from liaocheng.geo.locator import Location
from liaocheng.urban.handoff import EmergencyReferral, ReceiverUnavailable

from . import intake, timeline, types_data
from .models import Call, Incident, IncidentType, Line, LocationSource, Severity


def type_for_referral(referral: EmergencyReferral) -> IncidentType | None:
    """The incident type of a referral: keywords in its text first (gas beats everything), then the urban
    class, then the default (12Y00 其他事故灾难, else the root 10000)."""
    text = f"{referral.description} {referral.reason}"
    codes = [code for words, code in types_data.URBAN_KEYWORDS if any(w in text for w in words)]
    if referral.class_code in types_data.URBAN_CLASS_TYPES:
        codes.append(types_data.URBAN_CLASS_TYPES[referral.class_code])
    codes.extend(types_data.URBAN_DEFAULT_TYPES)
    found = {t.code: t for t in IncidentType.objects.filter(code__in=codes, active=True)}
    return next((found[c] for c in codes if c in found), None)


def narrative_for(referral: EmergencyReferral) -> str:
    lines = [referral.description.strip(), f"移交理由：{referral.reason.strip()}",
             f"城管案卷：{referral.case_number}（{referral.class_code} {referral.class_name}），"
             f"移交人：{referral.handed_by}"]
    if referral.photo_count:
        lines.append(f"案卷照片 {referral.photo_count} 张，见城管案卷")
    return "\n".join(x for x in lines if x)[: intake.MAX_NARRATIVE]


class UrbanCaseReceiver:
    """Implements ``liaocheng.urban.handoff.EmergencyReceiver``."""

    name = "liaocheng.emergency"

    def receive(self, referral: EmergencyReferral) -> str:
        referral_id = (referral.referral_id or "").strip()[:64]
        if not referral_id:
            raise ReceiverUnavailable("移交缺少编号", "the referral has no id")
        existing = Incident.objects.filter(referral_id=referral_id).only("number").first()
        if existing is not None:
            return existing.number
        if not IncidentType.objects.exists():
            intake.load_incident_types()  # a fresh installation: the shipped table (idempotent)
        itype = type_for_referral(referral)
        if itype is None:
            raise ReceiverUnavailable("应急联动事件分类尚未载入", "the incident types are not loaded")
        grid = (referral.grid_code or "").strip()
        if not grid.isdigit() or len(grid) != 15:
            raise ReceiverUnavailable("移交的案卷缺少单元网格", "the referral has no unit grid")
        actor: Any = f"urban:{referral.handed_by}"[:150]
        loc = Location.from_grid_code(grid)
        narrative = narrative_for(referral)
        with transaction.atomic():
            incident = intake._create_incident(
                itype=itype, severity=Severity.IV, lon=referral.lon, lat=referral.lat, loc=loc,
                address=referral.address or "", summary=f"城管移交：{referral.class_name} {referral.address or ''}",
                now=referral.handed_at, first_answered_at=referral.handed_at,
                urban_case_number=referral.case_number[:32], referral_id=referral_id,
            )
            timeline.record_event(incident, "create", actor=actor, at=referral.handed_at, data={
                "type": itype.code, "severity": incident.severity, "priority": incident.priority,
                "centre": incident.centre_code, "urban_case": referral.case_number, "referral_id": referral_id,
                "owning_department": incident.owning_department.code if incident.owning_department else ""})
            call = Call.objects.create(
                incident=incident, line=Line.URBAN, location_source=LocationSource.MAP, address=incident.address,
                lon=referral.lon, lat=referral.lat, narrative=narrative, received_at=referral.handed_at,
                answered_at=referral.handed_at, centre_code=incident.centre_code,
            )
            timeline.record_event(incident, "call", actor=actor, note=narrative, at=referral.handed_at, data={
                "call": call.pk, "line": Line.URBAN, "caller": "", "location_source": LocationSource.MAP,
                "lon": referral.lon, "lat": referral.lat, "address": incident.address, "attached": False,
                "urban_case": referral.case_number})
            audit.record(actor=actor, action="emergency.receive_referral", object_type="emergency.Incident",
                         object_id=incident.number,
                         after={"referral_id": referral_id, "urban_case": referral.case_number, "type": itype.code,
                                "call": call.pk, "grid_code": incident.grid_code},
                         division_code=incident.grid_code)
        return incident.number
