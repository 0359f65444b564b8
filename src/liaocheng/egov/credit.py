"""The published interface between the service hall and the credit module (信用核查, joint punishment).

Before a licence is issued the applicant is checked against the credit blacklists (失信被执行人, 严重违法失信
名单 ...). The service hall builds a ``CreditQuery`` (plain data, no model instances) and asks the registered
``CreditReceiver``; the answer is a ``CreditResult``. What happens on a hit is the item's rule
(``ServiceItem.credit_rule``): ``none`` (not checked), ``flag`` (recorded, the case goes on) or ``block``
(the certificate is not issued: ``ensure_may_issue`` raises ``CreditBlocked``).

The credit module (issue "credit", not built yet) registers its receiver from its ``AppConfig.ready()``::

    from liaocheng.egov import credit
    credit.register_receiver(MyReceiver())

Until then ``StubCreditReceiver`` answers, registered by ``EgovConfig.ready()``: a stub behind the same
interface that lists the codes in ``settings.EGOV_CREDIT_BLACKLIST`` (default: two demo codes). The workflow
calls ``check_applicant(application)`` at submission and stores the result on each case
(``Case.credit_result``); ``ensure_may_issue(case)`` reads it (checking now if it is missing). No Django
signals: the receiver is an explicit, typed dependency.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from django.conf import settings
from django.utils import timezone

from liaocheng.core import identity
from liaocheng.core.errors import Conflict, DomainError
from liaocheng.core.interfaces import ReceiverSlot

from .models import Application, Case, CreditRule

__all__ = [
    "DEMO_BLACKLIST",
    "CreditBlocked",
    "CreditQuery",
    "CreditReceiver",
    "CreditResult",
    "NoReceiver",
    "ReceiverUnavailable",
    "StubCreditReceiver",
    "apply_rule",
    "check",
    "check_applicant",
    "current_receiver",
    "ensure_may_issue",
    "register_receiver",
    "unregister_receiver",
]

# demo codes (valid GB 32100 check characters) the stub lists unless settings say otherwise
DEMO_BLACKLIST = ("91371500MA3DHM7X03", "92371522MA3DHM7X1Y")


@dataclass(frozen=True)
class CreditQuery:
    subject_kind: str  # "enterprise" (credit code) or "person" (ID number)
    code: str  # GB 32100 credit code or GB 11643 ID number, validated and compact
    name: str
    purpose: str  # e.g. "行政许可发证前核查"
    item_code: str = ""
    requested_at: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["requested_at"] = self.requested_at.isoformat() if self.requested_at else None
        return data


@dataclass(frozen=True)
class CreditResult:
    listed: bool
    lists: list[str] = field(default_factory=list)  # names of the lists the subject is on
    detail: str = ""


@runtime_checkable
class CreditReceiver(Protocol):
    """Implemented by the credit module: ``check`` answers a query and raises ``ReceiverUnavailable`` when
    it cannot answer now."""

    name: str

    def check(self, query: CreditQuery) -> CreditResult: ...


class NoReceiver(Conflict):
    code = "no_credit_receiver"

    def __init__(self) -> None:
        super().__init__("信用核查接口未接入", "no credit receiver is registered", field="credit")


class ReceiverUnavailable(Conflict):
    code = "credit_receiver_unavailable"
    status = 503

    def __init__(self, detail_zh: str = "信用核查接口暂不可用", detail_en: str = "the credit check is unavailable"):
        super().__init__(detail_zh, detail_en, field="credit")


class CreditBlocked(Conflict):
    """The applicant is on a blacklist and the item's rule blocks issuing (联合惩戒)."""

    code = "credit_blocked"

    def __init__(self, lists: list[str]) -> None:
        names = "、".join(lists) or "信用黑名单"
        super().__init__(f"申请人被列入{names}，按联合惩戒规定不予发证",
                         f"the applicant is on a credit blacklist ({', '.join(lists) or 'blacklist'}); "
                         "the certificate is not issued", field="credit")
        self.lists = lists


