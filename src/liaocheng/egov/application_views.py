"""Pages of online application (applicant) and case handling (staff).

Every change goes through ``applications`` and ``workflow``: ``PermissionDenied`` → 403, ``DomainError`` →
its status with the message shown on the page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from liaocheng.core.errors import DomainError, NotFound
from liaocheng.core.web import staff_required

from . import applications, workflow
from .models import Application, ApplicationMaterial, Case, CaseStatus, StepStatus


def _labelled(events: Any) -> list[Any]:
    rows = list(events)
    for e in rows:
        e.label = _(workflow.EVENT_LABELS[e.action]) if e.action in workflow.EVENT_LABELS else e.action
    return rows


def _message(exc: DomainError) -> str:
    return exc.message_zh if getattr(exc, "message_zh", None) else str(exc)


def _file(row: ApplicationMaterial) -> HttpResponse:
    """A material inline (small files: the item's size limit applies); never sniffed as HTML."""
    with row.file.open("rb") as fh:
        response = HttpResponse(fh.read(), content_type=row.content_type)
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(row.filename)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- applicant ---------------------------------------------------------------------------------------

def _apply(request: HttpRequest, *, item_code: str | None = None, bundle_code: str | None = None) -> HttpResponse:
    try:
        application = applications.start_application(acting_user=request.user, item_code=item_code,
                                                     bundle_code=bundle_code)
    except NotFound as exc:
        raise Http404(_message(exc)) from exc
    except DomainError as exc:
        return render(request, "egov/apply.html", {"error": _message(exc)}, status=exc.status)
    error, status = "", 200
    if request.method == "POST" and request.POST.get("action") == "choose":
        try:
            applications.choose_items(acting_user=request.user, application=application,
                                      codes=request.POST.getlist("chosen"))
            return redirect(request.path)
        except DomainError as exc:
            error, status = _message(exc), exc.status
    elif request.method == "POST":
        try:
            fields = applications.prefilled_fields(application)
            data = {f["key"]: request.POST.get(f"field_{f['key']}", "") for f in fields if not f["locked"]}
            applications.save_form(acting_user=request.user, application=application, data=data)
            for row in applications.application_materials(application):
                upload = request.FILES.get(f"material_{row['material'].pk}")
                if upload is not None:
                    applications.upload_material(acting_user=request.user, application=application,
                                                 material_id=row["material"].pk, file=upload)
            if request.POST.get("action") == "submit":
                application = applications.submit_application(acting_user=request.user, application=application)
                return redirect("egov_apply:mine_detail", number=application.number)
            return redirect(request.path)
        except DomainError as exc:
            error, status = _message(exc), exc.status
    return render(request, "egov/apply.html", {
        "application": application, "item": application.item, "bundle": application.bundle,
        "fields": applications.prefilled_fields(application),
        "materials": applications.application_materials(application), "error": error,
        "options": applications.bundle_options(application),
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def apply_item(request: HttpRequest, item_code: str) -> HttpResponse:
    return _apply(request, item_code=item_code)


@login_required
@require_http_methods(["GET", "POST"])
def apply_bundle(request: HttpRequest, code: str) -> HttpResponse:
    return _apply(request, bundle_code=code)


@login_required
def mine_list(request: HttpRequest) -> HttpResponse:
    rows = applications.my_applications(acting_user=request.user)[:200]
    return render(request, "egov/mine_list.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def mine_detail(request: HttpRequest, number: str) -> HttpResponse:
    try:
        progress = applications.application_progress(acting_user=request.user, number=number)
    except NotFound as exc:
        raise Http404(_message(exc)) from exc
    error, status = "", 200
    if request.method == "POST":
        application = progress.application
        try:
            if request.POST.get("action") == "answer":
                case = application.cases.filter(number=request.POST.get("case", "")).first()
                if case is None:
                    raise NotFound("办件不存在", "no such case", field="case")
                for row in applications.application_materials(application):
                    upload = request.FILES.get(f"material_{row['material'].pk}")
                    if upload is not None:
                        applications.upload_material(acting_user=request.user, application=application,
                                                     material_id=row["material"].pk, file=upload)
                workflow.answer_correction(acting_user=request.user, case=case, note=request.POST.get("note", ""))
            elif request.POST.get("action") == "withdraw":
                applications.withdraw_application(acting_user=request.user, application=application,
                                                  reason=request.POST.get("reason", ""))
            else:
                return HttpResponse(status=400)
            return redirect(request.path)
        except DomainError as exc:
            error, status = _message(exc), exc.status
            progress = applications.application_progress(acting_user=request.user, number=number)
    return render(request, "egov/mine_detail.html", {
        "progress": progress, "application": progress.application, "error": error,
        "events": _labelled(progress.events),
        "materials": applications.application_materials(progress.application),
    }, status=status)


# --- staff -------------------------------------------------------------------------------------------

@staff_required
def case_list(request: HttpRequest) -> HttpResponse:
    queues = workflow.user_queues(request.user)
    if not queues:
        raise PermissionDenied(_("无权办理政务服务办件"))
    keys = [k for k, _label in queues]
    queue = request.GET.get("queue") or keys[0]
    if queue not in keys:
        queue = keys[0]
    rows = list(workflow.queue_cases(request.user, queue))[:500]
    return render(request, "egov/case_list.html", {"queues": queues, "queue": queue, "rows": rows})


def _staff_case(user: Any, number: str) -> Case:
    try:
        case = workflow.get_case(number)
    except NotFound as exc:
        raise Http404(_message(exc)) from exc
    if not workflow.can_view_case(user, case):
        raise PermissionDenied(_("无权查看该办件"))
    return case


def _case_context(user: Any, case: Case, **extra: Any) -> dict[str, Any]:
    steps = list(case.steps.select_related("actor"))
    actionable = [s for s in steps if s.status == StepStatus.ACTIVE and case.status != CaseStatus.CORRECTION
                  and workflow.can_take_step(user, case, s)]
    return {
        "case": case, "application": case.application, "steps": steps, "actionable": actionable,
        "decision_keys": [s.key for s in actionable if workflow.step_perm(s.role) == workflow.DECISION_PERM],
        "materials": case.application.materials.select_related("material"),
        "form": applications.prefilled_fields(case.application),
        "events": _labelled(case.events.order_by("at", "pk")),
        "corrections": case.corrections.all(),
        "can_accept": case.status == CaseStatus.WAITING and workflow.access.has_perm(user, "egov.accept",
                                                                                     case.division_code),
        "can_correct": case.status in (CaseStatus.WAITING, CaseStatus.IN_REVIEW) and workflow.can_request_correction(
            user, case),
        "certificates": case.certificates.all(),
        **extra,
    }


@staff_required
@require_http_methods(["GET", "POST"])
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    case = _staff_case(request.user, number)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "accept":
                workflow.accept_case(acting_user=request.user, case=case, opinion=request.POST.get("opinion", ""))
            elif action == "refuse":
                workflow.refuse_case(acting_user=request.user, case=case, reason=request.POST.get("reason", ""))
            elif action == "correction":
                workflow.request_correction(acting_user=request.user, case=case, items=request.POST.get("items", ""))
            elif action == "step":
                workflow.complete_step(acting_user=request.user, case=case, key=request.POST.get("key", ""),
                                       opinion=request.POST.get("opinion", ""),
                                       outcome=request.POST.get("outcome", "approve"))
            else:
                return HttpResponse(status=400)
            return redirect("egov_apply:case_detail", number=case.number)
        except DomainError as exc:
            case.refresh_from_db()
            return render(request, "egov/case_detail.html", _case_context(request.user, case, error=_message(exc)),
                          status=exc.status)
    return render(request, "egov/case_detail.html", _case_context(request.user, case))


@staff_required
def case_material(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    case = _staff_case(request.user, number)
    row = ApplicationMaterial.objects.filter(pk=pk, application=case.application).first()
    if row is None:
        raise Http404(_("材料不存在"))
    return _file(row)


@login_required
def mine_material(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    try:
        application: Application = applications.get_own_application(acting_user=request.user, number=number)
    except NotFound as exc:
        raise Http404(_message(exc)) from exc
    row = ApplicationMaterial.objects.filter(pk=pk, application=application).first()
    if row is None:
        raise Http404(_("材料不存在"))
    return _file(row)
