"""Open311 GeoReport v2: services, definitions, POST/GET requests, filters, errors, and a standard client."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import requests
import shapely
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from georeport import GeoReport

from liaocheng.core import access
from liaocheng.core.models import AuditRecord
from liaocheng.geo.datum import gcj02_to_wgs84
from liaocheng.geo.models import Grid
from liaocheng.urban import services
from liaocheng.urban.models import Case, Open311Request

SX = "371522"  # 莘县
BASE = "/open311/v2"


def wgs_point_in(county: str = SX) -> tuple[float, float]:
    """(lon, lat) in WGS 84 of a point inside a unit grid of ``county``."""
    grid = Grid.objects.filter(county_code=county, size_class="urban").first() or Grid.objects.filter(
        county_code=county).first()
    assert grid is not None
    p = shapely.from_geojson(grid.geometry).representative_point()
    return gcj02_to_wgs84(p.x, p.y)


@pytest.fixture
def o311(db: None) -> dict[str, Any]:
    services.load_classes()
    client, key = services.create_open311_client(name="test-app", contact="dev@example.org")
    return {"client": client, "key": key}


def post(c: Client, key: str, fmt: str = "json", **fields: Any) -> Any:
    lon, lat = wgs_point_in()
    data: dict[str, Any] = {"api_key": key, "service_code": "E0102", "lat": str(lat), "long": str(lon),
                            "description": "路边有暴露垃圾", "address_string": "莘县燕塔街",
                            "email": "zhang@example.org", "phone": "13812345678", "first_name": "三",
                            "last_name": "张", "attribute[severity]": "high", "device_id": "dev-1",
                            "account_id": "acc-9", "media_url": "https://img.example.org/1.jpg"}
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    return c.post(f"{BASE}/requests.{fmt}", data)


def xml(resp: Any) -> ET.Element:
    assert resp["Content-Type"].startswith("application/xml")
    return ET.fromstring(resp.content)  # noqa: S314 - our own server's answer in a test


def test_discovery_and_services_json_xml(o311: dict[str, Any], client: Client) -> None:
    d = client.get("/open311/discovery.json").json()
    assert d["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert d["endpoints"][0]["url"].endswith("/open311/v2") and d["endpoints"][0]["type"] == "production"
    assert {"changeset", "contact", "key_service"} <= set(d)
    root = xml(client.get("/open311/discovery.xml"))
    assert root.tag == "discovery" and root.find("endpoints/endpoint/formats/format") is not None

    resp = client.get(f"{BASE}/services.json")
    assert resp["Content-Type"].startswith("application/json")
    by_code = {s["service_code"]: s for s in resp.json()}
    e = by_code["E0102"]
    assert e["service_name"] == "暴露垃圾" and e["group"] == "市容环境" and e["type"] == "realtime"
    assert e["metadata"] is True and "暴露垃圾" in e["keywords"]
    assert by_code["C0101"]["group"] == "公用设施"
    root = xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    svc = next(s for s in root.findall("service") if s.findtext("service_code") == "E0102")
    assert svc.findtext("service_name") == "暴露垃圾" and svc.findtext("metadata") == "true"
    assert svc.findtext("group") == "市容环境"


def test_service_definition_and_not_found(o311: dict[str, Any], client: Client) -> None:
    d = client.get(f"{BASE}/services/E0102.json").json()
    assert d["service_code"] == "E0102"
    sev = d["attributes"][0]
    assert sev["code"] == "severity" and sev["datatype"] == "singlevaluelist" and sev["order"] == 1
    assert sev["variable"] is True and sev["required"] is False
    assert {v["key"] for v in sev["values"]} == {"low", "medium", "high"}
    root = xml(client.get(f"{BASE}/services/E0102.xml"))
    assert root.tag == "service_definition"
    attr = root.find("attributes/attribute")
    assert attr is not None and attr.findtext("code") == "severity" and attr.findtext("variable") == "true"
    assert [v.findtext("key") for v in attr.findall("values/value")] == ["low", "medium", "high"]
    comp = client.get(f"{BASE}/services/C0101.json").json()
    assert comp["attributes"][0]["code"] == "component_id"

    resp = client.get(f"{BASE}/services/X9999.json")
    assert resp.status_code == 404 and resp.json()[0]["code"] == 404
    root = xml(client.get(f"{BASE}/services/X9999.xml"))
    assert root.tag == "errors" and root.findtext("error/code") == "404" and root.findtext("error/description")
    assert client.get(f"{BASE}/services.html").status_code == 404


def test_post_and_get_round_trip(o311: dict[str, Any], client: Client) -> None:
    resp = post(client, o311["key"])
    assert resp.status_code == 200, resp.content
    answer = resp.json()
    assert len(answer) == 1 and answer[0]["account_id"] == "acc-9" and answer[0]["service_notice"]
    number = answer[0]["service_request_id"]
    case = Case.objects.get(number=number)
    assert case.channel == "public" and case.state == "reported" and case.reported_by is None
    assert case.minor_class.full_code == "E0102" and case.grid_code.startswith(SX)
    extra = Open311Request.objects.get(case=case)
    assert extra.client == o311["client"] and extra.attributes == {"severity": "high"}
    assert extra.email == "zhang@example.org" and extra.phone == "13812345678"
    with connection.cursor() as cur:  # personal data is encrypted at rest
        cur.execute("SELECT email, phone, last_name FROM urban_open311request WHERE id = %s", [extra.pk])
        raw = cur.fetchone()
    assert all(v.startswith("v1:") for v in raw) and "13812345678" not in "".join(raw)
    assert case.events.get().actor_label == "open311:test-app"
    gateway = services.PublicReporter("open311:test-app")  # may report anywhere in the city, nothing else
    assert access.has_perm(gateway, "urban.report", case.grid_code)
    assert not any(access.has_perm(gateway, p) for p in ("urban.file", "urban.view_cases", "core.view_audit"))
    assert AuditRecord.objects.filter(action="urban.report", object_id=str(case.pk),
                                      actor_label="open311:test-app").exists()

    token = answer[0]["token"]
    t = client.get(f"{BASE}/tokens/{token}.json").json()
    assert t == [{"service_request_id": number, "token": token}]
    assert xml(client.get(f"{BASE}/tokens/{token}.xml")).findtext("request/service_request_id") == number
    assert client.get(f"{BASE}/tokens/nope.json").status_code == 404

    one = client.get(f"{BASE}/requests/{number}.json").json()
    assert len(one) == 1
    r = one[0]
    lon, lat = wgs_point_in()
    assert abs(r["lat"] - lat) < 1e-5 and abs(r["long"] - lon) < 1e-5  # WGS 84 out, as in
    assert r["status"] == "open" and r["service_code"] == "E0102" and r["service_name"] == "暴露垃圾"
    assert r["description"] == "路边有暴露垃圾" and r["address"] == "莘县燕塔街"
    assert r["media_url"] == "https://img.example.org/1.jpg" and r["agency_responsible"]
    assert r["requested_datetime"].endswith("+08:00")
    body = client.get(f"{BASE}/requests/{number}.json").content.decode()
    for secret in ("zhang@example.org", "13812345678", "acc-9", "dev-1"):
        assert secret not in body
    root = xml(client.get(f"{BASE}/requests/{number}.xml"))
    assert root.tag == "service_requests" and root.findtext("request/service_request_id") == number
    assert root.findtext("request/status") == "open"
    assert client.get(f"{BASE}/requests/CG000.json").status_code == 404

    # XML POST, located by unit grid code (address_id)
    grid = Grid.objects.filter(county_code=SX).first()
    assert grid is not None
    resp = post(client, o311["key"], "xml", lat=None, long=None, address_id=grid.code, service_code="C0101",
                **{"attribute[severity]": None, "attribute[condition]": "missing"})
    assert resp.status_code == 200, resp.content
    root = xml(resp)
    assert root.tag == "service_requests"
    xml_number = root.findtext("request/service_request_id") or ""
    assert Case.objects.get(number=xml_number).grid_code == grid.code
    assert client.get(f"{BASE}/requests/{xml_number}.json").json()[0]["address_id"] == grid.code


def test_list_filters(o311: dict[str, Any], client: Client, staff_factory: Any) -> None:
    a = post(client, o311["key"]).json()[0]["service_request_id"]
    b = post(client, o311["key"], service_code="E0501", **{"attribute[severity]": "low"}).json()[0][
        "service_request_id"]
    c = post(client, o311["key"], service_code="C0118", **{"attribute[severity]": None}).json()[0][
        "service_request_id"]
    intake = staff_factory("o_intake", roles=(("urban_intake", SX),))
    services.transition(Case.objects.get(number=c), "not_file", acting_user=intake, reason="重复上报")

    def ids(query: str, fmt: str = "json") -> set[str]:
        resp = client.get(f"{BASE}/requests.{fmt}?{query}")
        assert resp.status_code == 200, resp.content
        if fmt == "xml":
            return {r.findtext("service_request_id") or "" for r in xml(resp).findall("request")}
        return {r["service_request_id"] for r in resp.json()}

    assert ids("") == {a, b, c} == ids("", "xml")
    assert ids(f"service_request_id={a},{c}") == {a, c}
    assert ids("service_code=E0501") == {b} == ids("service_code=E0501", "xml")
    assert ids("service_code=E0102,E0501") == {a, b}
    assert ids("status=closed") == {c}
    assert ids("status=open") == {a, b}
    closed = client.get(f"{BASE}/requests/{c}.json").json()[0]
    assert closed["status"] == "closed" and "重复上报" not in json.dumps(closed, ensure_ascii=False)
    now = timezone.now()
    start = (now - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(f"start_date={start}&end_date={end}") == {a, b, c}
    old = (now - dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S+08:00").replace("+", "%2B")
    assert ids(f"end_date={old}") == set()
    far = (now - dt.timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert client.get(f"{BASE}/requests.json?start_date={far}&end_date={end}").status_code == 400
    assert client.get(f"{BASE}/requests.json?start_date=yesterday").status_code == 400
    assert client.get(f"{BASE}/requests.json?status=pending").status_code == 400


def test_post_errors_write_nothing(o311: dict[str, Any], client: Client) -> None:
    before = (Case.objects.count(), Open311Request.objects.count())
    for key in ("", "wrong-key"):
        resp = post(client, key, api_key=key)
        assert resp.status_code == 403 and resp.json()[0]["code"] == 403
    root = xml(post(client, "bad", "xml"))
    assert root.tag == "errors" and root.findtext("error/code") == "403"

    def bad(**fields: Any) -> str:
        resp = post(client, o311["key"], **fields)
        assert resp.status_code == 400, resp.content
        body = resp.json()
        assert body[0]["code"] == 400
        return str(body[0]["description"])

    assert "service_code" in bad(service_code="E9999")
    assert "outside" in bad(lat="39.9", long="116.4")  # Beijing
    assert "description" in bad(description="长" * 4001)
    assert "location" in bad(lat=None, long=None, address_string=None)
    assert "address_string" in bad(lat=None, long=None)
    assert "severity" in bad(**{"attribute[severity]": "extreme"})
    assert "unknown attribute" in bad(**{"attribute[colour]": "red"})
    assert "media_url" in bad(media_url="javascript:alert(1)")
    root = xml(post(client, o311["key"], "xml", service_code="E9999"))
    assert root.findtext("error/code") == "400"
    assert (Case.objects.count(), Open311Request.objects.count()) == before

    services.create_open311_client(name="x")  # an inactive client's key is refused
    o311["client"].active = False
    o311["client"].save()
    assert post(client, o311["key"]).status_code == 403
    assert (Case.objects.count(), Open311Request.objects.count()) == before


def test_client_command_prints_key_once(o311: dict[str, Any], client: Client) -> None:
    out = io.StringIO()
    call_command("open311_client", "partner", "--contact", "ops@example.org", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    assert services.open311_client_for_key(key) is not None
    from liaocheng.urban.models import Open311Client

    assert key not in str(list(Open311Client.objects.values_list("key_hash", "name", "contact")))
    assert post(client, key).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_standard_client_georeport(live_server: Any) -> None:
    services.load_classes()
    _, key = services.create_open311_client(name="georeport")
    lon, lat = wgs_point_in()
    posted = requests.post(f"{live_server.url}{BASE}/requests.json", timeout=10, data={
        "api_key": key, "service_code": "E0102", "lat": lat, "long": lon, "description": "暴露垃圾",
        "jurisdiction_id": "liaocheng"})
    assert posted.status_code == 200, posted.text
    number = posted.json()[0]["service_request_id"]
    for fmt in ("json", "xml"):
        api = GeoReport(f"{live_server.url}{BASE}", jurisdiction="liaocheng", output_format=fmt)
        codes = {s["service_code"] for s in api.get_service_list()}
        assert {"E0102", "C0101"} <= codes
        definition = api.get_service_definition("E0102")
        assert definition["service_code"] == "E0102"
        listed = api.get_service_requests(service_code="E0102", status="open")
        listed = listed if isinstance(listed, list) else [listed]
        assert [r["service_request_id"] for r in listed] == [number]
        one = api.get_service_request(number)
        assert one["service_request_id"] == number and one["status"] == "open"
        assert float(one["lat"]) == pytest.approx(lat, abs=1e-5)


def test_hotline_and_leader_cases_stay_internal(o311: dict[str, Any], client: Client, staff_factory: Any) -> None:
    public = post(client, o311["key"]).json()[0]["service_request_id"]
    clerk = staff_factory("o_hotline", roles=(("urban_intake", SX),))
    lon, lat = wgs_point_in()
    hotline = services.report_case(acting_user=clerk, channel="hotline", class_code="E0102", lon=lon, lat=lat,
                                   datum="wgs84", description="市民张先生来电（13800000000）反映垃圾未清运").case
    listed = {r["service_request_id"] for r in client.get(f"{BASE}/requests.json").json()}
    assert listed == {public}
    resp = client.get(f"{BASE}/requests/{hotline.number}.json")
    assert resp.status_code == 404 and "13800000000" not in resp.content.decode()
