"""Public warnings: draft → submit → approve by another user → CAP 1.2 alert that validates against the official
OASIS schema and parses with a standard CAP library (cap-tools); bad input writes nothing; updates and cancels
reference the original; the public list, alert and Atom feed."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from cap_tools import Alert as CapAlert
from cap_tools import AlertState, MsgType, Reference, Severity
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone
from lxml import etree
from xsdata.formats.dataclass.parsers import XmlParser

from liaocheng.core.errors import InvalidInput
from liaocheng.core.models import AuditRecord
from liaocheng.emergency import cap
from liaocheng.emergency import warnings as services
from liaocheng.emergency.models import Incident, IncidentEvent, IncidentType, PublicWarning

CITY, GX, SX = "371500", "371502", "371522"  # city, 东昌府区, 莘县
EM_CITY = "371500-emergency_management"
EM_SX = "371522-emergency_management"
ATOM = "{http://www.w3.org/2005/Atom}"
IDENTIFIER = re.compile(r"^\d{6}\d{3}\d{3}\d{2}_\d{14}$")
OFFICIAL_XSD_SHA256 = "b7798ef25868b068c97b268bda02d067c7d4ba9373adc5638bf37105804ee723"


def _types() -> dict[str, IncidentType]:
    root, _ = IncidentType.objects.get_or_create(code="11000", defaults={"name": "自然灾害", "incident_class": "1"})
    met, _ = IncidentType.objects.get_or_create(code="11B00", defaults={"name": "气象灾害", "incident_class": "1",
                                                                         "parent": root})
    rain, _ = IncidentType.objects.get_or_create(code="11B03", defaults={"name": "暴雨", "incident_class": "1",
                                                                          "parent": met})
    heat, _ = IncidentType.objects.get_or_create(code="11B09", defaults={"name": "高温", "incident_class": "1",
                                                                          "parent": met})
    return {"rain": rain, "heat": heat}


@pytest.fixture
def people(db: None, staff_factory: Any) -> dict[str, Any]:
    _types()
    return {
        "officer": staff_factory("w_officer", department_code=EM_CITY, roles=(("emergency_warning_officer", CITY),),
                                 real_name="预警员"),
        "officer2": staff_factory("w_officer2", department_code=EM_CITY,
                                  roles=(("emergency_warning_officer", CITY),)),
        "leader": staff_factory("w_leader", department_code=EM_CITY, roles=(("emergency_duty_leader", CITY),),
                                real_name="值班领导"),
        "both": staff_factory("w_both", department_code=EM_CITY, roles=(("emergency_warning_officer", CITY),
                                                                        ("emergency_duty_leader", CITY))),
        "county": staff_factory("w_county", department_code=EM_SX, roles=(("emergency_warning_officer", SX),)),
    }


def rain_fields(**over: Any) -> dict[str, Any]:
    now = timezone.now()
    fields: dict[str, Any] = {
        "incident_type": "11B03", "level": "yellow", "event_zh": "暴雨", "event_en": "Rainstorm",
        "headline_zh": "聊城市应急管理局发布暴雨黄色预警", "headline_en": "Liaocheng issues a yellow rainstorm warning",
        "description_zh": "预计未来6小时东昌府区、莘县降雨量将达50毫米以上，请注意防范。",
        "description_en": "Rainfall of 50 mm or more is expected in Dongchangfu District and Shen County within "
                          "6 hours.",
        "instruction_zh": "切断低洼地带有危险的室外电源，暂停在空旷地方的户外作业。",
        "instruction_en": "Switch off outdoor power in low-lying areas and stop outdoor work in open spaces.",
        "area_codes": [GX, SX], "expires": now + dt.timedelta(hours=12),
    }
    fields.update(over)
    return fields


def issue(people: dict[str, Any], **over: Any) -> PublicWarning:
    warning = services.draft_warning(acting_user=people["officer"], **rain_fields(**over))
    services.submit_warning(acting_user=people["officer"], warning=warning)
    return services.approve_and_issue(acting_user=people["leader"], warning=warning)


def official_schema() -> Any:
    return etree.XMLSchema(etree.parse(str(cap.SCHEMA_PATH)))


def assert_official(xml: str) -> None:
    schema = official_schema()
    ok = schema.validate(etree.fromstring(xml.encode("utf-8")))
    assert ok, [e.message for e in schema.error_log]


def parse(xml: str) -> CapAlert:
    return XmlParser().from_bytes(xml.encode("utf-8"), CapAlert)


# --- the done-when test ----------------------------------------------------------------------------------------

def test_issued_warning_validates_against_official_xsd_and_parses(people: dict[str, Any]) -> None:
    assert hashlib.sha256(cap.SCHEMA_PATH.read_bytes()).hexdigest() == OFFICIAL_XSD_SHA256
    warning = services.draft_warning(acting_user=people["officer"], **rain_fields())
    assert warning.status == "draft" and warning.identifier is None and warning.cap_category == "Met"
    assert warning.area_desc == "东昌府区、莘县"
    services.submit_warning(acting_user=people["officer"], warning=warning)
    issued = services.approve_and_issue(acting_user=people["leader"], warning=warning)
    issued.refresh_from_db()
    assert issued.status == "issued" and issued.approved_by == people["leader"] and issued.issued_at is not None
    assert issued.identifier and IDENTIFIER.match(issued.identifier)
    # region 371500 (the city's department), agency of emergency management, unit 000, extension 00, Beijing time
    assert issued.identifier.startswith("37150090100000_")
    assert issued.identifier.endswith(timezone.localtime(issued.issued_at).strftime("%Y%m%d%H%M%S"))

    assert_official(issued.cap_xml)
    assert cap.validate(issued.cap_xml) == []
    alert = parse(issued.cap_xml)
    assert alert.identifier == issued.identifier
    assert alert.sender == "37150090100000@liaocheng.gov.cn"
    assert re.search(r"\+08:00$", str(alert.sent)) and not str(alert.sent).endswith("Z")
    assert alert.status.value == "Actual" and alert.msg_type is MsgType.ALERT and alert.scope.value == "Public"
    assert alert.references is None
    assert [i.language for i in alert.infos] == ["zh-CN", "en-US"]
    zh, en = alert.infos
    assert zh.event == "暴雨" and en.event == "Rainstorm"
    assert zh.headline == "聊城市应急管理局发布暴雨黄色预警" and en.headline.startswith("Liaocheng issues")
    assert zh.severity is Severity.MODERATE and en.severity is Severity.MODERATE  # yellow
    assert [c.value for c in zh.categories] == ["Met"]
    assert zh.sender_name == "聊城市应急管理局" and en.sender_name == "Liaocheng Emergency Management Bureau"
    for info in (zh, en):
        assert dict(info.event_codes_to_dict()) == {"GB/T 35561": "11B03"}
        assert dict(info.parameters_to_dict()) == {"warningLevel": "yellow"}
        for value in (info.effective, info.onset, info.expires):
            assert str(value).endswith("+08:00")
        (area,) = info.areas
        assert [(g.value_name.value, g.value.value) for g in area.geocodes] == [
            ("CPEAS Geographic Code", GX), ("CPEAS Geographic Code", SX)]
    assert zh.areas[0].area_desc == "东昌府区、莘县" and en.areas[0].area_desc == "Dongchangfu District, Shen County"
    assert "+08:00" in issued.cap_xml and "Z<" not in issued.cap_xml
    # audited, one record per step, actions in order
    actions = list(AuditRecord.objects.filter(object_type=services.OBJECT_TYPE, object_id=str(issued.pk))
                   .order_by("seq").values_list("action", flat=True))
    assert actions == [services.A_DRAFT, services.A_SUBMIT, services.A_ISSUE]
    # the frozen XML is served as is, without login
    response = Client().get(f"/warnings/{issued.identifier}.xml")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/cap+xml")
    assert response.content.decode("utf-8") == issued.cap_xml


def test_drafter_cannot_approve_own(people: dict[str, Any]) -> None:
    warning = services.draft_warning(acting_user=people["both"], **rain_fields())
    services.submit_warning(acting_user=people["both"], warning=warning)
    with pytest.raises(PermissionDenied):
        services.approve_and_issue(acting_user=people["both"], warning=warning)
    warning.refresh_from_db()
    assert warning.status == "submitted" and warning.identifier is None and warning.cap_xml == ""
    # one who only edited the text may not approve it either
    other = services.draft_warning(acting_user=people["officer"], **rain_fields())
    services.edit_draft(acting_user=people["both"], warning=other, headline_zh="聊城市发布暴雨黄色预警（修订）")
    services.submit_warning(acting_user=people["officer"], warning=other)
    with pytest.raises(PermissionDenied):
        services.approve_and_issue(acting_user=people["both"], warning=other)
    # a warning officer holds no approval right at all
    with pytest.raises(PermissionDenied):
        services.approve_and_issue(acting_user=people["officer2"], warning=other)
    assert services.approve_and_issue(acting_user=people["leader"], warning=other).status == "issued"


@pytest.mark.parametrize(("over", "field"), [
    ({"description_en": ""}, "description_en"),
    ({"headline_zh": "   "}, "headline_zh"),
    ({"event_en": "暴雨"}, "event_en"),            # Chinese in the English block
    ({"headline_zh": "Rainstorm warning"}, "headline_zh"),  # English in the Chinese block
    ({"level": "purple"}, "level"),
    ({"incident_type": "19Z99"}, "incident_type"),
    ({"area_codes": []}, "area_codes"),
    ({"area_codes": ["110101"]}, "area_codes"),   # not a division of the city
    ({"area_codes": ["371523"]}, "area_codes"),   # 茌平县: no longer current (now 茌平区 371503)
    ({"expires": None}, "expires"),
    ({"effective": timezone.now() + dt.timedelta(hours=5), "expires": timezone.now() + dt.timedelta(hours=2)},
     "expires"),
    ({"expires": timezone.now() + dt.timedelta(days=40)}, "expires"),
    ({"description_zh": "预计有暴雨" + "\x07"}, "description_zh"),
    ({"headline_en": "x" * 201}, "headline_en"),
    ({"urgency": "Soon"}, "urgency"),
])
def test_bad_input_is_refused_and_nothing_written(people: dict[str, Any], over: dict[str, Any], field: str) -> None:
    warnings_before, audit_before = PublicWarning.objects.count(), AuditRecord.objects.count()
    with pytest.raises(InvalidInput) as info:
        services.draft_warning(acting_user=people["officer"], **rain_fields(**over))
    assert info.value.field == field and info.value.message_zh and info.value.message_en
    assert PublicWarning.objects.count() == warnings_before and AuditRecord.objects.count() == audit_before


def test_county_scope(people: dict[str, Any]) -> None:
    county = people["county"]
    with pytest.raises(InvalidInput) as info:  # its own department may warn its own county only
        services.draft_warning(acting_user=county, **rain_fields(area_codes=[GX, SX]))
    assert info.value.field == "area_codes"
    with pytest.raises(PermissionDenied):  # and not in the city department's name
        services.draft_warning(acting_user=county, issuer_department=EM_CITY, **rain_fields(area_codes=[SX]))
    warning = services.draft_warning(acting_user=county, **rain_fields(area_codes=[SX]))
    services.submit_warning(acting_user=county, warning=warning)
    issued = services.approve_and_issue(acting_user=people["leader"], warning=warning)  # city leader covers it
    assert issued.identifier and issued.identifier.startswith("37152290100000_")
    assert_official(issued.cap_xml)


def test_invalid_cap_writes_nothing(people: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    warning = services.draft_warning(acting_user=people["officer"], **rain_fields())
    services.submit_warning(acting_user=people["officer"], warning=warning)
    audit_before = AuditRecord.objects.count()
    original = services.build_alert

    def broken(*args: Any, **kwargs: Any) -> cap.Alert:
        alert = original(*args, **kwargs)
        return cap.Alert(**{**alert.__dict__, "status": "Rehearsal"})  # not a CAP status

    monkeypatch.setattr(services, "build_alert", broken)
    with pytest.raises(services.CapInvalid) as info:
        services.approve_and_issue(acting_user=people["leader"], warning=warning)
    assert "status" in info.value.message_en
    warning.refresh_from_db()
    assert warning.status == "submitted" and warning.identifier is None and warning.cap_xml == ""
    assert AuditRecord.objects.count() == audit_before


def test_reject_and_resubmit(people: dict[str, Any]) -> None:
    warning = services.draft_warning(acting_user=people["officer"], **rain_fields())
    services.submit_warning(acting_user=people["officer"], warning=warning)
    with pytest.raises(InvalidInput):
        services.reject_warning(acting_user=people["leader"], warning=warning, reason=" ")
    services.reject_warning(acting_user=people["leader"], warning=warning, reason="区域描述不准确")
    warning.refresh_from_db()
    assert warning.status == "rejected"
    services.edit_draft(acting_user=people["officer"], warning=warning, area_codes=[SX])
    warning.refresh_from_db()
    assert warning.status == "draft" and warning.area_codes == [SX] and warning.area_desc == "莘县"
    services.submit_warning(acting_user=people["officer"], warning=warning)
    assert services.approve_and_issue(acting_user=people["leader"], warning=warning).status == "issued"
    with pytest.raises(services.InvalidTransition):  # issued: no longer editable
        services.edit_draft(acting_user=people["officer"], warning=warning, headline_zh="聊城市暴雨黄色预警")


def test_update_and_cancel_reference_the_original(people: dict[str, Any]) -> None:
    original = issue(people)
    upgrade = services.update_warning(acting_user=people["officer"], warning=original, level="orange",
                                      headline_zh="聊城市应急管理局将暴雨预警升级为橙色",
                                      headline_en="Liaocheng upgrades the rainstorm warning to orange")
    assert upgrade.msg_type == "Update" and upgrade.references == original and upgrade.status == "draft"
    services.submit_warning(acting_user=people["officer"], warning=upgrade)
    services.approve_and_issue(acting_user=people["leader"], warning=upgrade)
    with pytest.raises(services.InvalidTransition):  # the original is not the latest once the update is issued
        services.update_warning(acting_user=people["officer"], warning=original, level="red")
    upgrade.refresh_from_db()
    assert upgrade.status == "issued"
    assert_official(upgrade.cap_xml)
    u = parse(upgrade.cap_xml)
    o = parse(original.cap_xml)
    assert u.msg_type is MsgType.UPDATE and u.infos[0].severity is Severity.SEVERE
    assert u.references == f"{o.sender},{o.identifier},{o.sent}"
    assert [str(r) for r in u.references_to_list()] == [f"{o.sender},{o.identifier},{o.sent}"]
    assert list(services.current_warnings()) == [upgrade]

    cancel = services.cancel_warning(acting_user=people["officer"], warning=upgrade,
                                     description_zh="降雨已结束，解除暴雨橙色预警。",
                                     description_en="The rain has stopped; the orange rainstorm warning is lifted.")
    assert cancel.headline_zh == "解除暴雨橙色预警" and cancel.headline_en == "Orange Rainstorm warning cancelled"
    services.submit_warning(acting_user=people["officer"], warning=cancel)
    services.approve_and_issue(acting_user=people["leader"], warning=cancel)
    cancel.refresh_from_db()
    assert_official(cancel.cap_xml)
    c = parse(cancel.cap_xml)
    assert c.msg_type is MsgType.CANCEL
    assert c.references == f"{o.sender},{o.identifier},{o.sent} {u.sender},{u.identifier},{u.sent}"
    assert all(i.response_types[0].value == "AllClear" for i in c.infos)
    # the references resolve to the earlier alerts as a standard CAP consumer reads them
    assert c.references_to_list() == [Reference.from_alert(o), Reference.from_alert(u)]
    state = AlertState()
    for alert in (o, u):
        state.ingest(alert)  # the update replaces the original
    assert [a.identifier for a in state.alerts] == [u.identifier]
    original.refresh_from_db()
    upgrade.refresh_from_db()
    assert original.status == upgrade.status == "cancelled"
    assert list(services.current_warnings()) == []
    with pytest.raises(services.InvalidTransition):
        services.cancel_warning(acting_user=people["officer"], warning=upgrade, description_zh="再次解除",
                                description_en="Lifted again")
    public = Client().get("/warnings/")
    assert public.status_code == 200 and original.identifier not in public.content.decode()


def test_atom_feed_lists_the_issued_alert(people: dict[str, Any]) -> None:
    warning = issue(people)
    draft = services.draft_warning(acting_user=people["officer"], **rain_fields(
        incident_type="11B09", event_zh="高温", event_en="Heat", headline_zh="高温预警草稿",
        headline_en="Heat warning draft"))
    response = Client().get("/warnings/feed.atom")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/atom+xml")
    assert response["Access-Control-Allow-Origin"] == "*"
    root = ET.fromstring(response.content)  # noqa: S314 - our own response, parsed as any feed reader would
    assert root.tag == f"{ATOM}feed"
    assert (root.findtext(f"{ATOM}updated") or "").endswith("+08:00")
    entries = root.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert warning.headline_zh in titles and draft.headline_zh not in titles
    entry = entries[titles.index(warning.headline_zh)]
    links = [link for link in entry.findall(f"{ATOM}link") if link.get("rel") == "alternate"]
    assert len(links) == 1 and links[0].get("type") == "application/cap+xml"
    href = links[0].get("href") or ""
    assert href == f"http://testserver/warnings/{warning.identifier}.xml"
    assert entry.findtext(f"{ATOM}id") == href
    alert = Client().get(href.removeprefix("http://testserver"))
    assert alert.status_code == 200 and parse(alert.content.decode("utf-8")).identifier == warning.identifier
    # the public pages, in both languages
    page = Client().get("/warnings/")
    assert page.status_code == 200 and warning.headline_zh in page.content.decode()
    en = Client(HTTP_ACCEPT_LANGUAGE="en")
    en.cookies["django_language"] = "en"
    detail = en.get(f"/warnings/{warning.identifier}/")
    assert detail.status_code == 200 and warning.headline_en in detail.content.decode()
    assert Client().get("/warnings/37150090100000_20000101000000.xml").status_code == 404


def test_incident_timeline(people: dict[str, Any]) -> None:
    rain = IncidentType.objects.get(code="11B03")
    incident = Incident.objects.create(
        number="YJ-TEST-0001", incident_type=rain, summary="城区内涝", lon=115.98, lat=36.45,
        grid_code="371502001001001", community_code="371502001001", township_code="371502001", county_code=GX,
        centre_code=CITY, created_at=timezone.now())
    warning = issue(people, incident=incident.number)
    actions = list(IncidentEvent.objects.filter(incident=incident).values_list("action", flat=True))
    assert actions == ["warning_drafted", "warning_submitted", "warning_issued"]
    assert parse(warning.cap_xml).incidents == incident.number


# --- the pages -------------------------------------------------------------------------------------------------

def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def form_data(**over: Any) -> dict[str, Any]:
    expires = timezone.localtime(timezone.now() + dt.timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")
    data = {k: v for k, v in rain_fields().items() if k not in ("expires", "area_codes")}
    data.update({"issuer_department": "", "area_codes": [GX], "expires": expires, "effective": "",
                 "cap_category": "", "urgency": "Expected", "certainty": "Likely", "incident": "", "area_desc": ""})
    data.update(over)
    return data


def test_console_pages_draft_submit_approve(people: dict[str, Any]) -> None:
    from liaocheng.core.models import Department

    dept = Department.objects.get(code=EM_CITY)
    officer = client_for(people["officer"])
    page = officer.get("/emergency/warnings/new/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="area_codes"' in html and f'value="{GX}"' in html and "11B03" in html
    # missing English text: shown, nothing written
    bad = officer.post("/emergency/warnings/new/", form_data(issuer_department=str(dept.pk), headline_en=""))
    assert bad.status_code == 400 and not PublicWarning.objects.exists()
    chinese = officer.post("/emergency/warnings/new/", form_data(issuer_department=str(dept.pk), event_en="暴雨"))
    assert chinese.status_code == 400 and "英文" in chinese.content.decode()
    assert not PublicWarning.objects.exists()
    posted = officer.post("/emergency/warnings/new/", form_data(issuer_department=str(dept.pk)))
    assert posted.status_code == 302
    warning = PublicWarning.objects.get()
    assert posted["Location"] == f"/emergency/warnings/{warning.pk}/"
    assert warning.area_codes == [GX] and warning.issuer_department == dept and warning.drafted_by == people["officer"]
    assert officer.post(f"/emergency/warnings/{warning.pk}/act/", {"action": "submit"}).status_code == 302
    # the drafter sees no approve button and may not approve
    assert officer.post(f"/emergency/warnings/{warning.pk}/act/", {"action": "approve"}).status_code == 403
    leader = client_for(people["leader"])
    queue = leader.get("/emergency/warnings/approvals/")
    assert queue.status_code == 200 and f'data-warning="{warning.pk}"' in queue.content.decode()
    detail = leader.get(f"/emergency/warnings/{warning.pk}/").content.decode()
    assert 'data-action="approve"' in detail and 'id="cap-preview"' in detail
    assert leader.post(f"/emergency/warnings/{warning.pk}/act/", {"action": "approve"}).status_code == 302
    warning.refresh_from_db()
    assert warning.status == "issued" and warning.approved_by == people["leader"]
    assert_official(warning.cap_xml)
    shown = leader.get(f"/emergency/warnings/{warning.pk}/").content.decode()
    assert 'id="cap-xml"' in shown and warning.identifier in shown
    console = officer.get("/emergency/warnings/")
    assert console.status_code == 200 and f'data-warning="{warning.pk}"' in console.content.decode()
    # update and cancel forms
    update_page = officer.get(f"/emergency/warnings/{warning.pk}/update/")
    assert update_page.status_code == 200 and warning.headline_en in update_page.content.decode()
    cancelled = officer.post(f"/emergency/warnings/{warning.pk}/cancel/", {
        "description_zh": "预警解除。", "description_en": "The warning is lifted."})
    assert cancelled.status_code == 302
    assert PublicWarning.objects.filter(msg_type="Cancel", references=warning).count() == 1
    # anonymous users are sent to the login page
    assert Client().get("/emergency/warnings/").status_code == 302


def test_cap_helpers() -> None:
    sent = dt.datetime(2026, 7, 12, 2, 30, 5, 123456, tzinfo=dt.UTC)
    assert cap.cap_time(sent) == "2026-07-12T10:30:05+08:00"
    assert cap.make_identifier(cap.unit_code("371500", "416"), sent) == "37150041600000_20260712103005"
    with pytest.raises(cap.CapError):
        cap.unit_code("3715", "416")
    with pytest.raises(cap.CapError):
        cap.cap_time(dt.datetime(2026, 7, 12, 10, 30))  # naive
    assert cap.category_for_type("11B03") == "Met" and cap.category_for_type("12H01") == "Transport"
    assert cap.category_for_type("13A01") == "Health" and cap.category_for_type("12D02") == "CBRNE"
    # the schema is order-sensitive: a reordered alert is refused, and so is a "Z" time
    info = cap.Info(language="zh-CN", categories=("Met",), event="暴雨", urgency="Expected", severity="Moderate",
                    certainty="Likely", areas=(cap.Area("东昌府区", ((cap.GEOCODE_NAME, GX),)),))
    alert = cap.Alert(identifier=cap.make_identifier("37150041600000", sent), sender="37150041600000@example.cn",
                      sent=sent, status="Actual", msg_type="Alert", infos=(info,))
    xml = cap.to_xml(alert)
    assert cap.validate(xml) == []
    swapped = xml.replace(b"<status>Actual</status>\n  <msgType>Alert</msgType>",
                          b"<msgType>Alert</msgType>\n  <status>Actual</status>")
    assert swapped != xml and cap.validate(swapped)
    assert cap.validate(xml.replace(b"+08:00</sent>", b"Z</sent>"))
    assert cap.validate(cap.to_xml(cap.Alert(**{**alert.__dict__, "msg_type": "Cancel"})))  # no references


def test_edit_reject_and_public_pages(people: dict[str, Any]) -> None:
    warning = services.draft_warning(acting_user=people["officer"], **rain_fields())
    officer = client_for(people["officer"])
    edit_page = officer.get(f"/emergency/warnings/{warning.pk}/edit/")
    assert edit_page.status_code == 200 and warning.headline_zh in edit_page.content.decode()
    saved = officer.post(f"/emergency/warnings/{warning.pk}/edit/",
                         form_data(area_codes=[SX], area_desc="东昌府区、莘县"))
    assert saved.status_code == 302
    warning.refresh_from_db()
    assert warning.area_codes == [SX] and warning.area_desc == "莘县"  # the generated description follows the area
    officer.post(f"/emergency/warnings/{warning.pk}/act/", {"action": "submit"})
    leader = client_for(people["leader"])
    refused = leader.post(f"/emergency/warnings/{warning.pk}/act/", {"action": "reject", "reason": ""})
    assert refused.status_code == 400 and 'id="action-error"' in refused.content.decode()
    assert leader.post(f"/emergency/warnings/{warning.pk}/act/", {"action": "reject",
                                                                  "reason": "标题需注明时段"}).status_code == 302
    warning.refresh_from_db()
    assert warning.status == "rejected"
    assert "标题需注明时段" in officer.get(f"/emergency/warnings/{warning.pk}/").content.decode()
    # English pages render too
    officer.cookies["django_language"] = "en"
    assert officer.get("/emergency/warnings/").status_code == 200
    assert officer.get(f"/emergency/warnings/{warning.pk}/").status_code == 200
    issued = issue(people)
    cancel_page = officer.get(f"/emergency/warnings/{issued.pk}/cancel/")
    assert cancel_page.status_code == 200 and 'name="description_en"' in cancel_page.content.decode()
    public = Client().get(f"/warnings/{issued.identifier}/")
    body = public.content.decode()
    assert public.status_code == 200 and issued.headline_zh in body and f"/warnings/{issued.identifier}.xml" in body


def test_exercise_status_and_agency_override(people: dict[str, Any], settings: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    fixed = timezone.now().replace(microsecond=0)
    monkeypatch.setattr(timezone, "now", lambda: fixed)  # both warnings are issued in the same second
    settings.LIAOCHENG_CAP_STATUS = "Exercise"
    settings.LIAOCHENG_CAP_AGENCY_CODES = {"emergency_management": "123"}
    warning = issue(people)
    alert = parse(warning.cap_xml)
    assert alert.status.value == "Exercise" and "Exercise" in (alert.note or "")
    assert warning.identifier and warning.identifier.startswith("37150012300000_")
    assert alert.sender == "37150012300000@liaocheng.gov.cn"
    assert_official(warning.cap_xml)
    # two warnings of one unit in the same second get distinct identifiers (sent moves on by a second)
    second = issue(people, headline_zh="聊城市应急管理局发布第二条暴雨黄色预警")
    later = timezone.localtime(fixed + dt.timedelta(seconds=1)).strftime("%Y%m%d%H%M%S")
    assert second.identifier == f"37150012300000_{later}"
    assert str(parse(second.cap_xml).sent).startswith(f"{later[:4]}-{later[4:6]}-{later[6:8]}T{later[8:10]}:")
