"""The whole grid urban-management cycle in headless Chromium (issue 4, first "done when" item).

A supervisor reports on a phone-sized page (location from the device's GPS, two photos), the intake clerk
files, the dispatcher dispatches to the responsible department, the department accepts and handles with an
after photo, the supervisor verifies on the phone, the shift lead closes; the case page shows every step in
order and the evaluation page counts the case as closed on time for its department.

Each actor logs in with password and one-time code in their own browser context. Skipped when no Chromium
binary is installed, unless ``LIAOCHENG_REQUIRE_BROWSER`` is set (CI).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import shapely
from django.utils import timezone
from PIL import Image

from liaocheng.core.departments import department_code
from liaocheng.core.testing import browser_login

SCREENSHOTS = Path.cwd() / "var" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DCF = "371502"  # 东昌府区
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True,
         "has_touch": True}


def _image(fmt: str, colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buf, format=fmt)
    return buf.getvalue()


def _device_point() -> tuple[float, float, str]:
    """A GPS (WGS84) position in the urban grid at 东昌府区's seat, and that grid's code."""
    from liaocheng.geo import services as geo_services
    from liaocheng.geo.datum import gcj02_to_wgs84
    from liaocheng.geo.models import Grid
    from liaocheng.geo.profile import COUNTY_SPECS

    seat_lon, seat_lat = COUNTY_SPECS[DCF].seat
    grid = Grid.objects.get(code=geo_services.locate(seat_lon, seat_lat).location.grid_code)
    inside = shapely.from_geojson(grid.geometry).representative_point()
    lon, lat = gcj02_to_wgs84(inside.x, inside.y)
    return lon, lat, grid.code


def _open_from_queue(page: Any, base_url: str, queue: str, number: str) -> None:
    """Through the main navigation to the urban pages, the queue tab, then the case."""
    page.goto(f"{base_url}/workbench/")
    page.click("nav.main-nav a[href='/urban/cases/']")
    page.wait_for_url(f"{base_url}/urban/cases/")
    page.click(f".queue-tabs a[data-queue='{queue}']")
    page.wait_for_url(re.compile(rf".*/urban/cases/\?queue={queue}$"))
    page.click(f"#case-table a:text-is('{number}')")
    page.wait_for_url(re.compile(r".*/urban/cases/\d+/$"))


def _act(page: Any, action: str, expected_state: str, fill: Callable[[Any], None] | None = None) -> None:
    form = page.locator(f"form.action-form[data-action='{action}']")
    if fill is not None:
        fill(form)
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/urban/cases/\d+/$"))
    assert page.locator("#action-error").count() == 0, page.locator("#action-error").inner_text()
    assert page.locator("#case-state").inner_text() == expected_state


def _no_horizontal_overflow(page: Any) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"horizontal overflow at phone width: scrollWidth {widths[0]} > {widths[1]}"


def _facts(page: Any) -> dict[str, str]:
    """The case page's facts list (dt → dd)."""
    return dict(page.evaluate(
        "Array.from(document.querySelectorAll('dl.facts dt')).map(dt => [dt.innerText.trim(),"
        " dt.nextElementSibling.innerText.trim()])"))


