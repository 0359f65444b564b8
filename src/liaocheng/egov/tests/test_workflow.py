"""The process engine: acceptance, steps by role, parallel branches and joins, decisions, issuing,
corrections, and bundles issued together (证照联动). Processes are data; the clock is controlled."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied

from liaocheng.core.departments import department_code
from liaocheng.core.errors import Conflict, InvalidInput
from liaocheng.core.models import AuditRecord
from liaocheng.egov import applications, workflow
from liaocheng.egov.models import (
    Application,
    ApplicationStatus,
    Case,
    CaseEvent,
    CaseStatus,
    Certificate,
    StepStatus,
)

from .workflow_helpers import (
    PARALLEL,
    SX,
    TZ,
    at,
    enterprise,
    make_bundle,
    make_item,
    patch_certificates,
    patch_credit,
    pdf,
)


@pytest.fixture
def staff(db: None, settings: Any, tmp_path: Any, staff_factory: Any) -> dict[str, Any]:
    settings.MEDIA_ROOT = str(tmp_path)
    bureau = department_code(SX, "administrative_approval")  # 行政审批服务局: may act for every department
    return {
        "intake": staff_factory("e_intake", department_code=bureau, roles=(("egov_intake", SX),)),
        "reviewer": staff_factory("e_rev", department_code=bureau, roles=(("egov_reviewer", SX),)),
        "approver": staff_factory("e_appr", department_code=bureau, roles=(("egov_approver", SX),)),
        "issuer": staff_factory("e_iss", department_code=bureau, roles=(("egov_issuer", SX),)),
        "other_county": staff_factory("e_other", department_code=department_code("371521", "administrative_approval"),
                                      roles=(("egov_reviewer", "371521"),)),
    }


def submitted(user: Any, *, item_code: str | None = None, bundle_code: str | None = None,
              when: dt.datetime | None = None) -> Application:
    app = applications.start_application(acting_user=user, item_code=item_code, bundle_code=bundle_code)
    applications.save_form(acting_user=user, application=app, data={"scope": "日用品销售"})
    for row in applications.application_materials(app):
        applications.upload_material(acting_user=user, application=app, material_id=row["material"].pk, file=pdf())
    with mock.patch("django.utils.timezone.now", return_value=when or at(2026, 9, 28)):
        return applications.submit_application(acting_user=user, application=app)


def do(when: dt.datetime, func: Any, **kw: Any) -> Any:
    with mock.patch("django.utils.timezone.now", return_value=when):
        return func(**kw)


def steps(case: Case) -> dict[str, Any]:
    return {s.key: s for s in case.steps.all()}


def test_single_item_full_cycle_in_working_days_across_national_day(staff: dict[str, Any]) -> None:
    # the real certificates module issues the PDF
    make_item("SX-001")
    user = enterprise()
    app = submitted(user, item_code="SX-001")
    case = app.cases.get()
    assert case.status == CaseStatus.WAITING and app.status == ApplicationStatus.SUBMITTED
    assert all(s.status == StepStatus.PENDING for s in case.steps.all())

    # accepted Tue 29 Sep 2026; 1–7 Oct are holidays, Sat 10 Oct is a make-up working day
    case = do(at(2026, 9, 29), workflow.accept_case, acting_user=staff["intake"], case=case)
    assert case.promised_due_at == dt.datetime(2026, 10, 12, 17, 30, tzinfo=TZ)  # 30/9, 8/10, 9/10, 10/10, 12/10
    assert case.accepted_at == at(2026, 9, 29)
    st = steps(case)
    assert st["accept"].status == StepStatus.DONE
    assert st["review"].status == StepStatus.ACTIVE
    assert st["review"].due_at == dt.datetime(2026, 10, 9, 17, 30, tzinfo=TZ)  # 3 working days: 30/9, 8/10, 9/10
    assert Application.objects.get(pk=app.pk).status == ApplicationStatus.IN_PROGRESS

    # the wrong role, and the right role in another county, are refused
    with pytest.raises(PermissionDenied):
        workflow.complete_step(acting_user=staff["issuer"], case=case, key="review", opinion="ok")
    with pytest.raises(PermissionDenied):
        workflow.complete_step(acting_user=staff["other_county"], case=case, key="review", opinion="ok")
    # a step not yet active
    with pytest.raises(Conflict):
        workflow.complete_step(acting_user=staff["approver"], case=case, key="decide", opinion="ok")
    # a reviewer cannot reject (only the decision can)
    with pytest.raises(InvalidInput):
        workflow.complete_step(acting_user=staff["reviewer"], case=case, key="review", opinion="不行", outcome="reject")

    do(at(2026, 10, 8), workflow.complete_step, acting_user=staff["reviewer"], case=case, key="review",
       opinion="材料齐全")
    st = steps(case)
    assert st["review"].status == StepStatus.DONE and st["decide"].status == StepStatus.ACTIVE
    assert st["decide"].due_at == dt.datetime(2026, 10, 10, 17, 30, tzinfo=TZ)  # 9/10, 10/10 (make-up Saturday)
    do(at(2026, 10, 9), workflow.complete_step, acting_user=staff["approver"], case=case, key="decide",
       opinion="准予许可")
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED and steps(case)["issue"].status == StepStatus.ACTIVE
    assert not Certificate.objects.exists()
    do(at(2026, 10, 12), workflow.complete_step, acting_user=staff["issuer"], case=case, key="issue")
    case.refresh_from_db()
    app.refresh_from_db()
    assert case.status == CaseStatus.ISSUED and case.issued_at == at(2026, 10, 12)
    assert app.status == ApplicationStatus.ISSUED and app.finished_at == at(2026, 10, 12)
    cert = Certificate.objects.get()
    assert cert.case == case and cert.issued_at == at(2026, 10, 12) and cert.pdf_sha256
    actions = list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))
    assert actions[:2] == ["received", "accepted"] and "issued" in actions and "approved" in actions
    assert AuditRecord.objects.filter(action="egov.case_issued", object_id=case.number).exists()
    assert AuditRecord.objects.filter(action="egov.step_done", object_id=case.number).count() == 2


def test_refusal_needs_reason_and_ends_case(staff: dict[str, Any]) -> None:
    make_item("SX-002")
    app = submitted(enterprise(), item_code="SX-002")
    case = app.cases.get()
    with pytest.raises(InvalidInput) as exc:
        workflow.refuse_case(acting_user=staff["intake"], case=case, reason="  ")
    assert exc.value.field == "reason"
    with pytest.raises(PermissionDenied):
        workflow.refuse_case(acting_user=staff["reviewer"], case=case, reason="不符合条件")
    workflow.refuse_case(acting_user=staff["intake"], case=case, reason="不属于本机关职权范围")
    case.refresh_from_db()
    app.refresh_from_db()
    assert case.status == CaseStatus.REFUSED and case.reason == "不属于本机关职权范围"
    assert app.status == ApplicationStatus.REFUSED
    assert not case.steps.filter(status__in=[StepStatus.PENDING, StepStatus.ACTIVE]).exists()
    with pytest.raises(Conflict):
        workflow.accept_case(acting_user=staff["intake"], case=case)


def test_parallel_branches_join_and_reject_at_decision(staff: dict[str, Any]) -> None:
    make_item("SX-003", process=PARALLEL)
    app = submitted(enterprise(), item_code="SX-003")
    case = do(at(2026, 11, 2), workflow.accept_case, acting_user=staff["intake"], case=app.cases.get())
    st = steps(case)
    assert st["site"].status == st["docs"].status == StepStatus.ACTIVE
    assert st["decide"].status == StepStatus.PENDING
    workflow.complete_step(acting_user=staff["reviewer"], case=case, key="docs", opinion="ok")
    assert steps(case)["decide"].status == StepStatus.PENDING  # join waits for both branches
    workflow.complete_step(acting_user=staff["reviewer"], case=case, key="site", opinion="ok")
    assert steps(case)["decide"].status == StepStatus.ACTIVE
    with pytest.raises(InvalidInput):  # a rejection needs its reason
        workflow.complete_step(acting_user=staff["approver"], case=case, key="decide", outcome="reject")
    workflow.complete_step(acting_user=staff["approver"], case=case, key="decide", opinion="不符合条件",
                           outcome="reject")
    case.refresh_from_db()
    app.refresh_from_db()
    assert case.status == CaseStatus.REJECTED and app.status == ApplicationStatus.REJECTED
    assert steps(case)["issue"].status == StepStatus.SKIPPED


def test_correction_pauses_and_extends_deadlines(staff: dict[str, Any]) -> None:
    make_item("SX-004")
    user = enterprise()
    app = submitted(user, item_code="SX-004", when=at(2026, 10, 30))
    case = do(at(2026, 11, 2), workflow.accept_case, acting_user=staff["intake"], case=app.cases.get())
    promised = case.promised_due_at
    assert promised == dt.datetime(2026, 11, 9, 17, 30, tzinfo=TZ)
    review_due = steps(case)["review"].due_at
    do(at(2026, 11, 3), workflow.request_correction, acting_user=staff["reviewer"], case=case,
       items="请补充营业场所证明")
    case.refresh_from_db()
    app.refresh_from_db()
    assert case.status == CaseStatus.CORRECTION and app.status == ApplicationStatus.CORRECTION
    with pytest.raises(Conflict):  # the clock is stopped: nothing can be done meanwhile
        workflow.complete_step(acting_user=staff["reviewer"], case=case, key="review", opinion="ok")
    with pytest.raises(PermissionDenied):
        workflow.answer_correction(acting_user=enterprise("ent2", "91371522MA3C0BBB0X"), case=case)
    do(at(2026, 11, 5), workflow.answer_correction, acting_user=user, case=case, note="已补充")
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW and case.paused_days == 2
    assert case.promised_due_at == dt.datetime(2026, 11, 11, 17, 30, tzinfo=TZ)  # two working days later
    assert review_due == dt.datetime(2026, 11, 5, 17, 30, tzinfo=TZ)
    assert steps(case)["review"].due_at == dt.datetime(2026, 11, 9, 17, 30, tzinfo=TZ)  # Thu + 2 = Mon
    assert Application.objects.get(pk=app.pk).status == ApplicationStatus.IN_PROGRESS
    assert case.corrections.get().answered_at == at(2026, 11, 5)


def test_credit_block_stops_issuing_flag_only_shows(staff: dict[str, Any], monkeypatch: Any) -> None:
    patch_certificates(monkeypatch)
    patch_credit(monkeypatch, {"listed": True, "lists": ["失信被执行人"]})
    make_item("SX-005", credit_rule="block")
    make_item("SX-006", credit_rule="flag")
    blocked = submitted(enterprise(), item_code="SX-005").cases.get()
    flagged = submitted(enterprise("ent2", "91371522MA3C0BBB0X"), item_code="SX-006").cases.get()
    assert blocked.credit_result["blocked"] and not flagged.credit_result["blocked"]
    assert flagged.credit_result["flagged"]
    for case in (blocked, flagged):
        workflow.accept_case(acting_user=staff["intake"], case=case)
        workflow.complete_step(acting_user=staff["reviewer"], case=case, key="review", opinion="ok")
        workflow.complete_step(acting_user=staff["approver"], case=case, key="decide", opinion="ok")
    with pytest.raises(Conflict) as exc:
        workflow.complete_step(acting_user=staff["issuer"], case=blocked, key="issue")
    assert exc.value.code == "credit_blocked"
    blocked.refresh_from_db()
    assert blocked.status == CaseStatus.APPROVED and not Certificate.objects.filter(case=blocked).exists()
    workflow.complete_step(acting_user=staff["issuer"], case=flagged, key="issue")
    assert Certificate.objects.filter(case=flagged).exists()


def test_bundle_prior_and_parallel_departments_issued_together(staff: dict[str, Any], monkeypatch: Any) -> None:
    issued: list[str] = []

    def issue(case: Case, *, acting_user: Any, issued_at: Any = None) -> Certificate:
        from .workflow_helpers import fake_issue_certificate

        issued.append(case.item.code)
        return fake_issue_certificate(case, acting_user=acting_user, issued_at=issued_at)

    patch_certificates(monkeypatch, issue)
    prior = make_item("SX-CUL", "culture_tourism", materials=("申请书", "场所证明"))
    licence = make_item("SX-LIC", "market_regulation")
    tax = make_item("SX-TAX", "tax", materials=("申请书", "财务制度"))
    health = make_item("SX-HEA", "health")
    bundle = make_bundle("BD-OPEN", [prior], [licence, tax, health])
    user = enterprise()
    app = submitted(user, bundle_code=bundle.code)
    # one set of materials: the shared 申请书 once, plus each item's own
    assert app.materials.count() == 3
    cases = {c.item.code: c for c in app.cases.select_related("item")}
    assert set(cases) == {"SX-CUL", "SX-LIC", "SX-TAX", "SX-HEA"}
    assert all(c.status == CaseStatus.WAITING and c.received_at == at(2026, 9, 28) for c in cases.values())
    for case in cases.values():
        workflow.accept_case(acting_user=staff["intake"], case=case)
    # the two departments (tax, health) and the licence approve in parallel, before the prior approval
    for code in ("SX-TAX", "SX-HEA", "SX-LIC"):
        workflow.complete_step(acting_user=staff["reviewer"], case=cases[code], key="review", opinion="ok")
        workflow.complete_step(acting_user=staff["approver"], case=cases[code], key="decide", opinion="ok")
        cases[code].refresh_from_db()
        assert cases[code].status == CaseStatus.APPROVED
        assert steps(cases[code])["issue"].status == StepStatus.PENDING  # held: prior approval not done
    with pytest.raises(Conflict):
        workflow.complete_step(acting_user=staff["issuer"], case=cases["SX-LIC"], key="issue")
    app.refresh_from_db()
    assert app.status == ApplicationStatus.IN_PROGRESS
    # the prior approval finishes: its own certificate first, then the main items' issue steps are released
    workflow.complete_step(acting_user=staff["reviewer"], case=cases["SX-CUL"], key="review", opinion="ok")
    workflow.complete_step(acting_user=staff["approver"], case=cases["SX-CUL"], key="decide", opinion="ok")
    assert all(steps(cases[c])["issue"].status == StepStatus.ACTIVE for c in ("SX-LIC", "SX-TAX", "SX-HEA"))
    workflow.complete_step(acting_user=staff["issuer"], case=cases["SX-CUL"], key="issue")
    assert issued == ["SX-CUL"]
    app.refresh_from_db()
    assert app.status == ApplicationStatus.IN_PROGRESS  # the applicant still sees one application in progress
    # issuing one main item issues all of them, together
    do(at(2026, 10, 9), workflow.complete_step, acting_user=staff["issuer"], case=cases["SX-TAX"], key="issue")
    assert issued[0] == "SX-CUL" and sorted(issued[1:]) == ["SX-HEA", "SX-LIC", "SX-TAX"] and issued[1] == "SX-TAX"
    mains = Case.objects.filter(application=app, item__code__in=["SX-LIC", "SX-TAX", "SX-HEA"])
    assert {c.status for c in mains} == {CaseStatus.ISSUED}
    assert {c.issued_at for c in mains} == {at(2026, 10, 9)}
    assert {c.issued_at for c in Certificate.objects.filter(case__in=mains)} == {at(2026, 10, 9)}
    app.refresh_from_db()
    assert app.status == ApplicationStatus.ISSUED
    assert app.events.filter(action="issued_together").count() == 1
    progress = applications.application_progress(acting_user=user, number=app.number or "")
    assert len(progress.parts) == 4 and sum(len(p.certificates) for p in progress.parts) == 4


def test_bundle_rejected_part_rejects_application(staff: dict[str, Any], monkeypatch: Any) -> None:
    patch_certificates(monkeypatch)
    prior = make_item("SX-CUL", "culture_tourism")
    licence = make_item("SX-LIC", "market_regulation")
    bundle = make_bundle("BD-2", [prior], [licence])
    app = submitted(enterprise(), bundle_code=bundle.code)
    cases = {c.item.code: c for c in app.cases.select_related("item")}
    for case in cases.values():
        workflow.accept_case(acting_user=staff["intake"], case=case)
        workflow.complete_step(acting_user=staff["reviewer"], case=case, key="review", opinion="ok")
    workflow.complete_step(acting_user=staff["approver"], case=cases["SX-LIC"], key="decide", opinion="ok")
    workflow.complete_step(acting_user=staff["approver"], case=cases["SX-CUL"], key="decide", opinion="场所不符合",
                           outcome="reject")
    app.refresh_from_db()
    assert app.status == ApplicationStatus.REJECTED
    # the licence stops with the bundle (its issue step is never released), and says why
    lic = Case.objects.get(pk=cases["SX-LIC"].pk)
    assert lic.status == CaseStatus.STOPPED and "不予许可" in lic.reason and "本件终止" in lic.reason
    assert steps(lic)["issue"].status == StepStatus.SKIPPED
    assert app.events.filter(action="stopped", case=lic).count() == 1
    assert workflow.queue_cases(staff["issuer"], "issue").count() == 0


def test_bundle_refused_part_stops_the_others(staff: dict[str, Any], monkeypatch: Any) -> None:
    patch_certificates(monkeypatch)
    prior = make_item("SX-CUL", "culture_tourism")
    licence = make_item("SX-LIC", "market_regulation")
    bundle = make_bundle("BD-3", [prior], [licence])
    app = submitted(enterprise(), bundle_code=bundle.code)
    cases = {c.item.code: c for c in app.cases.select_related("item")}
    workflow.accept_case(acting_user=staff["intake"], case=cases["SX-LIC"])
    workflow.refuse_case(acting_user=staff["intake"], case=cases["SX-CUL"], reason="经营场所不在本辖区")
    app.refresh_from_db()
    lic = Case.objects.get(pk=cases["SX-LIC"].pk)
    assert app.status == ApplicationStatus.REFUSED
    assert lic.status == CaseStatus.STOPPED and "不予受理" in lic.reason
    assert workflow.queue_cases(staff["reviewer"], "review").count() == 0
    with pytest.raises(workflow.InvalidTransition):
        workflow.complete_step(acting_user=staff["reviewer"], case=lic, key="review", opinion="ok")


def test_department_steps_belong_to_the_department_or_the_approval_bureau(
        staff: dict[str, Any], staff_factory: Any, monkeypatch: Any) -> None:
    patch_certificates(monkeypatch)
    prior = make_item("SX-CUL", "culture_tourism")
    licence = make_item("SX-LIC", "market_regulation")
    tax = make_item("SX-TAX", "tax")
    bundle = make_bundle("BD-4", [prior], [licence, tax])
    app = submitted(enterprise(), bundle_code=bundle.code)
    cases = {c.item.code: c for c in app.cases.select_related("item")}
    culture = staff_factory("sx_culture", department_code=department_code(SX, "culture_tourism"),
                            roles=(("egov_approver", SX),))
    market = staff_factory("sx_market", department_code=department_code(SX, "market_regulation"),
                           roles=(("egov_approver", SX), ("egov_issuer", SX)))
    taxman = staff_factory("sx_tax", department_code=department_code(SX, "tax"), roles=(("egov_approver", SX),))
    # acceptance is 无差别受理: the culture approver holds no intake role, the window accepts every case
    for case in cases.values():
        workflow.accept_case(acting_user=staff["intake"], case=case)
    # the culture bureau cannot review the business licence; each department sees only its own cases
    with pytest.raises(PermissionDenied):
        workflow.complete_step(acting_user=culture, case=cases["SX-LIC"], key="review", opinion="ok")
    assert [c.number for c in workflow.queue_cases(culture, "review")] == [cases["SX-CUL"].number]
    assert not workflow.can_take_step(culture, cases["SX-LIC"], steps(cases["SX-LIC"])["review"])
    # three departments approve in parallel
    for user, code in ((culture, "SX-CUL"), (market, "SX-LIC"), (taxman, "SX-TAX")):
        workflow.complete_step(acting_user=user, case=cases[code], key="review", opinion="ok")
        workflow.complete_step(acting_user=user, case=cases[code], key="decide", opinion="ok")
    with pytest.raises(PermissionDenied):  # market regulation may not issue the culture licence
        workflow.complete_step(acting_user=market, case=cases["SX-CUL"], key="issue")
    workflow.complete_step(acting_user=staff["issuer"], case=cases["SX-CUL"], key="issue")
    # issuing together needs a window that may issue every main item: market regulation alone may not
    with pytest.raises(PermissionDenied) as denied:
        workflow.complete_step(acting_user=market, case=cases["SX-LIC"], key="issue")
    assert "行政审批服务局" in str(denied.value)
    assert Case.objects.filter(application=app, status=CaseStatus.ISSUED).count() == 1  # nothing half-issued
    workflow.complete_step(acting_user=staff["issuer"], case=cases["SX-LIC"], key="issue")
    assert Case.objects.filter(application=app, status=CaseStatus.ISSUED).count() == 3


def test_optional_bundle_members_only_when_chosen(staff: dict[str, Any], monkeypatch: Any) -> None:
    from liaocheng.egov.models import BundleItem

    patch_certificates(monkeypatch)
    culture = make_item("SX-CUL", "culture_tourism", materials=("申请书", "消防验收证明"))
    food = make_item("SX-FOOD", "market_regulation", materials=("申请书", "食品安全制度"))
    licence = make_item("SX-LIC", "market_regulation")
    bundle = make_bundle("BD-5", [culture, food], [licence])
    BundleItem.objects.filter(bundle=bundle, prior=True).update(optional=True)
    user = enterprise()
    app = applications.start_application(acting_user=user, bundle_code=bundle.code)
    assert [o["item"].code for o in applications.bundle_options(app)] == ["SX-CUL", "SX-FOOD"]
    assert {m["name"] for m in applications.application_materials(app)} == {"申请书"}
    with pytest.raises(InvalidInput):
        applications.choose_items(acting_user=user, application=app, codes=["SX-LIC"])
    applications.choose_items(acting_user=user, application=app, codes=["SX-CUL"])
    assert {m["name"] for m in applications.application_materials(app)} == {"申请书", "消防验收证明"}
    app = submitted(user, bundle_code=bundle.code)
    assert sorted(c.item.code for c in app.cases.select_related("item")) == ["SX-CUL", "SX-LIC"]
    with pytest.raises(Conflict):  # the choice is fixed once submitted
        applications.choose_items(acting_user=user, application=app, codes=[])


def test_results_without_certificate_and_window_only_processes_finish(staff: dict[str, Any]) -> None:
    make_item("SX-NONE")
    from liaocheng.egov.models import ServiceItem

    ServiceItem.objects.filter(code="SX-NONE").update(result_kind="none")
    make_item("SX-WIN", process=[{"key": "accept", "name": "登记", "role": "egov_intake", "limit_days": 1,
                                  "after": []}])
    user = enterprise()
    none_case = submitted(user, item_code="SX-NONE").cases.get()
    workflow.accept_case(acting_user=staff["intake"], case=none_case)
    for key, who in (("review", "reviewer"), ("decide", "approver"), ("issue", "issuer")):
        workflow.complete_step(acting_user=staff[who], case=none_case, key=key, opinion="ok")
    none_case.refresh_from_db()
    assert none_case.status == CaseStatus.ISSUED and none_case.issued_at is not None
    assert not none_case.certificates.exists()
    assert none_case.application.status == ApplicationStatus.ISSUED
    # a registration done at the window: finished on acceptance, so supervision no longer watches it
    window_case = submitted(user, item_code="SX-WIN").cases.get()
    workflow.accept_case(acting_user=staff["intake"], case=window_case)
    window_case.refresh_from_db()
    assert window_case.status == CaseStatus.ISSUED and window_case.issued_at == window_case.accepted_at
    from liaocheng.egov.supervision import OPEN_CASES

    assert not Case.objects.filter(OPEN_CASES, pk__in=[none_case.pk, window_case.pk]).exists()


def test_bundle_makes_one_promise_for_all_its_cases(staff: dict[str, Any], monkeypatch: Any) -> None:
    patch_certificates(monkeypatch)
    prior = make_item("SX-CUL", "culture_tourism", promised=10, statutory=20)
    licence = make_item("SX-LIC", "market_regulation", promised=3, statutory=5)
    bundle = make_bundle("BD-6", [prior], [licence])
    app = submitted(enterprise(), bundle_code=bundle.code)
    for case in app.cases.all():
        do(at(2026, 9, 28), workflow.accept_case, acting_user=staff["intake"], case=case)
    dues = {c.item.code: c.promised_due_at for c in app.cases.select_related("item")}
    # the longest promise (10 working days) from Mon 28 Sep 2026 across the National Day holiday (1-7 Oct;
    # Sat 10 Oct a make-up day): 29/9, 30/9, 8/10, 9/10, 10/10, 12/10, 13/10, 14/10, 15/10, 16/10
    assert dues["SX-LIC"] == dues["SX-CUL"]
    assert dues["SX-LIC"].astimezone(TZ).date() == dt.date(2026, 10, 16)


def test_personal_form_fields_are_not_kept_in_plain_json(staff: dict[str, Any]) -> None:
    from liaocheng.egov.tests.workflow_helpers import citizen

    item = make_item("SX-CIT", serves="citizen")
    item.form_fields = [{"key": "name", "label": "姓名", "type": "text", "required": True, "prefill": "name"},
                        {"key": "id_number", "label": "公民身份号码", "type": "text", "required": True,
                         "prefill": "id_number"},
                        {"key": "phone", "label": "联系电话", "type": "tel", "required": True, "prefill": ""}]
    item.save()
    user = citizen()
    app = applications.start_application(acting_user=user, item_code="SX-CIT")
    applications.save_form(acting_user=user, application=app, data={"phone": "13906351234"})
    app.refresh_from_db()
    assert "id_number" not in app.form_data and "phone" not in app.form_data
    assert app.phone == "13906351234" and app.id_number == "371522199001011234"
    values = {f["key"]: f["value"] for f in applications.prefilled_fields(app)}
    assert values["phone"] == "13906351234" and values["id_number"] == "371522199001011234"
    # the encrypted column does not hold the number in clear
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, form_data FROM egov_application WHERE id = %s", [app.pk])
        raw_phone, raw_form = cursor.fetchone()
    assert "13906351234" not in str(raw_phone) and "13906351234" not in str(raw_form)
