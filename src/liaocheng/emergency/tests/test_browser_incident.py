"""Issue 5, first "done when" item, in headless Chromium.

In the demo (shipped incident types and plans, the demo units of all eight counties), a 119 call with a
device location in 东昌府区 becomes an incident; the dispatch panel recommends the nearest available fire
engines (checked against a distance ranking of every available fire engine in the database); the dispatcher
accepts; a second dispatcher's board, opened before, shows the units as dispatched without a reload; a
second call about the same fire, a few tens of metres away, is attached to the incident from the console's
nearby list, and the incident page shows both calls with their narratives.

Each actor logs in with password and one-time code in a browser context of their own. Skipped without a
Chromium binary unless ``LIAOCHENG_REQUIRE_BROWSER`` is set (CI).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import shapely

from liaocheng.core.testing import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DCF = "371502"  # 东昌府区
FIRE = f"{DCF}-fire_rescue"
DESK = {"width": 1280, "height": 900}
SHOTS = Path.cwd() / "var" / "screenshots"
FIRST_CALLER, SECOND_CALLER = "13806351234", "13906355678"


def _scene_point() -> tuple[float, float]:
    """A GCJ-02 point in the urban unit grid at 东昌府区's seat."""
    from liaocheng.geo import services as geo_services
    from liaocheng.geo.models import Grid
    from liaocheng.geo.profile import COUNTY_SPECS

    seat_lon, seat_lat = COUNTY_SPECS[DCF].seat
    grid = Grid.objects.get(code=geo_services.locate(seat_lon, seat_lat).location.grid_code)
    inside = shapely.from_geojson(grid.geometry).representative_point()
    return inside.x, inside.y


def _offset(lon: float, lat: float, east_m: float = 0.0, north_m: float = 0.0) -> tuple[float, float]:
    return lon + east_m / (111_320 * math.cos(math.radians(lat))), lat + north_m / 111_320


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def _nearest_engines(lon: float, lat: float, n: int) -> list[tuple[int, str]]:
    """Independently of the recommender: the ``n`` available fire engines nearest to the point (great-circle
    distance; units of one station share a position, ties go to the lower id)."""
    from liaocheng.emergency.models import Unit

    rows = Unit.objects.filter(unit_type="fire_engine", status="available").values_list("pk", "call_sign", "lon",
                                                                                       "lat")
    ranked = sorted(rows, key=lambda r: (_metres(lon, lat, r[2], r[3]), r[0]))
    return [(pk, sign) for pk, sign, _x, _y in ranked[:n]]


def _locate(page: Any, lon: float, lat: float, datum: str) -> None:
    """Type the coordinates (a device fix or a point read off the map) and let the console look nearby."""
    page.evaluate("delete document.body.dataset.nearbyLoaded")
    page.fill("#lon", f"{lon:.6f}")
    page.fill("#lat", f"{lat:.6f}")
    page.select_option("#datum", datum)
    page.click("#use-coords")
    page.wait_for_function("document.body.dataset.nearbyLoaded !== undefined")


