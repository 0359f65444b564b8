"""Pages of government information disclosure (政府信息公开).

Public: the search page with filters, a document, a department's guide and catalogue, its annual report (page
and CSV). Signed-in citizens and enterprises: the request form and "my requests". Staff: publish a document,
the requests of their scope (answer, extend once), the documents of their scope (edit, withdraw with a
reason). Nothing here writes: every change goes through ``egov.disclosure``; a ``DomainError`` is shown on the
form.
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
from liaocheng.core.forms import domain_message
from liaocheng.core.models import AuditRecord, Department, UserKind
from liaocheng.core.web import staff_required

from . import disclosure, search
from .models import DisclosureRequest, DisclosureRequestStatus, DisclosureType, Document

PAGE_SIZE = 20


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _departments() -> list[Department]:
    return list(Department.objects.filter(active=True).order_by("division_code", "code"))


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
        "doc": doc, "paragraphs": [p for p in doc.body.split("\n") if p.strip()]})


@require_GET
def department(request: HttpRequest, code: str) -> HttpResponse:
    dept = get_object_or_404(Department, code=code)
    category = request.GET.get("category") or ""
    docs = disclosure.public_documents_of(dept, category or None).order_by("-issued_on", "-pk")
    page = Paginator(docs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "egov/disclosure_department.html", {
        "dept": dept, "guide": disclosure.guide_text(dept), "catalogue": disclosure.catalogue(dept),
        "category": category, "page": page, "query": urlencode({"category": category}) if category else "",
        "years": list(range(timezone.localdate().year, 2019, -1))})


@require_GET
def annual_report(request: HttpRequest, code: str, year: int) -> HttpResponse:
    dept = get_object_or_404(Department, code=code)
    report = disclosure.annual_report(dept, year)
    if request.GET.get("format") == "csv":
        response = HttpResponse("\ufeff" + disclosure.annual_report_csv(report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="disclosure-report-{dept.code}-{year}.csv"'
        return response
    kinds = [(disclosure.ANSWER_KINDS.get(k, (k, k))[0], n) for k, n in report.answer_kinds.items()]
    return render(request, "egov/disclosure_report.html", {"dept": dept, "report": report, "kinds": kinds})


# --- requests from the public -------------------------------------------------------------------------

@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def request_form(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    allowed = user.kind in (UserKind.CITIZEN, UserKind.ENTERPRISE)
    context: dict[str, Any] = {"departments": _departments(), "allowed": allowed, "error": "", "data": request.POST}
    if request.method == "POST" and allowed:
        dept = Department.objects.filter(code=request.POST.get("department") or "").first()
        if dept is None:
            context["error"] = _("请选择受理机关")
        else:
            try:
                req = disclosure.submit_request(acting_user=user, department=dept,
                                                description=request.POST.get("description", ""),
                                                purpose=request.POST.get("purpose", ""))
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
    kinds = {k: v[0] for k, v in disclosure.ANSWER_KINDS.items()}
    return render(request, "egov/disclosure_mine.html", {"page": page, "query": "", "kinds": kinds,
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
                               "types": DisclosureType.choices, "error": "", "data": request.POST}
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
                    classified=request.POST.get("classified") == "on", file=request.FILES.get("file"))
            except DomainError as exc:
                context["error"] = domain_message(exc)
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
        "kinds": list(disclosure.ANSWER_KINDS.items()), "error": request.GET.get("error", "")})


@staff_required
@require_POST
def staff_request_action(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_object_or_404(DisclosureRequest, pk=pk)
    try:
        if request.POST.get("action") == "extend":
            disclosure.extend_request(req, acting_user=request.user, reason=request.POST.get("reason", ""))
        else:
            disclosure.answer_request(req, acting_user=request.user, kind=request.POST.get("kind", ""),
                                      answer=request.POST.get("answer", ""))
    except DomainError as exc:
        return redirect(reverse("egov_disclosure:staff_requests") + "?" + urlencode({"error": domain_message(exc)}))
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
    return render(request, "egov/disclosure_staff_documents.html", {
        "page": page, "rows": rows, "departments": depts, "department": dept_code, "q": q, "state": state,
        "states": DOC_STATES, "query": urlencode({"department": dept_code, "q": q, "state": state})})


def _document_form(doc: Document) -> dict[str, Any]:
    return {"title": doc.title, "doc_number": doc.doc_number, "issued_on": doc.issued_on.isoformat(),
            "category": doc.category, "disclosure_type": doc.disclosure_type, "classified": doc.classified,
            "body": doc.body}


def _document_page(request: HttpRequest, doc: Document, *, data: dict[str, Any] | None = None,
                   exc: DomainError | None = None, reason: str = "") -> HttpResponse:
    withdrawal = _withdrawals([doc.pk]).get(doc.pk) if doc.published_at is None else None
    return render(request, "egov/disclosure_staff_document.html", {
        "doc": doc, "data": data or _document_form(doc), "categories": disclosure.CATEGORIES,
        "types": DisclosureType.choices, "public": search.is_public(doc), "withdrawal": withdrawal,
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
    data["classified"] = post.get("classified") == "on"
    try:
        issued_on: dt.date | None = dt.date.fromisoformat(data["issued_on"])
    except ValueError:
        issued_on = None  # the service reports the invalid date at its field
    try:
        disclosure.update_document(doc, acting_user=request.user, **{**data, "issued_on": issued_on})
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
