"""Government information disclosure (政府信息公开): the write path and the reports.

- Documents: ``publish_document`` / ``update_document`` / ``withdraw_document`` (``egov.publish_documents`` in
  the department's division). Each writes the document, its full-text index row (``egov.search``) and one audit
  record in one transaction. The index number (索引号) is ``<department code>/<year>-<serial, 5 digits>``, the
  serial counting per department and year (unique, as the 政府信息公开 catalogue requires).
  A document has a kind (``doc_kind``: 规章 / 行政规范性文件 / 其他文件) and may have a repeal date
  (``repealed_on``, not before the date of issue).
- Per department: the disclosure guide (公开指南) and the catalogue (公开目录: public documents by category).
- Requests (依申请公开) from real-name citizen and enterprise accounts: due 20 working days after receipt
  (``core.calendar``), extendable once by 20 working days with a reason; an answer after the deadline is
  accepted and flagged (``late``). Electronic supervision watches ``due_at``. Answers use the national
  template's terms (``ANSWER_KINDS``; 不予公开 / 无法提供 / 不予处理 / 其他处理 need a sub-reason from
  ``ANSWER_REASONS``); each request records its requester category (自然人, or the enterprise's 商业企业 /
  科研机构 / 社会公益组织 / 法律服务机构 / 其他).
- The annual report (政府信息公开工作年度报告, 条例 art. 49-50, in the 国办公开办函〔2021〕30号 template):
  ``annual_report(department, year)`` computes its tables from the data (规章 and 规范性文件 made / repealed /
  in force, 行政许可 decisions from the department's cases, the requests table by requester category and
  outcome); the office writes the text sections and the figures the platform does not hold
  (``save_annual_report``) and publishes (``publish_annual_report``), which freezes everything into
  ``DisclosureAnnualReport.figures``; a correction is published again. Public pages show the frozen figures.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from liaocheng.core import access, audit
from liaocheng.core.calendar import get_calendar
from liaocheng.core.errors import Conflict, InvalidInput
from liaocheng.core.forms import in_active_language
from liaocheng.core.models import Department, UserKind

from . import search
from .models import (
    Case,
    CaseStatus,
    DisclosureAnnualReport,
    DisclosureGuide,
    DisclosureRequest,
    DisclosureRequestStatus,
    DisclosureType,
    Document,
    DocumentKind,
)

ANSWER_DAYS = 20
EXTENSION_DAYS = 20
MAX_TEXT = 4000

# 主题分类 (the subject categories of the disclosure catalogue)
CATEGORIES = [
    "综合政务", "国民经济管理", "财政金融审计", "城乡建设", "农业农村", "教育", "卫生健康", "文化旅游",
    "生态环境", "交通运输", "市场监管", "民政社保", "公安司法", "应急管理", "科技信息",
]
# the answer kinds and their sub-reasons, in the terms of the national annual-report template (国办公开办函〔2021〕30号)
ANSWER_KINDS: dict[str, tuple[str, str]] = {
    "disclosed": ("予以公开", "disclosed"),
    "partly": ("部分公开", "partly disclosed"),
    "refused": ("不予公开", "not disclosed"),
    "unable": ("无法提供", "cannot be provided"),
    "not_processed": ("不予处理", "not processed"),
    "other": ("其他处理", "otherwise handled"),
}
ANSWER_REASONS: dict[str, dict[str, tuple[str, str]]] = {
    "refused": {
        "state_secret": ("属于国家秘密", "state secret"),
        "law_forbidden": ("其他法律行政法规禁止公开", "disclosure forbidden by other laws or regulations"),
        "security_stability": ("危及“三安全一稳定”",
                               "would endanger national, public or economic security or social stability"),
        "third_party": ("保护第三方合法权益", "protects a third party's lawful rights"),
        "internal_affairs": ("属于三类内部事务信息", "internal affairs information"),
        "process_info": ("属于四类过程性信息", "process information"),
        "enforcement_file": ("属于行政执法案卷", "administrative enforcement file"),
        "inquiry": ("属于行政查询事项", "administrative inquiry matter"),
    },
    "unable": {
        "not_held": ("本机关不掌握相关政府信息", "not held by this body"),
        "needs_creation": ("没有现成信息需要另行制作", "no existing information; it would have to be created"),
        "unclear": ("补正后申请内容仍不明确", "still unclear after correction"),
    },
    "not_processed": {
        "petition": ("信访举报投诉类申请", "a petition, report or complaint"),
        "repeated": ("重复申请", "repeated request"),
        "publication": ("要求提供公开出版物", "asks for public publications"),
        "excessive": ("无正当理由大量反复申请", "large numbers of repeated requests without good reason"),
        "confirmation": ("要求行政机关确认或重新出具已获取信息",
                         "asks the body to confirm or re-issue information already obtained"),
    },
    "other": {
        "no_correction": ("申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
                          "no correction in time without good reason; the request is no longer processed"),
        "no_fee": ("申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
                   "the fee was not paid in time; the request is no longer processed"),
        "other": ("其他", "other"),
    },
}
# the columns of the template's requests table (申请人情况)
REQUESTER_CATEGORIES: dict[str, tuple[str, str]] = {
    "natural_person": ("自然人", "natural person"),
    "business": ("商业企业", "business"),
    "research": ("科研机构", "research institution"),
    "public_interest": ("社会公益组织", "public-interest organisation"),
    "legal_service": ("法律服务机构", "legal service organisation"),
    "other": ("其他", "other"),
}
ENTERPRISE_CATEGORIES = ["business", "research", "public_interest", "legal_service", "other"]


def answer_label(kind: str, reason: str = "") -> str:
    """The answer kind (and sub-reason) in the active language, e.g. "不予公开：属于国家秘密"."""
    kind_zh, kind_en = ANSWER_KINDS.get(kind, (kind, kind))
    reason_zh, reason_en = ANSWER_REASONS.get(kind, {}).get(reason, ("", ""))
    if not reason_zh:
        return in_active_language(kind_zh, kind_en)
    return in_active_language(f"{kind_zh}：{reason_zh}", f"{kind_en}: {reason_en}")


DOC_FIELDS = ["title", "doc_number", "index_number", "issued_on", "category", "disclosure_type", "classified",
              "doc_kind", "repealed_on", "published_at"]


# --- documents -------------------------------------------------------------------------------------

def _clean_document(title: str, category: str, issued_on: Any, body: str, disclosure_type: str,
                    doc_kind: str = DocumentKind.OTHER, repealed_on: Any = None) -> None:
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
    if doc_kind not in DocumentKind.values:
        raise InvalidInput("文件类型无效", "invalid document kind", field="doc_kind")
    if repealed_on is not None:
        if not isinstance(repealed_on, dt.date):
            raise InvalidInput("废止日期无效", "invalid date of repeal", field="repealed_on")
        if repealed_on < issued_on:
            raise InvalidInput("废止日期不能早于成文日期", "the date of repeal is before the date of issue",
                               field="repealed_on")


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
                     classified: bool = False, doc_kind: str = DocumentKind.OTHER, repealed_on: dt.date | None = None,
                     file: Any = None, now: dt.datetime | None = None) -> Document:
    """Record a document of ``department`` and publish it (a classified or "不予公开" document is recorded
    with an index number but not published). ``doc_kind`` (规章 / 行政规范性文件 / 其他文件) and ``repealed_on``
    (废止日期, not before the date of issue) feed the annual report."""
    access.require(acting_user, "egov.publish_documents", department.division_code)
    _clean_document(title, category, issued_on, body, disclosure_type, doc_kind, repealed_on)
    now = now or timezone.now()
    with transaction.atomic():
        doc = Document(title=title.strip(), doc_number=doc_number.strip(), department=department,
                       division_code=department.division_code[:6], issued_on=issued_on, category=category,
                       disclosure_type=disclosure_type, classified=classified, body=body, doc_kind=doc_kind,
                       repealed_on=repealed_on, index_number=next_index_number(department, issued_on.year))
        if file is not None:
            doc.file = file
        doc.published_at = None if classified or disclosure_type == DisclosureType.NOT_PUBLIC else now
        doc.save(force_insert=True)
        search.sync(doc)
        audit.record(actor=acting_user, action="egov.document.publish", object_type="egov.Document",
                     object_id=doc.pk, after=audit.snapshot(doc, DOC_FIELDS), division_code=doc.division_code)
    return doc


def update_document(doc: Document, *, acting_user: Any, **changes: Any) -> Document:
    """Change a document's fields (title, doc_number, issued_on, category, body, disclosure_type, classified,
    doc_kind, repealed_on); the index row follows in the same transaction."""
    access.require(acting_user, "egov.publish_documents", doc.division_code)
    allowed = {"title", "doc_number", "issued_on", "category", "body", "disclosure_type", "classified", "doc_kind",
               "repealed_on"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"不能修改：{', '.join(sorted(unknown))}", f"cannot change: {', '.join(sorted(unknown))}",
                           field=sorted(unknown)[0])
    with transaction.atomic():
        doc = Document.objects.select_for_update().get(pk=doc.pk)
        before = audit.snapshot(doc, [*DOC_FIELDS, "body"])
        for key, value in changes.items():
            setattr(doc, key, value.strip() if isinstance(value, str) and key != "body" else value)
        _clean_document(doc.title, doc.category, doc.issued_on, doc.body, doc.disclosure_type, doc.doc_kind,
                        doc.repealed_on)
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
                   requester_category: str = "", now: dt.datetime | None = None) -> DisclosureRequest:
    """A request for disclosure from a real-name citizen or enterprise account. A citizen is a natural person
    (自然人); an enterprise account says which kind of legal person or organisation it is (``requester_category``,
    商业企业 when not given) — the columns of the annual report's requests table."""
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
    if acting_user.kind == UserKind.CITIZEN:
        category = "natural_person"
    else:
        category = requester_category or "business"
        if category not in ENTERPRISE_CATEGORIES:
            raise InvalidInput("请选择申请人类型（商业企业、科研机构、社会公益组织、法律服务机构或其他）",
                               "choose the requester's category (business, research institution, public-interest "
                               "organisation, legal service organisation or other)", field="requester_category")
    now = now or timezone.now()
    due = get_calendar().deadline_after_days(now, ANSWER_DAYS)
    with transaction.atomic():
        local = timezone.localtime(now)
        req = DisclosureRequest.objects.create(
            number=f"YSQ{local:%Y%m%d}{secrets.token_hex(4).upper()}", requester=acting_user,
            department=department, division_code=department.division_code[:6], description=description,
            purpose=(purpose or "").strip(), received_at=now, due_at=due, requester_category=category)
        audit.record(actor=acting_user, action="egov.disclosure_request.submit", object_type="egov.DisclosureRequest",
                     object_id=req.pk, after={"number": req.number, "department": department.code,
                                              "due_at": due, "requester_category": category},
                     division_code=req.division_code)
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


