"""Electronic supervision: cards from background work at the right working-day moments (controlled clock,
across National Day 2026), idempotent, resolved when the case finishes; the console pages."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from liaocheng.core.calendar import get_calendar
from liaocheng.core.departments import department_code
from liaocheng.core.models import AuditRecord, Department, User
from liaocheng.egov import supervision, tasks
from liaocheng.egov.models import (
    Application,
    ApplicationStatus,
    CardKind,
    Case,
    CaseStatus,
    CaseStep,
    DisclosureRequest,
    ItemType,
    ServiceItem,
    StepStatus,
    SupervisionCard,
)

TZ = ZoneInfo("Asia/Shanghai")
SX = "371522"  # 莘县
T0 = dt.datetime(2026, 9, 28, 10, 0, tzinfo=TZ)  # Monday before National Day (10-01..10-07 off, 10-10 make-up)
_seq = itertools.count(1)


def at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=TZ)


def make_item(division: str = SX, *, credit_rule: str = "none", promised_days: int = 5) -> ServiceItem:
    item_type, _ = ItemType.objects.get_or_create(code="XK", defaults={"name": "行政许可"})
    n = next(_seq)
    return ServiceItem.objects.create(
        basic_code="000105001000", code=f"{division}-XK-{n:04d}", name="食品经营许可", item_type=item_type,
        level="county", department=Department.objects.get(code=department_code(division, "market_regulation")),
        division_code=division, statutory_days=20, promised_days=promised_days, result_name="食品经营许可证",
        result_kind="licence", credit_rule=credit_rule, status="published",
        process=[{"key": "review", "name": "审查", "role": "egov_reviewer", "limit_days": 3, "after": []}],
    )


def make_applicant(username: str = "", kind: str = "enterprise") -> User:
    return User.objects.create(username=username or f"app{next(_seq)}", kind=kind, real_name="张三")


def make_case(item: ServiceItem | None = None, *, applicant: User | None = None, status: str = CaseStatus.IN_REVIEW,
              received_at: dt.datetime = T0, accepted: bool = True, applicant_name: str = "聊城市鲁西食品有限公司",
              credit_code: str = "91371500MA3C7XKX2L", id_number: str = "", step_days: int | None = 3) -> Case:
    item = item or make_item()
    cal = get_calendar()
    app = Application.objects.create(
        number=f"A{next(_seq):08d}", applicant=applicant or make_applicant(), item=item,
        applicant_name=applicant_name, credit_code=credit_code, id_number=id_number,
        division_code=item.division_code, form_data={"address": "莘县燕塔街1号", "scope": "预包装食品销售"},
        status=ApplicationStatus.IN_PROGRESS, created_at=received_at, submitted_at=received_at)
    case = Case.objects.create(
        number=f"C{next(_seq):08d}", application=app, item=item, department=item.department,
        division_code=item.division_code, status=status, received_at=received_at,
        accepted_at=received_at if accepted else None,
        promised_due_at=cal.deadline_after_days(received_at, item.promised_days) if accepted else None,
        statutory_due_at=cal.deadline_after_days(received_at, item.statutory_days) if accepted else None)
    if step_days is not None and accepted:
        CaseStep.objects.create(case=case, key="review", name="审查", role="egov_reviewer", limit_days=step_days,
                                status=StepStatus.ACTIVE, started_at=received_at,
                                due_at=cal.deadline_after_days(received_at, step_days))
    return case


def cards(case: Case | None = None, **kw: Any) -> set[str]:
    qs = SupervisionCard.objects.filter(**kw)
    if case is not None:
        qs = qs.filter(case=case)
    return {c.kind + (f":{c.step_key}" if c.step_key else "") for c in qs}


def run_task_at(when: dt.datetime) -> supervision.SweepResult:
    with mock.patch("django.utils.timezone.now", return_value=when):
        return tasks.supervision_sweep.call_local()


def test_thresholds_across_national_day(db: None) -> None:
    cal = get_calendar()
    assert not cal.is_workday(dt.date(2026, 10, 5)) and cal.is_workday(dt.date(2026, 10, 10))  # 调休 Saturday
    due = cal.deadline_after_days(T0, 5)
    assert due == at(10, 10, 17, 30)  # 9-29, 9-30, 10-08, 10-09, 10-10 (make-up day)
    assert supervision.warn_at(cal, due) == at(10, 9, 17, 30)
    assert supervision.warn_at(cal, at(10, 8, 17, 30)) == at(9, 30, 17, 30)
    # due <= cutoff(now)  <=>  warn_at(due) <= now
    for now in (at(9, 30, 17, 29), at(9, 30, 17, 30), at(10, 3, 12), at(10, 9, 9), at(10, 9, 17, 30)):
        for d in (at(10, 8, 17, 30), at(10, 9, 17, 30), at(10, 10, 17, 30)):
            assert (d <= supervision.warning_cutoff(cal, now)) == (supervision.warn_at(cal, d) <= now), (now, d)


def test_unhandled_case_gets_warning_yellow_red_across_national_day(db: None, settings: Any) -> None:
    settings.EGOV_SUPERVISION_PERIOD_DAYS = 3
    case = make_case()
    assert case.promised_due_at == at(10, 10, 17, 30)
    step = case.steps.get()
    assert step.due_at == at(10, 8, 17, 30)  # 3 working days: 9-29, 9-30, 10-08

    expected = [
        (at(9, 30, 17, 0), set()),
        (at(10, 5, 12, 0), set()),  # seven calendar days later, but only two working days: nothing yet
        (at(10, 8, 17, 0), set()),
        (at(10, 8, 18, 0), {"step_overdue:review"}),  # the step over its own time, case not overdue
        (at(10, 9, 17, 0), {"step_overdue:review"}),
        (at(10, 9, 17, 30), {"step_overdue:review", "warning"}),  # one working day before 10-10 17:30
        (at(10, 10, 17, 29), {"step_overdue:review", "warning"}),
        (at(10, 10, 17, 31), {"step_overdue:review", "warning", "yellow"}),
        (at(10, 11, 12, 0), {"step_overdue:review", "warning", "yellow"}),  # Sunday
        (at(10, 14, 17, 0), {"step_overdue:review", "warning", "yellow"}),
        (at(10, 14, 17, 31), {"step_overdue:review", "warning", "yellow", "red"}),
    ]
    for when, kinds in expected:
        run_task_at(when)
        assert cards(case) == kinds, when
    yellow = SupervisionCard.objects.get(case=case, kind=CardKind.YELLOW)
    assert yellow.deadline_at == at(10, 14, 17, 30)  # 10-12, 10-13, 10-14 after the missed deadline
    assert yellow.created_at == at(10, 10, 17, 31)
    assert yellow.department_id == case.department_id and yellow.division_code == SX
    assert SupervisionCard.objects.get(case=case, kind=CardKind.WARNING).created_at == at(10, 9, 17, 30)

    # idempotent: running again (now, and later) writes nothing
    again = run_task_at(at(10, 14, 17, 31))
    assert again.total == 0 and again.resolved == 0
    assert supervision.sweep(now=at(10, 20, 9)).total == 0
    assert SupervisionCard.objects.filter(case=case).count() == 4
    assert AuditRecord.objects.filter(action="egov.card_red").count() == 1

    # the case is issued: every card is resolved, once
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.ISSUED, issued_at=at(10, 21, 10))
    CaseStep.objects.filter(pk=step.pk).update(status=StepStatus.DONE, finished_at=at(10, 21, 10))
    done = supervision.sweep(now=at(10, 21, 11))
    assert done.resolved == 4 and done.total == 0
    assert not SupervisionCard.objects.filter(case=case, resolved_at__isnull=True).exists()
    assert supervision.sweep(now=at(10, 21, 12)).resolved == 0


def test_flags_acceptance_refusal_and_correction(db: None) -> None:
    waiting = make_case(status=CaseStatus.WAITING, accepted=False, received_at=at(9, 30, 10))
    refused = make_case(status=CaseStatus.REFUSED, accepted=False)
    Case.objects.filter(pk=refused.pk).update(reason="  ")
    with_reason = make_case(status=CaseStatus.REFUSED, accepted=False)
    Case.objects.filter(pk=with_reason.pk).update(reason="材料不齐全且逾期未补正")
    paused = make_case(status=CaseStatus.CORRECTION)  # clock stopped: no deadline cards

    supervision.sweep(now=at(10, 7, 12))  # holiday: the acceptance deadline is 10-08 17:30
    assert cards(waiting) == set()
    assert cards(refused) == {"refused_no_reason"}
    supervision.sweep(now=at(10, 8, 17, 31))
    assert cards(waiting) == {"acceptance_delayed"}
    assert cards(with_reason) == set()
    supervision.sweep(now=at(10, 20, 9))
    assert cards(paused) == set()

    Case.objects.filter(pk=waiting.pk).update(status=CaseStatus.IN_REVIEW, accepted_at=at(10, 20, 10))
    Case.objects.filter(pk=refused.pk).update(reason="不属于本机关职权范围")
    assert supervision.sweep(now=at(10, 20, 11)).resolved == 2
    assert not SupervisionCard.objects.filter(resolved_at__isnull=True).exists()


def test_disclosure_request_cards(db: None) -> None:
    requester = make_applicant(kind="citizen")
    dept = Department.objects.get(code=department_code(SX, "party_government_office"))
    req = DisclosureRequest.objects.create(
        number="YSQ-1", requester=requester, department=dept, division_code=SX, description="2026年财政预算",
        received_at=T0, due_at=at(10, 10, 17, 30))
    supervision.sweep(now=at(10, 5, 12))
    assert cards(disclosure_request=req) == set()
    supervision.sweep(now=at(10, 9, 17, 45))
    assert cards(disclosure_request=req) == {"warning"}
    supervision.sweep(now=at(10, 12, 9))
    supervision.sweep(now=at(10, 15, 9))
    assert cards(disclosure_request=req) == {"warning", "yellow", "red"}
    DisclosureRequest.objects.filter(pk=req.pk).update(status="answered", answered_at=at(10, 15, 10))
    assert supervision.sweep(now=at(10, 15, 11)).resolved == 3


def test_sweep_default_now(db: None) -> None:
    make_case(received_at=timezone.now())
    assert supervision.sweep().total == 0


# --- the console ------------------------------------------------------------------------------------------

@pytest.fixture
def console(db: None, staff_factory: Any) -> dict[str, Any]:
    case = make_case()
    other = make_case(make_item("371521"))  # 阳谷县: another county
    supervision.sweep(now=at(10, 14, 17, 31))
    sup = staff_factory("sup_sx", department_code=department_code(SX, "administrative_approval"),
                        roles=(("egov_supervisor", SX),))
    clerk = staff_factory("clerk_sx", department_code=department_code(SX, "administrative_approval"),
                          roles=(("egov_issuer", SX),))
    return {"case": case, "other": other, "sup": sup, "clerk": clerk}


def test_console_scoped_and_csv(client: Any, console: dict[str, Any]) -> None:
    client.force_login(console["clerk"])
    assert client.get("/egov/supervision/").status_code == 403
    client.force_login(console["sup"])
    page = client.get("/egov/supervision/")
    assert page.status_code == 200
    text = page.content.decode()
    assert console["case"].number in text and console["other"].number not in text
    assert "莘县市场监督管理局" in text
    filtered = client.get("/egov/supervision/", {"kind": "red"}).content.decode()
    assert console["case"].number in filtered
    assert console["case"].number not in client.get("/egov/supervision/", {"state": "resolved"}).content.decode()
    csv = client.get("/egov/supervision/cards.csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    body = csv.content.decode("utf-8-sig")
    assert console["case"].number in body and console["other"].number not in body
    report = client.get("/egov/supervision/report/", {"month": "2026-10"})
    assert report.status_code == 200 and "莘县市场监督管理局" in report.content.decode()
    report_csv = client.get("/egov/supervision/report.csv", {"month": "2026-10"})
    assert report_csv.status_code == 200 and "莘县市场监督管理局" in report_csv.content.decode("utf-8-sig")
