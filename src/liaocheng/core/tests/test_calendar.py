import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied

from liaocheng.core import calendar as workcal
from liaocheng.core import services
from liaocheng.core.models import AuditRecord

TZ = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=TZ)


@pytest.mark.django_db
def test_statutory_holidays_and_make_up_days() -> None:
    assert not workcal.is_workday(dt.date(2025, 10, 1))   # National Day
    assert workcal.is_workday(dt.date(2025, 9, 28))       # Sunday make-up working day (调休)
    assert workcal.is_workday(dt.date(2025, 10, 11))      # Saturday make-up working day
    assert not workcal.is_workday(dt.date(2026, 2, 16))   # Spring Festival holiday, a Monday
    assert not workcal.is_workday(dt.date(2025, 11, 29))  # ordinary Saturday


@pytest.mark.django_db
def test_add_working_days_skips_the_national_day_week() -> None:
    # Accepted on Tue 2025-09-30; 3 working days later skips 1-8 October, counts 9, 10, 11 (Sat, make-up).
    assert workcal.add_working_days(dt.date(2025, 9, 30), 3) == dt.date(2025, 10, 11)
    assert workcal.add_working_days(dt.date(2025, 9, 26), 1) == dt.date(2025, 9, 28)
    # zero days: the same day if it is a working day, else the next one
    assert workcal.add_working_days(dt.date(2025, 10, 1), 0) == dt.date(2025, 10, 9)


@pytest.mark.django_db
def test_working_hours_skip_lunch_nights_and_weekends() -> None:
    # 11:00 + 2h -> 1h until 12:00, lunch break, 13:30 + 1h = 14:30
    assert workcal.add_working_hours(at(2025, 11, 26, 11, 0), 2) == at(2025, 11, 26, 14, 30)
    # Friday 16:30 + 2h -> 1h on Friday, then Monday 08:30 + 1h
    assert workcal.add_working_hours(at(2025, 11, 28, 16, 30), 2) == at(2025, 12, 1, 9, 30)
    # starting in the night counts from the next morning
    assert workcal.add_working_hours(at(2025, 11, 26, 22, 0), 1) == at(2025, 11, 27, 9, 30)
    assert workcal.working_hours_between(at(2025, 11, 28, 16, 30), at(2025, 12, 1, 9, 30)) == pytest.approx(2)


@pytest.mark.django_db
def test_admin_override_for_an_unannounced_year_wins_and_is_audited(staff_factory) -> None:
    admin = staff_factory("cal_admin", roles=(("platform_admin", "371500"),))
    monday = dt.date(2031, 1, 6)
    assert workcal.is_workday(monday)  # no official data for 2031: Monday-Friday
    before = AuditRecord.objects.count()
    services.set_calendar_override(acting_user=admin, date=monday, is_workday=False, note="2031 元旦调休")
    assert not workcal.is_workday(monday)
    assert workcal.add_working_days(dt.date(2031, 1, 3), 1) == dt.date(2031, 1, 7)
    rec = AuditRecord.objects.order_by("-seq").first()
    assert AuditRecord.objects.count() == before + 1
    assert rec is not None and rec.action == "core.calendar_override" and rec.actor_id == admin.pk


@pytest.mark.django_db
def test_county_clerk_cannot_change_the_calendar(staff_factory) -> None:
    clerk = staff_factory("cal_clerk")
    with pytest.raises(PermissionDenied):
        services.set_calendar_override(acting_user=clerk, date=dt.date(2031, 1, 6), is_workday=False)
    assert workcal.is_workday(dt.date(2031, 1, 6))
