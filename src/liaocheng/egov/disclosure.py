"""Government information disclosure (政府信息公开): the write path and the reports.

- Documents: ``publish_document`` / ``update_document`` / ``withdraw_document`` (``egov.publish_documents`` in
  the department's division). Each writes the document, its full-text index row (``egov.search``) and one audit
  record in one transaction. The index number (索引号) is ``<department code>/<year>-<serial, 5 digits>``, the
  serial counting per department and year (unique, as the 政府信息公开 catalogue requires).
- Per department: the disclosure guide (公开指南), the catalogue (公开目录: public documents by category) and
  the annual report (年度报告: documents published by category, requests received / answered / extended,
  answer kinds, on-time share), computed from the data.
- Requests (依申请公开) from real-name citizen and enterprise accounts: due 20 working days after receipt
  (``core.calendar``), extendable once by 20 working days with a reason; an answer after the deadline is
  accepted and flagged (``late``). Electronic supervision watches ``due_at``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from liaocheng.core import access, audit
from liaocheng.core.calendar import get_calendar
from liaocheng.core.errors import Conflict, InvalidInput
from liaocheng.core.models import Department, UserKind

from . import search
from .models import DisclosureGuide, DisclosureRequest, DisclosureRequestStatus, DisclosureType, Document

ANSWER_DAYS = 20
EXTENSION_DAYS = 20
MAX_TEXT = 4000

# 主题分类 (the subject categories of the disclosure catalogue)
CATEGORIES = [
    "综合政务", "国民经济管理", "财政金融审计", "城乡建设", "农业农村", "教育", "卫生健康", "文化旅游",
    "生态环境", "交通运输", "市场监管", "民政社保", "公安司法", "应急管理", "科技信息",
]
ANSWER_KINDS = {
    "disclosed": ("予以公开", "disclosed"),
    "partly": ("部分公开", "partly disclosed"),
    "refused": ("不予公开", "refused"),
    "not_held": ("本机关不掌握相关信息", "not held"),
    "not_found": ("信息不存在", "does not exist"),
}
DOC_FIELDS = ["title", "doc_number", "index_number", "issued_on", "category", "disclosure_type", "classified",
              "published_at"]


# --- documents -------------------------------------------------------------------------------------

def _clean_document(title: str, category: str, issued_on: Any, body: str, disclosure_type: str) -> None:
    if not (title or "").strip():
        raise InvalidInput("标题不能为空", "the title is required", field="title")
    if len(title) > 300:
        raise InvalidInput("标题不能超过 300 字", "the title is longer than 300 characters", field="title")
    if category not in CATEGORIES:
        raise InvalidInput(f"未知的主题分类：{category}", f"unknown category: {category}", field="category")
    if not isinstance(issued_on, dt.date):
        raise InvalidInput("成文日期无效", "invalid date of issue", field="issued_on")
    if disclosure_type not in DisclosureType.values:
        raise InvalidInput("公开方式无效", "invalid disclosure type", field="disclosure_type")


def next_index_number(department: Department, year: int) -> str:
    """The next 索引号 of ``department`` in ``year`` (call inside the transaction; locks the department)."""
    Department.objects.select_for_update().filter(pk=department.pk).first()
    prefix = f"{department.code}/{year:04d}-"
    last = (Document.objects.filter(index_number__startswith=prefix).order_by("-index_number")
            .values_list("index_number", flat=True).first())
    serial = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{serial:05d}"


def publish_document(*, acting_user: Any, department: Department, title: str, issued_on: dt.date, category: str,
                     body: str = "", doc_number: str = "", disclosure_type: str = DisclosureType.PROACTIVE,
                     classified: bool = False, file: Any = None, now: dt.datetime | None = None) -> Document:
    """Record a document of ``department`` and publish it (a classified or "不予公开" document is recorded
    with an index number but not published)."""
    access.require(acting_user, "egov.publish_documents", department.division_code)
    _clean_document(title, category, issued_on, body, disclosure_type)
    now = now or timezone.now()
    with transaction.atomic():
        doc = Document(title=title.strip(), doc_number=doc_number.strip(), department=department,
                       division_code=department.division_code[:6], issued_on=issued_on, category=category,
                       disclosure_type=disclosure_type, classified=classified, body=body,
                       index_number=next_index_number(department, issued_on.year))
        if file is not None:
            doc.file = file
        doc.published_at = None if classified or disclosure_type == DisclosureType.NOT_PUBLIC else now
        doc.save(force_insert=True)
        search.sync(doc)
        audit.record(actor=acting_user, action="egov.document.publish", object_type="egov.Document",
                     object_id=doc.pk, after=audit.snapshot(doc, DOC_FIELDS), division_code=doc.division_code)
    return doc


def update_document(doc: Document, *, acting_user: Any, **changes: Any) -> Document:
    """Change a document's fields (title, doc_number, issued_on, category, body, disclosure_type, classified);
    the index row follows in the same transaction."""
    access.require(acting_user, "egov.publish_documents", doc.division_code)
    allowed = {"title", "doc_number", "issued_on", "category", "body", "disclosure_type", "classified"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"不能修改：{', '.join(sorted(unknown))}", f"cannot change: {', '.join(sorted(unknown))}",
                           field=sorted(unknown)[0])
    with transaction.atomic():
        doc = Document.objects.select_for_update().get(pk=doc.pk)
        before = audit.snapshot(doc, [*DOC_FIELDS, "body"])
        for key, value in changes.items():
            setattr(doc, key, value.strip() if isinstance(value, str) and key != "body" else value)
        _clean_document(doc.title, doc.category, doc.issued_on, doc.body, doc.disclosure_type)
        doc.save()
        search.sync(doc)
        audit.record(actor=acting_user, action="egov.document.update", object_type="egov.Document", object_id=doc.pk,
                     before=before, after=audit.snapshot(doc, [*DOC_FIELDS, "body"]), division_code=doc.division_code)
    return doc


def withdraw_document(doc: Document, *, acting_user: Any, reason: str) -> Document:
    """Take a document off the public site and out of the search index (the record stays)."""
    access.require(acting_user, "egov.publish_documents", doc.division_code)
    if not (reason or "").strip():
        raise InvalidInput("请填写撤回理由", "a reason is required", field="reason")
    with transaction.atomic():
        doc = Document.objects.select_for_update().get(pk=doc.pk)
        if doc.published_at is None:
            raise Conflict("该信息未公开", "the document is not published", field="published_at")
        before = audit.snapshot(doc, DOC_FIELDS)
        doc.published_at = None
        doc.save(update_fields=["published_at"])
        search.remove([doc.pk])
        audit.record(actor=acting_user, action="egov.document.withdraw", object_type="egov.Document",
                     object_id=doc.pk, before=before, after={"published_at": None, "reason": reason.strip()},
                     division_code=doc.division_code)
    return doc


# --- guide and catalogue ----------------------------------------------------------------------------

def save_guide(department: Department, text: str, *, acting_user: Any) -> DisclosureGuide:
    access.require(acting_user, "egov.publish_documents", department.division_code)
    if not (text or "").strip():
        raise InvalidInput("公开指南不能为空", "the guide text is required", field="text")
    with transaction.atomic():
        guide, created = DisclosureGuide.objects.update_or_create(department=department,
                                                                  defaults={"text": text.strip()})
        audit.record(actor=acting_user, action="egov.guide.save", object_type="egov.DisclosureGuide",
                     object_id=guide.pk, after={"department": department.code, "created": created},
                     division_code=department.division_code[:6])
    return guide


def default_guide(department: Department) -> str:
    return (f"一、{department.name}依照《中华人民共和国政府信息公开条例》主动公开本机关的机构职能、政策文件、"
            f"规划计划、财政预决算、行政许可和行政处罚等政府信息，在本网站政府信息公开目录中按主题分类查阅。\n"
            f"二、公民、法人或者其他组织可以实名登录后在线提交政府信息公开申请。本机关自收到申请之日起20个工作日内"
            f"予以答复；需要延长答复期限的，经政府信息公开工作机构负责人同意并告知申请人，延长的期限最长不超过"
            f"20个工作日。\n三、申请人认为本机关在政府信息公开工作中侵犯其合法权益的，可以向上一级行政机关或者"
            f"政府信息公开工作主管部门投诉、举报，也可以依法申请行政复议或者提起行政诉讼。")


def guide_text(department: Department) -> str:
    guide = DisclosureGuide.objects.filter(department=department).first()
    return guide.text if guide else default_guide(department)


def catalogue(department: Department) -> list[tuple[str, int]]:
    """The disclosure catalogue of ``department``: ``[(category, number of public documents)]``."""
    counts = dict(search.public_documents().filter(department=department).values_list("category")
                  .annotate(n=Count("pk")).values_list("category", "n"))
    return [(c, counts[c]) for c in CATEGORIES if counts.get(c)] + [
        (c, n) for c, n in sorted(counts.items()) if c not in CATEGORIES]


def public_documents_of(department: Department, category: str | None = None) -> QuerySet[Document]:
    qs = search.public_documents().filter(department=department)
    return qs.filter(category=category) if category else qs


# --- requests ----------------------------------------------------------------------------------------

def is_late(req: DisclosureRequest) -> bool:
    end = req.answered_at or timezone.now()
    return end > req.due_at


def submit_request(*, acting_user: Any, department: Department, description: str, purpose: str = "",
                   now: dt.datetime | None = None) -> DisclosureRequest:
    """A request for disclosure from a real-name citizen or enterprise account."""
    if not getattr(acting_user, "is_authenticated", False) or acting_user.kind not in (UserKind.CITIZEN,
                                                                                         UserKind.ENTERPRISE):
        raise InvalidInput("请使用实名认证的个人或企业账号提交申请",
                           "a real-name citizen or enterprise account is required", field="requester")
    if not (acting_user.real_name or "").strip():
        raise InvalidInput("账号未完成实名认证", "the account has no verified real name", field="requester")
    description = (description or "").strip()
    if not description:
        raise InvalidInput("请描述所需的政府信息", "describe the information requested", field="description")
    if len(description) > MAX_TEXT or len(purpose or "") > MAX_TEXT:
        raise InvalidInput(f"内容不能超过 {MAX_TEXT} 字", f"the text is longer than {MAX_TEXT} characters",
                           field="description")
    now = now or timezone.now()
    due = get_calendar().deadline_after_days(now, ANSWER_DAYS)
    with transaction.atomic():
        local = timezone.localtime(now)
        req = DisclosureRequest.objects.create(
            number=f"YSQ{local:%Y%m%d}{secrets.token_hex(4).upper()}", requester=acting_user,
            department=department, division_code=department.division_code[:6], description=description,
            purpose=(purpose or "").strip(), received_at=now, due_at=due)
        audit.record(actor=acting_user, action="egov.disclosure_request.submit", object_type="egov.DisclosureRequest",
                     object_id=req.pk, after={"number": req.number, "department": department.code,
                                              "due_at": due}, division_code=req.division_code)
    return req


def extend_request(req: DisclosureRequest, *, acting_user: Any, reason: str,
                   now: dt.datetime | None = None) -> DisclosureRequest:
    """Extend the deadline once by 20 working days (counted from the original deadline), with a reason."""
    access.require(acting_user, "egov.answer_requests", req.division_code)
    if not (reason or "").strip():
        raise InvalidInput("请填写延期理由", "a reason for the extension is required", field="reason")
    now = now or timezone.now()
    with transaction.atomic():
        req = DisclosureRequest.objects.select_for_update().get(pk=req.pk)
        if req.status == DisclosureRequestStatus.ANSWERED:
            raise Conflict("申请已答复", "the request is already answered", field="status")
        if req.extended_at is not None:
            raise Conflict("答复期限只能延长一次", "the deadline can be extended only once", field="extended_at")
        before = {"due_at": req.due_at, "status": req.status}
        req.due_at = get_calendar().deadline_after_days(req.due_at, EXTENSION_DAYS)
        req.extended_at, req.extension_reason = now, reason.strip()
        req.status = DisclosureRequestStatus.EXTENDED
        req.save(update_fields=["due_at", "extended_at", "extension_reason", "status"])
        audit.record(actor=acting_user, action="egov.disclosure_request.extend", object_type="egov.DisclosureRequest",
                     object_id=req.pk, before=before, after={"due_at": req.due_at, "reason": req.extension_reason},
                     division_code=req.division_code)
    return req


def answer_request(req: DisclosureRequest, *, acting_user: Any, kind: str, answer: str,
                   now: dt.datetime | None = None) -> DisclosureRequest:
    """Answer a request. After the deadline the answer is still accepted, and flagged late in the audit."""
    access.require(acting_user, "egov.answer_requests", req.division_code)
    if kind not in ANSWER_KINDS:
        raise InvalidInput(f"未知的答复类型：{kind}", f"unknown answer kind: {kind}", field="answer_kind")
    if not (answer or "").strip():
        raise InvalidInput("请填写答复内容", "the answer text is required", field="answer")
    now = now or timezone.now()
    with transaction.atomic():
        req = DisclosureRequest.objects.select_for_update().get(pk=req.pk)
        if req.status == DisclosureRequestStatus.ANSWERED:
            raise Conflict("申请已答复", "the request is already answered", field="status")
        before = {"status": req.status}
        req.answered_at, req.answer, req.answer_kind = now, answer.strip(), kind
        req.status = DisclosureRequestStatus.ANSWERED
        req.save(update_fields=["answered_at", "answer", "answer_kind", "status"])
        audit.record(actor=acting_user, action="egov.disclosure_request.answer", object_type="egov.DisclosureRequest",
                     object_id=req.pk, before=before,
                     after={"answer_kind": kind, "late": now > req.due_at, "due_at": req.due_at},
                     division_code=req.division_code)
    return req


# --- annual report -------------------------------------------------------------------------------------

@dataclass
class AnnualReport:
    department: Department
    year: int
    documents_by_category: list[tuple[str, int]] = field(default_factory=list)
    documents_total: int = 0
    received: int = 0
    answered: int = 0
    extended: int = 0
    pending: int = 0
    answer_kinds: dict[str, int] = field(default_factory=dict)
    on_time: int = 0

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.answered if self.answered else None


def _year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)


def annual_report(department: Department, year: int) -> AnnualReport:
    """The year's figures of ``department``: documents published (by category) and requests received in it."""
    start, end = _year_bounds(year)
    report = AnnualReport(department=department, year=year)
    counts = dict(Document.objects.filter(department=department, published_at__gte=start, published_at__lt=end)
                  .values_list("category").annotate(n=Count("pk")).values_list("category", "n"))
    report.documents_by_category = [(c, counts[c]) for c in CATEGORIES if counts.get(c)] + [
        (c, n) for c, n in sorted(counts.items()) if c not in CATEGORIES]
    report.documents_total = sum(counts.values())
    kinds: Counter[str] = Counter()
    for status, extended_at, answered_at, due_at, kind in DisclosureRequest.objects.filter(
            department=department, received_at__gte=start, received_at__lt=end).values_list(
            "status", "extended_at", "answered_at", "due_at", "answer_kind"):
        report.received += 1
        if extended_at is not None:
            report.extended += 1
        if status == DisclosureRequestStatus.ANSWERED and answered_at is not None:
            report.answered += 1
            kinds[kind] += 1
            if answered_at <= due_at:
                report.on_time += 1
        else:
            report.pending += 1
    report.answer_kinds = {k: kinds.get(k, 0) for k in ANSWER_KINDS} | {
        k: n for k, n in kinds.items() if k not in ANSWER_KINDS}
    return report


def annual_report_csv(report: AnnualReport) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["部门 department", report.department.name])
    w.writerow(["年度 year", report.year])
    w.writerow([])
    w.writerow(["主动公开政府信息 documents published", "数量 count"])
    for category, n in report.documents_by_category:
        w.writerow([category, n])
    w.writerow(["合计 total", report.documents_total])
    w.writerow([])
    w.writerow(["依申请公开 requests", "数量 count"])
    w.writerow(["收到申请 received", report.received])
    w.writerow(["已答复 answered", report.answered])
    w.writerow(["延期答复 extended", report.extended])
    w.writerow(["尚未答复 pending", report.pending])
    for kind, n in report.answer_kinds.items():
        w.writerow([f"{ANSWER_KINDS.get(kind, (kind, kind))[0]} {kind}", n])
    share = report.on_time_share
    w.writerow(["按期答复率 on-time share", "" if share is None else f"{share:.4f}"])
    return out.getvalue()
