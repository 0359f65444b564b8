"""The process engine and case handling (受理, review steps, decision, issuing, 补正, 证照联动).

A case's steps come from its item's ``process`` (data: ``{key, name, role, limit_days, after}``). A step
becomes active when all the steps it comes after are done, so several steps after one step run in parallel
and a step after several steps is a join. The step's ``role`` names the built-in role whose permission the
acting user must hold in the case's division (``STEP_ROLE_PERMS``). Acceptance is 无差别受理: any intake window
of the division. Review, decision and issue steps belong to the case's department: its own staff take them,
or the division's administrative approval bureau (行政审批服务局: 相对集中行政许可 and the one-stop issuing
window, which is who issues a bundle's licences together). Deadlines are working days
(``core.calendar``), counted from acceptance (case) or from a step's start (step); a correction (补正)
stops the clock and, once answered, pushes every open deadline back by the working days it took.

Bundles (一件事): every member item gets its own case (optional members only when the applicant chose them);
they run in parallel. A case of the bundle refused or rejected stops the bundle's other open cases (已终止):
the applicant sees one outcome with its reason. A main item's issue step
(role ``egov_issuer``) is released only when the bundle's prior approvals are approved and, with
``issue_together``, when every case of the bundle is approved; issuing one main case then issues all the
main cases in one transaction with one issue time.

Every change writes a ``CaseEvent`` (the timeline) and an audit record in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from liaocheng.core import access, audit
from liaocheng.core.calendar import WorkingCalendar, get_calendar
from liaocheng.core.errors import Conflict, InvalidInput, NotFound

from .models import (
    Application,
    ApplicationStatus,
    BundleItem,
    Case,
    CaseEvent,
    CaseStatus,
    CaseStep,
    CorrectionRequest,
    StepStatus,
)

SYSTEM = "system"
APPROVAL_BUREAU = "administrative_approval"  # department kind of the 行政审批服务局
ISSUER_ROLE = "egov_issuer"
INTAKE_ROLE = "egov_intake"
# a process step's role -> the permission that role stands for (the most specific one of the role)
STEP_ROLE_PERMS: dict[str, str] = {
    "egov_intake": "egov.accept",
    "egov_reviewer": "egov.review",
    "egov_approver": "egov.decide",
    "egov_issuer": "egov.issue",
}
DECISION_PERM = "egov.decide"
OPEN_CASE = (CaseStatus.WAITING, CaseStatus.CORRECTION, CaseStatus.IN_REVIEW, CaseStatus.APPROVED)
APPROVED_OR_ISSUED = (CaseStatus.APPROVED, CaseStatus.ISSUED)
MAX_TEXT = 4000


# timeline actions -> label (translated where shown)
EVENT_LABELS: dict[str, str] = {
    "received": gettext_noop("收件"), "submitted": gettext_noop("提交申请"), "accepted": gettext_noop("已受理"),
    "refused": gettext_noop("不予受理"), "step_started": gettext_noop("环节开始"),
    "step_done": gettext_noop("环节完成"),
    "approved": gettext_noop("准予许可"), "rejected": gettext_noop("不予许可"), "issued": gettext_noop("发证"),
    "issued_together": gettext_noop("证照同发"), "certificate_issued": gettext_noop("生成电子证照"),
    "correction_requested": gettext_noop("要求补正"), "correction_answered": gettext_noop("已补正"),
    "withdrawn": gettext_noop("撤回"), "credit_hit": gettext_noop("信用核查命中"),
    "application_status": gettext_noop("申请状态变更"), "stopped": gettext_noop("联办终止"),
}


class InvalidTransition(Conflict):
    code = "invalid_transition"


# --- helpers ---------------------------------------------------------------------------------------------

def step_perm(role: str) -> str:
    try:
        return STEP_ROLE_PERMS[role]
    except KeyError as exc:
        raise InvalidInput(f"流程环节的办理角色未知：{role}", f"unknown step role: {role}", field="process") from exc


def acts_for_department(user: Any, case: Case) -> bool:
    """May ``user`` take the department's steps (review, decision, issue) of ``case``? Its own department's
    staff, or the administrative approval bureau of the case's division."""
    if getattr(user, "is_superuser", False):
        return True
    department = getattr(user, "department", None)
    if department is None:
        return False
    if department.pk == case.department_id:
        return True
    return department.kind == APPROVAL_BUREAU and department.division_code == case.division_code


