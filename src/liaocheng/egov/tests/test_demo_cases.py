"""A year of demo service-hall cases (``demo_cases``), as the people using the demo see it: cases over the whole
year with realistic outcomes, certificates that verify on the public page and download for their holder,
supervision cards exactly where cases ran late (the real sweep, run right after the load, has nothing to add),
and the supervision and indicator pages showing figures."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from liaocheng.core.calendar import get_calendar
from liaocheng.core.departments import department_code
from liaocheng.egov import catalogue, demo_cases, supervision
from liaocheng.egov.models import (
    Application,
    ApplicationStatus,
    BundleItem,
    CardKind,
    Case,
    CaseEvent,
    CaseStatus,
    Certificate,
    CorrectionRequest,
    DisclosureRequest,
    SupervisionCard,
)

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 27, 16, 5, tzinfo=TZ)  # a Friday afternoon
N = 300
CLOCK_OPEN = (CaseStatus.WAITING, CaseStatus.IN_REVIEW, CaseStatus.APPROVED)


@pytest.fixture
def year(db: None) -> int:
    catalogue.ensure_demo_catalogue()
    return demo_cases.ensure_demo_applications(N, now=NOW)


def _end(case: Case) -> dt.datetime | None:
    """When the case's clock stopped for good (None: it still runs at NOW)."""
    if case.status == CaseStatus.ISSUED:
        return case.issued_at
    if case.status in (CaseStatus.REJECTED, CaseStatus.STOPPED, CaseStatus.REFUSED):
        return case.decided_at
    if case.status == CaseStatus.WITHDRAWN:
        return case.application.finished_at
    return None


def test_a_year_of_cases_over_the_calendar(year: int) -> None:
    assert year == N
    apps = list(Application.objects.filter(number__startswith=demo_cases.DEMO_PREFIX))
    assert len(apps) == N
    received = sorted(a.submitted_at.astimezone(TZ) for a in apps if a.submitted_at)
    assert received[0].date() <= (NOW - dt.timedelta(days=340)).date() and received[-1] <= NOW
    assert received[-1].date() >= (NOW - dt.timedelta(days=5)).date()
    assert len({(r.year, r.month) for r in received}) >= 12
    cal = get_calendar()
    days_off = sum(1 for r in received if not cal.is_workday(r.date()))
    assert days_off < 0.1 * N  # few on weekends and holidays

    cases = list(Case.objects.filter(application__in=apps).select_related("item", "application"))
    statuses = Counter(c.status for c in cases)
    finished = sum(statuses[s] for s in (CaseStatus.ISSUED, CaseStatus.REJECTED, CaseStatus.REFUSED,
                                         CaseStatus.WITHDRAWN, CaseStatus.STOPPED))
    assert 0.84 <= statuses[CaseStatus.ISSUED] / finished <= 0.95
    assert statuses[CaseStatus.REFUSED] and statuses[CaseStatus.REJECTED] and statuses[CaseStatus.WITHDRAWN]
    open_cases = [c for c in cases if c.status in (*CLOCK_OPEN, CaseStatus.CORRECTION) and not c.issued_at]
    assert open_cases and all(c.received_at >= NOW - dt.timedelta(days=90) for c in open_cases)
    assert CorrectionRequest.objects.filter(case__in=cases).exists()
    assert any(c.paused_days for c in cases)
    for case in cases:
        if case.status in (CaseStatus.REFUSED, CaseStatus.REJECTED):
            assert case.reason.strip()
        if case.accepted_at:  # accepted within 0-2 working days of receipt
            assert case.accepted_at.astimezone(TZ).date() <= cal.add_working_days(
                case.received_at.astimezone(TZ).date(), 2)
            assert case.promised_due_at is not None
    # the steps follow each item's process, the timeline starts with the receipt
    for case in cases[:80]:
        steps = {s.key: s.after for s in case.steps.all()}
        assert steps == {s["key"]: s.get("after", []) for s in case.item.process}
        actions = [e.action for e in case.events.order_by("at", "pk")]
        assert actions[0] == "received"
    # market regulation, public security, social security, tax ... far more than rare licences
    kinds = Counter(c.item.department.kind for c in cases)
    assert kinds["market_regulation"] > 5 * max(kinds["culture_tourism"], 1)
    # one-stop bundles: one case per member (optional ones only when chosen)
    bundled = [a for a in apps if a.bundle_id]
    assert bundled
    for app in bundled:
        members = BundleItem.objects.filter(bundle_id=app.bundle_id).select_related("item")
        expected = {m.item.code for m in members if not m.optional or m.item.code in app.chosen_items}
        assert set(app.cases.values_list("item__code", flat=True)) == expected


