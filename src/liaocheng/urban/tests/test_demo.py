"""The demo year of historical cases: spread, ordering, consistency, plausible evaluation, idempotence."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from typing import Any

import pytest

from liaocheng.core.models import AuditRecord
from liaocheng.geo import services as geo_services
from liaocheng.geo.models import Grid
from liaocheng.urban import demo, evaluation, services
from liaocheng.urban.models import Case, CaseEvent, Supervision

TODAY = dt.date(2026, 11, 25)


@pytest.fixture
def cases(db: None, django_user_model: Any) -> dict[str, Any]:
    services.load_classes()
    written = demo.ensure_demo_cases(1000, today=TODAY)
    admin = django_user_model.objects.create_superuser("demo_admin", password="x")
    return {"written": written, "admin": admin}


def test_spread_and_audit(cases: dict[str, Any]) -> None:
    assert cases["written"] == 1000 == Case.objects.filter(number__startswith="DM").count()
    counties = set(Grid.objects.values_list("county_code", flat=True).distinct())
    assert len(counties) == 8
    assert set(Case.objects.values_list("county_code", flat=True).distinct()) == counties
    assert AuditRecord.objects.filter(action="urban.import_history").count() == 1  # one batch
    lo = dt.datetime.combine(TODAY - dt.timedelta(days=365), dt.time.min, tzinfo=dt.UTC)
    assert not Case.objects.filter(reported_at__lt=lo).exists()
    assert Case.objects.filter(department__isnull=True, state__in=["dispatched", "handling", "closed"]).count() == 0
    for case in Case.objects.order_by("pk")[:: 50]:  # points lie inside their grids
        assert geo_services.locate(case.lon, case.lat).location.grid_code == case.grid_code


def test_events_ordered_and_consistent(cases: dict[str, Any]) -> None:
    events: dict[int, list[CaseEvent]] = defaultdict(list)
    for e in CaseEvent.objects.order_by("at", "pk"):
        events[e.case_id].append(e)
    for case in Case.objects.all():
        steps = events[case.pk]
        assert steps[0].action == "report" and steps[0].at == case.reported_at
        assert [e.at for e in steps] == sorted(e.at for e in steps)
        assert steps[-1].to_state == case.state
        for prev, nxt in itertools.pairwise(steps):
            assert nxt.from_state == prev.to_state
        stamps = [t for t in (case.reported_at, case.filed_at, case.dispatched_at, case.handled_at, case.closed_at)
                  if t is not None]
        assert stamps == sorted(stamps)
        if case.state == "closed":
            assert case.closed_at and case.handled_at and case.due_at
        assert case.overdue == any(e.action == "escalate" for e in steps)
        assert case.rework_count == sum(e.action == "rework" for e in steps)
    assert Supervision.objects.count() == Case.objects.filter(overdue=True).count() > 0
    states = set(Case.objects.values_list("state", flat=True))
    assert {"closed", "not_filed"} <= states and states & {"dispatched", "handling", "handled", "verified"}


def test_evaluation_plausible_and_idempotent(cases: dict[str, Any]) -> None:
    rows = evaluation.evaluate(acting_user=cases["admin"], group_by="county", start=TODAY - dt.timedelta(days=364),
                               end=TODAY)
    assert len(rows) == 8
    total_closed = sum(r.closed for r in rows)
    total_due = sum(r.due for r in rows)
    on_time = sum(r.closed_on_time for r in rows) / total_due
    assert total_closed > 0 and 0.7 <= on_time <= 0.99
    assert all(r.received > 0 for r in rows)
    before = (Case.objects.count(), CaseEvent.objects.count(), AuditRecord.objects.count())
    assert demo.ensure_demo_cases(1000, today=TODAY) == 0
    assert (Case.objects.count(), CaseEvent.objects.count(), AuditRecord.objects.count()) == before