class StubCreditReceiver:
    """Stands in for the credit module: lists the codes of ``settings.EGOV_CREDIT_BLACKLIST``."""

    name = "stub"

    def check(self, query: CreditQuery) -> CreditResult:
        listed = {str(c).upper() for c in getattr(settings, "EGOV_CREDIT_BLACKLIST", DEMO_BLACKLIST)}
        if query.code.upper() in listed:
            return CreditResult(True, ["失信被执行人名单（演示）"], "stub: code is in EGOV_CREDIT_BLACKLIST")
        return CreditResult(False, [], "stub")


_slot: ReceiverSlot[CreditReceiver] = ReceiverSlot(
    CreditReceiver, "a CreditReceiver needs a name and a check(query) method")


def register_receiver(receiver: CreditReceiver) -> None:
    """Install the credit receiver (one per process; a second registration replaces the first)."""
    _slot.register(receiver)


def unregister_receiver() -> None:
    _slot.unregister()


def current_receiver() -> CreditReceiver | None:
    return _slot.current()


def check(query: CreditQuery) -> tuple[str, CreditResult]:
    """Ask the receiver; returns (receiver name, result)."""
    receiver = _slot.current()
    if receiver is None:
        raise NoReceiver()
    result = receiver.check(query)
    if not isinstance(result, CreditResult):
        raise ReceiverUnavailable("信用核查接口返回无效结果", "the credit receiver returned no valid result")
    return receiver.name[:100], result


def apply_rule(rule: str, result: CreditResult | dict[str, Any]) -> str:
    """``allow``, ``flag`` or ``block`` for a result under an item's ``credit_rule``."""
    listed = result.get("listed") if isinstance(result, dict) else result.listed
    if not listed or rule == CreditRule.NONE:
        return "allow"
    return "block" if rule == CreditRule.BLOCK else "flag"


def query_for(application: Application, *, item_code: str = "", now: dt.datetime | None = None) -> CreditQuery:
    """The query for an application's applicant (codes validated with python-stdnum)."""
    if application.credit_code:
        code = identity.clean_credit_code(application.credit_code).code
        kind = "enterprise"
    elif application.id_number:
        code = identity.clean_id_number(application.id_number)
        kind = "person"
    else:
        raise DomainError("申请人没有统一社会信用代码或身份证号，无法信用核查",
                          "the applicant has neither a credit code nor an ID number", field="credit_code")
    return CreditQuery(kind, code, application.applicant_name, "行政审批发证前信用核查",
                       item_code or (application.item.code if application.item else ""), now or timezone.now())


def check_applicant(application: Application, *, item: Any = None) -> dict[str, Any]:
    """Check the applicant; a JSON-able result for ``Case.credit_result``:
    ``{checked_at, receiver, subject_kind, listed, lists, detail, rule, decision}``. ``rule``/``decision`` are
    given for ``item`` (default: the application's item; a bundle's workflow passes each member item)."""
    item = item or application.item
    now = timezone.now()
    query = query_for(application, item_code=item.code if item else "", now=now)
    name, result = check(query)
    rule = item.credit_rule if item is not None else CreditRule.NONE
    return {"checked_at": now.isoformat(), "receiver": name, "subject_kind": query.subject_kind,
            "listed": bool(result.listed), "lists": [str(x) for x in result.lists], "detail": str(result.detail),
            "rule": str(rule), "decision": apply_rule(rule, result)}


def ensure_may_issue(case: Case) -> dict[str, Any]:
    """Raise ``CreditBlocked`` when the case's item blocks on a listed applicant; returns the result used.

    A case without a stored result (or with one made under another rule) is checked now; the workflow stores
    the returned result on the case."""
    rule = case.item.credit_rule
    if rule == CreditRule.NONE:
        return case.credit_result or {}
    result = case.credit_result or {}
    if not result or result.get("rule") != rule:
        result = check_applicant(case.application, item=case.item)
    if apply_rule(rule, result) == "block":
        raise CreditBlocked(list(result.get("lists", [])))
    return result
