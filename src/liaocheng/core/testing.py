"""Helpers for tests and demos: one-time codes for accounts whose TOTP secret is known."""

from __future__ import annotations

import time

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
