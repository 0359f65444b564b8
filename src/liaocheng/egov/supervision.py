"""Electronic supervision (电子监察): the background sweep that writes ``SupervisionCard`` rows.

``sweep(now)`` looks at every open case and every unanswered disclosure request and writes, each at most
once (the model's unique constraints):

- ``warning`` (预警): from one working day before the promised deadline (the same clock time on the
  previous working day), while the deadline has not passed;
- ``yellow`` (黄牌): when the promised deadline has passed; its ``deadline_at`` is the finish-by date, the
  close of the ``EGOV_SUPERVISION_PERIOD_DAYS``-th working day (default 3) after the missed deadline (counted
  from the deadline, not from the sweep, so a late sweep never extends it);
- ``red`` (红牌): when the case is still open after the yellow card's finish-by date;
- ``step_overdue``: an active step past its own ``due_at`` while the case itself is not overdue (one per step);
- ``acceptance_delayed``: a waiting case not accepted by the close of the ``EGOV_ACCEPTANCE_DAYS``-th working
  day (default 1) after it was received;
- ``refused_no_reason``: a refused case with an empty reason.

Disclosure requests (received / extended) get warning, yellow and red cards on their ``due_at``.

Time is in working days (``core.calendar``: statutory holidays, make-up days and overrides). A case in
correction (补正) has its clock stopped: it gets no new deadline cards (the workflow moves its deadline on
when the applicant answers) but its cards stay open. Cards are resolved (``resolved_at``) when their cause
ends: the case finished, the step done, the case accepted, a reason entered, the request answered.

The sweep is set-based: one query per card kind finds the rows that need a card, cards are bulk-created in
batches of ``BATCH`` per division, each batch in its own transaction with one audit record listing its
cases. It is idempotent: a second run at the same moment writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from liaocheng.core import audit
from liaocheng.core.calendar import WorkingCalendar, get_calendar

from .models import (
    CardKind,
    Case,
    CaseStatus,
    CaseStep,
    DisclosureRequest,
    DisclosureRequestStatus,
    StepStatus,
    SupervisionCard,
)

SYSTEM = "system"
BATCH = 2000

DEADLINE_KINDS = (CardKind.WARNING, CardKind.YELLOW, CardKind.RED)

# open: not finished (cards stay unresolved); on the clock: deadlines run (new deadline cards)
OPEN_CASES = Q(status__in=[CaseStatus.WAITING, CaseStatus.CORRECTION, CaseStatus.IN_REVIEW]) | Q(
    status=CaseStatus.APPROVED, issued_at__isnull=True)
CLOCK_CASES = Q(status__in=[CaseStatus.WAITING, CaseStatus.IN_REVIEW]) | Q(
    status=CaseStatus.APPROVED, issued_at__isnull=True)
OPEN_REQUESTS = Q(status__in=[DisclosureRequestStatus.RECEIVED, DisclosureRequestStatus.EXTENDED],
                  answered_at__isnull=True)
BLANK = Q(reason="") | Q(reason__regex=r"^\s*$")


def period_days() -> int:
    return int(getattr(settings, "EGOV_SUPERVISION_PERIOD_DAYS", 3))


def acceptance_days() -> int:
    return int(getattr(settings, "EGOV_ACCEPTANCE_DAYS", 1))


@dataclass
class SweepResult:
    created: dict[str, int] = field(default_factory=dict)  # card kind -> cards written (cases and requests)
    resolved: int = 0

    @property
    def total(self) -> int:
        return sum(self.created.values())


# --- working-day thresholds -----------------------------------------------------------------------------

def warn_at(cal: WorkingCalendar, due: dt.datetime) -> dt.datetime:
    """The moment of the warning for ``due``: the same clock time one working day earlier."""
    local = due.astimezone(cal.tz)
    day = local.date() - dt.timedelta(days=1)
    for _ in range(366):
        if cal.is_workday(day):
            return dt.datetime.combine(day, local.timetz())
        day -= dt.timedelta(days=1)
    raise ValueError("no working day within a year before the deadline")


def warning_cutoff(cal: WorkingCalendar, now: dt.datetime) -> dt.datetime:
    """The latest deadline whose warning moment has come at ``now`` (``due <= cutoff`` ⇔ ``warn_at(due) <=
    now`` for deadlines on working days): the same clock time on the next working day, or, on a day off, the
    whole next working day."""
    local = now.astimezone(cal.tz)
    nxt = cal.add_working_days(local.date(), 1)
    if cal.is_workday(local.date()):
        return dt.datetime.combine(nxt, local.time(), cal.tz)
    return dt.datetime.combine(nxt, dt.time.max, cal.tz)


def received_cutoff(cal: WorkingCalendar, now: dt.datetime, days: int) -> dt.datetime:
    """Cases received before the returned moment are past the close of their ``days``-th working day at
    ``now`` (the deadline is monotone in the day received, so one boundary serves every row)."""
    day = now.astimezone(cal.tz).date()
    for _ in range(400):
        if cal.deadline_after_days(dt.datetime.combine(day, dt.time(12), cal.tz), days) < now:
            return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, cal.tz)
        day -= dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time.min, cal.tz)


# --- writing cards -------------------------------------------------------------------------------------

def _no_card(kind: str, *, request: bool = False, step: bool = False) -> Any:
    if request:
        return ~Exists(SupervisionCard.objects.filter(disclosure_request=OuterRef("pk"), kind=kind))
    if step:
        return ~Exists(SupervisionCard.objects.filter(case_id=OuterRef("case_id"), kind=kind,
                                                      step_key=OuterRef("key")))
    return ~Exists(SupervisionCard.objects.filter(case=OuterRef("pk"), kind=kind, step_key=""))


def _write(kind: str, cards: Iterable[SupervisionCard], now: dt.datetime, result: SweepResult) -> None:
    """Bulk-create ``cards`` per division in batches, each batch with one audit record."""
    by_division: dict[str, list[SupervisionCard]] = defaultdict(list)
    for card in cards:
        by_division[card.division_code].append(card)
    for division, rows in sorted(by_division.items()):
        for start in range(0, len(rows), BATCH):
            batch = rows[start:start + BATCH]
            with transaction.atomic():
                SupervisionCard.objects.bulk_create(batch, ignore_conflicts=True)
                audit.record(
                    actor=SYSTEM, action=f"egov.card_{kind}", object_type="egov.SupervisionCard",
                    object_id=f"{kind}/{division}/{now.isoformat()}/{start // BATCH}",
                    after={"kind": kind, "count": len(batch), "at": now.isoformat(),
                           "cases": [c.case_id for c in batch if c.case_id],
                           "requests": [c.disclosure_request_id for c in batch if c.disclosure_request_id],
                           "steps": sorted({c.step_key for c in batch if c.step_key})},
                    division_code=division,
                )
            result.created[str(kind)] = result.created.get(str(kind), 0) + len(batch)


def _case_card(kind: str, row: dict[str, Any], now: dt.datetime, note: str, *, step_key: str = "",
               deadline: dt.datetime | None = None) -> SupervisionCard:
    return SupervisionCard(case_id=row["pk"], kind=kind, step_key=step_key, department_id=row["department_id"],
                           division_code=row["division_code"], created_at=now, deadline_at=deadline, note=note)


def _request_card(kind: str, row: dict[str, Any], now: dt.datetime, note: str,
                  deadline: dt.datetime | None = None) -> SupervisionCard:
    return SupervisionCard(disclosure_request_id=row["pk"], kind=kind, department_id=row["department_id"],
                           division_code=row["division_code"], created_at=now, deadline_at=deadline, note=note)


def _deadline_cards(cal: WorkingCalendar, now: dt.datetime, result: SweepResult, *, requests: bool) -> None:
    """Warning, yellow and red cards on cases (``promised_due_at``) or disclosure requests (``due_at``)."""
    model: type[Case] | type[DisclosureRequest] = DisclosureRequest if requests else Case
    due = "due_at" if requests else "promised_due_at"
    what = "依申请公开答复" if requests else "承诺办结"
    make = _request_card if requests else _case_card
    base: QuerySet[Any] = model.objects.filter(OPEN_REQUESTS if requests else CLOCK_CASES)
    fields = ("pk", "department_id", "division_code", due)
    period = period_days()
    deadlines: dict[dt.datetime, dt.datetime] = {}

    def finish_by(when: dt.datetime) -> dt.datetime:
        if when not in deadlines:
            deadlines[when] = cal.deadline_after_days(when, period)
        return deadlines[when]

    rows = base.filter(**{f"{due}__gt": now, f"{due}__lte": warning_cutoff(cal, now)}).filter(
        _no_card(CardKind.WARNING, request=requests)).values(*fields)
    _write(CardKind.WARNING, [make(CardKind.WARNING, r, now, f"距{what}期限不足一个工作日", deadline=r[due])
                              for r in rows], now, result)
    rows = base.filter(**{f"{due}__lt": now}).filter(_no_card(CardKind.YELLOW, request=requests)).values(*fields)
    _write(CardKind.YELLOW, [make(CardKind.YELLOW, r, now, f"超过{what}期限，限期办结", deadline=finish_by(r[due]))
                             for r in rows], now, result)
    link = "disclosure_request" if requests else "case"
    yellow = SupervisionCard.objects.filter(**{link: OuterRef("pk")}, kind=CardKind.YELLOW, deadline_at__lt=now)
    if not requests:
        yellow = yellow.filter(step_key="")
    rows = base.filter(Exists(yellow)).filter(_no_card(CardKind.RED, request=requests)).values(*fields)
    note = "黄牌限期届满仍未办结，责令整改并追责"
    _write(CardKind.RED, [make(CardKind.RED, r, now, note) for r in rows], now, result)


def _flag_cards(cal: WorkingCalendar, now: dt.datetime, result: SweepResult) -> None:
    steps = (CaseStep.objects.filter(status=StepStatus.ACTIVE, due_at__lt=now)
             .filter(Q(case__status__in=[CaseStatus.WAITING, CaseStatus.IN_REVIEW])
                     | Q(case__status=CaseStatus.APPROVED, case__issued_at__isnull=True))
             .filter(Q(case__promised_due_at__isnull=True) | Q(case__promised_due_at__gte=now))
             .filter(_no_card(CardKind.STEP_OVERDUE, step=True))
             .values("case_id", "key", "name", "due_at", "case__department_id", "case__division_code"))
    _write(CardKind.STEP_OVERDUE, [
        SupervisionCard(case_id=s["case_id"], kind=CardKind.STEP_OVERDUE, step_key=s["key"],
                        department_id=s["case__department_id"], division_code=s["case__division_code"],
                        created_at=now, deadline_at=s["due_at"], note=f"环节“{s['name']}”超过环节时限")
        for s in steps], now, result)
    fields = ("pk", "department_id", "division_code")
    rows = (Case.objects.filter(status=CaseStatus.WAITING, accepted_at__isnull=True,
                                received_at__lt=received_cutoff(cal, now, acceptance_days()))
            .filter(_no_card(CardKind.ACCEPTANCE_DELAYED)).values(*fields))
    _write(CardKind.ACCEPTANCE_DELAYED, [
        _case_card(CardKind.ACCEPTANCE_DELAYED, r, now, f"收件后{acceptance_days()}个工作日内未受理") for r in rows],
        now, result)
    rows = (Case.objects.filter(BLANK, status=CaseStatus.REFUSED)
            .filter(_no_card(CardKind.REFUSED_NO_REASON)).values(*fields))
    _write(CardKind.REFUSED_NO_REASON, [
        _case_card(CardKind.REFUSED_NO_REASON, r, now, "不予受理未说明理由") for r in rows], now, result)


# --- resolving cards -----------------------------------------------------------------------------------

def _resolve(now: dt.datetime, result: SweepResult) -> None:
    open_cards = SupervisionCard.objects.filter(resolved_at__isnull=True)
    case_open = Case.objects.filter(OPEN_CASES, pk=OuterRef("case_id"))
    step_active = CaseStep.objects.filter(case_id=OuterRef("case_id"), key=OuterRef("step_key"),
                                          status=StepStatus.ACTIVE)
    rules: list[tuple[str, QuerySet[SupervisionCard]]] = [
        ("case_finished", open_cards.filter(case__isnull=False).exclude(kind=CardKind.REFUSED_NO_REASON)
         .filter(~Exists(case_open))),
        ("step_done", open_cards.filter(kind=CardKind.STEP_OVERDUE).filter(~Exists(step_active))),
        ("accepted", open_cards.filter(kind=CardKind.ACCEPTANCE_DELAYED).exclude(case__status=CaseStatus.WAITING)),
        ("reason_given", open_cards.filter(kind=CardKind.REFUSED_NO_REASON)
         .exclude(Q(case__status=CaseStatus.REFUSED) & (Q(case__reason="") | Q(case__reason__regex=r"^\s*$")))),
        ("answered", open_cards.filter(disclosure_request__isnull=False)
         .exclude(disclosure_request__in=DisclosureRequest.objects.filter(OPEN_REQUESTS))),
    ]
    for why, qs in rules:
        found = list(qs.values_list("pk", "division_code"))
        by_division: dict[str, list[int]] = defaultdict(list)
        for pk, division in found:
            by_division[division].append(pk)
        for division, pks in sorted(by_division.items()):
            for start in range(0, len(pks), BATCH):
                batch = pks[start:start + BATCH]
                with transaction.atomic():
                    n = SupervisionCard.objects.filter(pk__in=batch, resolved_at__isnull=True).update(resolved_at=now)
                    audit.record(actor=SYSTEM, action="egov.card_resolve", object_type="egov.SupervisionCard",
                                 object_id=f"{why}/{division}/{now.isoformat()}/{start // BATCH}",
                                 after={"why": why, "count": n, "cards": batch, "at": now.isoformat()},
                                 division_code=division)
                result.resolved += n


def sweep(now: dt.datetime | None = None) -> SweepResult:
    """Write the cards due at ``now`` (default: the current time) and resolve those whose cause ended."""
    now = now or timezone.now()
    cal = get_calendar()
    result = SweepResult()
    _resolve(now, result)
    _deadline_cards(cal, now, result, requests=False)
    _deadline_cards(cal, now, result, requests=True)
    _flag_cards(cal, now, result)
    return result