def require_step(user: Any, case: Case, step: CaseStep) -> None:
    """The step's role permission in the case's division and, beyond acceptance, the case's department."""
    access.require(user, step_perm(step.role), case.division_code)
    if step.role != INTAKE_ROLE and not acts_for_department(user, case):
        raise PermissionDenied(f"该环节由{case.department.name}办理 / this step belongs to {case.department.name}")


def _event(case: Case | None, application: Application, actor: Any, action: str, note: str = "",
           data: dict[str, Any] | None = None, at: dt.datetime | None = None) -> CaseEvent:
    is_user = getattr(actor, "pk", None) is not None
    label = (actor.get_username() if is_user else str(actor or SYSTEM))[:150]
    return CaseEvent.objects.create(application=application, case=case, at=at or timezone.now(),
                                    actor=actor if is_user else None, actor_label=label, action=action,
                                    note=note, data=data or {})


def _audit(actor: Any, action: str, case: Case, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None) -> None:
    audit.record(actor=actor, action=f"egov.{action}", object_type="egov.Case", object_id=case.number,
                 before=before, after=after, division_code=case.division_code)


def _text(value: str | None, field: str, *, required: bool, what_zh: str, what_en: str) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"请填写{what_zh}", f"{what_en} is required", field=field)
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{what_zh}不能超过 {MAX_TEXT} 字", f"{what_en} is too long", field=field)
    return text


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().select_related("application", "item", "department").get(pk=case.pk)


def get_case(number: str) -> Case:
    case = Case.objects.select_related("application", "item", "department").filter(number=number).first()
    if case is None:
        raise NotFound("办件不存在", "no such case", field="number")
    return case


def _deadline(cal: WorkingCalendar, start: dt.datetime, days: int) -> dt.datetime:
    return cal.deadline_after_days(start, days)


def _extend(cal: WorkingCalendar, when: dt.datetime | None, days: int) -> dt.datetime | None:
    if when is None or days <= 0:
        return when
    local = when.astimezone(cal.tz)
    return dt.datetime.combine(cal.add_working_days(local.date(), days), local.timetz())


def is_issue_step(step: CaseStep) -> bool:
    return step.role == ISSUER_ROLE


# --- instantiation -----------------------------------------------------------------------------------

def validate_process(process: Any) -> list[dict[str, Any]]:
    """Check a process (list of steps) and return it; raises ``InvalidInput`` naming the problem."""
    if not isinstance(process, list) or not process:
        raise InvalidInput("办理流程不能为空", "the process has no steps", field="process")
    keys: set[str] = set()
    for i, step in enumerate(process):
        if not isinstance(step, dict) or not step.get("key") or not step.get("role"):
            raise InvalidInput(f"第 {i + 1} 个环节缺少编码或角色", f"step {i + 1} lacks a key or role", field="process")
        if step["key"] in keys:
            raise InvalidInput(f"环节编码重复：{step['key']}", f"duplicate step key {step['key']}", field="process")
        step_perm(str(step["role"]))
        keys.add(str(step["key"]))
    for step in process:
        missing = [k for k in step.get("after") or [] if k not in keys]
        if missing:
            raise InvalidInput(f"环节 {step['key']} 的前置环节不存在：{missing[0]}",
                               f"step {step['key']} comes after an unknown step {missing[0]}", field="process")
    # no cycles: repeatedly remove steps whose predecessors are all removed
    done: set[str] = set()
    remaining = {str(s["key"]): set(s.get("after") or []) for s in process}
    while remaining:
        ready = [k for k, after in remaining.items() if after <= done]
        if not ready:
            raise InvalidInput("办理流程存在循环", "the process has a cycle", field="process")
        for k in ready:
            done.add(k)
            del remaining[k]
    return process


def instantiate_steps(case: Case) -> list[CaseStep]:
    """Create the case's ``CaseStep`` rows (all pending) from its item's process."""
    process = validate_process(case.item.process)
    return CaseStep.objects.bulk_create([
        CaseStep(case=case, key=str(s["key"]), name=str(s.get("name") or s["key"])[:60], role=str(s["role"]),
                 limit_days=int(s.get("limit_days") or 0), after=list(s.get("after") or []))
        for s in process
    ])


# --- bundle gating ------------------------------------------------------------------------------------