def answer_request(req: DisclosureRequest, *, acting_user: Any, kind: str, answer: str, reason: str = "",
                   now: dt.datetime | None = None) -> DisclosureRequest:
    """Answer a request. ``kind`` is one of ``ANSWER_KINDS``; 不予公开, 无法提供, 不予处理 and 其他处理 need
    one of their sub-reasons (``ANSWER_REASONS``), stored in ``answer_reason``. After the deadline the answer
    is still accepted, and flagged late in the audit."""
    access.require(acting_user, "egov.answer_requests", req.division_code)
    if kind not in ANSWER_KINDS:
        raise InvalidInput(f"未知的答复类型：{kind}", f"unknown answer kind: {kind}", field="answer_kind")
    reasons = ANSWER_REASONS.get(kind, {})
    reason = (reason or "").strip() if reasons else ""
    if reasons and reason not in reasons:
        kind_zh, kind_en = ANSWER_KINDS[kind]
        raise InvalidInput(f"答复类型为“{kind_zh}”时，请选择具体理由",
                           f"choose the reason for the answer kind \"{kind_en}\"", field="answer_reason")
    if not (answer or "").strip():
        raise InvalidInput("请填写答复内容", "the answer text is required", field="answer")
    now = now or timezone.now()
    with transaction.atomic():
        req = DisclosureRequest.objects.select_for_update().get(pk=req.pk)
        if req.status == DisclosureRequestStatus.ANSWERED:
            raise Conflict("申请已答复", "the request is already answered", field="status")
        before = {"status": req.status}
        req.answered_at, req.answer, req.answer_kind, req.answer_reason = now, answer.strip(), kind, reason
        req.status = DisclosureRequestStatus.ANSWERED
        req.save(update_fields=["answered_at", "answer", "answer_kind", "answer_reason", "status"])
        audit.record(actor=acting_user, action="egov.disclosure_request.answer", object_type="egov.DisclosureRequest",
                     object_id=req.pk, before=before,
                     after={"answer_kind": kind, "answer_reason": reason, "late": now > req.due_at,
                            "due_at": req.due_at},
                     division_code=req.division_code)
    return req


