"""The e-government JSON API (``/api/egov/``) as a client uses it: the public catalogue, bundles, certificate
verification, disclosure search and indicators; the applicant's applications and progress; the staff queues
and case handling, with errors (400 naming the field, 401, 403 with the message, 404, 409, 422) and nothing
written on a refusal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from liaocheng.core.departments import department_code
from liaocheng.core.models import AuditRecord, Department
from liaocheng.egov import applications, certificates, disclosure, workflow
from liaocheng.egov.models import Application, Case, CaseStatus, Certificate, ItemStatus, ServiceItem

from .workflow_helpers import SX, citizen, enterprise, make_bundle, make_item, pdf

BASE = "/api/egov"
JSON = "application/json"
BUREAU = department_code(SX, "administrative_approval")


@pytest.fixture
def media(db: None, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def staff(media: None, staff_factory: Any) -> dict[str, Any]:
    def make(name: str, *roles: str, scope: str = SX) -> Any:
        return staff_factory(name, department_code=BUREAU, roles=tuple((r, scope) for r in roles))

    return {
        "intake": make("api_intake", "egov_intake"),
        "reviewer": make("api_rev", "egov_reviewer"),
        "approver": make("api_appr", "egov_approver"),
        "issuer": make("api_iss", "egov_issuer"),
        "other": make("api_other", "egov_intake", scope="371521"),
        "data": staff_factory("api_data", department_code=BUREAU,
                              roles=(("egov_intake", SX), ("data_admin", SX))),
        "officer": make("api_doc", "egov_disclosure_officer"),
    }


def client_for(user: Any | None = None, **kw: Any) -> Client:
    c = Client(**kw)
    if user is not None:
        c.force_login(user)
    return c


def post(c: Client, path: str, body: Any) -> Any:
    return c.post(f"{BASE}{path}", body, content_type=JSON)


def submitted(user: Any, code: str, data: dict[str, str] | None = None) -> Application:
    app = applications.start_application(acting_user=user, item_code=code)
    applications.save_form(acting_user=user, application=app, data=data if data is not None else {"scope": "零售"})
    for row in applications.application_materials(app):
        applications.upload_material(acting_user=user, application=app, material_id=row["material"].pk, file=pdf())
    return applications.submit_application(acting_user=user, application=app)


def citizen_item(code: str) -> ServiceItem:
    item = make_item(code, serves="citizen")
    item.form_fields = [{"key": "name", "label": "姓名", "required": True, "prefill": "name"},
                        {"key": "id", "label": "身份证号", "required": True, "prefill": "id_number"}]
    item.save()
    return item


def issued_case(staff: dict[str, Any], user: Any, code: str, data: dict[str, str] | None = None) -> Case:
    case = submitted(user, code, data).cases.get()
    workflow.accept_case(acting_user=staff["intake"], case=case)
    for key, who in (("review", "reviewer"), ("decide", "approver"), ("issue", "issuer")):
        workflow.complete_step(acting_user=staff[who], case=case, key=key)
    case.refresh_from_db()
    return case


# --- the public catalogue --------------------------------------------------------------------------------------

def test_items_search_filters_pagination_and_bad_filters(media: None) -> None:
    make_item("371522000101-A")
    make_item("371522000102-B", serves="citizen")
    draft = make_item("371522000103-C")
    draft.status = ItemStatus.DRAFT
    draft.save()
    c = Client()
    body = c.get(f"{BASE}/items", {"division": SX}).json()
    assert body["total"] == 2
    assert [i["code"] for i in body["items"]] == ["371522000101-A", "371522000102-B"]
    first = body["items"][0]
    assert first["name"] == "事项371522000101-A" and first["department"] == department_code(SX, "market_regulation")
    assert first["item_type"] == "XK" and first["promised_days"] == 5 and first["statutory_days"] == 20

    page = c.get(f"{BASE}/items", {"limit": 1, "offset": 1}).json()
    assert page["total"] == 2 and [i["code"] for i in page["items"]] == ["371522000102-B"]
    assert [i["code"] for i in c.get(f"{BASE}/items", {"serves": "citizen"}).json()["items"]] == ["371522000102-B"]
    assert c.get(f"{BASE}/items", {"q": "无此事项"}).json() == {"total": 0, "items": []}
    assert [i["code"] for i in c.get(f"{BASE}/items", {"q": "371522000101"}).json()["items"]] == ["371522000101-A"]
    assert c.get(f"{BASE}/items", {"type": "XK"}).json()["total"] == 2

    for params, field in (({"type": "NOPE"}, "type"), ({"division": "123"}, "division"), ({"limit": 0}, "limit"),
                          ({"limit": 101}, "limit"), ({"offset": -1}, "offset"), ({"serves": "alien"}, "serves"),
                          ({"department": "no-such"}, "department")):
        response = c.get(f"{BASE}/items", params)
        assert response.status_code == 400, params
        assert response.json()["field"] == field and response.json()["message_en"], params
    assert c.get(f"{BASE}/items", {"limit": "many"}).status_code == 422


def test_item_detail_materials_process_and_bundles(media: None) -> None:
    prior = make_item("371522000201-P", materials=("申请书", "场所证明"))
    main = make_item("371522000202-M", kind="administrative_approval")
    bundle = make_bundle("B-API-" + SX, [prior], [main])
    c = Client()
    body = c.get(f"{BASE}/items/371522000201-P").json()
    assert [m["name"] for m in body["materials"]] == ["申请书", "场所证明"]
    assert body["materials"][0]["accepted_types"] == ["pdf", "jpg", "png"] and body["materials"][0]["required"]
    assert [s["key"] for s in body["process"]] == ["accept", "review", "decide", "issue"]
    assert body["process"][2]["after_names"] == ["审查"]
    assert body["total_days"] == 7 and body["apply_url"] == "/egov/apply/371522000201-P/"
    assert body["bundles"] == [{"code": bundle.code, "name": "企业开办一件事"}]
    missing = c.get(f"{BASE}/items/NOPE")
    assert missing.status_code == 404 and missing.json()["field"] == "code"

    bundles = c.get(f"{BASE}/bundles", {"division": SX}).json()
    assert bundles["total"] == 1
    members = bundles["bundles"][0]["members"]
    assert [(m["item_code"], m["prior"]) for m in members] == [("371522000201-P", True), ("371522000202-M", False)]
    assert bundles["bundles"][0]["issue_together"] and bundles["bundles"][0]["longest_promised_days"] == 5
    assert c.get(f"{BASE}/bundles", {"division": "371521"}).json()["total"] == 0
    assert c.get(f"{BASE}/bundles", {"division": "99"}).json()["field"] == "division"


def test_indicators_online_and_disclosure_shares(staff: dict[str, Any]) -> None:
    make_item("371522000301-A")
    online = make_item("371522000302-B")
    online.online_depth = 4
    online.save()
    dept = Department.objects.get(code=BUREAU)
    disclosure.publish_document(acting_user=staff["officer"], department=dept, title="公开的文件",
                                issued_on=dt.date(2026, 3, 1), category="综合政务", body="正文")
    disclosure.publish_document(acting_user=staff["officer"], department=dept, title="不予公开的文件",
                                issued_on=dt.date(2026, 3, 2), category="综合政务", disclosure_type="not_public")
    body = Client().get(f"{BASE}/indicators", {"division": SX}).json()
    assert body["division"] == SX
    overall = body["online"]["overall"]
    assert (overall["items"], overall["online"], overall["fully_online"]) == (2, 1, 1)
    assert overall["online_share"] == 50.0 and not overall["meets_target"] and body["online"]["target"] == 80.0
    assert body["online"]["departments"][0]["code"] == department_code(SX, "market_regulation")
    assert body["disclosure"]["overall"]["documents"] == 2 and body["disclosure"]["overall"]["share"] == 50.0
    assert body["disclosure"]["departments"][0]["code"] == BUREAU
    assert Client().get(f"{BASE}/indicators", {"division": "371599"}).json()["field"] == "division"


def test_document_search_snippet_pagination_and_latest(staff: dict[str, Any]) -> None:
    dept = Department.objects.get(code=BUREAU)
    for i in range(3):
        disclosure.publish_document(
            acting_user=staff["officer"], department=dept, title=f"关于加强城市管理工作的通知（第{i + 1}号）",
            issued_on=dt.date(2026, 4, i + 1), category="城乡建设",
            body="为进一步提升城市管理水平，现就有关事项通知如下。" * 3)
    disclosure.publish_document(acting_user=staff["officer"], department=dept, title="涉密的城市管理文件",
                                issued_on=dt.date(2026, 4, 9), category="城乡建设", body="城市管理", classified=True)
    c = Client()
    body = c.get(f"{BASE}/documents", {"q": "城市管理"}).json()
    assert body["total"] == 3 and body["exact"]
    assert all("涉密" not in d["title"] for d in body["documents"])
    hit = body["documents"][0]
    assert "城市管理" in hit["snippet"] and "<mark>" not in hit["snippet"]
    assert "<mark>城市管理</mark>" in hit["snippet_html"] and "<mark>城市管理</mark>" in hit["title_html"]
    assert hit["index_number"].startswith(f"{BUREAU}/2026-") and hit["department"] == BUREAU
    assert hit["url"] == f"/egov/disclosure/documents/{hit['id']}/"
    page = c.get(f"{BASE}/documents", {"q": "城市管理", "limit": 2, "offset": 2}).json()
    assert page["total"] == 3 and len(page["documents"]) == 1
    assert c.get(f"{BASE}/documents", {"q": "港口"}).json()["total"] == 0
    latest = c.get(f"{BASE}/documents").json()
    assert latest["total"] == 3 and latest["documents"][0]["title"].endswith("（第3号）")
    assert c.get(f"{BASE}/documents", {"q": "城市管理", "department": "nope"}).json()["field"] == "department"
    assert c.get(f"{BASE}/documents", {"limit": 500}).json()["field"] == "limit"


# --- certificate verification ------------------------------------------------------------------------------

def test_verify_valid_masked_person_revoked_tampered_expired_not_found(staff: dict[str, Any]) -> None:
    citizen_item("371522000401-C")
    case = issued_case(staff, citizen(), "371522000401-C", data={})
    cert = Certificate.objects.get(case=case)
    c = Client()
    body = c.get(f"{BASE}/verify/{cert.verification_code.lower()}").json()
    assert body["status"] == "valid" and body["valid"] and body["message"] == "证照有效"
    assert body["holder"] == "王**" and body["number"] == cert.number and body["title"] == "证照371522000401-C"
    assert body["issuer"] == Department.objects.get(code=department_code(SX, "market_regulation")).name
    assert body["issued_on"] == timezone.localdate().isoformat()

    Certificate.objects.filter(pk=cert.pk).update(valid_until=timezone.localdate() - dt.timedelta(days=1))
    assert c.get(f"{BASE}/verify/{cert.verification_code}").json()["status"] == "expired"
    with cert.pdf.storage.open(cert.pdf.name, "wb") as fh:
        fh.write(b"%PDF-1.4 altered")
    assert c.get(f"{BASE}/verify/{cert.verification_code}").json()["status"] == "tampered"
    certificates.revoke_certificate(cert, acting_user=staff["issuer"], reason="证照已变更")
    revoked = c.get(f"{BASE}/verify/{cert.verification_code}").json()
    assert revoked["status"] == "revoked" and not revoked["valid"] and revoked["revoked_on"]

    missing = c.get(f"{BASE}/verify/AAAAAAAAAAAAAAAA")
    assert missing.status_code == 404
    assert missing.json()["status"] == "not_found" and missing.json()["holder"] is None


# --- the applicant and the staff ----------------------------------------------------------------------------

def test_full_cycle_through_the_api(staff: dict[str, Any]) -> None:
    make_item("371522000501-E")
    user = enterprise()
    app = submitted(user, "371522000501-E")
    number = app.number
    case = app.cases.get()
    me = client_for(user)

    mine = me.get(f"{BASE}/applications").json()
    assert mine["total"] == 1 and mine["applications"][0]["number"] == number
    assert mine["applications"][0]["status"] == "submitted" and mine["applications"][0]["title"] == "事项371522000501-E"
    assert client_for().get(f"{BASE}/applications").status_code == 401
    assert client_for(staff["intake"]).get(f"{BASE}/applications").status_code == 403  # not an applicant
    other = client_for(enterprise("ent2", "91371522MA3C0BBB0X"))
    assert other.get(f"{BASE}/applications/{number}").status_code == 404  # not theirs

    # the applicant is no staff: no queue, no acceptance
    assert me.get(f"{BASE}/cases").status_code == 403
    assert post(me, f"/cases/{case.number}/accept", {}).status_code == 403
    assert client_for().get(f"{BASE}/cases").status_code == 401

    intake = client_for(staff["intake"])
    queue = intake.get(f"{BASE}/cases", {"queue": "accept"}).json()
    assert queue["total"] == 1 and queue["cases"][0]["number"] == case.number
    assert queue["cases"][0]["applicant_name"] == "聊城示例贸易有限公司"
    assert client_for(staff["other"]).get(f"{BASE}/cases", {"queue": "accept"}).json()["total"] == 0
    assert intake.get(f"{BASE}/cases", {"queue": "review"}).status_code == 403
    bad = intake.get(f"{BASE}/cases", {"queue": "later"})
    assert bad.status_code == 400 and bad.json()["field"] == "queue"

    # a reviewer cannot accept; another county's intake cannot either; nothing written
    audits = AuditRecord.objects.count()
    refused = post(client_for(staff["reviewer"]), f"/cases/{case.number}/accept", {})
    assert refused.status_code == 403 and refused.json()["error"] == "permission_denied"
    assert "受理办件" in refused.json()["message"]
    assert post(client_for(staff["other"]), f"/cases/{case.number}/accept", {}).status_code == 403
    assert AuditRecord.objects.count() == audits and Case.objects.get(pk=case.pk).status == CaseStatus.WAITING

    accepted = post(intake, f"/cases/{case.number}/accept", {"opinion": "材料齐全"})
    assert accepted.status_code == 200
    detail = accepted.json()
    assert detail["status"] == "in_review" and detail["promised_due_at"]
    assert {s["key"]: s["status"] for s in detail["steps"]} == {
        "accept": "done", "review": "active", "decide": "pending", "issue": "pending"}
    again = post(intake, f"/cases/{case.number}/accept", {})
    assert again.status_code == 409 and again.json()["error"] == "invalid_transition"

    reviewer = client_for(staff["reviewer"])
    review_queue = reviewer.get(f"{BASE}/cases", {"queue": "review"}).json()
    assert [c["number"] for c in review_queue["cases"]] == [case.number]
    assert [s["key"] for s in reviewer.get(f"{BASE}/cases/{case.number}").json()["steps"] if s["can_take"]] == [
        "review"]
    not_active = post(reviewer, f"/cases/{case.number}/steps/decide", {})
    assert not_active.status_code == 403  # the decision step needs the approver's permission
    assert not_active.json()["error"] == "permission_denied" and "审批决定" in not_active.json()["message"]
    assert post(reviewer, f"/cases/{case.number}/steps/nope", {}).json()["field"] == "key"
    assert post(reviewer, f"/cases/{case.number}/steps/review", {"opinion": "符合条件"}).status_code == 200

    approver = client_for(staff["approver"])
    wrong = post(approver, f"/cases/{case.number}/steps/decide", {"outcome": "maybe"})
    assert wrong.status_code == 400 and wrong.json()["field"] == "outcome"
    no_reason = post(approver, f"/cases/{case.number}/steps/decide", {"outcome": "reject"})
    assert no_reason.status_code == 400 and no_reason.json()["field"] == "opinion"
    assert post(approver, f"/cases/{case.number}/steps/decide", {"opinion": "同意"}).json()["status"] == "approved"

    issued = post(client_for(staff["issuer"]), f"/cases/{case.number}/steps/issue", {})
    assert issued.status_code == 200
    assert issued.json()["status"] == "issued" and len(issued.json()["certificates"]) == 1

    progress = me.get(f"{BASE}/applications/{number}").json()
    assert progress["status"] == "issued" and progress["status_label"] == "已办结"
    part = progress["cases"][0]
    assert part["number"] == case.number and part["status"] == "issued" and part["open_correction"] is None
    assert [s["status"] for s in part["steps"]] == ["done"] * 4
    cert = part["certificates"][0]
    assert cert["pdf_url"] == f"/egov/certificates/{cert['number']}.pdf"
    assert cert["verify_url"].endswith(f"/egov/verify/{cert['verification_code']}/")
    actions = [e["action"] for e in progress["timeline"]]
    assert actions[:2] == ["received", "submitted"] and "accepted" in actions and "issued" in actions
    assert next(e for e in progress["timeline"] if e["action"] == "accepted")["label"] == "已受理"
    assert all("actor" not in e for e in progress["timeline"])  # officers are not named to the applicant
    verified = Client().get(f"{BASE}/verify/{cert['verification_code']}").json()
    assert verified["status"] == "valid" and verified["holder"] == "聊城示例贸易有限公司"  # an enterprise: in full


def test_refuse_and_correction_errors_and_progress(staff: dict[str, Any]) -> None:
    make_item("371522000601-R")
    user = enterprise()
    first = submitted(user, "371522000601-R").cases.get()
    intake = client_for(staff["intake"])
    empty = post(intake, f"/cases/{first.number}/refuse", {"reason": "  "})
    assert empty.status_code == 400 and empty.json()["field"] == "reason" and empty.json()["message_zh"]
    assert post(intake, f"/cases/{first.number}/refuse", []).status_code == 422  # not the schema at all
    assert post(intake, f"/cases/{first.number}/refuse", {}).status_code == 422  # reason missing
    assert Case.objects.get(pk=first.pk).status == CaseStatus.WAITING
    refused = post(intake, f"/cases/{first.number}/refuse", {"reason": "不属于本机关职权范围"})
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    assert refused.json()["reason"] == "不属于本机关职权范围"
    assert post(intake, "/cases/NOPE/refuse", {"reason": "x"}).status_code == 404

    applications.start_application(acting_user=user, item_code="371522000601-R")  # a new draft is allowed
    second = submitted(user, "371522000601-R").cases.get()
    no_items = post(intake, f"/cases/{second.number}/corrections", {"items": ""})
    assert no_items.status_code == 400 and no_items.json()["field"] == "items"
    asked = post(intake, f"/cases/{second.number}/corrections", {"items": "补充场所证明"})
    assert asked.status_code == 201 and asked.json()["status"] == "correction"
    assert asked.json()["corrections"][0]["items"] == "补充场所证明"
    assert post(intake, f"/cases/{second.number}/accept", {}).status_code == 409

    me = client_for(user)
    mine = me.get(f"{BASE}/applications").json()
    assert mine["total"] == 2 and {a["status"] for a in mine["applications"]} == {"refused", "correction"}
    progress = me.get(f"{BASE}/applications/{second.application.number}").json()
    assert progress["cases"][0]["open_correction"]["items"] == "补充场所证明"


def test_staff_case_view_masks_personal_data_without_the_right(staff: dict[str, Any]) -> None:
    citizen_item("371522000701-C")
    person = citizen()
    person.phone = "13812345678"
    person.save()
    case = submitted(person, "371522000701-C", data={}).cases.get()
    masked = client_for(staff["intake"]).get(f"{BASE}/cases/{case.number}").json()
    assert masked["id_number"] == "371522********1234" and masked["phone"] == "138****5678"
    assert masked["can_accept"] and masked["can_correct"]
    full = client_for(staff["data"]).get(f"{BASE}/cases/{case.number}").json()
    assert full["id_number"] == "371522199001011234" and full["phone"] == "13812345678"
    assert client_for(staff["other"]).get(f"{BASE}/cases/{case.number}").status_code == 403
    assert client_for(staff["intake"]).get(f"{BASE}/cases/NOPE").status_code == 404


def test_unsafe_methods_need_the_csrf_token(staff: dict[str, Any]) -> None:
    make_item("371522000801-X")
    case = submitted(enterprise(), "371522000801-X").cases.get()
    c = client_for(staff["intake"], enforce_csrf_checks=True)
    assert post(c, f"/cases/{case.number}/accept", {}).status_code == 403
    assert Case.objects.get(pk=case.pk).status == CaseStatus.WAITING
    c.cookies["csrftoken"] = "a" * 32
    response = c.post(f"{BASE}/cases/{case.number}/accept", {}, content_type=JSON, HTTP_X_CSRFTOKEN="a" * 32)
    assert response.status_code == 200 and response.json()["status"] == "in_review"


def test_openapi_documents_the_egov_operations(db: None) -> None:
    paths = set(Client().get("/api/openapi.json").json()["paths"])
    assert {f"{BASE}/items", f"{BASE}/items/{{code}}", f"{BASE}/bundles", f"{BASE}/verify/{{code}}",
            f"{BASE}/documents", f"{BASE}/indicators", f"{BASE}/applications", f"{BASE}/applications/{{number}}",
            f"{BASE}/cases", f"{BASE}/cases/{{number}}", f"{BASE}/cases/{{number}}/accept",
            f"{BASE}/cases/{{number}}/refuse", f"{BASE}/cases/{{number}}/steps/{{key}}",
            f"{BASE}/cases/{{number}}/corrections"} <= paths


def test_lists_take_a_fixed_number_of_queries(staff: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    for i in range(6):
        make_item(f"37152200090{i}-Q")
    user = enterprise()
    for i in range(6):
        submitted(user, f"37152200090{i}-Q")
    intake, me, c = client_for(staff["intake"]), client_for(user), Client()
    for client, path, key in ((intake, "/cases", "cases"), (me, "/applications", "applications"),
                              (c, "/items", "items")):
        with django_assert_max_num_queries(8):
            assert len(client.get(f"{BASE}{path}").json()[key]) == 6, path
