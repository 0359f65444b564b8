"""The audit log pages: scope, filters, paging, the record page and the chain verification button."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from liaocheng.core import audit, services
from liaocheng.core.departments import department_code
from liaocheng.core.models import AuditRecord, Department

pytestmark = pytest.mark.django_db

SHENXIAN, GUANXIAN, CITY = "371522", "371525", "371500"


def _seqs(html: str) -> list[int]:
    return [int(s) for s in re.findall(r'data-seq="(\d+)"', html)]


def _make_records(staff_factory: Any) -> dict[str, AuditRecord]:
    """A staff account created in Shenxian, one in Guanxian, and a city-wide calendar change."""
    admin = staff_factory("city_admin", department_code=department_code(CITY, "big_data"),
                          roles=(("platform_admin", CITY),))
    made = {}
    for county, username in ((SHENXIAN, "sx_new"), (GUANXIAN, "gx_new")):
        user = services.create_staff(
            acting_user=admin, username=username, password="Audit-pages-2026", real_name="新人员",
            department=Department.objects.get(code=department_code(county, "public_security")),
        )
        made[county] = AuditRecord.objects.get(action="core.create_staff", object_id=str(user.pk))
    services.set_calendar_override(acting_user=admin, date=dt.date(2031, 5, 6), is_workday=False, note="测试")
    made["city"] = AuditRecord.objects.get(action="core.calendar_override")
    return made


def test_audit_log_needs_the_view_audit_right(client: Client, staff_factory: Any) -> None:
    assert client.get("/workbench/audit/").status_code == 302
    client.force_login(staff_factory("clerk"))
    assert client.get("/workbench/audit/").status_code == 403
    assert client.post("/workbench/audit/verify/").status_code == 403
    assert "/workbench/audit/" not in client.get("/workbench/").content.decode()


def test_county_auditor_sees_only_own_county_records(client: Client, staff_factory: Any) -> None:
    made = _make_records(staff_factory)
    auditor = staff_factory("sx_auditor", roles=(("auditor", SHENXIAN),))
    client.force_login(auditor)
    assert "/workbench/audit/" in client.get("/workbench/").content.decode()
    seqs = _seqs(client.get("/workbench/audit/").content.decode())
    assert made[SHENXIAN].seq in seqs
    assert made[GUANXIAN].seq not in seqs
    assert made["city"].seq not in seqs  # no division: for city-scope auditors only
    assert all(AuditRecord.objects.get(seq=s).division_code.startswith(SHENXIAN) for s in seqs)
    # Another county's record is not shown even by its number.
    assert client.get(f"/workbench/audit/{made[GUANXIAN].seq}/").status_code == 404
    assert client.get(f"/workbench/audit/{made[SHENXIAN].seq}/").status_code == 200


def test_city_auditor_sees_everything_newest_first(client: Client, staff_factory: Any) -> None:
    made = _make_records(staff_factory)
    client.force_login(staff_factory("city_auditor", roles=(("auditor", CITY),)))
    seqs = _seqs(client.get("/workbench/audit/").content.decode())
    assert {made[SHENXIAN].seq, made[GUANXIAN].seq, made["city"].seq} <= set(seqs)
    assert seqs == sorted(seqs, reverse=True)


def test_filters(client: Client, staff_factory: Any) -> None:
    made = _make_records(staff_factory)
    client.force_login(staff_factory("city_auditor", roles=(("auditor", CITY),)))

    def seqs(**params: str) -> set[int]:
        response = client.get("/workbench/audit/", params)
        assert response.status_code == 200
        return set(_seqs(response.content.decode()))

    assert seqs(action="core.create_staff") == {made[SHENXIAN].seq, made[GUANXIAN].seq}
    assert seqs(actor="city_admin") == {made[SHENXIAN].seq, made[GUANXIAN].seq, made["city"].seq}
    assert seqs(object_id=made[GUANXIAN].object_id) >= {made[GUANXIAN].seq}
    assert made[SHENXIAN].seq not in seqs(object_id=made[GUANXIAN].object_id)
    today = timezone.localdate()
    assert made["city"].seq in seqs(date_from=today.isoformat(), date_to=today.isoformat())
    assert seqs(date_to=(today - dt.timedelta(days=1)).isoformat()) & {made["city"].seq} == set()
    assert seqs(date_from=(today + dt.timedelta(days=1)).isoformat()) == set()
    bad = client.get("/workbench/audit/", {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert bad.status_code == 400 and "截止日期不能早于起始日期" in bad.content.decode()


def test_paging(client: Client, staff_factory: Any) -> None:
    with transaction.atomic():
        for i in range(60):
            audit.record(actor="system", action="test.bulk", object_type="test", object_id=i, division_code=SHENXIAN)
    client.force_login(staff_factory("sx_auditor", roles=(("auditor", SHENXIAN),)))
    first = client.get("/workbench/audit/", {"action": "test.bulk"}).content.decode()
    second = client.get("/workbench/audit/", {"action": "test.bulk", "page": "2"}).content.decode()
    assert len(_seqs(first)) == 50 and len(_seqs(second)) == 10
    assert "action=test.bulk&amp;page=2" in first
    assert not set(_seqs(first)) & set(_seqs(second))


def test_record_page_shows_before_and_after(client: Client, staff_factory: Any) -> None:
    admin = staff_factory("city_admin", department_code=department_code(CITY, "big_data"),
                          roles=(("platform_admin", CITY),))
    services.set_calendar_override(acting_user=admin, date=dt.date(2031, 5, 6), is_workday=False, note="第一次")
    services.set_calendar_override(acting_user=admin, date=dt.date(2031, 5, 6), is_workday=True, note="改为上班")
    rec = AuditRecord.objects.filter(action="core.calendar_override").order_by("-seq").first()
    assert rec is not None
    client.force_login(admin)
    html = unescape(client.get(f"/workbench/audit/{rec.seq}/").content.decode())
    assert 'id="before-json"' in html and 'id="after-json"' in html
    assert "第一次" in html and "改为上班" in html
    assert '"is_workday": false' in html and '"is_workday": true' in html
    assert "内容与哈希一致" in html


def test_verify_button_reports_an_intact_chain_and_writes_nothing(client: Client, staff_factory: Any) -> None:
    _make_records(staff_factory)
    client.force_login(staff_factory("sx_auditor", roles=(("auditor", SHENXIAN),)))
    count = AuditRecord.objects.count()
    response = client.post("/workbench/audit/verify/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-ok="true"' in html and "审计链完整" in html
    assert f"已逐条校验 {count} 条记录" in html
    assert AuditRecord.objects.count() == count  # verification is read-only
    assert client.get("/workbench/audit/verify/").status_code == 405


def test_verify_button_names_a_tampered_record(client: Client, staff_factory: Any) -> None:
    made = _make_records(staff_factory)
    victim = made[SHENXIAN]
    with connection.cursor() as cur:  # an edit made directly in the database, bypassing the platform
        cur.execute("UPDATE core_auditrecord SET actor_label = %s WHERE id = %s", ["mallory", victim.pk])
    client.force_login(staff_factory("sx_auditor", roles=(("auditor", SHENXIAN),)))
    html = client.post("/workbench/audit/verify/").content.decode()
    assert 'data-ok="false"' in html and f'data-seq="{victim.seq}"' in html
    assert f"#{victim.seq}" in html and "记录内容被篡改" in html
    assert f'href="/workbench/audit/{victim.seq}/"' in html
    # The record page shows that its content no longer matches its hash.
    assert "内容与哈希不一致" in client.get(f"/workbench/audit/{victim.seq}/").content.decode()