# --- annual report (政府信息公开工作年度报告, in the national template) --------------------------------------

REPORT_DEADLINE_DAY = 31  # published by 31 January of the following year (条例 art. 49)
FIRST_REPORT_YEAR = 2008
DOCUMENT_KINDS_IN_REPORT: list[tuple[str, str, str]] = [
    (DocumentKind.RULE, "规章", "rules"), (DocumentKind.NORMATIVE, "行政规范性文件", "normative documents")]
DOCUMENT_COLUMNS = [("made", "本年制发件数", "made this year"), ("repealed", "本年废止件数", "repealed this year"),
                    ("in_force", "现行有效件数", "in force")]
# figures the platform does not hold, entered by the office: key -> (zh, en)
DECISION_FIGURES: dict[str, tuple[str, str]] = {
    "punishment": ("行政处罚", "administrative penalties"),
    "coercion": ("行政强制", "administrative coercion"),
}
FEES_FIGURE = "fees"  # 行政事业性收费, 万元 (a decimal)
APPEAL_GROUPS: list[tuple[str, str, str]] = [
    ("review", "行政复议", "administrative review"),
    ("direct", "行政诉讼：未经复议直接起诉", "litigation without prior review"),
    ("after_review", "行政诉讼：复议后起诉", "litigation after review"),
]
APPEAL_RESULTS: list[tuple[str, str, str]] = [
    ("maintained", "结果维持", "upheld"), ("corrected", "结果纠正", "corrected"),
    ("other", "其他结果", "other outcome"), ("pending", "尚未审结", "pending")]
