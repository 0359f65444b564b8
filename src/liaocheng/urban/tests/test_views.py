"""Urban management pages: report (with duplicates), queues per role, case actions, command-centre JSON,
the scoped photo view."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from liaocheng.geo.models import Grid
from liaocheng.urban import services
from liaocheng.urban.models import Case, CaseEvent, CasePhoto

SX = "371522"  # 莘县
GX = "371502"  # 东昌府区


@pytest.fixture
def urban(db: None, settings: Any, tmp_path: Any, staff_factory: Any) -> dict[str, Any]:
    settings.MEDIA_ROOT = str(tmp_path)
    services.load_classes()
    dept = "371522-urban_management"
    return {
        "supervisor": staff_factory("v_sup", roles=(("urban_supervisor", SX),)),
        "intake": staff_factory("v_intake", roles=(("urban_intake", SX),)),
        "lead": staff_factory("v_lead", roles=(("urban_shift_lead", SX),)),
        "dispatcher": staff_factory("v_disp", roles=(("urban_dispatcher", SX),)),
        "dept": staff_factory("v_dept", department_code=dept, roles=(("urban_department", SX),)),
        "other": staff_factory("v_other", roles=(("urban_shift_lead", GX),)),
    }


def point_in(county: str = SX) -> tuple[float, float]:
    grid = Grid.objects.filter(county_code=county, size_class="urban").first() or Grid.objects.filter(
        county_code=county).first()
    assert grid is not None
    p = shapely.from_geojson(grid.geometry).representative_point()
    return p.x, p.y


def png() -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, format="PNG")
    return SimpleUploadedFile("p.png", buf.getvalue(), content_type="image/png")


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def report_post(c: Client, lon: float, lat: float, **extra: Any) -> Any:
    data = {"class_code": "E0102", "lon": f"{lon:.7f}", "lat": f"{lat:.7f}", "datum": "gcj02",
            "description": "路边有暴露垃圾", "address": "莘县燕塔街", "photos": [png()]}
    return c.post("/urban/report/", data, **extra)


def test_report_page_posts_case_and_offers_duplicates(urban: dict[str, Any]) -> None:
    c = client_for(urban["supervisor"])
    page = c.get("/urban/report/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'accept="image/*"' in body and "multiple" in body and "未发送，将自动重试" in body
    lon, lat = point_in()
    first = report_post(c, lon, lat)
    assert first.status_code == 201
    case = Case.objects.get()
    assert CasePhoto.objects.filter(case=case, kind="before").count() == 1
    assert 'id="duplicates"' not in first.content.decode()
    second = report_post(c, lon + 0.0001, lat, HTTP_X_URBAN_REPORT="1")
    assert second.status_code == 201
    html = second.content.decode()
    assert 'id="duplicates"' in html and case.number in html and "改为跟进此案卷" in html
    new = Case.objects.exclude(pk=case.pk).get()
    # the supervisor may not file (merge needs urban.file): refused, nothing changed
    assert c.post(f"/urban/cases/{new.pk}/merge/", {"into": case.pk}).status_code == 403
    assert Case.objects.get(pk=new.pk).state == "reported"
    merged = client_for(urban["intake"]).post(f"/urban/cases/{new.pk}/merge/", {"into": case.pk})
    assert merged.status_code == 302
    assert Case.objects.get(pk=new.pk).state == "merged"
    # bad input is shown, not a server error
    bad = c.post("/urban/report/", {"class_code": "E0102", "description": "x"})
    assert bad.status_code == 400 and "请先确定位置" in bad.content.decode()


def _case(u: dict[str, Any], county: str = SX) -> Case:
    lon, lat = point_in(county)
    user = u["supervisor"] if county == SX else u["other"]
    return services.report_case(acting_user=user, channel="supervisor", class_code="E0102", lon=lon, lat=lat,
                                description="暴露垃圾", photos=[png()]).case


def _queue_ids(user: Any, queue: str) -> set[int]:
    r = client_for(user).get(f"/urban/cases/?queue={queue}")
    assert r.status_code == 200
    return {int(x) for x in re.findall(r'data-case="(\d+)"', r.content.decode())}


def test_queues_per_role(urban: dict[str, Any]) -> None:
    u = urban
    reported = _case(u)
    filed = _case(u)
    services.transition(filed, "file", acting_user=u["intake"])
    dispatched = _case(u)
    services.transition(dispatched, "file", acting_user=u["intake"])
    services.transition(dispatched, "dispatch", acting_user=u["dispatcher"])
    elsewhere = _case(u, GX)
    assert _queue_ids(u["intake"], "file") == {reported.pk}
    assert _queue_ids(u["dispatcher"], "dispatch") == {filed.pk}
    assert _queue_ids(u["dept"], "handle") == {dispatched.pk}
    assert _queue_ids(u["supervisor"], "verify") == set()
    assert _queue_ids(u["other"], "file") == {elsewhere.pk}
    # a queue the role does not have is refused; filters work on the full list
    assert client_for(u["supervisor"]).get("/urban/cases/?queue=dispatch").status_code == 403
    r = client_for(u["lead"]).get(f"/urban/cases/?state=filed&county={SX}")
    assert f'data-case="{filed.pk}"' in r.content.decode() and f'data-case="{reported.pk}"' not in r.content.decode()
    assert "城市管理" in r.content.decode()


def test_case_page_offers_only_allowed_actions(urban: dict[str, Any]) -> None:
    u = urban
    case = _case(u)
    html = client_for(u["intake"]).get(f"/urban/cases/{case.pk}/").content.decode()
    assert 'data-action="file"' in html and 'data-action="not_file"' in html
    assert 'data-action="dispatch"' not in html and 'id="timeline"' in html
    assert 'id="no-actions"' in client_for(u["dispatcher"]).get(f"/urban/cases/{case.pk}/").content.decode()
    before = CaseEvent.objects.filter(case=case).count()
    denied = client_for(u["dispatcher"]).post(f"/urban/cases/{case.pk}/act/", {"action": "file"})
    assert denied.status_code == 403 and 'id="action-error"' in denied.content.decode()
    wrong = client_for(u["intake"]).post(f"/urban/cases/{case.pk}/act/", {"action": "close"})
    assert wrong.status_code in (400, 409)
    unknown = client_for(u["intake"]).post(f"/urban/cases/{case.pk}/act/", {"action": "explode"})
    assert unknown.status_code == 400
    missing = client_for(u["intake"]).post(f"/urban/cases/{case.pk}/act/", {"action": "not_file", "reason": ""})
    assert missing.status_code == 400
    case.refresh_from_db()
    assert case.state == "reported" and CaseEvent.objects.filter(case=case).count() == before
    ok = client_for(u["intake"]).post(f"/urban/cases/{case.pk}/act/", {"action": "file"})
    assert ok.status_code == 302
    assert Case.objects.get(pk=case.pk).state == "filed"
    ok = client_for(u["dispatcher"]).post(f"/urban/cases/{case.pk}/act/", {"action": "dispatch"})
    assert ok.status_code == 302
    html = client_for(u["dept"]).get(f"/urban/cases/{case.pk}/").content.decode()
    assert 'data-action="accept"' in html and 'data-action="request_return"' in html
    # another county's user cannot even see it
    assert client_for(u["other"]).get(f"/urban/cases/{case.pk}/").status_code == 403


def test_command_centre_json_scoped_and_photo_view(urban: dict[str, Any]) -> None:
    u = urban
    mine = _case(u)
    theirs = _case(u, GX)
    page = client_for(u["lead"]).get("/urban/command/")
    assert page.status_code == 200 and 'data-refresh="15000"' in page.content.decode()
    data = client_for(u["lead"]).get("/urban/command/data.json").json()
    assert data["type"] == "FeatureCollection"
    assert {f["id"] for f in data["features"]} == {mine.pk}
    assert data["features"][0]["geometry"]["type"] == "Point"
    assert {f["id"] for f in client_for(u["other"]).get("/urban/command/data.json").json()["features"]} == {theirs.pk}
    assert client_for(u["lead"]).get(f"/urban/command/data.json?county={GX}").json()["features"] == []
    photo = CasePhoto.objects.get(case=mine)
    r = client_for(u["lead"]).get(f"/urban/photos/{photo.pk}/")
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    assert b"".join(r.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    assert client_for(u["other"]).get(f"/urban/photos/{photo.pk}/").status_code == 403
    assert Client().get(f"/urban/photos/{photo.pk}/").status_code == 302


@pytest.mark.django_db(transaction=True)
def test_report_and_command_pages_in_chromium(browser: Any, live_server: Any, settings: Any, tmp_path: Any,
                                             staff_factory: Any) -> None:
    """The report page at phone size (390×844) and the command centre, rendered by Chromium (screenshots)."""
    settings.MEDIA_ROOT = str(tmp_path)
    shots = Path(os.environ.get("LIAOCHENG_SHOT_DIR") or tmp_path)  # set it to keep the PNGs for a look
    services.load_classes()
    lead = staff_factory("w_lead", roles=(("urban_shift_lead", SX),))
    for i in range(3):
        lon, lat = point_in()
        services.report_case(acting_user=lead, channel="supervisor", class_code="E0102", lon=lon + i * 0.001,
                             lat=lat, description=f"暴露垃圾 {i}")
    c = Client()
    c.force_login(lead)
    cookie = {"name": "sessionid", "value": c.cookies["sessionid"].value, "url": live_server.url}
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    context.add_cookies([cookie])
    page = context.new_page()
    page.goto(f"{live_server.url}/urban/report/")
    page.wait_for_selector("#report-map.leaflet-container")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.select_option("#class_code", "E0102")
    page.click("#report-map", position={"x": 150, "y": 100})
    assert page.input_value("#lon") and page.input_value("#datum") == "gcj02"
    page.screenshot(path=str(shots / "urban-report-390.png"), full_page=True)
    context.close()
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.add_cookies([cookie])
    page = context.new_page()
    page.goto(f"{live_server.url}/urban/command/")
    page.wait_for_function("document.body.dataset.casesLoaded === '3'")
    assert page.locator("#command-cases li").count() == 3
    page.screenshot(path=str(shots / "urban-command.png"))
    context.close()
