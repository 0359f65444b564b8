"""End-to-end checks in headless Chromium (Playwright, sync API) against the live server.

Skipped when no Chromium binary is installed, unless ``LIAOCHENG_REQUIRE_BROWSER`` is set (CI), in
which case a missing browser is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from liaocheng.core.departments import department_code
from liaocheng.core.testing import totp_code

SCREENSHOTS = Path.cwd() / "var" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GUANXIAN = "371525"
SHENXIAN = "371522"
TIMEOUT_MS = 60_000


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def _login(page: Any, base_url: str, user: Any) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", user.raw_password)
    page.fill("#id_totp", totp_code(user))
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(f"{base_url}/workbench/")


def test_staff_logs_in_and_sees_counties_and_grids_on_the_map(
    live_server: Any, page: Any, staff_factory: Any
) -> None:
    from liaocheng.geo.profile import COUNTY_SPECS

    user = staff_factory("map_user", roles=(("clerk", "371500"),))
    _login(page, live_server.url, user)
    assert page.locator("#grants").is_visible()

    page.click("a.tile[href='/map/']")
    page.wait_for_url(f"{live_server.url}/map/")
    page.wait_for_function("document.body.dataset.countiesLoaded === '8'")
    page.wait_for_function("Number(document.body.dataset.townshipsLoaded) > 100")
    assert "GCJ-02" in page.locator("footer").inner_text()

    lon, lat = COUNTY_SPECS[SHENXIAN].seat
    page.evaluate("([lat, lon]) => { window.liaochengMap.setView([lat, lon], 15, {animate: false}); }", [lat, lon])
    page.wait_for_function("Number(document.body.dataset.gridsLoaded) > 0")
    status = page.locator("#grid-status").inner_text()
    shown = int("".join(ch for ch in status if ch.isdigit()) or 0)
    assert shown > 0, status
    assert not page.evaluate("document.body.dataset.mapError || ''")

    # A click on the map locates the point (grid, community, township, county).
    page.click("#map", position={"x": 640, "y": 300})
    page.wait_for_function("Boolean(document.body.dataset.lastLocated)")
    popup = page.locator(".locate-popup").inner_text()
    assert "莘县" in popup
    assert page.evaluate("document.body.dataset.lastLocated").startswith(SHENXIAN)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "map.png"))


def test_county_clerk_cannot_open_or_change_another_countys_village(
    live_server: Any, page: Any, staff_factory: Any
) -> None:
    from liaocheng.core.models import AuditRecord
    from liaocheng.geo.models import Division

    user = staff_factory("guan_clerk", department_code=department_code(GUANXIAN, "urban_management"),
                         roles=(("clerk", GUANXIAN),))
    village = Division.objects.filter(level="village", code__startswith=SHENXIAN, valid_to__isnull=True).first()
    assert village is not None
    before = (village.name, village.lon, village.lat, village.point_generated)
    audits = AuditRecord.objects.count()

    _login(page, live_server.url, user)
    response = page.goto(f"{live_server.url}/divisions/{village.code}/")
    assert response is not None and response.status == 403
    assert page.locator("h1").inner_text() == "无权访问"

    status = page.evaluate(
        """async (url) => {
            const token = document.querySelector('meta[name="csrf-token"]').content;
            const body = new URLSearchParams({name: "改名村委会", lon: "115.67", lat: "36.23"});
            const response = await fetch(url, {method: "POST", body, headers: {"X-CSRFToken": token},
                                               credentials: "same-origin"});
            return response.status;
        }""",
        f"/divisions/{village.code}/",
    )
    assert status == 403
    village.refresh_from_db()
    assert (village.name, village.lon, village.lat, village.point_generated) == before
    assert AuditRecord.objects.count() == audits
