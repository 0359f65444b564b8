"""Project-wide test fixtures.

Every test database holds the real city profile (divisions, townships, villages, unit grids) and the
built-in departments and roles, loaded once per test database from the generator's cache; tests that
flush the database (transactional and live-server tests) get it reloaded before the next test needs it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from liaocheng.core.departments import department_code

CACHE_DIR = Path.cwd() / "var" / "cache"


def _ensure_base_data() -> None:
    from liaocheng.core import services as core_services
    from liaocheng.geo import services as geo_services
    from liaocheng.geo.models import ProfileLoad
    from liaocheng.geo.profile import load_profile

    core_services.ensure_builtin_roles()
    core_services.ensure_departments()
    if not ProfileLoad.objects.exists():
        geo_services.load_city_profile(load_profile(CACHE_DIR))


def pytest_configure(config: pytest.Config) -> None:
    """Build the generated city profile once (on the xdist controller) so workers only read the cache."""
    if not hasattr(config, "workerinput"):
        from liaocheng.geo.profile import load_profile

        load_profile(CACHE_DIR)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        _ensure_base_data()
    yield


@pytest.fixture(autouse=True)
def _base_data_after_flush(request: pytest.FixtureRequest) -> None:
    if {"db", "transactional_db", "live_server"} & set(request.fixturenames) or request.node.get_closest_marker(
        "django_db"
    ):
        request.getfixturevalue("_django_db_helper")
        _ensure_base_data()


StaffFactory = Callable[..., Any]


@pytest.fixture
def staff_factory(db: None) -> StaffFactory:
    """Create a staff user: ``staff_factory("li", department_code=..., roles=(("clerk", "371522"),))``.

    The password is on ``user.raw_password``; ``totp=True`` binds a TOTP secret (see core.testing).
    """
    from liaocheng.core.models import Department, Role, RoleGrant, User

    def make(
        username: str, *, department_code: str = department_code("371522", "urban_management"),
        roles: tuple[tuple[str, str], ...] = (("clerk", "371522"),), totp: bool = True,
        real_name: str = "测试人员", phone: str = "", id_number: str = "",
    ) -> User:
        from liaocheng.core.crypto import blind_index

        password = f"Pw-{username}-2026!"
        user = User(username=username, kind="staff", real_name=real_name,
                    department=Department.objects.get(code=department_code))
        if phone:
            user.phone, user.phone_bidx = phone, blind_index("phone", phone)
        if id_number:
            user.id_number, user.id_number_bidx = id_number, blind_index("id_number", id_number)
        if totp:
            user.totp_secret, user.totp_confirmed = pyotp.random_base32(), True
        user.set_password(password)
        user.save()
        for role_code, scope in roles:
            RoleGrant.objects.create(user=user, role=Role.objects.get(code=role_code), scope_division=scope)
        user.raw_password = password  # type: ignore[attr-defined]
        return user

    return make


# --- browser tests ----------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright's sync API (no downloaded browser).

    Without a Chromium binary the test is skipped, unless ``LIAOCHENG_REQUIRE_BROWSER`` is set (CI),
    which makes a missing browser a failure.
    """
    if not Path(CHROMIUM).exists():
        if os.environ.get("LIAOCHENG_REQUIRE_BROWSER"):
            pytest.fail(f"LIAOCHENG_REQUIRE_BROWSER is set but no Chromium binary exists at {CHROMIUM}")
        pytest.skip("no Chromium binary found (install the 'chromium' package, or set LIAOCHENG_REQUIRE_BROWSER=1)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself
    # (fixtures, assertions) would otherwise be flagged as async-unsafe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
            headless=True,
        )
        yield chromium
        chromium.close()


BROWSER_TIMEOUT_MS = 30_000


@pytest.fixture
def browser_pages(browser: Any) -> Iterator[Callable[..., Any]]:
    """``new_page(**context_options)``: a page in a fresh browser context (its own cookies, so one actor each),
    Chinese locale, 30 s timeouts; any JavaScript error on any page fails the test."""
    opened: list[Any] = []
    errors: list[str] = []

    def new_page(**options: Any) -> Any:
        context = browser.new_context(**{"locale": "zh-CN", **options})
        opened.append(context)
        page = context.new_page()
        page.set_default_timeout(BROWSER_TIMEOUT_MS)
        page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
        return page

    yield new_page
    for context in opened:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"