def _bundle_members(application: Application) -> dict[int, BundleItem]:
    if application.bundle_id is None:
        return {}
    return {m.item_id: m for m in BundleItem.objects.filter(bundle_id=application.bundle_id)}


def is_main_case(case: Case) -> bool:
    members = _bundle_members(case.application)
    return bool(members) and not members[case.item_id].prior


def issue_released(case: Case) -> bool:
    """May the case's issue step start? (Prior approvals approved; with issue_together, every case.)"""
    application = case.application
    members = _bundle_members(application)
    if not members or members[case.item_id].prior:
        return True
    siblings = list(application.cases.exclude(pk=case.pk))
    priors = [c for c in siblings if members.get(c.item_id) is not None and members[c.item_id].prior]
    if any(c.status not in APPROVED_OR_ISSUED for c in priors):
        return False
    if application.bundle is not None and application.bundle.issue_together:
        if case.status not in APPROVED_OR_ISSUED:
            return False
        return all(c.status in APPROVED_OR_ISSUED for c in siblings)
    return True


def _activate(step: CaseStep, at: dt.datetime, cal: WorkingCalendar) -> None:
    step.status = StepStatus.ACTIVE
    step.started_at = at
    step.due_at = _deadline(cal, at, step.limit_days)
    step.save(update_fields=["status", "started_at", "due_at"])


def _advance(case: Case, at: dt.datetime, cal: WorkingCalendar, actor: Any) -> list[CaseStep]:
    """Activate every pending step whose predecessors are all done; mark the case approved when only issue
    steps remain. Issue steps wait until ``issue_released``. Returns the steps activated."""
    steps = list(case.steps.all())
    done = {s.key for s in steps if s.status in (StepStatus.DONE, StepStatus.SKIPPED)}
    activated: list[CaseStep] = []
    pending_ready = [s for s in steps if s.status == StepStatus.PENDING and set(s.after) <= done]
    non_issue_open = [s for s in steps if not is_issue_step(s) and s.status in (StepStatus.PENDING,
                                                                                StepStatus.ACTIVE)]
    if not non_issue_open and case.status == CaseStatus.IN_REVIEW:
        case.status = CaseStatus.APPROVED
        case.decided_at = case.decided_at or at
        case.save(update_fields=["status", "decided_at"])
        _event(case, case.application, actor, "approved", data={"case": case.number}, at=at)
        _audit(actor, "case_approved", case, after={"status": case.status})
    if case.status == CaseStatus.APPROVED and case.issued_at is None and all(
            s.status in (StepStatus.DONE, StepStatus.SKIPPED) for s in steps):
        # a process without an issue step (a registration done at the window) is finished (办结) here
        case.status, case.issued_at = CaseStatus.ISSUED, at
        case.save(update_fields=["status", "issued_at"])
        _event(case, case.application, actor, "issued", data={"case": case.number, "certificate": ""}, at=at)
        _audit(actor, "case_issued", case, before={"status": CaseStatus.APPROVED},
               after={"status": case.status, "issued_at": at})
    for step in pending_ready:
        if is_issue_step(step) and not issue_released(case):
            continue
        _activate(step, at, cal)
        activated.append(step)
        _event(case, case.application, SYSTEM, "step_started",
               data={"step": step.key, "due_at": step.due_at.isoformat() if step.due_at else None}, at=at)
    return activated


def _release_siblings(application: Application, at: dt.datetime, cal: WorkingCalendar, actor: Any) -> None:
    """After a case of a bundle was approved, start the main cases' issue steps that became free."""
    if application.bundle_id is None:
        return
    for sibling in application.cases.select_for_update().filter(status=CaseStatus.APPROVED):
        _advance(sibling, at, cal, actor)


def derived_status(statuses: set[str], all_finished: Callable[[], bool], any_accepted: bool) -> str:
    """The application's one status from its cases' statuses (``all_finished`` asked only when it decides)."""
    if CaseStatus.REJECTED in statuses:
        return ApplicationStatus.REJECTED
    if CaseStatus.REFUSED in statuses:
        return ApplicationStatus.REFUSED
    if CaseStatus.CORRECTION in statuses:
        return ApplicationStatus.CORRECTION
    if all_finished():
        return ApplicationStatus.ISSUED
    return ApplicationStatus.IN_PROGRESS if any_accepted else ApplicationStatus.SUBMITTED


