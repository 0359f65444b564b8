"""The working calendar page: the year grid, overrides and the deadline calculator."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from liaocheng.core.departments import department_code
from liaocheng.core.models import AuditRecord, CalendarOverride

pytestmark = pytest.mark.django_db

CITY, SHENXIAN = "371500", "371522"


def _cell(html: str, day: str) -> str:
    match = re.search(rf'<td class="([^"]*)" data-date="{day}" data-kind="(\w+)"([^>]*)>(.*?)</td>', html)
    assert match, f"no cell for {day}"
    return match.group(0)


def _kind(html: str, day: str) -> str:
    match = re.search(rf'data-date="{day}" data-kind="(\w+)"', html)
    assert match, f"no cell for {day}"
    return match.group(1)


def _deadline(client: Client, start: str, amount: str, unit: str = "days") -> str:
    response = client.get("/workbench/calendar/", {"year": start[:4], "calc-start": start, "calc-amount": amount,
                                                   "calc-unit": unit})
    assert response.status_code == 200
    match = re.search(r'<time id="deadline-result" datetime="([^"]+)">([^<]+)</time>', response.content.decode())
    assert match, "no result"
    return match.group(2)


@pytest.fixture
def calendar_admin(staff_factory: Any) -> Any:
    return staff_factory("cal_admin", department_code=department_code(CITY, "big_data"),
                         roles=(("platform_admin", CITY),))


def test_calendar_is_for_signed_in_staff(client: Client, staff_factory: Any) -> None:
    assert client.get("/workbench/calendar/")["Location"].startswith("/login/")
    client.force_login(staff_factory("clerk"))
    assert client.get("/workbench/calendar/").status_code == 200
    assert "/workbench/calendar/" in client.get("/workbench/").content.decode()


def test_2026_national_day_and_make_up_day(client: Client, staff_factory: Any) -> None:
    client.force_login(staff_factory("clerk"))
    html = client.get("/workbench/calendar/", {"year": "2026"}).content.decode()
    assert "2026 年工作日历" in html
    assert 'id="unknown-year"' not in html
    assert _kind(html, "2026-10-01") == "holiday" and "国庆节" in _cell(html, "2026-10-01")
    assert _kind(html, "2026-10-10") == "makeup" and "调休上班" in _cell(html, "2026-10-10")
    assert _kind(html, "2026-10-08") == "workday"
    assert _kind(html, "2026-10-11") == "weekend"
    assert len(re.findall(r'data-date="2026-', html)) == 365


def test_unknown_year_says_overrides_are_needed(client: Client, staff_factory: Any) -> None:
    client.force_login(staff_factory("clerk"))
    html = client.get("/workbench/calendar/", {"year": "2031"}).content.decode()
    assert 'id="unknown-year"' in html and "尚无 2031 年的法定节假日安排" in html
    # Without data, Monday to Friday are working days.
    assert _kind(html, "2031-10-01") == "workday"
    # Nonsense years fall back to the current one instead of failing.
    assert client.get("/workbench/calendar/", {"year": "abc"}).status_code == 200


def test_override_for_2031_shows_and_changes_the_deadline(client: Client, calendar_admin: Any) -> None:
    client.force_login(calendar_admin)
    # Thursday 6 March 2031, 09:00 + 1 working day: close of Friday the 7th.
    assert _deadline(client, "2031-03-06T09:00", "1") == "2031-03-07 17:30"
    assert _deadline(client, "2031-03-06T16:30", "2", "hours") == "2031-03-07 09:30"

    response = client.post("/workbench/calendar/overrides/", {"date": "2031-03-07", "is_workday": "0",
                                                              "note": "2031年地方调休（测试）"})
    assert response.status_code == 302 and response["Location"] == "/workbench/calendar/?year=2031"
    html = client.get(response["Location"]).content.decode()
    cell = _cell(html, "2031-03-07")
    assert 'data-override="1"' in cell and "2031年地方调休（测试）" in cell
    assert _kind(html, "2031-03-07") == "holiday"
    assert "2031年地方调休（测试）" in html.split('id="override-table"')[1]
    record = AuditRecord.objects.get(action="core.calendar_override", object_id="2031-03-07")
    assert record.actor_label == "cal_admin" and record.after == {"is_workday": False,
                                                                  "note": "2031年地方调休（测试）"}

    # The Friday is now a day off: the deadline moves to Monday the 10th.
    assert _deadline(client, "2031-03-06T09:00", "1") == "2031-03-10 17:30"
    assert _deadline(client, "2031-03-06T16:30", "2", "hours") == "2031-03-10 09:30"

    response = client.post("/workbench/calendar/overrides/2031-03-07/remove/")
    assert response.status_code == 302
    assert not CalendarOverride.objects.exists()
    assert _deadline(client, "2031-03-06T09:00", "1") == "2031-03-07 17:30"
    assert AuditRecord.objects.filter(action="core.calendar_override_removed").count() == 1


def test_deadline_across_national_day_2026(client: Client, staff_factory: Any) -> None:
    client.force_login(staff_factory("clerk"))
    # 30 September 2026 + 1 working day: the holiday runs 1–7 October, so 8 October.
    assert _deadline(client, "2026-09-30T10:00", "1") == "2026-10-08 17:30"
    assert _deadline(client, "2026-09-30T16:30", "2", "hours") == "2026-10-08 09:30"


def test_deadline_form_errors(client: Client, staff_factory: Any) -> None:
    client.force_login(staff_factory("clerk"))
    response = client.get("/workbench/calendar/", {"calc-start": "not a date", "calc-amount": "1.5",
                                                   "calc-unit": "days"})
    assert response.status_code == 400
    assert 'id="deadline-result"' not in response.content.decode()


def test_only_city_calendar_managers_may_change_it(client: Client, staff_factory: Any) -> None:
    county_admin = staff_factory("sx_platform", roles=(("platform_admin", SHENXIAN),))
    clerk = staff_factory("clerk")
    for user in (clerk, county_admin):
        client.force_login(user)
        html = client.get("/workbench/calendar/", {"year": "2031"}).content.decode()
        assert 'id="override-form"' not in html
        response = client.post("/workbench/calendar/overrides/", {"date": "2031-03-07", "is_workday": "0"})
        assert response.status_code == 403
        assert client.post("/workbench/calendar/overrides/", {"date": ""}).status_code == 403
    assert not CalendarOverride.objects.exists()
    assert not AuditRecord.objects.filter(action="core.calendar_override").exists()


def test_invalid_override_is_shown_in_the_form(client: Client, calendar_admin: Any) -> None:
    client.force_login(calendar_admin)
    response = client.post("/workbench/calendar/overrides/", {"date": "2031-02-30", "is_workday": "0", "year": "2031"})
    assert response.status_code == 400
    assert 'id="override-form"' in response.content.decode() and "field-error" in response.content.decode()
    assert not CalendarOverride.objects.exists()


def test_calendar_in_english(client: Client, staff_factory: Any) -> None:
    client.force_login(staff_factory("clerk"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/workbench/calendar/", {"year": "2026"}).content.decode()
    assert "Working calendar 2026" in html
    assert "National Day" in _cell(html, "2026-10-01")
