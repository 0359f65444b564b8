"""The data-sharing flow in headless Chromium (Playwright, sync API) against the live server: a consuming
department registers a system and applies for fields; the owner approves some and rejects one; the system
reads exactly the granted fields through the exchange API (a non-granted field: 403, logged); the owner
sees the signed log entry and downloads it as evidence.

Skipped when no Chromium binary is installed, unless ``LIAOCHENG_REQUIRE_BROWSER`` is set.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from liaocheng.core.testing import totp_code

SCREENSHOTS = Path.cwd() / "var" / "screenshots"
TIMEOUT_MS = 60_000
PERSON = "371502199001011234"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _new_page(browser: Any, errors: list[str]) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page


def _login(page: Any, base_url: str, user: Any) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", user.raw_password)
    page.fill("#id_totp", totp_code(user))
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(f"{base_url}/workbench/")


def _api(url: str, token: str, client: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, headers={  # noqa: S310 - the live test server
        "Authorization": f"Bearer {token}", "X-Road-Client": client, "X-Road-UserId": "rsj-clerk-007"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_request_approve_read_and_see_the_signed_log(live_server: Any, browser: Any, catalogue: dict[str, Any],
                                                     owner: Any, consumer_officer: Any) -> None:
    from liaocheng.exchange import chain

    base = live_server.url
    errors: list[str] = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # 人社局: register a consumer system; the token is shown once.
    consumer = _new_page(browser, errors)
    _login(consumer, base, consumer_officer)
    consumer.goto(f"{base}/exchange/systems/")
    consumer.fill("#id_code", "rsj-shebao")
    consumer.fill("#id_name", "社保待遇核查系统")
    consumer.click("#system-form button[type=submit]")
    token = consumer.locator("#token").inner_text().strip()
    assert token.startswith("lcx_")

    # ... and apply for three fields of 公安局's resource, found in the catalogue.
    consumer.goto(f"{base}/exchange/")
    consumer.fill("#q", "人口")
    consumer.wait_for_function("!document.querySelector('tr[data-resource=\"test.enterprises\"]')")
    consumer.screenshot(path=str(SCREENSHOTS / "exchange-catalogue.png"), full_page=True)
    consumer.click("tr[data-resource='test.people'] a")
    consumer.wait_for_url("**/exchange/resources/test.people/")
    consumer.click("#apply-link")
    consumer.select_option("#id_consumer", "rsj-shebao")
    for name in ("name", "status", "phone"):
        consumer.check(f"input[name=requested][value={name}]")
    consumer.fill("#id_purpose", "核查养老金领取人员生存状态")
    consumer.fill("#id_legal_basis", "《中华人民共和国社会保险法》第十六条")
    consumer.screenshot(path=str(SCREENSHOTS / "exchange-apply.png"), full_page=True)
    consumer.click("#apply-form button[type=submit]")
    consumer.wait_for_url("**/exchange/applications/*/")
    assert consumer.locator("tr[data-field=status]").get_attribute("data-decision") == "pending"
    application_url = consumer.url

    # 公安局: approve name and status, reject phone with a reason.
    police = _new_page(browser, errors)
    _login(police, base, owner)
    police.goto(f"{base}/exchange/applications/")
    police.click("#incoming a")
    police.check("input[name=decision__name][value=approve]")
    police.check("input[name=decision__status][value=approve]")
    police.check("input[name=decision__phone][value=reject]")
    police.fill("#id_reason__phone", "核查生存状态不需要手机号")
    police.click("#decide-form button[type=submit]")
    police.wait_for_selector("tr[data-field=phone][data-decision=rejected]")
    assert police.locator("tr[data-field=status]").get_attribute("data-decision") == "approved"
    police.screenshot(path=str(SCREENSHOTS / "exchange-decided.png"), full_page=True)

    consumer.goto(application_url)
    assert consumer.locator("tr[data-field=name]").get_attribute("data-decision") == "approved"

    # The consumer system reads exactly the granted fields; a non-granted field is refused.
    status, body = _api(f"{base}/exchange/r1/test.people/records/{PERSON}", token, "rsj-shebao")
    assert status == 200 and body["record"] == {"name": "张**", "status": "正常"}
    status, body = _api(f"{base}/exchange/r1/test.people/records/{PERSON}?fields=status,phone", token, "rsj-shebao")
    assert status == 403 and body["error"] == "field_not_granted"

    # 公安局 sees both requests in its exchange log, with a valid signature, and downloads the evidence.
    police.goto(f"{base}/exchange/log/")
    police.screenshot(path=str(SCREENSHOTS / "exchange-log-list.png"), full_page=True)
    ok_row = police.locator("tr[data-status='200']").first
    refused_row = police.locator("tr[data-status='403']").first
    assert "rsj-shebao" in ok_row.inner_text() and "name, status" in ok_row.inner_text()
    assert "field_not_granted" in refused_row.inner_text()
    ok_row.locator("td a").first.click()
    police.wait_for_selector("#signature-status.result-ok")
    assert police.locator("#fields-returned").inner_text() == "name, status"
    with police.expect_download() as download_info:
        police.click("#evidence-link")
    evidence = json.loads(Path(download_info.value.path()).read_text(encoding="utf-8"))
    ok, message = chain.verify_evidence(evidence)
    assert ok, message
    assert evidence["record"]["consumer_code"] == "rsj-shebao"
    assert evidence["record"]["fields_returned"] == ["name", "status"]
    police.screenshot(path=str(SCREENSHOTS / "exchange-log-detail.png"), full_page=True)
    assert chain.verify().ok

    # The public portal lists the open dataset with its organisation facet.
    consumer.goto(f"{base}/open/")
    consumer.click("[data-facet=organization] a[data-value='371500-market_regulation']")
    consumer.wait_for_selector("li[data-dataset='test-enterprises']")
    consumer.screenshot(path=str(SCREENSHOTS / "open-data.png"), full_page=True)
    assert not errors, f"JavaScript errors: {errors}"