MANUAL_INT_FIGURES = [*DECISION_FIGURES, *(f"{g}_{r}" for g, _, _ in APPEAL_GROUPS for r, _, _ in APPEAL_RESULTS)]
MANUAL_FIGURES = [*MANUAL_INT_FIGURES, FEES_FIGURE]
REQUEST_COLUMNS = list(REQUESTER_CATEGORIES)  # + 总计
FULL_KINDS = ["disclosed", "partly"]  # results without sub-reasons
ROMAN = ["一", "二", "三", "四", "五", "六", "七"]


def _request_row_spec() -> list[tuple[str | None, str, str, int]]:
    """The rows of the requests table: ``(key or None for a heading, zh, en, level)``."""
    rows: list[tuple[str | None, str, str, int]] = [
        ("received", "一、本年新收政府信息公开申请数量", "1. new requests this year", 0),
        ("carried_over", "二、上年结转政府信息公开申请数量", "2. requests carried over from last year", 0),
        (None, "三、本年度办理结果", "3. results this year", 0),
        ("disclosed", "（一）予以公开", "(1) disclosed", 1),
        ("partly", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
         "(2) partly disclosed (counted only here when separated)", 1),
    ]
    for n, kind in enumerate(["refused", "unable", "not_processed", "other"], 3):
        zh, en = ANSWER_KINDS[kind]
        rows.append((None, f"（{ROMAN[n - 1]}）{zh}", f"({n}) {en}", 1))
        for m, (reason, (rzh, ren)) in enumerate(ANSWER_REASONS[kind].items(), 1):
            rows.append((f"{kind}.{reason}", f"{m}.{rzh}", f"{m}. {ren}", 2))
    rows += [("results_total", "（七）总计", "(7) total", 1),
             ("carried_forward", "四、结转下年度继续办理", "4. carried forward to next year", 0)]
    return rows


