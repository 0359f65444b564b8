"""E-government service hall JSON API (mounted at ``/api/egov/``): the public catalogue, certificate
verification, disclosure search and the plan indicators; the applicant's applications and their progress;
the staff queues and case handling (accept, refuse, steps, corrections).

A thin adapter over the egov services: reads use ``catalogue``, ``certificates``, ``search``,
``applications`` and ``workflow`` as the pages do; every write goes through ``workflow.accept_case``,
``refuse_case``, ``complete_step`` or ``request_correction`` (which check the permission for the case's
division, write the timeline and the audit record in one transaction).

Authentication as the platform's other routers: the public operations need none; the applicant and staff
operations use the signed-in session (``django_auth``; unsafe methods need Django's CSRF token, header
``X-CSRFToken`` matching the ``csrftoken`` cookie). Without a session: 401.

Errors, as everywhere in the API: a ``DomainError`` becomes its status with ``error``, ``message``
(``message_zh`` / ``message_en``) and the ``field`` at fault — 400 bad input (an unknown filter value, a
missing refusal reason, a limit out of range), 404 unknown item, application or case, 409 a step that cannot
be taken now (``error=invalid_transition``) or a credit block (``credit_blocked``); 403
``permission_denied`` when the user may not do it (e.g. a reviewer completing a decision step, a staff
account asking for "my applications"). Only a body that does not match the schema at all gets
django-ninja's 422.

Personal data as on the pages: the public verification shows a person holder's name masked (张**); the
staff case view shows the applicant's name and credit code, and the ID and phone numbers masked unless the
user holds ``core.view_personal_data`` for the case's division; the applicant's progress never names the
officers (the timeline shows actions, not actors).
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.security import django_auth

from liaocheng.core import access
from liaocheng.core.crypto import mask_id_number, mask_phone
from liaocheng.core.departments import CITY, COUNTIES
from liaocheng.core.errors import InvalidInput
from liaocheng.core.models import Department

from . import applications, catalogue, certificates, search, workflow
from .models import (
    Application,
    Bundle,
    Case,
    CaseEvent,
    CaseStatus,
    CaseStep,
    Certificate,
    ItemStatus,
    ItemType,
    Material,
    ServiceItem,
    StepStatus,
)

router = Router(tags=["egov"])

MAX_ITEMS = 100
MAX_APPLICATIONS = 200
MAX_CASES = 500
MAX_DOCUMENTS = 100
SNIPPET_CHARS = search.SNIPPET_CHARS
DIVISIONS = {code for code, _name in [CITY, *COUNTIES]}
QUEUE_KEYS = [k for k, _perm, _label in workflow.QUEUES]


# --- schemas: catalogue -----------------------------------------------------------------------------------

class ItemOut(Schema):
    code: str = Field(description="implementation code (实施编码)")
    basic_code: str
    name: str
    item_type: str
    item_type_name: str
    level: str
    department: str
    department_name: str
    division_code: str
    serves: str = Field(description="citizen, enterprise or both")
    online_depth: int = Field(description="1 information only … 4 fully online (全程网办)")
    max_visits: int
    statutory_days: int = Field(description="statutory time limit, working days")
    promised_days: int = Field(description="promised time limit, working days")
    fee: str
    result_name: str
    result_kind: str


class ItemPageOut(Schema):
    total: int
    items: list[ItemOut]


class MaterialOut(Schema):
    name: str
    required: bool
    form: str
    form_label: str
    accepted_types: list[str]
    max_mb: int
    source: str
    blank_form_url: str | None
    sample_url: str | None


class StepDefOut(Schema):
    key: str
    name: str
    role: str
    limit_days: int
    after: list[str]
    after_names: list[str]


class BundleRefOut(Schema):
    code: str
    name: str


class ItemDetailOut(ItemOut):
    legal_basis: str
    conditions: str
    materials: list[MaterialOut]
    process: list[StepDefOut]
    total_days: int = Field(description="working days along the longest path of the process")
    bundles: list[BundleRefOut] = Field(description="published one-stop bundles the item belongs to")
    apply_url: str


class BundleMemberOut(Schema):
    item_code: str
    item_name: str
    department: str
    department_name: str
    division_code: str
    prior: bool = Field(description="prior approval (前置审批): approved before the main items issue")
    optional: bool = Field(description="chosen by the applicant when their business needs it")
    promised_days: int


class BundleOut(Schema):
    code: str
    name: str
    serves: str
    description: str
    issue_together: bool = Field(description="the main items' results are issued together (证照联动)")
    longest_promised_days: int
    apply_url: str
    members: list[BundleMemberOut]


class BundlePageOut(Schema):
    total: int
    bundles: list[BundleOut]


# --- schemas: verification, disclosure, indicators -----------------------------------------------------------

class VerifyOut(Schema):
    code: str = Field(description="the code as checked (normalised: upper case, no spaces or dashes)")
    status: str = Field(description="valid, revoked, tampered, expired or not_found")
    valid: bool
    message: str
    number: str | None
    title: str | None
    holder: str | None = Field(description="the holder; a person's name masked (张**)")
    issuer: str | None
    issued_on: dt.date | None
    valid_until: dt.date | None
    revoked_on: dt.date | None


class DocumentOut(Schema):
    id: int
    index_number: str
    doc_number: str
    title: str
    title_html: str = Field(description="the title HTML-escaped, query words in <mark>")
    snippet: str = Field(description="a plain-text window of the body around the first query word")
    snippet_html: str = Field(description="the same window HTML-escaped, query words in <mark>")
    department: str
    department_name: str
    category: str
    issued_on: dt.date
    published_at: dt.datetime | None
    url: str


class DocumentPageOut(Schema):
    query: str
    total: int
    exact: bool = Field(description="false: total is a lower bound (a very common word)")
    documents: list[DocumentOut]


class OnlineRowOut(Schema):
    label: str
    code: str
    items: int
    online: int
    fully_online: int
    online_share: float = Field(description="% of published items handled online (depth 3 or 4)")
    fully_online_share: float = Field(description="% of published items fully online (depth 4)")
    meets_target: bool


class DisclosureRowOut(Schema):
    label: str
    code: str
    documents: int
    published: int
    share: float = Field(description="% of non-classified documents published")
    meets_target: bool


class OnlineIndicatorsOut(Schema):
    target: float
    overall: OnlineRowOut
    departments: list[OnlineRowOut]


class DisclosureIndicatorsOut(Schema):
    target: float
    overall: DisclosureRowOut
    departments: list[DisclosureRowOut]


class IndicatorsOut(Schema):
    division: str = Field(description="the division asked for (empty: the whole city)")
    online: OnlineIndicatorsOut
    disclosure: DisclosureIndicatorsOut


# --- schemas: applications and cases -------------------------------------------------------------------

class ApplicationRowOut(Schema):
    number: str | None = Field(description="null for a draft (numbered on submission)")
    item_code: str | None
    bundle_code: str | None
    title: str
    status: str
    status_label: str
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    finished_at: dt.datetime | None


class ApplicationPageOut(Schema):
    total: int
    applications: list[ApplicationRowOut]


class StepOut(Schema):
    key: str
    name: str
    role: str
    status: str
    status_label: str
    limit_days: int
    after: list[str]
    started_at: dt.datetime | None
    due_at: dt.datetime | None
    finished_at: dt.datetime | None
    outcome: str


class StaffStepOut(StepOut):
    actor: str | None
    opinion: str
    can_take: bool = Field(description="the signed-in user may complete this step now")


class CorrectionOut(Schema):
    id: int
    items: str
    requested_at: dt.datetime
    answered_at: dt.datetime | None


class CertificateOut(Schema):
    number: str
    title: str
    kind: str
    issued_at: dt.datetime
    valid_until: dt.date | None
    revoked: bool
    pdf_url: str


class OwnCertificateOut(CertificateOut):
    verification_code: str
    verify_url: str


class PartOut(Schema):
    number: str
    item_code: str
    item_name: str
    department: str
    department_name: str
    prior: bool
    status: str
    status_label: str
    reason: str
    received_at: dt.datetime
    accepted_at: dt.datetime | None
    promised_due_at: dt.datetime | None
    statutory_due_at: dt.datetime | None
    decided_at: dt.datetime | None
    issued_at: dt.datetime | None
    steps: list[StepOut]
    open_correction: CorrectionOut | None = Field(description="what the applicant is asked to correct (补正)")
    certificates: list[OwnCertificateOut]


class TimelineOut(Schema):
    at: dt.datetime
    case: str | None
    action: str
    label: str
    note: str


class ApplicationDetailOut(Schema):
    number: str
    item_code: str | None
    bundle_code: str | None
    title: str
    status: str
    status_label: str
    applicant_name: str
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    finished_at: dt.datetime | None
    cases: list[PartOut]
    timeline: list[TimelineOut]


class CaseRowOut(Schema):
    number: str
    application_number: str | None
    item_code: str
    item_name: str
    department: str
    department_name: str
    division_code: str
    status: str
    status_label: str
    applicant_name: str
    credit_code: str
    credit_flagged: bool
    credit_blocked: bool
    received_at: dt.datetime
    accepted_at: dt.datetime | None
    promised_due_at: dt.datetime | None


class CasePageOut(Schema):
    queue: str
    total: int
    cases: list[CaseRowOut]


class StaffTimelineOut(TimelineOut):
    actor: str


class CaseDetailOut(CaseRowOut):
    id_number: str = Field(description="masked unless core.view_personal_data for the case's division")
    phone: str = Field(description="masked unless core.view_personal_data for the case's division")
    statutory_due_at: dt.datetime | None
    paused_days: int
    decided_at: dt.datetime | None
    issued_at: dt.datetime | None
    reason: str
    can_accept: bool
    can_correct: bool
    steps: list[StaffStepOut]
    corrections: list[CorrectionOut]
    certificates: list[CertificateOut]
    timeline: list[StaffTimelineOut]


class OpinionIn(Schema):
    opinion: str = Field("", description="受理意见 (optional, at most 4,000 characters)")


class RefuseIn(Schema):
    reason: str = Field(description="不予受理理由 (required)")


class StepIn(Schema):
    opinion: str = Field("", description="意见; required with outcome=reject")
    outcome: str = Field("approve", description="approve, or reject (a decision step only: 不予许可)")


class CorrectionIn(Schema):
    items: str = Field(description="需补正内容: what the applicant must add or correct (required)")


# --- helpers ----------------------------------------------------------------------------------------------

def _page(limit: int, offset: int, maximum: int) -> tuple[int, int]:
    if not 1 <= limit <= maximum:
        raise InvalidInput(f"limit 应为 1 到 {maximum}", f"limit must be 1 to {maximum}", field="limit")
    if offset < 0:
        raise InvalidInput("offset 不能为负", "offset cannot be negative", field="offset")
    return limit, offset


def _division(value: str) -> str:
    value = (value or "").strip()
    if value and value not in DIVISIONS:
        raise InvalidInput("行政区划代码不是聊城市或其县（市、区）", "not the code of Liaocheng or one of its counties",
                           field="division")
    return value


def _file_url(f: Any) -> str | None:
    return f.url if f and getattr(f, "name", "") else None


def _label(choices: Any, value: str) -> str:
    return str(dict(choices).get(value, value))


def _item_row(item: ServiceItem) -> dict[str, Any]:
    return {
        "code": item.code, "basic_code": item.basic_code, "name": item.name, "item_type": item.item_type.code,
        "item_type_name": item.item_type.name, "level": item.level, "department": item.department.code,
        "department_name": item.department.name, "division_code": item.division_code, "serves": item.serves,
        "online_depth": item.online_depth, "max_visits": item.max_visits, "statutory_days": item.statutory_days,
        "promised_days": item.promised_days, "fee": item.fee, "result_name": item.result_name,
        "result_kind": item.result_kind,
    }


def _material_row(m: Material) -> dict[str, Any]:
    return {"name": m.name, "required": m.required, "form": m.form, "form_label": str(m.get_form_display()),
            "accepted_types": [t.strip() for t in m.accepted_types.split(",") if t.strip()], "max_mb": m.max_mb,
            "source": m.source, "blank_form_url": _file_url(m.blank_form), "sample_url": _file_url(m.sample)}


def _bundle_row(bundle: Bundle) -> dict[str, Any]:
    members = list(bundle.members.all())
    return {
        "code": bundle.code, "name": bundle.name, "serves": bundle.serves, "description": bundle.description,
        "issue_together": bundle.issue_together,
        "longest_promised_days": max((m.item.promised_days for m in members), default=0),
        "apply_url": f"/egov/apply/bundle/{bundle.code}/",
        "members": [{"item_code": m.item.code, "item_name": m.item.name, "department": m.item.department.code,
                     "department_name": m.item.department.name, "division_code": m.item.division_code,
                     "prior": m.prior, "optional": m.optional, "promised_days": m.item.promised_days}
                    for m in members],
    }


def _event_label(action: str) -> str:
    return _(workflow.EVENT_LABELS[action]) if action in workflow.EVENT_LABELS else action


def _step_row(s: CaseStep) -> dict[str, Any]:
    return {"key": s.key, "name": s.name, "role": s.role, "status": s.status,
            "status_label": str(s.get_status_display()), "limit_days": s.limit_days, "after": list(s.after or []),
            "started_at": s.started_at, "due_at": s.due_at, "finished_at": s.finished_at, "outcome": s.outcome}


def _certificate_row(c: Certificate) -> dict[str, Any]:
    return {"number": c.number, "title": c.title, "kind": c.kind, "issued_at": c.issued_at,
            "valid_until": c.valid_until, "revoked": c.revoked_at is not None,
            "pdf_url": f"/egov/certificates/{c.number}.pdf"}


def _correction_row(c: Any) -> dict[str, Any]:
    return {"id": c.pk, "items": c.items, "requested_at": c.requested_at, "answered_at": c.answered_at}


def _application_title(a: Application) -> str:
    if a.bundle is not None:
        return a.bundle.name
    return a.item.name if a.item is not None else ""


def _user_label(user: Any) -> str | None:
    if user is None:
        return None
    return str(getattr(user, "real_name", "") or user.get_username())


def _case_row(c: Case) -> dict[str, Any]:
    credit = c.credit_result or {}
    return {
        "number": c.number, "application_number": c.application.number, "item_code": c.item.code,
        "item_name": c.item.name, "department": c.department.code, "department_name": c.department.name,
        "division_code": c.division_code, "status": c.status, "status_label": str(c.get_status_display()),
        "applicant_name": c.application.applicant_name, "credit_code": c.application.credit_code,
        "credit_flagged": bool(credit.get("flagged")), "credit_blocked": workflow.credit_blocked(c),
        "received_at": c.received_at, "accepted_at": c.accepted_at, "promised_due_at": c.promised_due_at,
    }


def _staff_case(user: Any, number: str) -> Case:
    """The case by number (404) if the user may see it (403), like the staff case page."""
    case = workflow.get_case((number or "").strip())
    if not workflow.can_view_case(user, case):
        raise PermissionDenied("无权查看该办件 / not allowed to view this case")
    return case


def _case_detail(user: Any, case: Case) -> dict[str, Any]:
    case = Case.objects.select_related("application", "item", "department").get(pk=case.pk)
    application = case.application
    full = access.can_see_personal_data(user, case.division_code)
    steps = list(case.steps.select_related("actor").order_by("pk"))
    may_act = case.status != CaseStatus.CORRECTION
    events = case.events.order_by("at", "pk")
    return {
        **_case_row(case),
        "id_number": application.id_number if full else mask_id_number(application.id_number),
        "phone": application.phone if full else mask_phone(application.phone),
        "statutory_due_at": case.statutory_due_at, "paused_days": case.paused_days, "decided_at": case.decided_at,
        "issued_at": case.issued_at, "reason": case.reason,
        "can_accept": case.status == CaseStatus.WAITING and access.has_perm(user, "egov.accept", case.division_code),
        "can_correct": case.status in (CaseStatus.WAITING, CaseStatus.IN_REVIEW) and (
            access.has_perm(user, "egov.accept", case.division_code)
            or access.has_perm(user, "egov.review", case.division_code)),
        "steps": [{**_step_row(s), "actor": _user_label(s.actor), "opinion": s.opinion,
                   "can_take": may_act and s.status == StepStatus.ACTIVE and workflow.can_take_step(user, case, s)}
                  for s in steps],
        "corrections": [_correction_row(c) for c in case.corrections.order_by("requested_at", "pk")],
        "certificates": [_certificate_row(c) for c in case.certificates.order_by("issued_at", "pk")],
        "timeline": [{"at": e.at, "case": case.number, "action": e.action, "label": _event_label(e.action),
                      "note": e.note, "actor": e.actor_label} for e in events],
    }


# --- public: the catalogue ------------------------------------------------------------------------------

@router.get("/items", response=ItemPageOut,
            summary="政务服务事项目录 / published service items (search and filters)",
            description="``q`` matches the name, the basic or implementation code (prefix) and the department's "
                        "name; filters: ``type`` (item type code), ``department`` (department code), "
                        "``division`` (the city or a county code), ``serves`` (citizen or enterprise: items for "
                        "both are included). Ordered by division and basic code; ``limit`` 1–100.")
def items(request: HttpRequest, q: str = "", type: str = "", department: str = "", division: str = "",
          serves: str = "", limit: int = 30, offset: int = 0) -> dict[str, Any]:
    type, department, serves = type.strip(), department.strip(), serves.strip()
    if type and not ItemType.objects.filter(code=type).exists():
        raise InvalidInput("事项类型不存在", "unknown item type", field="type")
    if department and not Department.objects.filter(code=department).exists():
        raise InvalidInput("部门不存在", "unknown department", field="department")
    if serves not in ("", "citizen", "enterprise"):
        raise InvalidInput("服务对象应为 citizen 或 enterprise", "serves must be citizen or enterprise",
                           field="serves")
    limit, offset = _page(limit, offset, MAX_ITEMS)
    qs = catalogue.search_items(q=q, type=type, department=department, division=_division(division), serves=serves)
    return {"total": qs.count(), "items": [_item_row(i) for i in qs[offset:offset + limit]]}


@router.get("/items/{code}", response=ItemDetailOut,
            summary="事项详情 / one published item with its materials and process",
            description="404 for an unknown or unpublished item.")
def item_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    item = catalogue.get_published(code)
    steps = item.process or []
    names = {s["key"]: s["name"] for s in steps}
    bundles = Bundle.objects.filter(members__item=item, status=ItemStatus.PUBLISHED).distinct().order_by("code")
    return {
        **_item_row(item), "legal_basis": item.legal_basis, "conditions": item.conditions,
        "materials": [_material_row(m) for m in item.materials.all()],
        "process": [{"key": s["key"], "name": s["name"], "role": s["role"], "limit_days": s["limit_days"],
                     "after": list(s.get("after") or []),
                     "after_names": [names.get(a, a) for a in s.get("after") or []]} for s in steps],
        "total_days": catalogue.process_total_days(steps),
        "bundles": [{"code": b.code, "name": b.name} for b in bundles],
        "apply_url": f"/egov/apply/{item.code}/",
    }


@router.get("/bundles", response=BundlePageOut,
            summary="一件事套餐 / published one-stop bundles with their member items",
            description="``division``: bundles whose items are implemented in that division (the city or a "
                        "county code).")
def bundles(request: HttpRequest, division: str = "") -> dict[str, Any]:
    qs: QuerySet[Bundle] = Bundle.objects.filter(status=ItemStatus.PUBLISHED)
    division = _division(division)
    if division:
        qs = qs.filter(members__item__division_code=division).distinct()
    qs = qs.prefetch_related("members__item__department").order_by("code")
    rows = [_bundle_row(b) for b in qs]
    return {"total": len(rows), "bundles": rows}


# --- public: verification, disclosure, indicators ---------------------------------------------------------

@router.get("/verify/{code}", response={200: VerifyOut, 404: VerifyOut},
            summary="电子证照核验 / verify a certificate by its verification code",
            description="``status``: valid, revoked, tampered (the stored PDF differs from the one issued), expired, "
                        "or not_found (404). A person holder's name is masked as on the public verification page.")
def verify(request: HttpRequest, code: str) -> Status[dict[str, Any]]:
    from .certificate_views import STATUS_TEXT

    result = certificates.verify(code)
    cert = result.certificate
    body: dict[str, Any] = {
        "code": certificates.normalise_code(code), "status": result.status, "valid": result.valid,
        "message": _(STATUS_TEXT[result.status]), "number": None, "title": None, "holder": None, "issuer": None,
        "issued_on": None, "valid_until": None, "revoked_on": None,
    }
    if cert is None:
        return Status(404, body)
    body.update(number=cert.number, title=cert.title, holder=result.holder_display,
                issuer=str((cert.data or {}).get("department", "")),
                issued_on=timezone.localtime(cert.issued_at).date(), valid_until=cert.valid_until,
                revoked_on=timezone.localtime(cert.revoked_at).date() if cert.revoked_at else None)
    return Status(200, body)


def _document_row(doc: Any, title_html: str, snippet_html: str) -> dict[str, Any]:
    return {"id": doc.pk, "index_number": doc.index_number, "doc_number": doc.doc_number, "title": doc.title,
            "title_html": str(title_html), "snippet": html.unescape(strip_tags(snippet_html)),
            "snippet_html": str(snippet_html), "department": doc.department.code,
            "department_name": doc.department.name, "category": doc.category, "issued_on": doc.issued_on,
            "published_at": doc.published_at, "url": f"/egov/disclosure/documents/{doc.pk}/"}


@router.get("/documents", response=DocumentPageOut,
            summary="政府信息公开检索 / full-text search of published government information",
            description="``q``: words found as substrings of the title or body (Chinese included), best first, "
                        "with a highlighted snippet; without ``q`` the latest published documents. Filters: "
                        "``department`` (department code), ``category`` (主题分类), ``year`` (of issue). "
                        "``limit`` 1–100.")
def documents(request: HttpRequest, q: str = "", department: str = "", category: str = "", year: int | None = None,
              limit: int = 20, offset: int = 0) -> dict[str, Any]:
    limit, offset = _page(limit, offset, MAX_DOCUMENTS)
    dept = None
    if department.strip():
        dept = Department.objects.filter(code=department.strip()).first()
        if dept is None:
            raise InvalidInput("部门不存在", "unknown department", field="department")
    if year is not None and not 1949 <= year <= 2100:
        raise InvalidInput("年份不正确", "invalid year", field="year")
    q = q.strip()
    category = category.strip()
    if q:
        result = search.search_documents(q, department=dept, category=category or None, year=year, limit=limit,
                                         offset=offset)
        rows = [_document_row(h.document, h.title_html, h.snippet_html) for h in result.hits]
        return {"query": q, "total": result.total, "exact": result.exact, "documents": rows}
    latest = search.public_documents().select_related("department")
    if dept is not None:
        latest = latest.filter(department=dept)
    if category:
        latest = latest.filter(category=category)
    if year is not None:
        latest = latest.filter(issued_on__year=year)
    docs = list(latest.order_by("-published_at", "-pk")[offset:offset + limit])
    rows = [_document_row(d, search.snippet(d.title, []), search.snippet(d.body, [])) for d in docs]
    return {"query": "", "total": latest.count(), "exact": True, "documents": rows}


def _online(row: catalogue.OnlineRow) -> dict[str, Any]:
    return {"label": row.label, "code": row.code, "items": row.items, "online": row.online,
            "fully_online": row.fully_online, "online_share": row.online_share,
            "fully_online_share": row.fully_online_share, "meets_target": row.meets_target}


def _disclosed(row: catalogue.DisclosureRow) -> dict[str, Any]:
    return {"label": row.label, "code": row.code, "documents": row.documents, "published": row.published,
            "share": row.share, "meets_target": row.meets_target}


@router.get("/indicators", response=IndicatorsOut,
            summary="规划指标 / plan indicators: online handling and disclosure shares",
            description="Share of published items handled online (网上可办率, depth ≥ 3) and fully online "
                        "(全程网办率), and share of non-classified documents published (政府信息公开率): "
                        "overall and per department, against the plan targets. ``division``: the city or a county.")
def indicators(request: HttpRequest, division: str = "") -> dict[str, Any]:
    division = _division(division)
    online, online_rows = catalogue.online_indicators(division)
    disclosure, disclosure_rows = catalogue.disclosure_indicators(division)
    return {
        "division": division,
        "online": {"target": catalogue.ONLINE_TARGET, "overall": _online(online),
                   "departments": [_online(r) for r in online_rows]},
        "disclosure": {"target": catalogue.DISCLOSURE_TARGET, "overall": _disclosed(disclosure),
                       "departments": [_disclosed(r) for r in disclosure_rows]},
    }


# --- applicant --------------------------------------------------------------------------------------------

@router.get("/applications", response=ApplicationPageOut, auth=django_auth,
            summary="我的办件 / the signed-in applicant's applications, newest first",
            description="Real-name citizen and enterprise accounts only (403 otherwise). Drafts have no number.")
def my_applications(request: HttpRequest, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    qs = applications.my_applications(acting_user=request.user)
    limit, offset = _page(limit, offset, MAX_APPLICATIONS)
    return {"total": qs.count(), "applications": [
        {"number": a.number, "item_code": a.item.code if a.item else None,
         "bundle_code": a.bundle.code if a.bundle else None, "title": _application_title(a), "status": a.status,
         "status_label": str(a.get_status_display()), "created_at": a.created_at, "submitted_at": a.submitted_at,
         "finished_at": a.finished_at} for a in qs[offset:offset + limit]]}


@router.get("/applications/{number}", response=ApplicationDetailOut, auth=django_auth,
            summary="办件进度 / progress of one of the applicant's applications",
            description="Each case (one per item; a bundle has several) with its steps, an open correction "
                        "request, the certificates issued, and the timeline. 404 for a number that is not the "
                        "applicant's.")
def application_detail(request: HttpRequest, number: str) -> dict[str, Any]:
    progress = applications.application_progress(acting_user=request.user, number=number.strip())
    a = progress.application
    parts = []
    for part in progress.parts:
        c = part.case
        parts.append({
            "number": c.number, "item_code": c.item.code, "item_name": c.item.name,
            "department": c.department.code, "department_name": c.department.name, "prior": part.prior,
            "status": c.status, "status_label": str(c.get_status_display()), "reason": c.reason,
            "received_at": c.received_at, "accepted_at": c.accepted_at, "promised_due_at": c.promised_due_at,
            "statutory_due_at": c.statutory_due_at, "decided_at": c.decided_at, "issued_at": c.issued_at,
            "steps": [_step_row(s) for s in sorted(part.steps, key=lambda s: s.pk)],
            "open_correction": _correction_row(part.open_correction) if part.open_correction else None,
            "certificates": [{**_certificate_row(cert), "verification_code": cert.verification_code,
                              "verify_url": certificates.verify_url(cert.verification_code)}
                             for cert in part.certificates],
        })
    events: list[CaseEvent] = progress.events
    return {
        "number": a.number or "", "item_code": a.item.code if a.item else None,
        "bundle_code": a.bundle.code if a.bundle else None, "title": _application_title(a), "status": a.status,
        "status_label": progress.status_label, "applicant_name": a.applicant_name, "created_at": a.created_at,
        "submitted_at": a.submitted_at, "finished_at": a.finished_at, "cases": parts,
        "timeline": [{"at": e.at, "case": e.case.number if e.case else None, "action": e.action,
                      "label": _event_label(e.action), "note": e.note} for e in events],
    }


# --- staff: queues and case handling --------------------------------------------------------------------------

@router.get("/cases", response=CasePageOut, auth=django_auth,
            summary="办件队列 / cases waiting for the user: accept, review, decide or issue",
            description="``queue``: accept (waiting for acceptance), review, decide or issue (an active step of "
                        "that role); cases of the divisions where the user holds the queue's permission, oldest "
                        "first. 403 without the permission anywhere; ``limit`` 1–500.")
def cases(request: HttpRequest, queue: str = "accept", limit: int = 100, offset: int = 0) -> dict[str, Any]:
    queue = queue.strip()
    if queue not in QUEUE_KEYS:
        raise InvalidInput("队列应为 accept、review、decide 或 issue", "queue must be accept, review, decide or issue",
                           field="queue")
    perm = {k: p for k, p, _label in workflow.QUEUES}[queue]
    access.require(request.user, perm)
    limit, offset = _page(limit, offset, MAX_CASES)
    found = workflow.queue_cases(request.user, queue)
    if isinstance(found, QuerySet):
        total, rows = found.count(), list(found.select_related("department")[offset:offset + limit])
    else:
        everything = list(found)
        total, rows = len(everything), everything[offset:offset + limit]
    return {"queue": queue, "total": total, "cases": [_case_row(c) for c in rows]}


@router.get("/cases/{number}", response=CaseDetailOut, auth=django_auth,
            summary="办件详情 / one case with its steps, corrections, certificates and timeline",
            description="For staff who handle or supervise cases of its division (403 otherwise). ``can_take`` "
                        "marks the steps the user may complete now.")
def case_detail(request: HttpRequest, number: str) -> dict[str, Any]:
    return _case_detail(request.user, _staff_case(request.user, number))


@router.post("/cases/{number}/accept", response=CaseDetailOut, auth=django_auth,
             summary="受理 / accept a case (starts the promised and statutory clocks)",
             description="Needs ``egov.accept`` in the case's division. A case not waiting for acceptance: 409 "
                         "``invalid_transition``.")
def accept(request: HttpRequest, number: str, payload: OpinionIn) -> dict[str, Any]:
    case = workflow.get_case((number or "").strip())
    workflow.accept_case(acting_user=request.user, case=case, opinion=payload.opinion)
    return _case_detail(request.user, case)


@router.post("/cases/{number}/refuse", response=CaseDetailOut, auth=django_auth,
             summary="不予受理 / refuse a case (a reason is required)",
             description="Needs ``egov.accept`` in the case's division; an empty reason is 400 ``field=reason``; "
                         "a case already accepted: 409.")
def refuse(request: HttpRequest, number: str, payload: RefuseIn) -> dict[str, Any]:
    case = workflow.get_case((number or "").strip())
    workflow.refuse_case(acting_user=request.user, case=case, reason=payload.reason)
    return _case_detail(request.user, case)


@router.post("/cases/{number}/steps/{key}", response=CaseDetailOut, auth=django_auth,
             summary="办理环节 / complete an active step (review, decision, issue)",
             description="The step's role decides the permission (reviewer ``egov.review``, approver "
                         "``egov.decide``, issuer ``egov.issue``): 403 for a user without it. ``outcome=reject`` "
                         "only at a decision step, with the reason in ``opinion`` (不予许可). Completing the issue "
                         "step issues the certificate (a bundle's main items together). 404 unknown step, 409 a "
                         "step that is not active or a case waiting for a correction.")
def step(request: HttpRequest, number: str, key: str, payload: StepIn) -> dict[str, Any]:
    case = workflow.get_case((number or "").strip())
    workflow.complete_step(acting_user=request.user, case=case, key=key, opinion=payload.opinion,
                           outcome=payload.outcome.strip())
    return _case_detail(request.user, case)


@router.post("/cases/{number}/corrections", response={201: CaseDetailOut}, auth=django_auth,
             summary="一次性告知补正 / ask the applicant for a correction (the clock stops)",
             description="Needs ``egov.accept`` or ``egov.review`` in the case's division; ``items`` (what to "
                         "correct) is required (400 ``field=items``). Only a case waiting for acceptance or in "
                         "review: 409 otherwise.")
def correction(request: HttpRequest, number: str, payload: CorrectionIn) -> Status[dict[str, Any]]:
    case = workflow.get_case((number or "").strip())
    workflow.request_correction(acting_user=request.user, case=case, items=payload.items)
    return Status(201, _case_detail(request.user, case))
