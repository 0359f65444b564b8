"""Pages of government information disclosure (政府信息公开).

Public: the search page with filters, a document, a department's guide and catalogue, its published annual
reports and a year's report in the national template (page and CSV; the live statistics, marked as such, when
none is published). Signed-in citizens and enterprises: the request form and "my requests". Staff: publish a
document, the requests of their scope (answer with kind and reason, extend once), the documents of their scope
(edit, withdraw with a reason), the annual reports (edit the draft, preview, publish; a reminder until last
year's is published). Nothing here writes: every change goes through ``egov.disclosure``; a ``DomainError`` is
shown on the form.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from liaocheng.core import access
from liaocheng.core.errors import DomainError
from liaocheng.core.forms import domain_message, in_active_language
from liaocheng.core.models import AuditRecord, Department, UserKind
from liaocheng.core.web import staff_required

from . import disclosure, search
from .models import (
    DisclosureAnnualReport,
    DisclosureRequest,
    DisclosureRequestStatus,
    DisclosureType,
    Document,
    DocumentKind,
)

PAGE_SIZE = 20


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _departments() -> list[Department]:
    return list(Department.objects.filter(active=True).order_by("division_code", "code"))


def _optional_date(value: str | None) -> Any:
    """An ISO date, None when empty, or the raw text (the service reports an invalid date at its field)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return value


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    q = (request.GET.get("q") or "").strip()
    dept = Department.objects.filter(code=request.GET.get("department") or "").first()
    category = request.GET.get("category") or None
    year = _int(request.GET.get("year"))
    page_no = max(1, _int(request.GET.get("page")) or 1)
    context: dict[str, Any] = {"q": q, "department": dept, "category": category or "", "year": year or "",
                               "departments": _departments(), "categories": disclosure.CATEGORIES,
                               "years": list(range(timezone.localdate().year, 2019, -1)), "error": ""}
    if q:
        try:
            result = search.search_documents(q, department=dept, category=category, year=year, limit=PAGE_SIZE,
                                             offset=(page_no - 1) * PAGE_SIZE)
        except DomainError as exc:
            context["error"] = domain_message(exc)
        else:
            pages = max(1, (result.total + PAGE_SIZE - 1) // PAGE_SIZE)
            params = {k: v for k, v in {"q": q, "department": dept.code if dept else "", "category": category or "",
                                        "year": year or ""}.items() if v}
            context.update(result=result, page_no=page_no, pages=pages, query=urlencode(params))
    else:
        latest = search.public_documents().select_related("department")
        if dept:
            latest = latest.filter(department=dept)
        if category:
            latest = latest.filter(category=category)
        context["latest"] = latest.order_by("-published_at", "-pk")[:PAGE_SIZE]
    return render(request, "egov/disclosure.html", context)


@require_GET
def document(request: HttpRequest, pk: int) -> HttpResponse:
    doc = get_object_or_404(Document.objects.select_related("department"), pk=pk)
    if not search.is_public(doc):
        raise Http404
    return render(request, "egov/disclosure_document.html", {
        "doc": doc, "paragraphs": [p for p in doc.body.split("\n") if p.strip()],
        "repealed": doc.repealed_on is not None and doc.repealed_on <= timezone.localdate()})


@require_GET
def department(request: HttpRequest, code: str) -> HttpResponse:
    dept = get_object_or_404(Department, code=code)
    category = request.GET.get("category") or ""
    docs = disclosure.public_documents_of(dept, category or None).order_by("-issued_on", "-pk")
    page = Paginator(docs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "egov/disclosure_department.html", {
        "dept": dept, "guide": disclosure.guide_text(dept), "catalogue": disclosure.catalogue(dept),
        "category": category, "page": page, "query": urlencode({"category": category}) if category else "",
        "reports": list(disclosure.published_reports(dept).values_list("year", flat=True)),
        "last_year": timezone.localdate().year - 1})


@require_GET
def annual_reports(request: HttpRequest, code: str) -> HttpResponse:
    """The department's published annual reports, newest year first."""
    dept = get_object_or_404(Department, code=code)
    return render(request, "egov/disclosure_reports.html", {
        "dept": dept, "reports": disclosure.published_reports(dept), "this_year": timezone.localdate().year})


@require_GET
def annual_report(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """A year's report in the national template: the published one (frozen figures), or, when none is
    published, the live statistics marked 未发布（实时统计）; ``?format=csv`` exports the tables."""
    dept = get_object_or_404(Department, code=code)
    if not disclosure.FIRST_REPORT_YEAR <= year <= timezone.localdate().year:
        raise Http404
    report = disclosure.published_report(dept, year) or disclosure.annual_report(dept, year)
    if request.GET.get("format") == "csv":
        response = HttpResponse("\ufeff" + disclosure.annual_report_csv(report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="disclosure-report-{dept.code}-{year}.csv"'
        return response
    return render(request, "egov/disclosure_report.html", {"dept": dept, "report": report})


# --- requests from the public -------------------------------------------------------------------------

@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def request_form(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    allowed = user.kind in (UserKind.CITIZEN, UserKind.ENTERPRISE)
    context: dict[str, Any] = {"departments": _departments(), "allowed": allowed, "error": "", "data": request.POST,
                               "enterprise": user.kind == UserKind.ENTERPRISE,
                               "categories": [(k, in_active_language(*disclosure.REQUESTER_CATEGORIES[k]))
                                              for k in disclosure.ENTERPRISE_CATEGORIES]}
    if request.method == "POST" and allowed:
        dept = Department.objects.filter(code=request.POST.get("department") or "").first()
        if dept is None:
            context["error"] = _("请选择受理机关")
        else:
            try:
                req = disclosure.submit_request(acting_user=user, department=dept,
                                                description=request.POST.get("description", ""),
                                                purpose=request.POST.get("purpose", ""),
                                                requester_category=request.POST.get("requester_category", ""))
            except DomainError as exc:
                context["error"] = domain_message(exc)
            else:
                return redirect(reverse("egov_disclosure:mine") + f"?submitted={req.number}")
    return render(request, "egov/disclosure_request.html", context)


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    reqs = DisclosureRequest.objects.filter(requester=user).select_related("department")
    page = Paginator(reqs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"r": r, "answer_label": disclosure.answer_label(r.answer_kind, r.answer_reason) if r.answer_kind else ""}
            for r in page.object_list]
    return render(request, "egov/disclosure_mine.html", {"page": page, "rows": rows, "query": "",
                                                         "submitted": request.GET.get("submitted", "")})


# --- staff ----------------------------------------------------------------------------------------------

@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_publish(request: HttpRequest) -> HttpResponse:
    depts = [d for d in _departments() if access.has_perm(request.user, "egov.publish_documents", d.division_code)]
    if not depts:
        raise PermissionDenied(_("无权发布政府信息"))
    context: dict[str, Any] = {"departments": depts, "categories": disclosure.CATEGORIES,
                               "types": DisclosureType.choices, "doc_kinds": DocumentKind.choices, "error": "",
                               "error_field": "", "data": request.POST}
    if request.method == "POST":
        dept = next((d for d in depts if d.code == request.POST.get("department")), None)
        try:
            issued_on = dt.date.fromisoformat(request.POST.get("issued_on") or "")
        except ValueError:
            issued_on = None
        if dept is None or issued_on is None:
            context["error"] = _("请选择发布机构并填写成文日期")
        else:
            try:
                doc = disclosure.publish_document(
                    acting_user=request.user, department=dept, title=request.POST.get("title", ""),
                    doc_number=request.POST.get("doc_number", ""), issued_on=issued_on,
                    category=request.POST.get("category", ""), body=request.POST.get("body", ""),
                    disclosure_type=request.POST.get("disclosure_type", DisclosureType.PROACTIVE),
                    classified=request.POST.get("classified") == "on",
                    doc_kind=request.POST.get("doc_kind") or DocumentKind.OTHER,
                    repealed_on=_optional_date(request.POST.get("repealed_on")), file=request.FILES.get("file"))
            except DomainError as exc:
                context["error"], context["error_field"] = domain_message(exc), exc.field or ""
            else:
                context["published"] = doc
                context["data"] = {}
    return render(request, "egov/disclosure_staff_publish.html", context)


@staff_required
@require_GET
def staff_requests(request: HttpRequest) -> HttpResponse:
    reqs = access.filter_by_scope(DisclosureRequest.objects.select_related("department", "requester"), request.user,
                                  "egov.answer_requests", "division_code")
    status = request.GET.get("status") or "open"
    if status == "open":
        reqs = reqs.exclude(status=DisclosureRequestStatus.ANSWERED).order_by("due_at")
    page = Paginator(reqs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "egov/disclosure_staff_requests.html", {
        "page": page, "query": urlencode({"status": status}), "status": status, "now": timezone.now(),
        "kinds": [(k, in_active_language(*labels)) for k, labels in disclosure.ANSWER_KINDS.items()],
        "reasons": [(k, in_active_language(*disclosure.ANSWER_KINDS[k]),
                     [(r, in_active_language(*labels)) for r, labels in reasons.items()])
                    for k, reasons in disclosure.ANSWER_REASONS.items()],
        "answer_labels": {r.pk: disclosure.answer_label(r.answer_kind, r.answer_reason)
                          for r in page.object_list if r.answer_kind},
        "categories": {k: in_active_language(*v) for k, v in disclosure.REQUESTER_CATEGORIES.items()},
        "error": request.GET.get("error", ""), "error_request": request.GET.get("request", "")})


@staff_required
@require_POST
def staff_request_action(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_object_or_404(DisclosureRequest, pk=pk)
    try:
        if request.POST.get("action") == "extend":
            disclosure.extend_request(req, acting_user=request.user, reason=request.POST.get("reason", ""))
        else:
            disclosure.answer_request(req, acting_user=request.user, kind=request.POST.get("kind", ""),
                                      reason=request.POST.get("reason", ""), answer=request.POST.get("answer", ""))
    except DomainError as exc:
        return redirect(reverse("egov_disclosure:staff_requests") + "?" + urlencode(
            {"status": "all", "error": domain_message(exc), "request": req.number}))
    return redirect("egov_disclosure:staff_requests")


# --- staff: the documents of the departments in scope (edit, withdraw) -------------------------------------

DOC_STATES = (("published", "已公开"), ("unpublished", "未公开"))


def _doc_in_scope(request: HttpRequest, pk: int) -> Document:
    doc = get_object_or_404(Document.objects.select_related("department"), pk=pk)
    if not access.has_perm(request.user, "egov.publish_documents", doc.division_code):
        raise PermissionDenied(_("无权维护该机构的政府信息"))
    return doc


def _withdrawals(doc_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The latest withdrawal (time, reason) of each document, from the audit log (the service records the
    reason there)."""
    out: dict[int, dict[str, Any]] = {}
    records = AuditRecord.objects.filter(action="egov.document.withdraw", object_type="egov.Document",
                                         object_id__in=[str(i) for i in doc_ids]).order_by("seq")
    for rec in records:
        out[int(rec.object_id)] = {"at": rec.at, "reason": (rec.after or {}).get("reason", "")}
    return out


@staff_required
@never_cache
@require_GET
def staff_documents(request: HttpRequest) -> HttpResponse:
    """政府信息管理: the documents of the departments in the user's scope, newest first, with filters."""
    if not access.has_perm(request.user, "egov.publish_documents"):
        raise PermissionDenied(_("无权发布政府信息"))
    docs = access.filter_by_scope(Document.objects.select_related("department"), request.user,
                                  "egov.publish_documents", "division_code")
    depts = [d for d in _departments() if access.has_perm(request.user, "egov.publish_documents", d.division_code)]
    user_dept = getattr(request.user, "department", None)
    if "department" in request.GET:
        dept_code = request.GET.get("department") or ""
    else:  # the user's own department first
        dept_code = user_dept.code if user_dept is not None and user_dept in depts else ""
    q = (request.GET.get("q") or "").strip()
    state = request.GET.get("state") or ""
    if dept_code:
        docs = docs.filter(department__code=dept_code)
    if q:
        docs = docs.filter(Q(title__icontains=q) | Q(doc_number__icontains=q) | Q(index_number__icontains=q))
    if state == "published":
        docs = docs.filter(published_at__isnull=False)
    elif state == "unpublished":
        docs = docs.filter(published_at__isnull=True)
    page = Paginator(docs.order_by("-issued_on", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    withdrawn = _withdrawals([d.pk for d in page.object_list if d.published_at is None])
    rows = [{"doc": d, "public": search.is_public(d), "withdrawal": withdrawn.get(d.pk)} for d in page.object_list]
    reminder_dept = user_dept if user_dept is not None and user_dept in depts else None
    return render(request, "egov/disclosure_staff_documents.html", {
        "reminder": disclosure.report_reminder(reminder_dept) if reminder_dept else None,
        "reminder_dept": reminder_dept,
        "page": page, "rows": rows, "departments": depts, "department": dept_code, "q": q, "state": state,
        "states": DOC_STATES, "query": urlencode({"department": dept_code, "q": q, "state": state})})


def _document_form(doc: Document) -> dict[str, Any]:
    return {"title": doc.title, "doc_number": doc.doc_number, "issued_on": doc.issued_on.isoformat(),
            "category": doc.category, "disclosure_type": doc.disclosure_type, "classified": doc.classified,
            "doc_kind": doc.doc_kind, "repealed_on": doc.repealed_on.isoformat() if doc.repealed_on else "",
            "body": doc.body}


def _document_page(request: HttpRequest, doc: Document, *, data: dict[str, Any] | None = None,
                   exc: DomainError | None = None, reason: str = "") -> HttpResponse:
    withdrawal = _withdrawals([doc.pk]).get(doc.pk) if doc.published_at is None else None
    return render(request, "egov/disclosure_staff_document.html", {
        "doc": doc, "data": data or _document_form(doc), "categories": disclosure.CATEGORIES,
        "types": DisclosureType.choices, "doc_kinds": DocumentKind.choices, "public": search.is_public(doc),
        "withdrawal": withdrawal,
        "reason": reason, "error": domain_message(exc) if exc else "", "error_field": exc.field if exc else "",
    }, status=exc.status if exc else 200)


@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_document_edit(request: HttpRequest, pk: int) -> HttpResponse:
    doc = _doc_in_scope(request, pk)
    if request.method != "POST":
        return _document_page(request, doc)
    post = request.POST
    data: dict[str, Any] = {k: post.get(k, "") for k in ("title", "doc_number", "issued_on", "category",
                                                          "disclosure_type", "body")}
    current = _document_form(doc)  # a form without the kind or repeal-date fields leaves them as they are
    data["doc_kind"] = post.get("doc_kind") or current["doc_kind"]
    data["repealed_on"] = post.get("repealed_on", "") if "repealed_on" in post else current["repealed_on"]
    data["classified"] = post.get("classified") == "on"
    try:
        issued_on: dt.date | None = dt.date.fromisoformat(data["issued_on"])
    except ValueError:
        issued_on = None  # the service reports the invalid date at its field
    try:
        disclosure.update_document(doc, acting_user=request.user, **{
            **data, "issued_on": issued_on, "repealed_on": _optional_date(data["repealed_on"])})
    except DomainError as exc:
        return _document_page(request, doc, data=data, exc=exc)
    messages.success(request, _("已保存。公开网站和全文检索已同步更新。"))
    return redirect("egov_disclosure:staff_document", pk=doc.pk)


@staff_required
@require_POST
def staff_document_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """撤回: take a published document off the public site (a reason is required)."""
    doc = _doc_in_scope(request, pk)
    reason = request.POST.get("reason", "")
    try:
        disclosure.withdraw_document(doc, acting_user=request.user, reason=reason)
    except DomainError as exc:
        return _document_page(request, doc, exc=exc, reason=reason)
    messages.success(request, _("已撤回：该信息不再在公开网站和检索结果中显示。"))
    return redirect("egov_disclosure:staff_documents")


# --- staff: the annual reports (政府信息公开工作年度报告) -------------------------------------------------------

def _report_departments(request: HttpRequest) -> list[Department]:
    depts = [d for d in _departments() if access.has_perm(request.user, "egov.publish_documents", d.division_code)]
    if not depts:
        raise PermissionDenied(_("无权编制政府信息公开工作年度报告"))
    return depts


@staff_required
@never_cache
@require_GET
def staff_reports(request: HttpRequest) -> HttpResponse:
    """年度报告: the years of a department in scope (draft / published), with the reminder for last year's."""
    depts = _report_departments(request)
    user_dept = getattr(request.user, "department", None)
    default = user_dept.code if user_dept is not None and user_dept in depts else depts[0].code
    dept = next((d for d in depts if d.code == (request.GET.get("department") or default)), depts[0])
    today = timezone.localdate()
    rows = {r.year: r for r in DisclosureAnnualReport.objects.filter(department=dept)}
    years = sorted({*range(today.year - 1, max(disclosure.FIRST_REPORT_YEAR, today.year - 6) - 1, -1), *rows},
                   reverse=True)
    return render(request, "egov/disclosure_staff_reports.html", {
        "departments": depts, "dept": dept, "years": [{"year": y, "report": rows.get(y)} for y in years],
        "reminder": disclosure.report_reminder(dept, today)})


def _report_form(row: DisclosureAnnualReport | None) -> dict[str, Any]:
    if row is None:
        return {"overview": "", "problems": "", "other_matters": "", "manual": {}}
    return {"overview": row.overview, "problems": row.problems, "other_matters": row.other_matters,
            "manual": dict(row.manual_figures or {})}


def _manual_fields(values: dict[str, Any]) -> dict[str, Any]:
    """The manual-figure inputs, grouped as on the template: decisions and fees, then the appeals grid."""
    decisions = [{"key": k, "label": in_active_language(*labels), "value": values.get(k, "")}
                 for k, labels in disclosure.DECISION_FIGURES.items()]
    appeals = [{"label": in_active_language(zh, en),
                "cells": [{"key": f"{g}_{r}", "label": in_active_language(f"{zh}：{rzh}", f"{en}: {ren}"),
                           "value": values.get(f"{g}_{r}", "")} for r, rzh, ren in disclosure.APPEAL_RESULTS]}
               for g, zh, en in disclosure.APPEAL_GROUPS]
    return {"decisions": decisions, "fees": values.get(disclosure.FEES_FIGURE, ""), "appeals": appeals,
            "appeal_columns": [in_active_language(zh, en) for _, zh, en in disclosure.APPEAL_RESULTS]}


@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_report(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """Edit a year's report (text sections, manual figures), preview it in the template layout, publish it."""
    depts = _report_departments(request)
    dept = get_object_or_404(Department, code=code)
    if dept not in depts:
        raise PermissionDenied(_("无权编制该机构的政府信息公开工作年度报告"))
    if not disclosure.FIRST_REPORT_YEAR <= year <= timezone.localdate().year:
        raise Http404
    row = DisclosureAnnualReport.objects.filter(department=dept, year=year).first()
    data = _report_form(row)
    exc: DomainError | None = None
    if request.method == "POST":
        post = request.POST
        data = {"overview": post.get("overview", ""), "problems": post.get("problems", ""),
                "other_matters": post.get("other_matters", ""),
                "manual": {k: post.get(k, "") for k in disclosure.MANUAL_FIGURES}}
        try:
            disclosure.save_annual_report(dept, year, acting_user=request.user, overview=data["overview"],
                                          problems=data["problems"], other_matters=data["other_matters"],
                                          manual_figures=data["manual"])
            if post.get("action") == "publish":
                disclosure.publish_annual_report(acting_user=request.user, department=dept, year=year)
        except DomainError as caught:
            exc = caught
        else:
            messages.success(request, _("年度报告已发布，公开网站已更新。") if post.get("action") == "publish"
                             else _("草稿已保存。"))
            return redirect("egov_disclosure:staff_report", code=dept.code, year=year)
    return render(request, "egov/disclosure_staff_report.html", {
        "dept": dept, "year": year, "row": row, "data": data, "manual": _manual_fields(data["manual"]),
        "preview": disclosure.annual_report(dept, year, include_draft=True),
        "published": disclosure.published_report(dept, year), "can_publish": timezone.localdate().year > year,
        "error": domain_message(exc) if exc else "", "error_field": exc.field if exc else ""},
        status=exc.status if exc else 200)