def sync_application(application: Application, at: dt.datetime | None = None) -> Application:
    """The one status the applicant sees, derived from the application's cases."""
    at = at or timezone.now()
    cases = list(application.cases.all())
    old = application.status
    if not cases or application.status in (ApplicationStatus.DRAFT, ApplicationStatus.WITHDRAWN):
        return application
    new = derived_status({c.status for c in cases}, lambda: all(case_finished(c) for c in cases),
                         any(c.accepted_at for c in cases))
    if new != old:
        application.status = new
        fields = ["status"]
        if new in (ApplicationStatus.ISSUED, ApplicationStatus.REJECTED, ApplicationStatus.REFUSED):
            application.finished_at = at
            fields.append("finished_at")
        application.save(update_fields=fields)
        _event(None, application, SYSTEM, "application_status", data={"from": old, "to": new}, at=at)
    return application


def case_finished(case: Case) -> bool:
    if case.status == CaseStatus.ISSUED:
        return True
    return case.status == CaseStatus.APPROVED and not case.steps.exclude(
        status__in=[StepStatus.DONE, StepStatus.SKIPPED]).exists()


# --- acceptance -------------------------------------------------------------------------------------------

def case_days(case: Case) -> tuple[int, int]:
    """(promised, statutory) working days of the case. A bundle (一件事) makes one promise for all its cases:
    the longest of its items', so a licence waiting to be issued together with a slower approval is not late."""
    if case.application.bundle_id is None:
        return case.item.promised_days, case.item.statutory_days
    items = [c.item for c in case.application.cases.select_related("item")]
    return max(i.promised_days for i in items), max(i.statutory_days for i in items)


def accept_case(*, acting_user: Any, case: Case, opinion: str = "") -> Case:
    """受理: start the promised and statutory clocks (working days from now) and the first steps."""
    access.require(acting_user, "egov.accept", case.division_code)
    opinion = _text(opinion, "opinion", required=False, what_zh="受理意见", what_en="the opinion")
    cal = get_calendar()
    with transaction.atomic():
        case = _locked(case)
        if case.status != CaseStatus.WAITING:
            raise InvalidTransition("该办件不在待受理状态", "the case is not waiting for acceptance", field="status")
        now = timezone.now()
        promised, statutory = case_days(case)
        case.status = CaseStatus.IN_REVIEW
        case.accepted_at = now
        case.promised_due_at = _deadline(cal, now, promised)
        case.statutory_due_at = _deadline(cal, now, statutory)
        case.save(update_fields=["status", "accepted_at", "promised_due_at", "statutory_due_at"])
        # an intake step at the start of the process is the acceptance itself
        for step in case.steps.filter(role=INTAKE_ROLE, after=[], status=StepStatus.PENDING):
            step.status, step.started_at, step.finished_at = StepStatus.DONE, now, now
            step.due_at, step.actor, step.opinion, step.outcome = now, acting_user, opinion, "approve"
            step.save()
        _event(case, case.application, acting_user, "accepted", note=opinion,
               data={"promised_due_at": case.promised_due_at.isoformat(),
                     "statutory_due_at": case.statutory_due_at.isoformat()}, at=now)
        _audit(acting_user, "case_accepted", case, before={"status": CaseStatus.WAITING},
               after={"status": case.status, "promised_due_at": case.promised_due_at,
                      "statutory_due_at": case.statutory_due_at})
        _advance(case, now, cal, acting_user)
        if case.status == CaseStatus.APPROVED:  # a window-only process: approved on acceptance
            _release_siblings(case.application, now, cal, acting_user)
        sync_application(case.application, now)
    return case


def refuse_case(*, acting_user: Any, case: Case, reason: str) -> Case:
    """不予受理: a reason is required; the case ends."""
    access.require(acting_user, "egov.accept", case.division_code)
    reason = _text(reason, "reason", required=True, what_zh="不予受理理由", what_en="a reason for the refusal")
    with transaction.atomic():
        case = _locked(case)
        if case.status not in (CaseStatus.WAITING, CaseStatus.CORRECTION) or case.accepted_at is not None:
            raise InvalidTransition("只能对待受理的办件作出不予受理",
                                    "only a case waiting for acceptance can be refused", field="status")
        now = timezone.now()
        before = case.status
        case.status, case.reason, case.decided_at = CaseStatus.REFUSED, reason, now
        case.save(update_fields=["status", "reason", "decided_at"])
        skip_open_steps(case)
        _event(case, case.application, acting_user, "refused", note=reason, at=now)
        _audit(acting_user, "case_refused", case, before={"status": before},
               after={"status": case.status, "reason": reason})
        _stop_siblings(case, acting_user, now)
        sync_application(case.application, now)
    return case