def test_cards_where_cases_ran_late_and_the_sweep_agrees(year: int) -> None:
    cal = get_calendar()
    cases = list(Case.objects.filter(number__startswith=demo_cases.DEMO_PREFIX)
                 .select_related("application").prefetch_related("cards", "corrections"))
    cards_by_kind = Counter(SupervisionCard.objects.values_list("kind", flat=True))
    assert cards_by_kind[CardKind.YELLOW] and cards_by_kind[CardKind.WARNING]
    checked = 0
    for case in cases:
        cards = {(c.kind, c.step_key): c for c in case.cards.all()}
        yellow, red = cards.get((CardKind.YELLOW, "")), cards.get((CardKind.RED, ""))
        end = _end(case)
        open_now = end is None and case.status in CLOCK_OPEN
        for card in cards.values():  # resolved exactly when the case no longer runs (flags: their cause)
            if card.kind in (CardKind.WARNING, CardKind.YELLOW, CardKind.RED):
                assert (card.resolved_at is None) == (end is None), case.number
            assert card.created_at <= NOW and (card.resolved_at is None or card.resolved_at > card.created_at)
        if case.accepted_at is None:
            assert yellow is None and red is None
            continue
        delayed = cards.get((CardKind.ACCEPTANCE_DELAYED, ""))
        assert (delayed is not None) == (case.accepted_at > cal.deadline_after_days(case.received_at, 1)), \
            case.number
        if case.corrections.all() or not (end is not None or open_now):
            continue
        # cases without corrections: a yellow card exactly when the case outran its promised deadline, a red
        # card exactly when it was still running after the yellow card's finish-by date
        finish = end or NOW
        assert (yellow is not None) == (finish > case.promised_due_at), case.number
        assert (red is not None) == (yellow is not None and finish > yellow.deadline_at), case.number
        if yellow is not None:
            assert yellow.deadline_at == cal.deadline_after_days(case.promised_due_at, supervision.period_days())
        checked += 1
    assert checked > 0.8 * len(cases)
    # the supervision sweep, run at the moment of the load, finds the history complete
    result = supervision.sweep(NOW)
    assert result.created == {} and result.resolved == 0
    # disclosure requests with their deadlines
    requests = list(DisclosureRequest.objects.all())
    assert requests and any(r.extended_at for r in requests) and any(r.answer_kind for r in requests)
    # a second load adds nothing
    counts = (Application.objects.count(), Case.objects.count(), CaseEvent.objects.count(),
              SupervisionCard.objects.count(), DisclosureRequest.objects.count())
    assert demo_cases.ensure_demo_applications(N, now=NOW) == 0
    assert counts == (Application.objects.count(), Case.objects.count(), CaseEvent.objects.count(),
                      SupervisionCard.objects.count(), DisclosureRequest.objects.count())


def test_certificates_verify_and_download_for_their_holder(year: int, client: Any) -> None:
    issued = Case.objects.filter(number__startswith=demo_cases.DEMO_PREFIX, status=CaseStatus.ISSUED,
                                 item__result_kind__in=["licence", "certificate"])
    assert issued.exists()
    certified = set(Certificate.objects.filter(case__in=issued).values_list("case_id", flat=True))
    assert certified == set(issued.values_list("pk", flat=True))
    assert not Certificate.objects.exclude(pdf_sha256="").exists()  # rendered on first need only
    sample = list(Certificate.objects.filter(case__in=issued).select_related("case__application__applicant")
                  .order_by("kind", "number")[::15][:8])
    for cert in sample:
        page = client.get(f"/egov/verify/{cert.verification_code}/")
        assert page.status_code == 200 and "证照有效" in page.content.decode(), cert.number
        assert cert.number in page.content.decode()
    holder = sample[0].case.application.applicant
    client.force_login(holder)
    response = client.get(f"/egov/certificates/{sample[0].number}.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    other = next(c for c in sample if c.case.application.applicant_id != holder.pk)
    assert client.get(f"/egov/certificates/{other.number}.pdf").status_code == 403
    sample[0].refresh_from_db()
    assert len(sample[0].pdf_sha256) == 64  # stored once, verified against from now on


def test_supervision_and_indicator_pages_show_figures(year: int, client: Any, staff_factory: Any) -> None:
    supervisor = staff_factory("sup_city", department_code=department_code("371500", "party_government_office"),
                               roles=(("egov_supervisor", "371500"),))
    client.force_login(supervisor)
    page = client.get("/egov/supervision/")
    assert page.status_code == 200
    text = page.content.decode()
    late = SupervisionCard.objects.filter(kind=CardKind.YELLOW).select_related("department").first()
    assert late is not None and late.department.name in text and "暂无监察牌" not in text
    month = late.created_at.astimezone(TZ).strftime("%Y-%m")
    report = client.get("/egov/supervision/report/", {"month": month})
    assert report.status_code == 200 and late.department.name in report.content.decode()
    indicators = client.get("/egov/indicators/")
    assert indicators.status_code == 200
    assert 'class="online-share">0.0%' not in indicators.content.decode()
    assert ApplicationStatus.ISSUED in set(Application.objects.values_list("status", flat=True))
