"""The staff pages of the service hall: creating a service item (with the process row editor), withdrawing an
item, editing and withdrawing published documents, and revoking certificates. Each test drives the pages with
the Django test client and checks what the clerk and the public would see."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from liaocheng.core.departments import department_code
from liaocheng.core.models import AuditRecord, Department, User
from liaocheng.egov import catalogue, certificates, disclosure, search
from liaocheng.egov.models import CaseStatus, ItemStatus, ServiceItem
from liaocheng.egov.tests.test_supervision import SX, at, make_applicant, make_case
from liaocheng.egov.tests.test_supervision import make_item as make_case_item

pytestmark = pytest.mark.django_db
CITY = "371500"
MR = department_code(CITY, "market_regulation")
HEALTH = department_code(CITY, "health")
GOV = department_code(CITY, "party_government_office")


def _login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def clerks(staff_factory: Any) -> dict[str, Any]:
    catalogue.load_item_types()
    return {
        "admin": staff_factory("cat_admin", department_code=MR, roles=(("egov_catalogue_admin", CITY),)),
        "editor": staff_factory("cat_edit", department_code=MR, roles=(("egov_item_admin", CITY),)),
        "other": staff_factory("cat_other", department_code=HEALTH, roles=(("clerk", CITY),)),
    }


def _steps(*rows: tuple[str, str, str, str, str]) -> dict[str, list[str]]:
    """The process editor's inputs: one (key, name, role, days, after) tuple per row, plus a blank row."""
    rows = (*rows, ("", "", "", "", ""))
    return {f"step_{name}": [r[i] for r in rows] for i, name in enumerate(("key", "name", "role", "limit_days",
                                                                             "after"))}


def _new_item_form(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "item_type": "01", "basic_code": "010120099000", "name": "小餐饮经营许可",
        "legal_basis": "《山东省食品小作坊小餐饮和食品摊点管理条例》",
        "conditions": "有固定经营场所", "statutory_days": "20", "promised_days": "8", "fee": "不收费",
        "serves": "both", "online_depth": "4", "max_visits": "0", "result_name": "小餐饮经营许可证",
        "result_kind": "licence", "credit_rule": "flag",
        **_steps(("accept", "受理", "egov_intake", "1", ""), ("site", "现场核查", "egov_reviewer", "3", "受理"),
                 ("docs", "材料审查", "egov_reviewer", "2", "accept"),
                 ("decide", "决定", "egov_approver", "2", "site, docs"), ("issue", "制证", "egov_issuer", "1", "决定")),
    }
    data.update(over)
    return data


# --- 新建事项 ---------------------------------------------------------------------------------------------