# --- steps ------------------------------------------------------------------------------------------------

def can_take_step(user: Any, case: Case, step: CaseStep) -> bool:
    return access.has_perm(user, step_perm(step.role), case.division_code) and (
        step.role == INTAKE_ROLE or acts_for_department(user, case))


def complete_step(*, acting_user: Any, case: Case, key: str, opinion: str = "", outcome: str = "approve") -> Case:
    """Finish an active step. ``outcome="reject"`` at a decision step ends the case 不予许可 (opinion required).
    Finishing an issue step issues the certificate (for a bundle with ``issue_together``: every main item's,
    in this transaction)."""
    if outcome not in ("approve", "reject"):
        raise InvalidInput("结论应为同意或不同意", "outcome must be approve or reject", field="outcome")
    cal = get_calendar()
    with transaction.atomic():
        case = _locked(case)
        step = case.steps.select_for_update().filter(key=key).first()
        if step is None:
            raise NotFound("该办件没有这个环节", "the case has no such step", field="key")
        require_step(acting_user, case, step)
        if case.status == CaseStatus.CORRECTION:
            raise InvalidTransition("办件待补正，补正前不能办理", "the case waits for a correction", field="status")
        if step.status != StepStatus.ACTIVE or case.status not in (CaseStatus.IN_REVIEW, CaseStatus.APPROVED):
            raise InvalidTransition("该环节当前不能办理", "this step is not active", field="key")
        if outcome == "reject" and step_perm(step.role) != DECISION_PERM:
            raise InvalidInput("只有审批决定环节可以作出不予许可", "only a decision step can reject", field="outcome")
        opinion = _text(opinion, "opinion", required=outcome == "reject", what_zh="不予许可理由",
                        what_en="a reason for the rejection")
        now = timezone.now()
        if is_issue_step(step):
            _issue(acting_user=acting_user, case=case, step=step, opinion=opinion, at=now, cal=cal)
            return case
        _finish_step(step, acting_user, opinion, outcome, now)
        _event(case, case.application, acting_user, "step_done", note=opinion,
               data={"step": step.key, "outcome": outcome}, at=now)
        _audit(acting_user, "step_done", case, after={"step": step.key, "outcome": outcome})
        if outcome == "reject":
            case.status, case.reason, case.decided_at = CaseStatus.REJECTED, opinion, now
            case.save(update_fields=["status", "reason", "decided_at"])
            skip_open_steps(case)
            _event(case, case.application, acting_user, "rejected", note=opinion, at=now)
            _audit(acting_user, "case_rejected", case, after={"status": case.status, "reason": opinion})
            _stop_siblings(case, acting_user, now)
        else:
            was = case.status
            _advance(case, now, cal, acting_user)
            if was != CaseStatus.APPROVED and case.status == CaseStatus.APPROVED:
                _release_siblings(case.application, now, cal, acting_user)
        sync_application(case.application, now)
    return case


def skip_open_steps(case: Case) -> None:
    """The case ended (refused, rejected, stopped, withdrawn): its pending and active steps are skipped."""
    case.steps.filter(status__in=[StepStatus.PENDING, StepStatus.ACTIVE]).update(status=StepStatus.SKIPPED)


def _finish_step(step: CaseStep, actor: Any, opinion: str, outcome: str, at: dt.datetime) -> None:
    step.status, step.finished_at, step.actor, step.opinion, step.outcome = StepStatus.DONE, at, actor, opinion, outcome
    step.save(update_fields=["status", "finished_at", "actor", "opinion", "outcome"])


