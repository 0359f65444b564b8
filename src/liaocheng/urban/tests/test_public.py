"""The public side of urban management: the citizens' report form, "my reports", public case pages and photos,
the area RSS feed and e-mail subscriptions with their digests."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any
from unittest import mock

import pytest
import shapely
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone
from PIL import Image

from liaocheng.core.errors import Conflict, Throttled
from liaocheng.core.models import AuditRecord, Department, User
from liaocheng.geo.models import Grid
from liaocheng.urban import public, services, tasks
from liaocheng.urban.models import Case, CasePhoto, Subscription

SX = "371522"  # 莘县
GX = "371502"  # 东昌府区
OUTSIDE = (117.0, 36.65)  # 济南


@pytest.fixture
def urban(db: None, settings: Any, tmp_path: Any, staff_factory: Any) -> dict[str, Any]:
    settings.MEDIA_ROOT = str(tmp_path)
    settings.PUBLIC_BASE_URL = "https://lc.example"
    cache.clear()  # the subscribe form's per-address throttle
    services.load_classes()
    dept = "371522-urban_management"
    return {
        "supervisor": staff_factory("p_sup", roles=(("urban_supervisor", SX),)),
        "intake": staff_factory("p_intake", roles=(("urban_intake", SX),)),
        "lead": staff_factory("p_lead", roles=(("urban_shift_lead", SX),)),
        "dispatcher": staff_factory("p_disp", roles=(("urban_dispatcher", SX),)),
        "dept": staff_factory("p_dept", department_code=dept, roles=(("urban_department", SX),)),
        "other": staff_factory("p_other", roles=(("urban_supervisor", GX),)),
    }


def citizen(username: str = "c_zhang", kind: str = "citizen") -> User:
    return User.objects.create_user(username=username, password="Pw-citizen-2026!", kind=kind,
                                    real_name="张三丰")


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def point_in(county: str = SX, index: int = 0) -> tuple[float, float]:
    grids = Grid.objects.filter(county_code=county, size_class="urban").order_by("code") or Grid.objects.filter(
        county_code=county).order_by("code")
    p = shapely.from_geojson(grids[index].geometry).representative_point()
    return p.x, p.y


def png(name: str = "p.png") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, format="PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def form_data(lon: float, lat: float, **extra: Any) -> dict[str, Any]:
    data = {"class_code": "E0102", "lon": f"{lon:.7f}", "lat": f"{lat:.7f}", "datum": "gcj02",
            "description": "小区门口有暴露垃圾，已经好几天了", "address": "燕塔街 12 号对面"}
    data.update(extra)
    return data


def staff_case(u: dict[str, Any], county: str = SX, index: int = 0, code: str = "E0102") -> Case:
    lon, lat = point_in(county, index)
    user = u["supervisor"] if county == SX else u["other"]
    return services.report_case(acting_user=user, channel="supervisor", class_code=code, lon=lon, lat=lat,
                                description="暴露垃圾", photos=[png()]).case


def close(u: dict[str, Any], case: Case, notes: str = "已清运，现场已清洁") -> Case:
    if case.state == "reported":
        services.transition(case, "file", acting_user=u["intake"])
    services.transition(case, "dispatch", acting_user=u["dispatcher"])
    services.transition(case, "accept", acting_user=u["dept"])
    services.transition(case, "handle", acting_user=u["dept"], notes=notes, photos=[png("after.png")])
    services.transition(case, "verify", acting_user=u["supervisor"])
    return services.transition(case, "close", acting_user=u["lead"])


# --- the report form and "my reports" -----------------------------------------------------------------

def test_citizen_reports_through_the_form_and_follows_it(urban: dict[str, Any]) -> None:
    person = citizen()
    c = client_for(person)
    page = c.get("/urban/public/report/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<optgroup" in body and 'value="E0102"' in body and 'value="C0101"' in body
    assert 'id="report-map"' in body and "collections/counties/items" in body and 'name="photos"' in body
    lon, lat = point_in()
    audit_before = AuditRecord.objects.count()
    r = c.post("/urban/public/report/", {**form_data(lon, lat), "photos": [png(), png("b.png")]})
    assert r.status_code == 302
    case = Case.objects.get()
    assert r["Location"] == f"/urban/public/report/done/{case.number}/"
    assert (case.channel, case.state, case.reported_by_id) == ("public", "reported", person.pk)
    assert CasePhoto.objects.filter(case=case, kind="before").count() == 2
    event = case.events.get()
    assert event.actor_id is None and event.actor_label == "web:c_zhang"
    record = AuditRecord.objects.get(action="urban.report", object_id=str(case.pk))
    assert AuditRecord.objects.count() == audit_before + 1 and record.division_code == case.grid_code
    done = c.get(r["Location"])
    html = done.content.decode()
    assert done.status_code == 200 and case.number in html and 'id="duplicates"' not in html
    # a second report of the same problem nearby: the citizen is told, with a link to the existing case
    r2 = c.post("/urban/public/report/", form_data(lon + 0.0001, lat))
    second = Case.objects.exclude(pk=case.pk).get()
    html = c.get(r2["Location"]).content.decode()
    assert 'id="duplicates"' in html and f"/urban/public/cases/{case.number}/" in html
    assert second.state == "reported"  # the clerk decides the merge
    # my reports: both cases with their public state; nobody else's
    other = citizen("c_li", kind="enterprise")
    client_for(other).post("/urban/public/report/", form_data(*point_in(SX, 1)))
    mine = c.get("/urban/public/mine/").content.decode()
    assert case.number in mine and second.number in mine and "已受理" in mine
    assert Case.objects.filter(reported_by=other).count() == 1
    assert Case.objects.get(reported_by=other).number not in mine
    # someone else's done page is not found
    assert client_for(other).get(f"/urban/public/report/done/{case.number}/").status_code == 404


def test_report_form_needs_a_citizen_or_enterprise_account(urban: dict[str, Any]) -> None:
    anonymous = Client()
    for url in ("/urban/public/report/", "/urban/public/mine/"):
        r = anonymous.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/login/?next=")
    lon, lat = point_in()
    assert anonymous.post("/urban/public/report/", form_data(lon, lat)).status_code == 302
    # staff use their own report page; inactive accounts cannot report either
    assert client_for(urban["supervisor"]).get("/urban/public/report/").status_code == 403
    with pytest.raises(PermissionDenied):
        public.report_citizen_case(acting_user=urban["supervisor"], class_code="E0102", lon=lon, lat=lat,
                                   description="x")
    assert Case.objects.count() == 0


def test_report_errors_are_shown_next_to_the_field_and_write_nothing(urban: dict[str, Any]) -> None:
    c = client_for(citizen())
    audit_before = AuditRecord.objects.count()
    r = c.post("/urban/public/report/", form_data(*OUTSIDE))
    assert r.status_code == 400
    html = r.content.decode()
    assert re.search(r'id="location_error"[^>]*>该位置不在聊城市范围内', html)
    assert "小区门口有暴露垃圾" in html  # the input is kept
    lon, lat = point_in()
    r = c.post("/urban/public/report/", form_data(lon, lat, description="长" * 4001))
    assert r.status_code == 400
    assert re.search(r'id="description_error"[^>]*>问题描述不能超过 4000 字', r.content.decode())
    bad = SimpleUploadedFile("p.jpg", b"not an image at all", content_type="image/jpeg")
    r = c.post("/urban/public/report/", {**form_data(lon, lat), "photos": [bad]})
    assert r.status_code == 400 and re.search(r'id="photos_error"[^>]*>照片应为 JPEG', r.content.decode())
    r = c.post("/urban/public/report/", {**form_data(lon, lat), "photos": [png(f"{i}.png") for i in range(4)]})
    assert r.status_code == 400 and re.search(r'id="photos_error"[^>]*>最多上传 3 张照片', r.content.decode())
    r = c.post("/urban/public/report/", form_data(lon, lat, class_code=""))
    assert r.status_code == 400 and 'id="class_code_error"' in r.content.decode()
    r = c.post("/urban/public/report/", {**form_data(lon, lat), "lon": ""})
    assert r.status_code == 400 and 'id="location_error"' in r.content.decode()
    assert Case.objects.count() == 0 and CasePhoto.objects.count() == 0
    assert AuditRecord.objects.count() == audit_before
    # in English through i18n
    c.cookies["django_language"] = "en"
    r = c.post("/urban/public/report/", form_data(*OUTSIDE))
    assert "the point is outside Liaocheng" in r.content.decode()


def test_daily_report_limit(urban: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(public, "MAX_REPORTS_PER_DAY", 2)
    person = citizen()
    c = client_for(person)
    for i in range(2):
        assert c.post("/urban/public/report/", form_data(*point_in(SX, i))).status_code == 302
    r = c.post("/urban/public/report/", form_data(*point_in(SX, 2)))
    assert r.status_code == 429 and "24 小时内最多上报 2 个问题" in r.content.decode()
    assert Case.objects.count() == 2
    # a day later the citizen may report again
    later = timezone.now() + dt.timedelta(days=1, minutes=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        for i in (2, 3):
            lon, lat = point_in(SX, i)
            public.report_citizen_case(acting_user=person, class_code="E0102", lon=lon, lat=lat,
                                       description="再次上报")
        with pytest.raises(Throttled):
            public.report_citizen_case(acting_user=person, class_code="E0102", lon=lon, lat=lat,
                                       description="又一次")
    assert Case.objects.filter(reported_by=person).count() == 4


# --- public case pages, photos, merged and voided cases -------------------------------------------------

def test_public_case_page_shows_state_and_timeline_without_names(urban: dict[str, Any]) -> None:
    u = urban
    person = citizen()
    client_for(person).post("/urban/public/report/", form_data(*point_in()))
    case = Case.objects.get()
    services.transition(case, "file", acting_user=u["intake"], note="联系了上报人张三丰 13806351234")
    anonymous = Client()
    r = anonymous.get(f"/urban/public/cases/{case.number}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert re.search(r'id="public-state"[^>]*>已立案<', html)
    assert 'data-action="report"' in html and 'data-action="file"' in html
    close(u, Case.objects.get(pk=case.pk))
    html = anonymous.get(f"/urban/public/cases/{case.number}/").content.decode()
    dept = Department.objects.get(code="371522-urban_management")
    assert re.search(r'id="public-state"[^>]*>已办结<', html)
    for action in ("report", "file", "dispatch", "accept", "handle", "verify", "close"):
        assert f'data-action="{action}"' in html
    assert f"已派遣至 {dept.name}" in html and "已清运，现场已清洁" in html
    # no reporter, no staff, no internal notes, no exact position
    for secret in ("张三丰", "c_zhang", "13806351234", "测试人员", "p_intake", "p_lead", "p_dept", "p_sup",
                   case.description, "燕塔街 12 号"):
        assert secret not in html
    lon = re.search(r'data-lon="([0-9.]+)"', html)
    assert lon is not None and lon.group(1) == f"{round(case.lon, 3):f}"
    assert "/media/" not in html
    # the public list shows it under its county and state
    listing = anonymous.get(f"/urban/public/cases/?area={SX}&state=closed").content.decode()
    assert case.number in listing
    assert case.number not in anonymous.get(f"/urban/public/cases/?area={SX}&state=open").content.decode()
    assert case.number not in anonymous.get(f"/urban/public/cases/?area={GX}").content.decode()
    unknown = anonymous.get("/urban/public/cases/?area=371599")
    assert unknown.status_code == 404 and "区域代码不存在" in unknown.content.decode()
    assert anonymous.get("/urban/public/cases/CG000/").status_code == 404


def test_public_photos_only_after_photos_of_closed_cases(urban: dict[str, Any]) -> None:
    u = urban
    closed = close(u, staff_case(u))
    handled = staff_case(u, index=1)
    services.transition(handled, "file", acting_user=u["intake"])
    services.transition(handled, "dispatch", acting_user=u["dispatcher"])
    services.transition(handled, "accept", acting_user=u["dept"])
    services.transition(handled, "handle", acting_user=u["dept"], notes="已处置", photos=[png()])
    anonymous = Client()
    after = CasePhoto.objects.get(case=closed, kind="after")
    r = anonymous.get(f"/urban/public/photos/{after.pk}/")
    assert r.status_code == 200 and r["Content-Type"] == "image/png" and r["X-Content-Type-Options"] == "nosniff"
    assert b"".join(r.streaming_content).startswith(b"\x89PNG")
    html = anonymous.get(f"/urban/public/cases/{closed.number}/").content.decode()
    assert f"/urban/public/photos/{after.pk}/" in html
    before = CasePhoto.objects.get(case=closed, kind="before")
    assert anonymous.get(f"/urban/public/photos/{before.pk}/").status_code == 404
    other_after = CasePhoto.objects.get(case=handled, kind="after")
    assert anonymous.get(f"/urban/public/photos/{other_after.pk}/").status_code == 404
    assert f"/urban/public/photos/{other_after.pk}/" not in anonymous.get(
        f"/urban/public/cases/{handled.number}/").content.decode()
    assert anonymous.get("/urban/public/photos/999999/").status_code == 404


def test_merged_case_redirects_and_my_reports_names_the_case_followed(urban: dict[str, Any]) -> None:
    u = urban
    first = staff_case(u)
    person = citizen()
    c = client_for(person)
    lon, lat = first.lon + 0.0001, first.lat
    c.post("/urban/public/report/", form_data(lon, lat))
    mine = Case.objects.get(reported_by=person)
    services.merge_duplicate(acting_user=u["intake"], case=mine, into=first)
    r = Client().get(f"/urban/public/cases/{mine.number}/")
    assert r.status_code == 302 and r["Location"] == f"/urban/public/cases/{first.number}/"
    html = c.get("/urban/public/mine/").content.decode()
    assert "已合并到" in html and f'href="/urban/public/cases/{first.number}/"' in html
    # the merged report is not listed on its own; the case it joined shows the merge
    listing = Client().get("/urban/public/cases/").content.decode()
    assert first.number in listing and mine.number not in listing
    page = Client().get(f"/urban/public/cases/{first.number}/").content.decode()
    assert 'data-action="merge_in"' in page


def test_voided_case_shows_its_state_only(urban: dict[str, Any]) -> None:
    u = urban
    case = staff_case(u)
    services.transition(case, "request_void", acting_user=u["intake"], reason="重复上报的测试数据")
    services.transition(case, "approve_void", acting_user=u["lead"])
    html = Client().get(f"/urban/public/cases/{case.number}/").content.decode()
    assert re.search(r'id="public-state"[^>]*>已作废<', html) and 'id="voided-note"' in html
    assert 'id="public-case-map"' not in html and 'id="public-timeline"' not in html
    assert "重复上报的测试数据" not in html


# --- RSS feed ----------------------------------------------------------------------------------------

def test_area_feed_lists_updates_in_the_area_only(urban: dict[str, Any]) -> None:
    u = urban
    mine = staff_case(u)
    closed = close(u, staff_case(u, index=1))
    elsewhere = staff_case(u, GX)
    r = Client().get(f"/urban/public/feed/{SX}.rss")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/rss+xml")
    xml = r.content.decode()
    assert '<rss' in xml and 'version="2.0"' in xml
    assert f"http://testserver/urban/public/cases/{mine.number}/" in xml
    assert xml.count(closed.number) >= 2  # reported and closed: two items
    assert "[已办结]" in xml and "[新问题]" in xml
    assert elsewhere.number not in xml
    township = Client().get(f"/urban/public/feed/{mine.township_code}.rss").content.decode()
    assert mine.number in township and elsewhere.number not in township
    assert elsewhere.number in Client().get(f"/urban/public/feed/{GX}.rss").content.decode()
    assert Client().get("/urban/public/feed/371599.rss").status_code == 404
    assert Client().get("/urban/public/feed/3715220.rss").status_code == 404
    assert Client().get(f"/urban/public/feed/{mine.grid_code}.rss").status_code == 200


def test_hotline_cases_are_not_public(urban: dict[str, Any]) -> None:
    lon, lat = point_in(SX, 2)
    hotline = services.report_case(acting_user=urban["supervisor"], channel="hotline", class_code="E0102", lon=lon,
                                   lat=lat, description="市民李女士来电（13900000000）反映垃圾堆放").case
    assert Client().get(f"/urban/public/cases/{hotline.number}/").status_code == 404
    assert hotline.number not in Client().get("/urban/public/cases/").content.decode()
    assert hotline.number not in Client().get(f"/urban/public/feed/{SX}.rss").content.decode()


# --- e-mail subscriptions ----------------------------------------------------------------------------

def _path(url: str) -> str:
    assert url.startswith("https://lc.example/")
    return url.removeprefix("https://lc.example")


def test_subscription_double_opt_in_digest_and_cancel(urban: dict[str, Any]) -> None:
    u = urban
    c = Client()
    page = c.get(f"/urban/public/subscribe/?area={SX}")
    assert page.status_code == 200 and f'value="{SX}" selected' in page.content.decode()
    r = c.post("/urban/public/subscribe/", {"email": " Zhang.San@Example.COM ", "area": SX})
    assert r.status_code == 200 and 'id="subscribe-done"' in r.content.decode()
    sub = Subscription.objects.get()
    assert sub.email == "zhang.san@example.com" and sub.confirmed_at is None and sub.area_code == SX
    with connection.cursor() as cursor:
        cursor.execute("SELECT email FROM urban_subscription WHERE id = %s", [sub.pk])
        assert "example.com" not in cursor.fetchone()[0]  # SM4 at rest
    record = AuditRecord.objects.get(action="urban.subscribe")
    assert record.object_id == str(sub.pk) and record.division_code == SX and "example" not in str(record.after)
    assert len(mail.outbox) == 1
    confirm = mail.outbox[0]
    assert confirm.to == ["zhang.san@example.com"] and "莘县" in confirm.subject
    links = re.findall(r"https://lc\.example/\S+", confirm.body)
    confirm_url = next(x for x in links if "/confirm/" in x)
    cancel_url = next(x for x in links if "/cancel/" in x)
    assert confirm.extra_headers["List-Unsubscribe"] == f"<{cancel_url}>"
    # the same address and area again: no second subscription, no second mail right away
    c.post("/urban/public/subscribe/", {"email": "zhang.san@example.com", "area": SX})
    assert Subscription.objects.count() == 1 and len(mail.outbox) == 1
    # nothing is sent before the confirmation
    staff_case(u)
    assert public.send_digests(timezone.now() + dt.timedelta(minutes=5)) == public.DigestResult(0, 0)
    # the link's GET shows a button (mail scanners confirm nothing); POST confirms, once
    got = c.get(_path(confirm_url))
    assert got.status_code == 200 and 'id="token-form"' in got.content.decode()
    assert Subscription.objects.get().confirmed_at is None
    done = c.post(_path(confirm_url))
    assert done.status_code == 200 and 'id="token-done"' in done.content.decode()
    c.post(_path(confirm_url))
    assert AuditRecord.objects.filter(action="urban.subscription_confirm", object_id=str(sub.pk),
                                      division_code=SX).count() == 1
    # no updates since the confirmation: no mail
    t0 = timezone.now()
    assert public.send_digests(t0) == public.DigestResult(0, 0) and len(mail.outbox) == 1
    # a new case in the county (and one elsewhere): one digest with the case link and the unsubscribe link
    with mock.patch("django.utils.timezone.now", return_value=t0 + dt.timedelta(minutes=1)):
        new = staff_case(u, index=1)
        elsewhere = staff_case(u, GX)
    mail.outbox.clear()
    tasks.send_subscription_digests.call_local()  # the task itself: the real clock is before the window
    assert mail.outbox == []
    result = public.send_digests(t0 + dt.timedelta(minutes=10))
    assert result == public.DigestResult(1, 0) and len(mail.outbox) == 1
    digest = mail.outbox[0]
    assert f"https://lc.example/urban/public/cases/{new.number}/" in digest.body
    assert elsewhere.number not in digest.body and cancel_url in digest.body
    html, mime = digest.alternatives[0]
    assert mime == "text/html" and cancel_url in html and new.number in html
    # idempotent: the same window again sends nothing
    assert public.send_digests(t0 + dt.timedelta(minutes=10)) == public.DigestResult(0, 0)
    assert len(mail.outbox) == 1
    # cancel from the link (one-click POST, no CSRF token): no more mail
    assert 'id="token-form"' in c.get(_path(cancel_url)).content.decode()
    csrf_client = Client(enforce_csrf_checks=True)
    assert csrf_client.post(_path(cancel_url)).status_code == 200
    assert Subscription.objects.get().cancelled_at is not None
    assert AuditRecord.objects.filter(action="urban.subscription_cancel", object_id=str(sub.pk)).count() == 1
    with mock.patch("django.utils.timezone.now", return_value=t0 + dt.timedelta(minutes=20)):
        staff_case(u, index=2)
    assert public.send_digests(t0 + dt.timedelta(minutes=30)) == public.DigestResult(0, 0)
    assert len(mail.outbox) == 1
    # a cancelled subscription cannot be confirmed again; subscribing anew makes a new one
    assert c.post(_path(confirm_url)).status_code == 409
    c.post("/urban/public/subscribe/", {"email": "zhang.san@example.com", "area": SX})
    assert Subscription.objects.filter(cancelled_at__isnull=True).count() == 1


def test_subscription_refusals(urban: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    c = Client()
    r = c.post("/urban/public/subscribe/", {"email": "li@example.com", "area": "371599"})
    assert r.status_code == 404 and re.search(r'id="area_error"[^>]*>区域代码不存在', r.content.decode())
    r = c.post("/urban/public/subscribe/", {"email": "li@example.com", "area": "12"})
    assert r.status_code == 400 and 'id="area_error"' in r.content.decode()
    r = c.post("/urban/public/subscribe/", {"email": "not-an-address", "area": SX})
    assert r.status_code == 400 and re.search(r'id="email_error"[^>]*>请填写有效的电子邮箱地址', r.content.decode())
    assert Subscription.objects.count() == 0 and mail.outbox == []
    assert not AuditRecord.objects.filter(action="urban.subscribe").exists()
    # at most MAX_SUBSCRIPTIONS active subscriptions per address
    monkeypatch.setattr(public, "MAX_SUBSCRIPTIONS", 2)
    township = Grid.objects.filter(county_code=SX).first()
    assert township is not None
    for area in (SX, GX):
        public.subscribe(email="li@example.com", area_code=area)
    with pytest.raises(Conflict):
        public.subscribe(email="LI@example.com", area_code=township.township_code)
    assert Subscription.objects.count() == 2
    # unknown tokens
    assert c.get("/urban/public/subscribe/confirm/nonsense-token-that-is-long/").status_code == 404
    assert c.post("/urban/public/subscribe/cancel/x/").status_code == 404
    # the form throttles one address
    monkeypatch.setattr("liaocheng.urban.public_views.SUBSCRIBE_PER_HOUR", 1)
    cache.clear()
    c.post("/urban/public/subscribe/", {"email": "wang@example.com", "area": SX})
    r = c.post("/urban/public/subscribe/", {"email": "zhao@example.com", "area": SX})
    assert r.status_code == 429


def test_portal_links_to_the_public_pages(urban: dict[str, Any]) -> None:
    html = Client().get("/").content.decode()
    assert 'href="/urban/public/report/"' in html and 'href="/urban/public/cases/"' in html


@pytest.mark.django_db(transaction=True)
def test_public_report_and_case_pages_in_chromium(browser: Any, live_server: Any, settings: Any, tmp_path: Any,
                                                  staff_factory: Any) -> None:
    """A citizen reports at phone size (390×844): class, a tap on the map, description, submit; then the
    public case page with its approximate-location map. Screenshots in LIAOCHENG_SHOT_DIR when set."""
    import os
    from pathlib import Path

    settings.MEDIA_ROOT = str(tmp_path)
    shots = Path(os.environ.get("LIAOCHENG_SHOT_DIR") or tmp_path)
    services.load_classes()
    person = citizen("c_browser")
    c = client_for(person)
    cookie = {"name": "sessionid", "value": c.cookies["sessionid"].value, "url": live_server.url}
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    context.add_cookies([cookie])
    page = context.new_page()
    page.goto(f"{live_server.url}/urban/public/report/")
    page.wait_for_selector("#report-map.leaflet-container")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.select_option("#class_code", "E0102")
    box = page.locator("#report-map").bounding_box()
    assert box is not None
    page.click("#report-map", position={"x": box["width"] / 2, "y": box["height"] / 2})
    assert page.input_value("#lon") and page.input_value("#datum") == "gcj02"
    page.fill("#description", "路灯不亮")
    page.screenshot(path=str(shots / "urban-public-report-390.png"), full_page=True)
    page.click("#report-submit")
    page.wait_for_selector("#report-ok")
    case = Case.objects.get(reported_by=person)
    assert case.number in page.inner_text("#report-ok")
    page.goto(f"{live_server.url}/urban/public/cases/{case.number}/")
    page.wait_for_selector("#public-case-map.leaflet-container")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(shots / "urban-public-case-390.png"), full_page=True)
    context.close()