def test_department_clerk_creates_an_item_for_their_own_department(clerks: dict[str, Any]) -> None:
    client = _login(clerks["editor"])
    listing = client.get("/egov/manage/items/").content.decode()
    assert 'href="/egov/manage/items/new/"' in listing and "新建事项" in listing
    page = client.get("/egov/manage/items/new/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "聊城市市场监督管理局" in html and 'name="department"' in html
    assert '<select class="input" id="id_department"' not in html  # the own department is fixed, not chosen
    assert html.count('name="step_key"') == 5  # the standard process (4 steps) and a blank row
    assert "窗口受理人员" in html  # roles offered by name

    resp = client.post("/egov/manage/items/new/", _new_item_form())
    item = ServiceItem.objects.get(basic_code="010120099000")
    assert resp.status_code == 302 and resp["Location"] == f"/egov/manage/items/{item.code}/"
    assert item.code == "010120099000-371500-012" and item.department.code == MR
    assert item.status == ItemStatus.DRAFT and item.serves == "both" and item.credit_rule == "flag"
    assert item.online_depth == 4 and item.promised_days == 8 and item.item_type.code == "01"
    # prior steps named by key or by step name are stored as keys
    assert [(s["key"], s["after"]) for s in item.process] == [
        ("accept", []), ("site", ["accept"]), ("docs", ["accept"]), ("decide", ["site", "docs"]), ("issue", ["decide"])]
    assert catalogue.process_total_days(item.process) == 7
    assert item.form_fields  # an application form is set up for the target group
    assert AuditRecord.objects.filter(action="egov.create_item", object_id=item.code).count() == 1
    edit = client.get(resp["Location"]).content.decode()
    assert "事项已创建为草稿" in edit and "现场核查" in edit and "最长路径 7 个工作日" in edit
    # draft: not in the public catalogue yet
    assert Client().get(f"/egov/items/{item.code}/").status_code == 404


@pytest.mark.parametrize(("over", "field", "message"), [
    ({"basic_code": "01012"}, "basic_code", "基本编码应为12位数字"),
    ({"name": ""}, "name", "请填写事项名称"),
    ({"promised_days": "30"}, "promised_days", "承诺办结时限不得超过法定办结时限"),
    ({"promised_days": "5"}, "process", "各环节时限合计（最长路径7个工作日）超过承诺办结时限5个工作日"),
    ({"item_type": ""}, "item_type", "请选择事项类型"),
    (_steps(("accept", "受理", "egov_intake", "1", ""), ("review", "审查", "egov_reviewer", "2", "复核")),
     "process", "环节“审查”的前序环节“复核”不存在（第2行）"),
    (_steps(("accept", "受理", "", "1", "")), "process", "环节“受理”的办理角色“”不存在（第1行）"),
    (_steps(("accept", "受理", "egov_intake", "一天", "")), "process", "环节“受理”的时限应为正整数（工作日）"),
])
def test_new_item_errors_are_shown_at_the_field(clerks: dict[str, Any], over: dict[str, Any], field: str,
                                                 message: str) -> None:
    client = _login(clerks["editor"])
    resp = client.post("/egov/manage/items/new/", _new_item_form(**over))
    html = resp.content.decode()
    assert resp.status_code == 400 and not ServiceItem.objects.filter(basic_code="010120099000").exists()
    assert f'data-field="{field}"' in html
    assert f'<p class="field-error" id="id_{field}_error">' in html and message in html
    assert 'value="有固定经营场所"' not in html  # textarea content, not an attribute
    assert "有固定经营场所" in html  # what was typed is kept


def test_field_errors_follow_the_language(clerks: dict[str, Any], settings: Any) -> None:
    client = _login(clerks["editor"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    resp = client.post("/egov/manage/items/new/", _new_item_form(basic_code="12"))
    assert resp.status_code == 400 and "the basic code must be 12 digits" in resp.content.decode()


def test_process_error_marks_the_row(clerks: dict[str, Any]) -> None:
    client = _login(clerks["editor"])
    html = client.post("/egov/manage/items/new/", _new_item_form(**_steps(
        ("accept", "受理", "egov_intake", "1", ""), ("review", "审查", "egov_reviewer", "2", "复核")))).content.decode()
    rows = html.split("<tr data-step-row")
    assert 'aria-invalid="true"' not in rows[1] and 'aria-invalid="true"' in rows[2]
    assert 'value="复核"' in rows[2]  # the typed rows are shown again


def test_new_item_department_choice_and_permissions(clerks: dict[str, Any], staff_factory: Any) -> None:
    assert _login(clerks["other"]).get("/egov/manage/items/new/").status_code == 403  # no egov.manage_items
    root = User.objects.create_superuser("cat_root", password="Root-pass-2026!")
    client = _login(root)
    html = client.get("/egov/manage/items/new/").content.decode()
    assert 'id="id_department"' in html and f'value="{HEALTH}"' in html  # a superuser chooses the department
    resp = client.post("/egov/manage/items/new/", _new_item_form(department=HEALTH, basic_code="010130099000"))
    assert resp.status_code == 302
    assert ServiceItem.objects.get(basic_code="010130099000").department.code == HEALTH
    # a clerk cannot smuggle another department in: the own department is used
    client = _login(clerks["admin"])
    assert client.post("/egov/manage/items/new/", _new_item_form(department=HEALTH)).status_code == 302
    assert ServiceItem.objects.get(basic_code="010120099000").department.code == MR
    # the same basic code twice in one department
    again = client.post("/egov/manage/items/new/", _new_item_form())
    assert again.status_code == 400 and "该部门已有相同基本编码的事项" in again.content.decode()


def test_edit_page_process_rows_publish_and_withdraw(clerks: dict[str, Any]) -> None:
    client = _login(clerks["admin"])
    client.post("/egov/manage/items/new/", _new_item_form())
    item = ServiceItem.objects.get(basic_code="010120099000")
    url = f"/egov/manage/items/{item.code}/"
    form = {k: v for k, v in _new_item_form().items() if k not in ("basic_code",)}
    form["materials"] = ("营业执照 | 必要 | electronic | pdf | 政府部门核发\n"
                         "场所平面图 | 非必要 | both | pdf,jpg | 申请人自备")
    # a step removed and one changed: the rows are the process
    form.update(_steps(("accept", "受理", "egov_intake", "1", ""), ("decide", "审批", "egov_approver", "3", "accept")))
    resp = client.post(url, form)
    assert resp.status_code == 302
    item.refresh_from_db()
    assert [s["name"] for s in item.process] == ["受理", "审批"] and item.process[1]["limit_days"] == 3
    assert [m.name for m in item.materials.all()] == ["营业执照", "场所平面图"]
    page = client.get(url).content.decode()
    assert 'value="审批"' in page and "发布事项" in page

    client.post(f"{url}publish/", {"action": "publish", "next": "edit"})
    item.refresh_from_db()
    assert item.status == ItemStatus.PUBLISHED and Client().get(f"/egov/items/{item.code}/").status_code == 200
    page = client.get(url).content.decode()
    assert 'value="withdraw"' in page and "停用" in page
    resp = client.post(f"{url}publish/", {"action": "withdraw", "next": "edit"})
    assert resp.status_code == 302 and resp["Location"] == url
    item.refresh_from_db()
    assert item.status == ItemStatus.WITHDRAWN
    assert "事项已停用" in client.get(url).content.decode()
    assert Client().get(f"/egov/items/{item.code}/").status_code == 404
    assert item.code not in Client().get("/egov/items/", {"q": "小餐饮"}).content.decode()
    # an item editor (no egov.publish_items) gets no publish/withdraw button and cannot post it
    editor = _login(clerks["editor"])
    assert 'value="publish"' not in editor.get(url).content.decode()
    assert editor.post(f"{url}publish/", {"action": "publish"}).status_code == 403


def test_publish_error_is_shown_on_the_edit_page(clerks: dict[str, Any]) -> None:
    client = _login(clerks["admin"])
    client.post("/egov/manage/items/new/", _new_item_form())
    item = ServiceItem.objects.get(basic_code="010120099000")
    resp = client.post(f"/egov/manage/items/{item.code}/publish/", {"action": "publish", "next": "edit"})
    html = resp.content.decode()
    assert resp.status_code == 400 and "发布前请先维护申请材料" in html and 'id="id_materials_error"' in html
    assert 'value="小餐饮经营许可"' in html  # the whole edit page, not an empty form


# --- 政府信息: edit and withdraw ----------------------------------------------------------------------------

@pytest.fixture
def officer(staff_factory: Any) -> Any:
    return staff_factory("gk_staff", department_code=GOV, roles=(("egov_disclosure_officer", CITY),))


def _publish(officer: Any, title: str, body: str = "正文") -> Any:
    return disclosure.publish_document(acting_user=officer, department=Department.objects.get(code=GOV), title=title,
                                       issued_on=dt.date(2026, 3, 2), category="城乡建设", body=body,
                                       doc_number="聊政办发〔2026〕5号")


def test_staff_edits_a_document_and_the_public_site_follows(officer: Any) -> None:
    doc = _publish(officer, "关于做好冬季清洁取暖工作的通知", "今年新增集中供热面积120万平方米。")
    other = _publish(officer, "关于开展春季植树活动的通知")
    client = _login(officer)
    listing = client.get(reverse("egov_disclosure:staff_documents")).content.decode()
    assert doc.title in listing and other.title in listing and doc.index_number in listing
    assert "信息管理" in listing  # in the disclosure navigation
    page = client.get(reverse("egov_disclosure:staff_document", args=[doc.pk])).content.decode()
    assert 'value="关于做好冬季清洁取暖工作的通知"' in page and "集中供热面积" in page

    form = {"title": "关于做好冬季清洁供暖工作的通知", "doc_number": "聊政办发〔2026〕5号", "issued_on": "2026-03-02",
            "category": "城乡建设", "disclosure_type": "proactive", "body": "今年新增集中供热面积150万平方米。"}
    bad = client.post(reverse("egov_disclosure:staff_document", args=[doc.pk]), {**form, "title": " "})
    assert bad.status_code == 400 and "标题不能为空" in bad.content.decode()
    assert 'id="id_title_error"' in bad.content.decode()
    bad = client.post(reverse("egov_disclosure:staff_document", args=[doc.pk]), {**form, "issued_on": "2026-13-40"})
    assert bad.status_code == 400 and "成文日期无效" in bad.content.decode()
    resp = client.post(reverse("egov_disclosure:staff_document", args=[doc.pk]), form)
    assert resp.status_code == 302
    public = Client()
    assert "清洁供暖" in public.get(reverse("egov_disclosure:document", args=[doc.pk])).content.decode()
    result = public.get(reverse("egov_disclosure:index"), {"q": "150万"}).content.decode()
    assert "找到 1 条结果" in result
    assert search.search_documents("120万").total == 0  # the index follows the edited text
    assert AuditRecord.objects.filter(action="egov.document.update", object_id=str(doc.pk)).count() == 1


def test_withdrawing_a_document_needs_a_reason_and_hides_it(officer: Any) -> None:
    doc = _publish(officer, "关于调整城区供热价格的通知", "居民供热价格每平方米22元。")
    public = Client()
    dept_url = reverse("egov_disclosure:department", args=[GOV])
    assert "城乡建设" in public.get(dept_url).content.decode()
    assert search.search_documents("供热价格").total == 1
    client = _login(officer)
    withdraw_url = reverse("egov_disclosure:staff_document_withdraw", args=[doc.pk])
    bad = client.post(withdraw_url, {"reason": "  "})
    assert bad.status_code == 400 and "请填写撤回理由" in bad.content.decode()
    assert 'id="id_reason_error"' in bad.content.decode()
    resp = client.post(withdraw_url, {"reason": "价格标准已调整，另行发布"})
    assert resp.status_code == 302 and resp["Location"] == reverse("egov_disclosure:staff_documents")
    listing = client.get(resp["Location"]).content.decode()
    assert "已撤回" in listing and "价格标准已调整，另行发布" in listing
    page = client.get(reverse("egov_disclosure:staff_document", args=[doc.pk])).content.decode()
    assert "已撤回" in page and 'id="withdraw-form"' not in page
    # the public no longer sees it: document page, search, department catalogue, latest list
    assert public.get(reverse("egov_disclosure:document", args=[doc.pk])).status_code == 404
    assert search.search_documents("供热价格").total == 0
    assert "找到 0 条结果" in public.get(reverse("egov_disclosure:index"), {"q": "供热价格"}).content.decode()
    assert doc.title not in public.get(reverse("egov_disclosure:index")).content.decode()
    assert doc.title not in public.get(dept_url).content.decode()
    # withdrawing twice is refused with a message
    again = client.post(withdraw_url, {"reason": "再次撤回"})
    assert again.status_code == 409 and "该信息未公开" in again.content.decode()


def test_documents_of_another_division_are_out_of_reach(officer: Any, staff_factory: Any) -> None:
    doc = _publish(officer, "市级文件")
    county = staff_factory("gk_county", department_code=department_code(SX, "party_government_office"),
                           roles=(("egov_disclosure_officer", SX),))
    client = _login(county)
    assert doc.title not in client.get(reverse("egov_disclosure:staff_documents")).content.decode()
    assert client.get(reverse("egov_disclosure:staff_document", args=[doc.pk])).status_code == 403
    assert client.post(reverse("egov_disclosure:staff_document_withdraw", args=[doc.pk]),
                       {"reason": "越权"}).status_code == 403
    doc.refresh_from_db()
    assert doc.published_at is not None
    nobody = staff_factory("gk_nobody", department_code=GOV, roles=(("clerk", CITY),))
    assert _login(nobody).get(reverse("egov_disclosure:staff_documents")).status_code == 403


# --- 证照注销 -----------------------------------------------------------------------------------------------

@pytest.fixture
def issued(settings: Any, tmp_path: Any, staff_factory: Any) -> dict[str, Any]:
    settings.MEDIA_ROOT = str(tmp_path)
    case = make_case(make_case_item(), applicant=make_applicant("ent_cert"), status=CaseStatus.APPROVED)
    issuer = staff_factory("cert_issuer", department_code=department_code(SX, "market_regulation"),
                           roles=(("egov_issuer", SX),))
    cert = certificates.issue_certificate(case, acting_user=issuer, issued_at=at(10, 9, 10))
    return {"cert": cert, "issuer": issuer}


def test_issuer_finds_and_revokes_a_certificate(issued: dict[str, Any]) -> None:
    cert = issued["cert"]
    client = _login(issued["issuer"])
    url = reverse("egov_supervision:staff_certificates")
    start = client.get(url).content.decode()
    assert start.count(cert.number) >= 1 and "最近签发的证照" in start
    # by verification code, typed in lower case with separators
    code = cert.verification_code.lower()
    page = client.get(url, {"q": f"{code[:4]}-{code[4:8]} {code[8:]}"}).content.decode()
    assert 'data-status="valid"' in page and "证照有效" in page and "聊城市鲁西食品有限公司" in page
    by_number = client.get(url, {"q": cert.number}).content.decode()
    assert cert.verification_code in by_number and 'id="revoke-form"' in by_number
    missing = client.get(url, {"q": "371522-000000000000-2026-99999"})
    assert missing.status_code == 404 and "未找到该证照" in missing.content.decode()

    revoke_url = reverse("egov_supervision:staff_certificate_revoke", args=[cert.number])
    bad = client.post(revoke_url, {"reason": " "})
    assert bad.status_code == 400 and "请填写注销理由" in bad.content.decode()
    assert 'id="id_reason_error"' in bad.content.decode()
    cert.refresh_from_db()
    assert cert.revoked_at is None
    resp = client.post(revoke_url, {"reason": "企业申请注销"})
    assert resp.status_code == 302
    after = client.get(resp["Location"]).content.decode()
    assert "证照已注销" in after and "企业申请注销" in after and 'id="revoke-form"' not in after
    public = Client().get(f"/egov/verify/{cert.verification_code}/").content.decode()
    assert 'data-status="revoked"' in public and "证照已注销" in public
    assert AuditRecord.objects.filter(action="egov.certificate_revoke", object_id=str(cert.pk)).count() == 1
    again = client.post(revoke_url, {"reason": "再次注销"})
    assert again.status_code == 409 and "证照已注销" in again.content.decode()


def test_certificates_outside_the_scope_cannot_be_revoked(issued: dict[str, Any], staff_factory: Any) -> None:
    cert = issued["cert"]
    other_county = staff_factory("cert_other", department_code=department_code("371521", "market_regulation"),
                                 roles=(("egov_issuer", "371521"),))
    client = _login(other_county)
    url = reverse("egov_supervision:staff_certificates")
    assert client.get(url, {"q": cert.number}).status_code == 404
    assert cert.number not in client.get(url).content.decode()
    assert client.post(reverse("egov_supervision:staff_certificate_revoke", args=[cert.number]),
                       {"reason": "越权"}).status_code == 404
    reviewer = staff_factory("cert_reviewer", department_code=department_code(SX, "market_regulation"),
                             roles=(("egov_reviewer", SX),))
    assert _login(reviewer).get(url).status_code == 403
    assert _login(reviewer).post(reverse("egov_supervision:staff_certificate_revoke", args=[cert.number]),
                                 {"reason": "无权"}).status_code == 403
    cert.refresh_from_db()
    assert cert.revoked_at is None


def test_staff_navigation_links(clerks: dict[str, Any]) -> None:
    html = _login(clerks["editor"]).get("/egov/items/").content.decode()
    for url in ("/egov/manage/items/", "/egov/manage/items/new/", "/egov/disclosure/manage/documents/",
                "/egov/manage/certificates/"):
        assert f'href="{url}"' in html
    assert "/egov/manage/certificates/" not in Client().get("/egov/items/").content.decode()


# --- the process row editor in a browser ----------------------------------------------------------------------

@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_process_row_editor_adds_and_removes_rows(browser: Any, live_server: Any, staff_factory: Any) -> None:
    from liaocheng.core.testing import totp_code

    catalogue.load_item_types()
    clerk = staff_factory("cat_browser", department_code=MR, roles=(("egov_item_admin", CITY),))
    context = browser.new_context(locale="zh-CN")
    errors: list[str] = []
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", clerk.username)
        page.fill("#id_password", clerk.raw_password)
        page.fill("#id_totp", totp_code(clerk))
        page.click("form[action='/login/'] button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{live_server.url}/egov/manage/items/new/")
        rows = page.locator("#process-steps tbody tr")
        assert rows.count() == 4  # the standard process; the spare blank row is replaced by the add button
        page.click("[data-add-step]")
        page.click("[data-add-step]")
        assert rows.count() == 6
        fifth = rows.nth(4)
        assert fifth.locator("input[name=step_after]").input_value() == "issue"  # follows the last step
        fifth.locator("input[name=step_name]").fill("归档")
        fifth.locator("select[name=step_role]").select_option("egov_issuer")
        fifth.locator("input[name=step_limit_days]").fill("1")
        rows.nth(5).locator("[data-remove-step]").click()
        assert rows.count() == 5 and rows.nth(4).locator(".step-no").inner_text() == "5"
        screenshots = Path.cwd() / "var" / "screenshots"
        screenshots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshots / "egov_staff_item_new.png"), full_page=True)
        page.fill("#id_basic_code", "010120098000")
        page.select_option("#id_item_type", "01")
        page.fill("#id_name", "食品小作坊登记")
        page.click("#item-new-form button[type=submit]")
        page.wait_for_url("**/egov/manage/items/010120098000-371500-012/")
        item = ServiceItem.objects.get(basic_code="010120098000")
        assert [s["name"] for s in item.process] == ["受理", "审查", "决定", "制证", "归档"]
        assert item.process[4]["key"] == "step5" and item.process[4]["after"] == ["issue"]
    finally:
        context.close()
    assert not errors, errors