def _stop_siblings(case: Case, actor: Any, at: dt.datetime) -> list[Case]:
    """A bundle's case was refused or rejected: its other open cases stop (已终止), their open steps skipped."""
    application = case.application
    if application.bundle_id is None:
        return []
    stopped = []
    outcome = "不予受理" if case.status == CaseStatus.REFUSED else "不予许可"
    note = f"联办事项“{case.item.name}”{outcome}，本件终止"
    for other in application.cases.select_for_update().select_related("item").exclude(pk=case.pk).filter(
            status__in=OPEN_CASE):
        before = other.status
        other.status, other.decided_at = CaseStatus.STOPPED, at
        other.reason = note
        other.save(update_fields=["status", "decided_at", "reason"])
        skip_open_steps(other)
        other.corrections.filter(answered_at__isnull=True).update(answered_at=at)
        _event(other, application, actor, "stopped", note=note, data={"because": case.number}, at=at)
        _audit(actor, "case_stopped", other, before={"status": before},
               after={"status": other.status, "because": case.number})
        stopped.append(other)
    return stopped


def credit_blocked(case: Case) -> bool:
    result = case.credit_result or {}
    return bool(result.get("blocked") or result.get("decision") == "block")


def _issue(*, acting_user: Any, case: Case, step: CaseStep, opinion: str, at: dt.datetime,
           cal: WorkingCalendar) -> None:
    """Issue the case's certificate; with a bundle issuing together, every main case's at the same moment."""
    from . import certificates  # lazy: written by the certificates module

    batch: list[tuple[Case, CaseStep]] = [(case, step)]
    application = case.application
    if application.bundle is not None and application.bundle.issue_together and is_main_case(case):
        members = _bundle_members(application)
        for other in application.cases.select_for_update().select_related("item", "department").exclude(
                pk=case.pk):
            if members[other.item_id].prior:
                continue
            other_steps = [s for s in other.steps.select_for_update() if is_issue_step(s)
                           and s.status != StepStatus.DONE]
            for s in other_steps:
                if s.status != StepStatus.ACTIVE:
                    raise InvalidTransition("联办事项尚未全部审批通过，不能发证",
                                            "not every item of the bundle is approved yet", field="key")
                try:
                    require_step(acting_user, other, s)
                except PermissionDenied as exc:
                    raise PermissionDenied(
                        f"联办证照同发须由能办理各事项的窗口（行政审批服务局）统一发证：{other.department.name} / "
                        "a bundle's licences are issued together by a window that may issue every one of them "
                        "(the administrative approval bureau)") from exc
                batch.append((other, s))
    blocked = [c.number for c, _ in batch if credit_blocked(c)]
    if blocked:
        raise Conflict(f"信用核查命中失信名单，不能发证：{'、'.join(blocked)}",
                       f"the credit check blocks issuing: {', '.join(blocked)}", field="credit", code="credit_blocked")
    numbers = []
    for c, s in batch:
        _finish_step(s, acting_user, opinion, "approve", at)
        c.issued_at = at
        c.save(update_fields=["issued_at"])
        # a result without a certificate (a registration, a service done) finishes the case (办结)
        certificate = (None if c.item.result_kind == "none"
                       else certificates.issue_certificate(c, acting_user=acting_user, issued_at=at))
        c.status = CaseStatus.ISSUED
        c.save(update_fields=["status"])
        numbers.append(c.number)
        _event(c, application, acting_user, "issued", note=opinion,
               data={"step": s.key, "certificate": getattr(certificate, "number", "")}, at=at)
        _audit(acting_user, "case_issued", c, before={"status": CaseStatus.APPROVED},
               after={"status": c.status, "issued_at": at, "certificate": getattr(certificate, "number", ""),
                      "together": len(batch) > 1})
    if len(batch) > 1:
        _event(None, application, acting_user, "issued_together", data={"cases": numbers}, at=at)
    sync_application(application, at)


# --- corrections (补正) -------------------------------------------------------------------------------

def can_request_correction(user: Any, case: Case) -> bool:
    """The intake window, or a reviewer of the case's department (or of the approval bureau)."""
    return access.has_perm(user, "egov.accept", case.division_code) or (
        access.has_perm(user, "egov.review", case.division_code) and acts_for_department(user, case))