REQUEST_ROWS = _request_row_spec()
REQUEST_ROW_KEYS = [key for key, _, _, _ in REQUEST_ROWS if key]


def _label(zh: str, en: str) -> str:
    return in_active_language(zh, en)


@dataclass
class AnnualReport:
    """A year's report of a department: the frozen ``figures`` of a published report, or the live ones."""

    department: Department
    year: int
    figures: dict[str, Any] = field(default_factory=dict)
    published_at: dt.datetime | None = None

    @property
    def live(self) -> bool:
        return self.published_at is None

    @property
    def sections(self) -> dict[str, str]:
        return dict(self.figures.get("sections") or {})

    def manual(self, key: str) -> Any:
        return (self.figures.get("manual") or {}).get(key)

    def requests(self, key: str) -> list[int]:
        """One row of the requests table: the six requester columns and the total."""
        return list(self.figures["requests"].get(key) or [0] * (len(REQUEST_COLUMNS) + 1))

    @property
    def document_rows(self) -> list[dict[str, Any]]:
        docs = self.figures["documents"]
        return [{"label": _label(zh, en), **docs[kind]} for kind, zh, en in DOCUMENT_KINDS_IN_REPORT]

    @property
    def decision_rows(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [(_label("行政许可", "administrative licensing"), self.figures["licensing"])]
        return rows + [(_label(zh, en), self.manual(key)) for key, (zh, en) in DECISION_FIGURES.items()]

    @property
    def fees(self) -> Any:
        return self.manual(FEES_FIGURE)

    @property
    def request_columns(self) -> list[str]:
        return [_label(zh, en) for zh, en in REQUESTER_CATEGORIES.values()]

    @property
    def request_rows(self) -> list[dict[str, Any]]:
        rows = []
        for key, zh, en, level in REQUEST_ROWS:
            if key == "results_total" and any(self.requests("unclassified")):
                rows.append({"key": "unclassified", "label": _label("（未标注理由的历史答复）",
                                                                    "(earlier answers without a reason)"),
                             "level": 1, "cells": self.requests("unclassified")})
            rows.append({"key": key or "", "label": _label(zh, en), "level": level,
                         "cells": self.requests(key) if key else None})
        return rows

    @property
    def appeal_rows(self) -> list[dict[str, Any]]:
        rows = []
        for group, zh, en in APPEAL_GROUPS:
            cells = [self.manual(f"{group}_{r}") for r, _, _ in APPEAL_RESULTS]
            total = None if any(c is None for c in cells) else sum(cells)
            rows.append({"key": group, "label": _label(zh, en), "cells": [*cells, total]})
        return rows

    @property
    def appeal_columns(self) -> list[str]:
        return [_label(zh, en) for _, zh, en in APPEAL_RESULTS] + [_label("总计", "total")]


def _year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)


