"""Helpers for tests and demos: one-time codes for accounts whose TOTP secret is known."""

from __future__ import annotations

import time
from typing import Any

import pyotp

from .models import User


def totp_code(user: User) -> str:
    """A code that ``services.verify_totp`` accepts now and that has not been used yet."""
    for _ in range(3):
        user.refresh_from_db(fields=["totp_secret", "totp_last_step"])
        now_step = int(time.time()) // 30
        for step in (now_step, now_step + 1):
            if step > user.totp_last_step:
                return pyotp.TOTP(user.totp_secret).at(step * 30)
        time.sleep(30 - time.time() % 30 + 0.05)
    raise RuntimeError("no unused TOTP step available")


def browser_login(page: Any, base_url: str, user: User, password: str | None = None,
                  landing: str = "/workbench/") -> None:
    """Sign in through the login page in a Playwright page: password (``user.raw_password`` unless given) and,
    for staff, a fresh one-time code; waits for ``landing``."""
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password or user.raw_password)  # type: ignore[attr-defined]
    if user.kind == "staff":
        page.fill("#id_totp", totp_code(user))
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(f"{base_url}{landing}")

