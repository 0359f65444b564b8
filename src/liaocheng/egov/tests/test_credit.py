"""The credit check through the published interface: a fake receiver, the default stub, block and flag rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from liaocheng.core.errors import DomainError, InvalidInput
from liaocheng.egov import certificates, credit
from liaocheng.egov.models import CaseStatus, Certificate
from liaocheng.egov.tests.test_supervision import make_applicant, make_case, make_item

LISTED = "91371522MA3N1B2C3D"
CLEAN = "91371500MA3C7XKX27"


class FakeReceiver:
    name = "fake-credit"

    def __init__(self) -> None:
        self.queries: list[credit.CreditQuery] = []

    def check(self, query: credit.CreditQuery) -> credit.CreditResult:
        self.queries.append(query)
        if query.code == LISTED:
            return credit.CreditResult(True, ["失信被执行人名单", "重大税收违法失信主体名单"], "2 lists")
        return credit.CreditResult(False)


@pytest.fixture
def fake() -> Iterator[FakeReceiver]:
    previous = credit.current_receiver()
    receiver = FakeReceiver()
    credit.register_receiver(receiver)
    yield receiver
    credit.unregister_receiver()
    if previous is not None:
        credit.register_receiver(previous)


def test_stub_registered_by_default_and_configurable(settings: Any) -> None:
    assert isinstance(credit.current_receiver(), credit.StubCreditReceiver)
    stub = credit.StubCreditReceiver()
    query = credit.CreditQuery("enterprise", credit.DEMO_BLACKLIST[0], "演示企业", "test")
    settings.EGOV_CREDIT_BLACKLIST = list(credit.DEMO_BLACKLIST)
    assert stub.check(query).listed
    settings.EGOV_CREDIT_BLACKLIST = []
    assert not stub.check(query).listed
    with pytest.raises(TypeError):
        credit.register_receiver(object())  # type: ignore[arg-type]


def test_apply_rule() -> None:
    hit, miss = credit.CreditResult(True, ["x"]), credit.CreditResult(False)
    assert credit.apply_rule("block", hit) == "block"
    assert credit.apply_rule("flag", hit) == "flag"
    assert credit.apply_rule("none", hit) == "allow"
    assert credit.apply_rule("block", miss) == "allow"
    assert credit.apply_rule("block", {"listed": True}) == "block"


def test_check_applicant_validates_codes(db: None, fake: FakeReceiver) -> None:
    case = make_case(make_item(credit_rule="flag"), credit_code=LISTED)
    result = credit.check_applicant(case.application)
    assert result["listed"] and result["decision"] == "flag" and result["receiver"] == "fake-credit"
    assert result["lists"] == ["失信被执行人名单", "重大税收违法失信主体名单"]
    assert fake.queries[-1].subject_kind == "enterprise" and fake.queries[-1].item_code == case.item.code
    bad = make_case(credit_code="91371522MA3N1B2C")  # 16 characters
    with pytest.raises(InvalidInput):
        credit.check_applicant(bad.application)
    person = make_case(applicant=make_applicant(kind="citizen"), credit_code="", id_number="371502199801011232")
    assert credit.check_applicant(person.application)["subject_kind"] == "person"
    nobody = make_case(credit_code="")
    with pytest.raises(DomainError):
        credit.check_applicant(nobody.application)


def test_no_receiver_is_a_clear_error(db: None) -> None:
    previous = credit.current_receiver()
    credit.unregister_receiver()
    try:
        with pytest.raises(credit.NoReceiver):
            credit.check_applicant(make_case(credit_code=CLEAN).application)
    finally:
        if previous is not None:
            credit.register_receiver(previous)


def test_block_prevents_issuing_flag_only_records(db: None, settings: Any, tmp_path: Any,
                                                   fake: FakeReceiver) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    blocked = make_case(make_item(credit_rule="block"), credit_code=LISTED, status=CaseStatus.APPROVED)
    with pytest.raises(credit.CreditBlocked) as exc:
        credit.ensure_may_issue(blocked)
    assert exc.value.status == 409 and "失信被执行人名单" in exc.value.message_zh
    with pytest.raises(credit.CreditBlocked):
        certificates.issue_certificate(blocked, acting_user=certificates.SYSTEM)
    assert not Certificate.objects.filter(case=blocked).exists()

    # a result stored at submission is used (no second query)
    flagged = make_case(make_item(credit_rule="flag"), credit_code=LISTED, status=CaseStatus.APPROVED)
    flagged.credit_result = credit.check_applicant(flagged.application, item=flagged.item)
    flagged.save(update_fields=["credit_result"])
    asked = len(fake.queries)
    assert credit.ensure_may_issue(flagged)["decision"] == "flag"
    assert len(fake.queries) == asked
    cert = certificates.issue_certificate(flagged, acting_user=certificates.SYSTEM)
    assert cert.pk and flagged.credit_result["listed"]

    clean = make_case(make_item(credit_rule="block"), credit_code=CLEAN, status=CaseStatus.APPROVED)
    assert certificates.issue_certificate(clean, acting_user=certificates.SYSTEM).pk