def _document_figures(department: Department, year: int) -> dict[str, dict[str, int]]:
    """规章 and 行政规范性文件 of the department: made (issued in the year and published), repealed in the year,
    in force at the end of the year (issued by then, not repealed by then, published)."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    out = {}
    for kind, _, _ in DOCUMENT_KINDS_IN_REPORT:
        docs = Document.objects.filter(department=department, doc_kind=kind, published_at__isnull=False)
        out[str(kind)] = {
            "made": docs.filter(issued_on__gte=first, issued_on__lte=last).count(),
            "repealed": docs.filter(repealed_on__gte=first, repealed_on__lte=last).count(),
            "in_force": docs.filter(issued_on__lte=last).exclude(repealed_on__lte=last).count(),
        }
    return out


def licensing_decisions(department: Department, year: int) -> int:
    """行政许可 decisions of the year: this department's cases of 行政许可 items approved (or issued) or rejected
    in the year (the item type is recognised by its name; codes differ between platforms)."""
    start, end = _year_bounds(year)
    return Case.objects.filter(department=department, item__item_type__name="行政许可",
                               status__in=[CaseStatus.APPROVED, CaseStatus.ISSUED, CaseStatus.REJECTED],
                               decided_at__gte=start, decided_at__lt=end).count()


def _request_figures(department: Department, year: int) -> dict[str, list[int]]:
    """The requests table: rows by outcome, columns by requester category (+ total). Received = received in the
    year; carried over = received before the year and not answered before it; results = answered in the year;
    carried forward = not answered by the end of the year."""
    start, end = _year_bounds(year)
    width = len(REQUEST_COLUMNS)
    rows: dict[str, list[int]] = {key: [0] * width for key in [*REQUEST_ROW_KEYS, "unclassified"]}
    relevant = DisclosureRequest.objects.filter(department=department, received_at__lt=end).exclude(
        answered_at__lt=start)
    for received_at, answered_at, kind, reason, category in relevant.values_list(
            "received_at", "answered_at", "answer_kind", "answer_reason", "requester_category").iterator():
        col = REQUEST_COLUMNS.index(category) if category in REQUESTER_CATEGORIES else REQUEST_COLUMNS.index("other")
        rows["received" if received_at >= start else "carried_over"][col] += 1
        if answered_at is None or answered_at >= end:
            rows["carried_forward"][col] += 1
            continue
        key = kind if kind in FULL_KINDS else f"{kind}.{reason}"
        rows[key if key in rows else "unclassified"][col] += 1
        rows["results_total"][col] += 1
    return {key: [*cells, sum(cells)] for key, cells in rows.items()}


def _computed_figures(department: Department, year: int) -> dict[str, Any]:
    return {"documents": _document_figures(department, year), "licensing": licensing_decisions(department, year),
            "requests": _request_figures(department, year)}


def _draft_figures(draft: DisclosureAnnualReport | None) -> dict[str, Any]:
    if draft is None:
        return {"manual": {}, "sections": {}}
    return {"manual": dict(draft.manual_figures or {}),
            "sections": {"overview": draft.overview, "problems": draft.problems, "other_matters": draft.other_matters}}


def frozen_figures(report: DisclosureAnnualReport, now: dt.datetime) -> dict[str, Any]:
    """What publishing freezes: the tables computed now, the office's manual figures and text."""
    return {**_computed_figures(report.department, report.year), **_draft_figures(report),
            "computed_at": now.isoformat()}


def annual_report(department: Department, year: int, *, include_draft: bool = False) -> AnnualReport:
    """The live report of ``department`` for ``year``, computed from the platform's data now. The office's
    text and manual figures (行政处罚, 行政强制, 收费, 复议, 诉讼) come from its draft when ``include_draft``
    (the staff preview); otherwise they are left empty (the public live statistics)."""
    draft = DisclosureAnnualReport.objects.filter(department=department, year=year).first() if include_draft else None
    return AnnualReport(department=department, year=year,
                        figures={**_computed_figures(department, year), **_draft_figures(draft)})


def published_report(department: Department, year: int) -> AnnualReport | None:
    """The published report (its frozen figures), or None."""
    row = DisclosureAnnualReport.objects.filter(department=department, year=year, published_at__isnull=False).first()
    if row is None or not row.figures:
        return None
    return AnnualReport(department=department, year=year, figures=row.figures, published_at=row.published_at)