def test_119_call_recommend_accept_live_board_and_second_call(
    live_server: Any, browser_pages: Callable[..., Any], staff_factory: Any
) -> None:
    from liaocheng.emergency import demo, intake, recommend
    from liaocheng.emergency.models import Assignment, Call, Incident, Unit
    from liaocheng.geo.datum import gcj02_to_wgs84

    base = live_server.url
    intake.load_incident_types()
    created = demo.ensure_demo_resources()
    assert created["units"] > 400
    recommend.invalidate_index()
    taker = staff_factory("e5_taker", department_code=FIRE, roles=(("emergency_call_taker", DCF),))
    first_disp, second_disp = (staff_factory(f"e5_disp{i}", department_code=FIRE,
                                             roles=(("emergency_dispatcher", DCF),)) for i in (1, 2))
    lon, lat = _scene_point()
    fix_lon, fix_lat = gcj02_to_wgs84(lon, lat)  # what the caller's phone reports (GPS, WGS84)

    # The second dispatcher's board is open before anything happens.
    board = browser_pages(viewport=DESK)
    browser_login(board, base, second_disp)
    board.goto(f"{base}/emergency/board/")
    board.wait_for_selector("#board-live")
    board.evaluate("window.__sameDocument = true")

    # 1. A 119 call with the caller's device fix becomes an incident.
    console = browser_pages(viewport=DESK)
    browser_login(console, base, taker)
    console.goto(f"{base}/emergency/intake/")
    console.select_option("#line", "119")
    console.fill("#caller_number", FIRST_CALLER)
    console.fill("#address", "东昌府区古楼街道柳园小区 3 号楼")
    _locate(console, fix_lon, fix_lat, "wgs84")
    assert console.locator("#nearby-none").count() == 1
    assert "设备定位" in console.locator("#location-text").inner_text()
    console.fill("#narrative", "居民楼起火，三楼有浓烟")
    console.fill("#type-filter", "12G04")
    console.select_option("#incident_type", "12G04")
    console.click("button[name=next][value=incident]")
    console.wait_for_url(re.compile(r".*/emergency/incidents/YJ\d+/$"))
    number = console.locator("#incident-number").inner_text()
    incident = Incident.objects.get(number=number)
    assert incident.incident_type.code == "12G04" and incident.county_code == DCF
    assert _metres(incident.lon, incident.lat, lon, lat) < 1.0  # the WGS84 fix converted back to GCJ-02
    assert console.locator("#calls li.call").count() == 1

    # 2. The dispatcher opens the incident: the recommendation names the nearest available fire engines.
    panel = browser_pages(viewport=DESK)
    browser_login(panel, base, first_disp)
    panel.goto(f"{base}/emergency/incidents/{number}/")
    panel.wait_for_selector("#dispatch-form")
    needed = intake.response_needs(incident.incident_type, incident.severity)["fire_engine"]
    expected = _nearest_engines(incident.lon, incident.lat, needed)
    engines = panel.locator("table.recommendation[data-type='fire_engine']")
    chosen = engines.locator("tr[data-recommended='1']")
    assert chosen.count() == needed
    shown = [int(chosen.nth(i).get_attribute("data-unit")) for i in range(needed)]
    assert shown == [pk for pk, _sign in expected]
    text = engines.inner_text()
    for pk, sign in expected:
        assert sign in text
        assert panel.locator(f"#unit-{pk}").is_checked()
    SHOTS.mkdir(parents=True, exist_ok=True)
    panel.locator("#dispatch-panel").screenshot(path=str(SHOTS / "emergency-recommendation.png"))

    # 3. The dispatcher accepts; the other dispatcher's board shows the engines dispatched, no reload.
    panel.click("#dispatch-accept")
    panel.wait_for_selector("#dispatch-done")
    assert set(Assignment.objects.filter(incident=incident, recommended=True, unit__unit_type="fire_engine")
               .values_list("unit_id", flat=True)) == {pk for pk, _sign in expected}
    card = f"article[data-incident='{number}']"
    for pk, _sign in expected:
        board.wait_for_selector(f"{card} [data-unit='{pk}'] .unit-status-dispatched", timeout=10_000)
    assert board.evaluate("window.__sameDocument === true")  # the same document: updated in place
    assert board.locator(f"{card} .badge").last.inner_text() == "已派警"
    board.screenshot(path=str(SHOTS / "emergency-board-live.png"), full_page=False)
    assert all(u.status == "dispatched" for u in Unit.objects.filter(pk__in=[pk for pk, _s in expected]))

    # 4. A second call about the same fire, some 40 m away: the console offers the incident; attached.
    console.goto(f"{base}/emergency/intake/")
    console.select_option("#line", "119")
    console.fill("#caller_number", SECOND_CALLER)
    second_lon, second_lat = _offset(lon, lat, east_m=30, north_m=25)
    _locate(console, second_lon, second_lat, "gcj02")
    offer = console.locator(f"#nearby-list li[data-incident='{number}']")
    assert offer.count() == 1 and "米" in offer.inner_text()
    offer.locator("input[name=attach_to]").check()
    console.fill("#narrative", "对面楼三楼窗户冒出黑烟，好像有人被困")
    console.click("button[name=next][value=incident]")
    console.wait_for_url(f"{base}/emergency/incidents/{number}/")
    calls = console.locator("#calls li.call")
    assert calls.count() == 2
    narratives = console.locator("#calls .call-narrative").all_inner_texts()
    assert narratives == ["居民楼起火，三楼有浓烟", "对面楼三楼窗户冒出黑烟，好像有人被困"]
    assert Call.objects.filter(incident=incident).count() == 2 and Incident.objects.count() == 1
    console.screenshot(path=str(SHOTS / "emergency-incident-two-calls.png"), full_page=True)
