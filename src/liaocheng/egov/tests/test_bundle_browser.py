"""One-stop enterprise registration (企业开办一件事) in headless Chromium (issue 6, first "done when" item).

On the demo catalogue and with the demo accounts: an enterprise applies once, with one prior approval (娱乐场所
经营许可, 市文化和旅游局) chosen beside the business licence, the credit code and the tax registration; the
window accepts every case (无差别受理); the culture bureau and market regulation (and the tax bureau) approve in
parallel, each seeing only its own cases; the main items' issue steps wait for the prior approval; the
approval bureau's issuing window issues the licence, the code and the tax registration together; the
applicant follows one application, downloads the licence PDF, reads its verification code and checks it on
the public verification page.

Each actor logs in with password (and one-time code for staff) in their own browser context. Skipped when no
Chromium binary is installed, unless ``LIAOCHENG_REQUIRE_BROWSER`` is set (CI).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from stdnum.cn import uscc

from liaocheng.core.demo import DEMO_PASSWORD, ensure_demo_accounts
from liaocheng.core.models import User
from liaocheng.core.testing import browser_login
from liaocheng.egov.catalogue import ensure_demo_catalogue
from liaocheng.egov.models import Application, ApplicationStatus, Case, CaseStatus, Certificate, StepStatus
from liaocheng.egov.tests.test_certificates import pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BUNDLE = "QYKB-371500"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SCREENSHOTS = Path.cwd() / "var" / "screenshots"


def _login(page: Any, base_url: str, username: str) -> None:
    user = User.objects.get(username=username)
    browser_login(page, base_url, user, DEMO_PASSWORD, landing="/workbench/" if user.kind == "staff" else "/me/")


def _queue(page: Any, base_url: str, queue: str) -> list[str]:
    page.goto(f"{base_url}/egov/cases/?queue={queue}")
    return [a.strip() for a in page.locator("#case-table td.mono a").all_inner_texts()]


def _take_step(page: Any, base_url: str, number: str, key: str, opinion: str = "同意") -> None:
    page.goto(f"{base_url}/egov/cases/{number}/")
    form = page.locator(f"form.action-form[data-step='{key}']")
    form.locator("input[name=opinion]").fill(opinion)
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{base_url}/egov/cases/{number}/")
    assert page.locator("#action-error").count() == 0, page.locator("#action-error").inner_text()


def _status(page: Any) -> str:
    return str(page.locator("#case-status").inner_text()).strip()


def test_enterprise_registration_bundle_with_prior_approval(
        live_server: Any, browser_pages: Callable[..., Any], settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    ensure_demo_catalogue()
    ensure_demo_accounts()
    base = live_server.url

    # --- the enterprise finds the bundle, chooses its one prior approval, fills the form once, submits ---
    applicant = browser_pages()
    _login(applicant, base, "enterprise_demo")
    applicant.goto(f"{base}/egov/bundles/{BUNDLE}/")
    assert "企业开办一件事" in applicant.locator("h1").inner_text()
    applicant.click("#apply")
    applicant.wait_for_url(re.compile(r".*/egov/apply/bundle/QYKB-371500/$"))
    options = applicant.locator("#options-form label.check")
    assert options.count() == 3  # 娱乐场所, 公共场所卫生, 食品经营: chosen per business
    applicant.locator("#options-form label.check", has_text="娱乐场所经营许可").locator("input").check()
    applicant.click("#options-form button[type=submit]")
    applicant.wait_for_url(re.compile(r".*/egov/apply/bundle/QYKB-371500/$"))
    assert applicant.locator("#options-form input:checked").count() == 1
    # base data is filled in, not asked again
    assert applicant.locator("#field_credit_code").input_value() == "91371500MA3C4XXX0J"
    assert applicant.locator("#field_credit_code").get_attribute("readonly") is not None
    values = {"name": "聊城水城之夜文化娱乐有限公司", "entity_type": "有限责任公司", "legal_representative": "李四",
              "registered_capital": "200", "address": "聊城市东昌府区柳园南路88号", "contact": "李四",
              "business_scope": "歌舞娱乐活动；餐饮服务", "phone": "06358881234"}
    for key, value in values.items():
        field = applicant.locator(f"#field_{key}")
        if field.count() and field.get_attribute("readonly") is None and not field.input_value():
            field.fill(value)
    # one set of materials: every distinct material once; the 营业执照 the bundle issues is not asked for
    rows = applicant.locator("#material-table tbody tr")
    names = [t.split("\n")[0].strip() for t in rows.locator("td:first-child").all_inner_texts()]
    assert "营业执照" not in names and len(names) == len(set(names))
    assert any("娱乐经营许可申请书" in n for n in names)
    for i in range(rows.count()):
        rows.nth(i).locator("input[type=file]").set_input_files(
            files=[{"name": f"m{i}.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    applicant.click("#apply-form button[value=submit]")
    applicant.wait_for_url(re.compile(r".*/egov/mine/SQ\w+/$"))
    number = applicant.url.rstrip("/").rsplit("/", 1)[1]
    assert applicant.locator("#overall-status").inner_text().strip() == "已提交"
    assert applicant.locator("#parts-table tbody tr[data-case]").count() == 4
    application = Application.objects.get(number=number)
    cases = {c.item.department.kind + ":" + c.item.name: c.number
             for c in application.cases.select_related("item__department")}
    culture = next(n for k, n in cases.items() if k.startswith("culture_tourism:"))
    licence = next(n for k, n in cases.items() if k == "market_regulation:企业设立登记")
    code = next(n for k, n in cases.items() if k == "market_regulation:统一社会信用代码赋码")
    tax = next(n for k, n in cases.items() if k.startswith("tax:"))

    # --- the service hall window accepts every case (无差别受理) ---
    window = browser_pages()
    _login(window, base, "egov_window")
    assert sorted(_queue(window, base, "accept")) == sorted(cases.values())
    for case_number in cases.values():
        window.goto(f"{base}/egov/cases/{case_number}/")
        window.locator("form.action-form[data-action=accept] button[type=submit]").click()
        window.wait_for_url(f"{base}/egov/cases/{case_number}/")
        assert _status(window) == "审查中"

    # --- two departments (and the tax bureau) hold their own cases at the same time, in parallel ---
    culture_page, market_page, tax_page = browser_pages(), browser_pages(), browser_pages()
    _login(culture_page, base, "egov_culture")
    _login(market_page, base, "egov_approver")
    _login(tax_page, base, "egov_tax")
    assert _queue(culture_page, base, "review") == [culture]
    assert sorted(_queue(market_page, base, "decide")) == sorted([licence, code])
    assert _queue(tax_page, base, "decide") == [tax]
    # the culture bureau cannot act on the business licence
    culture_page.goto(f"{base}/egov/cases/{licence}/")
    assert culture_page.locator("form.action-form[data-action=step]").count() == 0
    # market regulation decides first; the licence waits for the prior approval before it can be issued
    for case_number in (licence, code):
        _take_step(market_page, base, case_number, "decide", "材料齐全，准予登记")
        assert _status(market_page) == "准予许可"
    _take_step(tax_page, base, tax, "decide", "涉税信息确认")
    held = Case.objects.get(number=licence).steps.get(key="issue")
    assert held.status == StepStatus.PENDING
    issuer = browser_pages()
    _login(issuer, base, "egov_issuer")
    assert _queue(issuer, base, "issue") == []
    # the culture bureau's two parallel reviews (材料审查 ∥ 现场核查), joined by its decision
    _take_step(culture_page, base, culture, "review", "材料审查通过")
    assert _status(culture_page) == "审查中"
    _take_step(culture_page, base, culture, "inspect", "现场核查符合要求")
    _take_step(culture_page, base, culture, "decide", "准予许可")
    assert _status(culture_page) == "准予许可"

    # --- the issuing window: the prior licence, then licence + code + tax registration together ---
    assert sorted(_queue(issuer, base, "issue")) == sorted([culture, licence, code, tax])
    _take_step(issuer, base, culture, "issue", "")
    assert _status(issuer) == "已发证"
    _take_step(issuer, base, licence, "issue", "证照同发")
    assert _status(issuer) == "已发证"
    mains = Case.objects.filter(number__in=[licence, code, tax])
    assert {c.status for c in mains} == {CaseStatus.ISSUED}
    assert len({c.issued_at for c in mains}) == 1  # issued together, at one moment
    application.refresh_from_db()
    assert application.status == ApplicationStatus.ISSUED
    # 赋码: every certificate belongs to the new enterprise, under the one credit code assigned to it
    new_code = application.form_data["assigned_credit_code"]
    assert uscc.is_valid(new_code) and new_code.startswith("91371500") and new_code != "91371500MA3C4XXX0J"
    certificates = Certificate.objects.filter(case__application=application)
    assert {(c.holder_name, c.holder_code) for c in certificates} == {(values["name"], new_code)}

    # --- the applicant sees one finished application, downloads the licence, checks its code on the portal ---
    applicant.goto(f"{base}/egov/mine/{number}/")
    assert applicant.locator("#overall-status").inner_text().strip() == "已办结"
    assert applicant.locator("#parts-table a.certificate").count() == 4
    assert "证照同发" in applicant.locator("ol.timeline").inner_text()
    link = applicant.locator(f"#parts-table tr[data-case='{licence}'] a.certificate")
    assert link.inner_text().strip() == "营业执照"
    response = applicant.request.get(base + str(link.get_attribute("href")))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.body())
    assert "营业执照" in text
    found = re.search(r"核验码：([0-9A-Z]+)", text)
    assert found, text
    applicant.goto(f"{base}/egov/verify/")
    applicant.fill("#verify-code", found.group(1))
    applicant.click("form[role=search] button[type=submit]")
    applicant.wait_for_url(re.compile(r".*/egov/verify/[0-9A-Z]+/$"))
    result = applicant.locator("#verify-result")
    assert result.get_attribute("data-status") == "valid"
    assert "营业执照" in result.inner_text() and new_code in text
    assert applicant.locator("#verify-holder").inner_text().strip() == values["name"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    applicant.screenshot(path=str(SCREENSHOTS / "egov-verify.png"), full_page=True)