def test_case_cycle_from_phone_report_to_on_time_evaluation(
    live_server: Any, browser_pages: Callable[..., Any], staff_factory: Any, settings: Any, tmp_path: Any
) -> None:
    from liaocheng.core.models import Department
    from liaocheng.urban import services
    from liaocheng.urban.models import Case, CasePhoto

    settings.MEDIA_ROOT = str(tmp_path)
    services.load_classes()
    base = live_server.url
    supervisor = staff_factory("c_sup", real_name="监督员甲", roles=(("urban_supervisor", DCF),))
    clerk = staff_factory("c_intake", roles=(("urban_intake", DCF),))
    dispatcher = staff_factory("c_disp", roles=(("urban_dispatcher", DCF),))
    dept_code = department_code(DCF, "urban_management")
    handler = staff_factory("c_dept", department_code=dept_code, roles=(("urban_department", DCF),))
    lead = staff_factory("c_lead", roles=(("urban_shift_lead", DCF),))
    department = Department.objects.get(code=dept_code)
    lon, lat, grid_code = _device_point()

    # 1. The supervisor reports on the phone: location from the device, class, description, two photos.
    phone = browser_pages(**PHONE, geolocation={"longitude": lon, "latitude": lat, "accuracy": 5},
                     permissions=["geolocation"])
    browser_login(phone, base, supervisor)
    phone.goto(f"{base}/urban/report/")
    _no_horizontal_overflow(phone)
    phone.click("#locate-me")
    phone.wait_for_function("document.getElementById('datum').value === 'wgs84' && "
                            "document.getElementById('lon').value !== ''")
    assert "设备 GPS" in phone.locator("#location-text").inner_text()
    assert abs(float(phone.input_value("#lon")) - lon) < 1e-5
    assert abs(float(phone.input_value("#lat")) - lat) < 1e-5
    phone.select_option("#class_code", "E0102")
    phone.fill("#address", "东昌府区柳园路与东昌路路口")
    phone.fill("#description", "路口东北角绿地旁有暴露垃圾")
    phone.set_input_files("#photos", [
        {"name": "before-1.jpg", "mimeType": "image/jpeg", "buffer": _image("JPEG", (120, 90, 40))},
        {"name": "before-2.png", "mimeType": "image/png", "buffer": _image("PNG", (40, 120, 90))},
    ])
    _no_horizontal_overflow(phone)
    phone.tap("#report-submit")
    phone.wait_for_selector("#report-ok")
    assert phone.locator("#report-status").get_attribute("data-state") == "sent"
    assert phone.locator("#report-form").is_hidden()  # sent: the result replaces the form
    case = Case.objects.get()
    assert case.number and case.number in phone.locator("#report-ok").inner_text()
    assert (case.grid_code, case.county_code, case.department_id) == (grid_code, DCF, department.pk)
    assert CasePhoto.objects.filter(case=case, kind="before").count() == 2
    _no_horizontal_overflow(phone)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SCREENSHOTS / "urban-report-phone.png"), full_page=True)

    # 2. The intake clerk files it from the 待立案 queue.
    desk = browser_pages(viewport={"width": 1280, "height": 860})
    browser_login(desk, base, clerk)
    _open_from_queue(desk, base, "file", case.number)
    assert desk.locator("h1").inner_text().startswith(case.number)
    assert len(desk.locator("img.case-photo").all()) == 2
    _act(desk, "file", "已立案")

    # ... and the dispatcher dispatches to the department found from class and location.
    desk.context.clear_cookies()
    browser_login(desk, base, dispatcher)
    _open_from_queue(desk, base, "dispatch", case.number)
    assert _facts(desk)["责任部门"] == department.name
    chosen = desk.locator("form[data-action='dispatch'] select[name=department] option:checked")
    assert chosen.inner_text() == department.name
    _act(desk, "dispatch", "已派遣")
    due_text = desk.locator("#due-at").inner_text()
    due_day = dt.date.fromisoformat(due_text.split()[0])

    # 3. The department accepts, then handles with a note and an after photo.
    desk.context.clear_cookies()
    browser_login(desk, base, handler)
    _open_from_queue(desk, base, "handle", case.number)
    _act(desk, "accept", "处置中")

    def handling_report(form: Any) -> None:
        form.locator("textarea[name=notes]").fill("垃圾已清理，现场整洁")
        form.locator("input[name=photos]").set_input_files(
            [{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": _image("JPEG", (200, 200, 200))}])

    _act(desk, "handle", "已处置", handling_report)
    assert CasePhoto.objects.filter(case=case, kind="after").count() == 1

    # 4. The supervisor verifies on the phone, from the 待核查 queue.
    phone.goto(f"{base}/urban/cases/?queue=verify")
    _no_horizontal_overflow(phone)
    _open_from_queue(phone, base, "verify", case.number)
    _no_horizontal_overflow(phone)
    _act(phone, "verify", "核查通过")
    phone.screenshot(path=str(SCREENSHOTS / "urban-verify-phone.png"), full_page=True)

    # 5. The shift lead closes.
    desk.context.clear_cookies()
    browser_login(desk, base, lead)
    _open_from_queue(desk, base, "close", case.number)
    _act(desk, "close", "已结案")

    # 6. The timeline shows every step in order; the evaluation counts the case as closed on time.
    steps = desk.eval_on_selector_all("#timeline li", "items => items.map(li => li.dataset.action)")
    assert steps == ["report", "file", "dispatch", "accept", "handle", "verify", "close"]
    actors = desk.locator("#timeline li").all_inner_texts()
    for text, user in zip(actors, [supervisor, clerk, dispatcher, handler, handler, supervisor, lead], strict=True):
        assert user.username in text, text

    # A custom range from today to the due date: the case counts once, closed on time.
    today = timezone.localdate()
    desk.click(".urban-nav a[href='/urban/evaluation/']")
    desk.wait_for_url(f"{base}/urban/evaluation/")
    desk.select_option("#id_group_by", "department")
    desk.select_option("#id_period", "custom")
    desk.fill("#id_start", today.isoformat())
    desk.fill("#id_end", max(today, due_day).isoformat())
    desk.click("form.search-bar button[type=submit]")
    desk.wait_for_url(re.compile(r".*/urban/evaluation/\?.*period=custom"))
    headers = desk.locator("table.table thead th").all_inner_texts()
    row = desk.locator("table.table tbody tr", has=desk.locator(f"th:text-is('{department.name}')"))
    cells = dict(zip(headers, [row.locator("td, th").nth(i).inner_text() for i in range(len(headers))],
                     strict=True))
    assert cells["结案数"] == "1", cells
    assert cells["按期结案数"] == "1", cells
    assert float(cells["按期结案率(%)"]) == 100.0, cells
    assert cells["超期数"] == "0", cells
    desk.screenshot(path=str(SCREENSHOTS / "urban-evaluation.png"), full_page=True)

    # Today's evaluation (按日) counts it on time too: a case closed before its deadline is settled the day
    # it closes, whenever the deadline falls.
    desk.select_option("#id_period", "day")
    desk.fill("#id_day", today.isoformat())
    desk.click("form.search-bar button[type=submit]")
    desk.wait_for_url(re.compile(r".*/urban/evaluation/\?.*period=day"))
    row = desk.locator("table.table tbody tr", has=desk.locator(f"th:text-is('{department.name}')"))
    day_cells = dict(zip(headers, [row.locator("td, th").nth(i).inner_text() for i in range(len(headers))],
                         strict=True))
    assert day_cells["结案数"] == "1", day_cells
    assert day_cells["按期结案数"] == "1", day_cells
    assert float(day_cells["按期结案率(%)"]) == 100.0, day_cells