def request_correction(*, acting_user: Any, case: Case, items: str) -> CorrectionRequest:
    """Ask the applicant for missing material; the case's clock stops until the answer."""
    if not can_request_correction(acting_user, case):
        raise PermissionDenied("无权要求补正 / not allowed to request a correction")
    items = _text(items, "items", required=True, what_zh="需补正内容", what_en="what is to be corrected")
    with transaction.atomic():
        case = _locked(case)
        if case.status not in (CaseStatus.WAITING, CaseStatus.IN_REVIEW):
            raise InvalidTransition("该办件当前不能要求补正", "this case cannot ask for a correction now",
                                    field="status")
        now = timezone.now()
        before = case.status
        correction = CorrectionRequest.objects.create(case=case, requested_at=now, requested_by=acting_user,
                                                      items=items)
        case.status = CaseStatus.CORRECTION
        case.save(update_fields=["status"])
        _event(case, case.application, acting_user, "correction_requested", note=items, at=now)
        _audit(acting_user, "correction_requested", case, before={"status": before},
               after={"status": case.status, "items": items})
        sync_application(case.application, now)
    return correction


def answer_correction(*, acting_user: Any, case: Case, note: str = "") -> Case:
    """The applicant answers a correction: the clock resumes and every open deadline moves back by the
    working days the correction took."""
    note = _text(note, "note", required=False, what_zh="补正说明", what_en="the note")
    cal = get_calendar()
    with transaction.atomic():
        case = _locked(case)
        if case.application.applicant_id != getattr(acting_user, "pk", None):
            raise PermissionDenied("只有申请人可以补正 / only the applicant may answer")
        correction = case.corrections.select_for_update().filter(answered_at__isnull=True).first()
        if case.status != CaseStatus.CORRECTION or correction is None:
            raise InvalidTransition("该办件没有待补正的要求", "the case has no open correction request",
                                    field="status")
        now = timezone.now()
        start = correction.requested_at.astimezone(cal.tz).date()
        paused = cal.working_days_between(start, now.astimezone(cal.tz).date())
        correction.answered_at = now
        correction.save(update_fields=["answered_at"])
        case.paused_days += paused
        case.promised_due_at = _extend(cal, case.promised_due_at, paused)
        case.statutory_due_at = _extend(cal, case.statutory_due_at, paused)
        case.status = CaseStatus.IN_REVIEW if case.accepted_at else CaseStatus.WAITING
        case.save(update_fields=["paused_days", "promised_due_at", "statutory_due_at", "status"])
        for step in case.steps.filter(status=StepStatus.ACTIVE):
            step.due_at = _extend(cal, step.due_at, paused)
            step.save(update_fields=["due_at"])
        _event(case, case.application, acting_user, "correction_answered", note=note,
               data={"paused_days": paused}, at=now)
        _audit(acting_user, "correction_answered", case, before={"status": CaseStatus.CORRECTION},
               after={"status": case.status, "paused_days": paused, "promised_due_at": case.promised_due_at})
        sync_application(case.application, now)
    return case


# --- queues -----------------------------------------------------------------------------------------------

QUEUES: list[tuple[str, str, str]] = [
    # (key, permission, Chinese label)
    ("accept", "egov.accept", gettext_noop("待受理")),
    ("review", "egov.review", gettext_noop("待审查")),
    ("decide", "egov.decide", gettext_noop("待决定")),
    ("issue", "egov.issue", gettext_noop("待发证")),
]
_QUEUE_ROLES = {"review": "egov_reviewer", "decide": "egov_approver", "issue": "egov_issuer"}


def queue_cases(user: Any, queue: str) -> Iterable[Case]:
    """Cases in the user's divisions waiting for the queue's action."""
    perm = {k: p for k, p, _ in QUEUES}[queue]
    qs = access.filter_by_scope(Case.objects.select_related("item", "application", "department"), user, perm,
                                "division_code")
    if queue == "accept":
        return qs.filter(status__in=[CaseStatus.WAITING]).order_by("received_at")
    role = _QUEUE_ROLES[queue]
    if not getattr(user, "is_superuser", False):
        department = getattr(user, "department", None)
        if department is None:
            return qs.none()
        if department.kind == APPROVAL_BUREAU:
            qs = qs.filter(division_code=department.division_code)
        else:
            qs = qs.filter(department_id=department.pk)
    return qs.filter(steps__status=StepStatus.ACTIVE, steps__role=role).exclude(
        status=CaseStatus.CORRECTION).distinct().order_by("received_at")


def user_queues(user: Any) -> list[tuple[str, str]]:
    return [(k, label) for k, perm, label in QUEUES if access.has_perm(user, perm)]


def can_view_case(user: Any, case: Case) -> bool:
    return any(access.has_perm(user, perm, case.division_code) for _, perm, _ in QUEUES) or access.has_perm(
        user, "egov.supervise", case.division_code)