def published_reports(department: Department) -> QuerySet[DisclosureAnnualReport]:
    return DisclosureAnnualReport.objects.filter(department=department, published_at__isnull=False).order_by("-year")


def _clean_year(year: int, now: dt.datetime) -> None:
    if not isinstance(year, int) or not FIRST_REPORT_YEAR <= year <= timezone.localtime(now).year:
        raise InvalidInput("年度无效", "invalid year", field="year")


def _clean_manual(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(MANUAL_FIGURES)
    if unknown:
        raise InvalidInput(f"未知的数据项：{', '.join(sorted(unknown))}",
                           f"unknown figures: {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    out: dict[str, Any] = {}
    for key in MANUAL_INT_FIGURES:
        raw = str(values.get(key, "") if values.get(key) is not None else "").strip()
        try:
            number = int(raw) if raw else 0
        except ValueError:
            number = -1
        if number < 0:
            raise InvalidInput("请填写非负整数", "enter a whole number, zero or more", field=key)
        out[key] = number
    raw = str(values.get(FEES_FIGURE, "") if values.get(FEES_FIGURE) is not None else "").strip()
    try:
        fees = Decimal(raw) if raw else Decimal(0)
    except InvalidOperation:
        fees = Decimal(-1)
    if not fees.is_finite() or fees < 0 or fees.as_tuple().exponent < -4:  # type: ignore[operator]
        raise InvalidInput("收费金额请填写以万元为单位、最多四位小数的非负数",
                           "enter the fees in 10,000 yuan, zero or more, with at most four decimals",
                           field=FEES_FIGURE)
    out[FEES_FIGURE] = f"{fees:.2f}" if fees.as_tuple().exponent >= -2 else format(fees, "f")  # type: ignore[operator]
    return out


def save_annual_report(department: Department, year: int, *, acting_user: Any, overview: str = "",
                       problems: str = "", other_matters: str = "", manual_figures: dict[str, Any] | None = None,
                       now: dt.datetime | None = None) -> DisclosureAnnualReport:
    """Save the office's draft of a year's report: the text sections and the figures the platform does not hold
    (an empty figure counts as 0). A published report stays as published until it is published again."""
    access.require(acting_user, "egov.publish_documents", department.division_code)
    now = now or timezone.now()
    _clean_year(year, now)
    texts = {"overview": (overview or "").strip(), "problems": (problems or "").strip(),
             "other_matters": (other_matters or "").strip()}
    for key, text in texts.items():
        if len(text) > 20000:
            raise InvalidInput("内容不能超过 20000 字", "the text is longer than 20,000 characters", field=key)
    manual = _clean_manual(manual_figures or {})
    with transaction.atomic():
        report, created = DisclosureAnnualReport.objects.select_for_update().get_or_create(
            department=department, year=year, defaults={**texts, "manual_figures": manual})
        before = None if created else {**audit.snapshot(report, ["overview", "problems", "other_matters"]),
                                       "manual_figures": report.manual_figures}
        if not created:
            for key, text in texts.items():
                setattr(report, key, text)
            report.manual_figures = manual
            report.save()
        audit.record(actor=acting_user, action="egov.disclosure_report.save",
                     object_type="egov.DisclosureAnnualReport", object_id=report.pk, before=before,
                     after={"department": department.code, "year": year, **texts, "manual_figures": manual},
                     division_code=department.division_code[:6])
    return report


def publish_annual_report(*, acting_user: Any, department: Department, year: int,
                          now: dt.datetime | None = None) -> DisclosureAnnualReport:
    """Publish the year's report: freeze the computed tables, the manual figures and the text into ``figures``
    and set ``published_at``. The year must be over and 总体情况 written. Publishing again (a correction)
    replaces the frozen figures; both are audited."""
    access.require(acting_user, "egov.publish_documents", department.division_code)
    now = now or timezone.now()
    _clean_year(year, now)
    if timezone.localtime(now).year <= year:
        raise Conflict("该年度尚未结束，不能发布年度报告", "the year is not over yet", field="year")
    with transaction.atomic():
        report = DisclosureAnnualReport.objects.select_for_update().filter(department=department, year=year).first()
        if report is None or not report.overview.strip():
            raise InvalidInput("请先填写并保存总体情况", "write and save the overview first", field="overview")
        before = {"published_at": report.published_at,
                  "results_total": (report.figures.get("requests") or {}).get("results_total")}
        report.figures = frozen_figures(report, now)
        report.published_at = now
        report.save(update_fields=["figures", "published_at", "updated_at"])
        audit.record(actor=acting_user, action="egov.disclosure_report.publish",
                     object_type="egov.DisclosureAnnualReport", object_id=report.pk, before=before,
                     after={"department": department.code, "year": year, "republished": before["published_at"]
                            is not None, "published_at": now, "figures": report.figures},
                     division_code=department.division_code[:6])
    return report


def report_reminder(department: Department, today: dt.date | None = None) -> dict[str, Any] | None:
    """Last year's report is due by 31 January: ``{"year", "deadline", "overdue", "draft"}`` while it is not
    published, else None."""
    today = today or timezone.localdate()
    year = today.year - 1
    row = DisclosureAnnualReport.objects.filter(department=department, year=year).first()
    if row is not None and row.published_at is not None:
        return None
    deadline = dt.date(today.year, 1, REPORT_DEADLINE_DAY)
    return {"year": year, "deadline": deadline, "overdue": today > deadline, "draft": row is not None}


def annual_report_csv(report: AnnualReport) -> str:
    """The report's tables as CSV (the view prepends the UTF-8 BOM so that Excel opens it)."""
    out = io.StringIO()
    w = csv.writer(out)

    def blank(value: Any) -> Any:
        return "" if value is None else value

    w.writerow([f"{report.department.name}{report.year}年政府信息公开工作年度报告"])
    w.writerow(["状态", "未发布（实时统计）" if report.live else
                f"已发布 {timezone.localtime(report.published_at):%Y-%m-%d}" if report.published_at else ""])
    w.writerow([])
    w.writerow(["二、主动公开政府信息情况"])
    w.writerow(["信息内容", *(zh for _, zh, _ in DOCUMENT_COLUMNS)])
    for (_kind, zh, _), row in zip(DOCUMENT_KINDS_IN_REPORT, report.document_rows, strict=True):
        w.writerow([zh, row["made"], row["repealed"], row["in_force"]])
    w.writerow(["信息内容", "本年处理决定数量"])
    w.writerow(["行政许可", report.figures["licensing"]])
    for key, (zh, _) in DECISION_FIGURES.items():
        w.writerow([zh, blank(report.manual(key))])
    w.writerow(["信息内容", "本年收费金额（单位：万元）"])
    w.writerow(["行政事业性收费", blank(report.fees)])
    w.writerow([])
    w.writerow(["三、收到和处理政府信息公开申请情况"])
    w.writerow(["", "申请人情况：自然人", *(f"法人或其他组织：{zh}" for k, (zh, _) in REQUESTER_CATEGORIES.items()
                                     if k != "natural_person"), "总计"])
    for row_key, zh, _, _ in REQUEST_ROWS:
        if row_key == "results_total" and any(report.requests("unclassified")):
            w.writerow(["（未标注理由的历史答复）", *report.requests("unclassified")])
        w.writerow([zh, *(report.requests(row_key) if row_key else [])])
    w.writerow([])
    w.writerow(["四、政府信息公开行政复议、行政诉讼情况"])
    w.writerow(["", *(zh for _, zh, _ in APPEAL_RESULTS), "总计"])
    for (_, zh, _), row in zip(APPEAL_GROUPS, report.appeal_rows, strict=True):
        w.writerow([zh, *(blank(c) for c in row["cells"])])
    return out.getvalue()
