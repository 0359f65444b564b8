"""Operators' commands: the supervision sweep on demand and the document index rebuild."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from liaocheng.core.departments import department_code
from liaocheng.core.models import Department
from liaocheng.egov import disclosure, search
from liaocheng.egov.models import SupervisionCard
from liaocheng.egov.tests.test_supervision import make_case

pytestmark = pytest.mark.django_db


def test_sweep_command_writes_cards_at_the_given_moment() -> None:
    case = make_case()  # accepted Mon 28 Sep 2026, promised 5 working days: due 10 Oct (make-up Saturday)
    out = StringIO()
    call_command("egov_sweep", "--at", "2026-11-20T10:00", stdout=out)
    assert "yellow 1" in out.getvalue() and "red 1" in out.getvalue()
    assert SupervisionCard.objects.filter(case=case, kind="yellow").exists()
    again = StringIO()
    call_command("egov_sweep", "--at", "2026-11-20T10:00", stdout=again)
    assert "0 cards written" in again.getvalue()
    with pytest.raises(CommandError):
        call_command("egov_sweep", "--at", "yesterday")


def test_rebuild_index_command_finds_documents_again(staff_factory: Any) -> None:
    officer = staff_factory("gk_cmd", department_code=department_code("371500", "party_government_office"),
                            roles=(("egov_disclosure_officer", "371500"),))
    disclosure.publish_document(acting_user=officer, department=Department.objects.get(
        code=department_code("371500", "party_government_office")), title="关于做好冬季安全生产工作的通知",
        issued_on=dt.date(2026, 11, 2), category="应急管理", body="各县区要落实安全生产责任。")
    search.remove(search.public_documents().values_list("pk", flat=True))
    assert search.search_documents("安全生产").total == 0
    out = StringIO()
    call_command("rebuild_document_index", stdout=out)
    assert "1 public documents indexed" in out.getvalue()
    assert search.search_documents("安全生产").total == 1
