"""Geo pages: the map page, the division list and a division's page with its edit form."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.forms.models import model_to_dict
from django.test import Client

from liaocheng.core.departments import department_code
from liaocheng.core.models import AuditRecord
from liaocheng.geo.models import Division
from liaocheng.geo.profile import COUNTY_SPECS

pytestmark = pytest.mark.django_db

GUANXIAN = "371525"
SHENXIAN = "371522"


def _village(county: str) -> Division:
    village = Division.objects.filter(level="village", code__startswith=county, valid_to__isnull=True).first()
    assert village is not None
    return village


def _snapshot(code: str) -> dict[str, Any]:
    return model_to_dict(Division.objects.get(code=code, valid_to__isnull=True))


@pytest.fixture
def guanxian_clerk(client: Client, staff_factory: Any) -> Any:
    user = staff_factory(
        "guan_clerk", department_code=department_code(GUANXIAN, "urban_management"), roles=(("clerk", GUANXIAN),)
    )
    client.force_login(user)
    return user


@pytest.fixture
def shenxian_clerk(client: Client, staff_factory: Any) -> Any:
    user = staff_factory("shen_clerk")  # 莘县综合行政执法局, clerk for 371522
    client.force_login(user)
    return user


# --- map -----------------------------------------------------------------------------------------


def test_map_page_requires_staff_login(client: Client) -> None:
    response = client.get("/map/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/map/")


def test_map_page(client: Client, shenxian_clerk: Any) -> None:
    response = client.get("/map/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="map"' in html and 'id="grid-status"' in html
    assert "/static/vendor/leaflet/leaflet.js" in html and "/static/js/map.js" in html
    assert "/ogcapi/collections/counties/items?limit=100" in html
    assert "/ogcapi/collections/townships/items?limit=1000" in html
    assert "/ogcapi/collections/grids/items" in html
    assert "GCJ-02" in html
    assert "放大查看单元网格" in html
    assert "tileLayer" not in html  # no tile layer anywhere
    assert not re.search(r'(src|href)="(https?:)?//', html)  # no CDN, no online resources


# --- division list ---------------------------------------------------------------------------------


def test_division_list_shows_only_the_users_scope(client: Client, guanxian_clerk: Any) -> None:
    response = client.get("/divisions/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "冠县" in html
    assert "莘县" not in html
    assert f"/divisions/{GUANXIAN}/" in html


def test_division_list_search_and_paging(client: Client, shenxian_clerk: Any) -> None:
    village = _village(SHENXIAN)
    response = client.get("/divisions/", {"q": village.name})
    assert response.status_code == 200
    assert f"/divisions/{village.code}/" in response.content.decode()
    by_code = client.get("/divisions/", {"q": village.code})
    assert f"/divisions/{village.code}/" in by_code.content.decode()
    villages = client.get("/divisions/", {"level": "village", "page": "2"})
    assert villages.status_code == 200
    assert 'rel="prev"' in villages.content.decode()
    # Another county's village is not found.
    other = _village(GUANXIAN)
    assert f"/divisions/{other.code}/" not in client.get("/divisions/", {"q": other.code}).content.decode()


# --- division page ----------------------------------------------------------------------------------


def test_division_page_of_another_county_is_403_and_post_changes_nothing(client: Client, guanxian_clerk: Any) -> None:
    village = _village(SHENXIAN)
    before = _snapshot(village.code)
    audits = AuditRecord.objects.count()

    page = client.get(f"/divisions/{village.code}/")
    assert page.status_code == 403
    assert "无权访问" in page.content.decode()

    post = client.post(f"/divisions/{village.code}/", {"name": "改名村委会", "lon": "115.67", "lat": "36.23"})
    assert post.status_code == 403
    assert _snapshot(village.code) == before
    assert AuditRecord.objects.count() == audits


def test_viewer_cannot_edit(client: Client, staff_factory: Any) -> None:
    user = staff_factory("viewer1", roles=(("viewer", SHENXIAN),))
    client.force_login(user)
    village = _village(SHENXIAN)
    before = _snapshot(village.code)
    page = client.get(f"/divisions/{village.code}/")
    assert page.status_code == 200
    assert 'id="division-form"' not in page.content.decode()
    assert client.post(f"/divisions/{village.code}/", {"name": "改名村委会"}).status_code == 403
    assert _snapshot(village.code) == before


def test_own_county_edit_writes_an_audit_record(client: Client, shenxian_clerk: Any) -> None:
    village = _village(SHENXIAN)
    page = client.get(f"/divisions/{village.code}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert village.name in html and 'id="division-form"' in html
    assert "本地" in html  # generated local code flagged

    audits = AuditRecord.objects.count()
    response = client.post(
        f"/divisions/{village.code}/",
        {
            "name": "新名村委会",
            "lon": repr(village.lon),
            "lat": repr(village.lat),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/divisions/{village.code}/"
    village.refresh_from_db()
    assert village.name == "新名村委会"
    assert AuditRecord.objects.count() == audits + 1
    record = AuditRecord.objects.order_by("-seq").first()
    assert record is not None
    assert (record.action, record.object_id, record.actor_id) == (
        "geo.update_division",
        village.code,
        shenxian_clerk.pk,
    )
    assert record.after is not None and record.after["name"] == "新名村委会"
    assert "已保存" in client.get(f"/divisions/{village.code}/").content.decode()


def test_move_village_point_within_county(client: Client, shenxian_clerk: Any) -> None:
    village = _village(SHENXIAN)
    lon, lat = COUNTY_SPECS[SHENXIAN].seat
    response = client.post(f"/divisions/{village.code}/", {"name": village.name, "lon": lon, "lat": lat})
    assert response.status_code == 302
    village.refresh_from_db()
    assert (village.lon, village.lat, village.point_generated) == (lon, lat, False)


def test_point_outside_the_county_is_a_form_error(client: Client, shenxian_clerk: Any) -> None:
    village = _village(SHENXIAN)
    before = _snapshot(village.code)
    audits = AuditRecord.objects.count()
    lon, lat = COUNTY_SPECS[GUANXIAN].seat
    response = client.post(f"/divisions/{village.code}/", {"name": "新名村委会", "lon": lon, "lat": lat})
    assert response.status_code == 400
    assert "位置不在该区划所属县（市、区）内" in response.content.decode()
    assert _snapshot(village.code) == before
    assert AuditRecord.objects.count() == audits


def test_county_page_has_no_point_fields(client: Client, shenxian_clerk: Any) -> None:
    page = client.get(f"/divisions/{SHENXIAN}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="name"' in html and 'name="lon"' not in html
    assert "GB/T 2260" in html
    response = client.post(f"/divisions/{SHENXIAN}/", {"name": "莘县"})
    assert response.status_code == 302


def test_unknown_division_is_404(client: Client, shenxian_clerk: Any) -> None:
    assert client.get("/divisions/371522999999/").status_code == 404
    assert client.get("/divisions/abc/").status_code == 404


def test_division_page_in_english(client: Client, shenxian_clerk: Any) -> None:
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    village = _village(SHENXIAN)
    html = client.get(f"/divisions/{village.code}/").content.decode()
    assert "Village/community" in html or "Village / community" in html
    lon, lat = COUNTY_SPECS[GUANXIAN].seat
    error = client.post(f"/divisions/{village.code}/", {"name": village.name, "lon": lon, "lat": lat})
    assert "the point is outside the division&#x27;s county" in error.content.decode()
