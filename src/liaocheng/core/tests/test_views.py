"""Core pages: login with TOTP, throttling, TOTP setup, registration, workbench, language switch."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest
from django.test import Client
from stdnum.cn import ric

from liaocheng.core.models import AuditRecord, User
from liaocheng.core.testing import totp_code

pytestmark = pytest.mark.django_db


def _id_number(seq: str = "123", birth: str = "20000101", area: str = "371522") -> str:
    body = f"{area}{birth}{seq}"
    return body + ric.calc_check_digit(body + "0")  # the function ignores the last character


def _login(client: Client, user: Any, *, code: str | None = None, **extra: str) -> Any:
    data = {"username": user.username, "password": user.raw_password, "totp": code or "", **extra}
    return client.post("/login/", data)


# --- login -----------------------------------------------------------------------------------------

def test_login_page_renders_in_chinese_by_default(client: Client) -> None:
    response = client.get("/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "动态口令" in html
    assert 'name="csrf-token"' in html


def test_wrong_password_shows_message_with_401(client: Client, staff_factory: Any) -> None:
    user = staff_factory("wang")
    response = client.post("/login/", {"username": "wang", "password": "not-the-password", "totp": "123456"})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # An unknown account looks the same.
    response = client.post("/login/", {"username": "nobody", "password": "x", "totp": ""})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.content.decode()
    assert user.pk  # the real account was untouched


def test_wrong_totp_is_refused(client: Client, staff_factory: Any) -> None:
    user = staff_factory("zhao")
    response = _login(client, user, code="000000")
    assert response.status_code == 401
    assert "动态口令错误或已使用" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_is_throttled_after_five_failures(client: Client, staff_factory: Any) -> None:
    user = staff_factory("sun")
    for _ in range(5):
        assert client.post("/login/", {"username": "sun", "password": "wrong", "totp": ""}).status_code == 401
    # Even the right password and code are refused now.
    response = _login(client, user, code=totp_code(user))
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_missing_fields_are_form_errors(client: Client) -> None:
    response = client.post("/login/", {"username": "", "password": ""})
    assert response.status_code == 400
    assert "field-error" in response.content.decode()


def test_staff_login_with_totp_reaches_workbench(client: Client, staff_factory: Any) -> None:
    user = staff_factory("li", real_name="李明")
    response = _login(client, user, code=totp_code(user))
    assert response.status_code == 302
    assert response["Location"] == "/workbench/"
    page = client.get("/workbench/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "李明" in html
    assert "莘县综合行政执法局" in html
    assert "业务经办人员" in html and "371522" in html
    assert "/map/" in html and "/divisions/" in html and "/api/docs" in html and "/healthz" in html


def test_next_parameter_is_honoured_only_when_safe(client: Client, staff_factory: Any) -> None:
    user = staff_factory("zhou")
    response = _login(client, user, code=totp_code(user), next="/divisions/")
    assert response["Location"] == "/divisions/"
    client.post("/logout/")
    response = _login(client, user, code=totp_code(user), next="https://evil.example.com/")
    assert response["Location"] == "/workbench/"


def test_workbench_requires_login(client: Client) -> None:
    response = client.get("/workbench/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/workbench/")


def test_logout_is_post_only(client: Client, staff_factory: Any) -> None:
    user = staff_factory("wu")
    client.force_login(user)
    assert client.get("/logout/").status_code == 405
    assert "_auth_user_id" in client.session
    response = client.post("/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


# --- first login of staff: binding an authenticator ------------------------------------------------

def test_staff_totp_setup_flow(client: Client, staff_factory: Any) -> None:
    user = staff_factory("newbie", totp=False)
    audits_before = AuditRecord.objects.count()
    response = client.post("/login/", {"username": "newbie", "password": user.raw_password, "totp": ""})
    assert response.status_code == 302
    assert response["Location"] == "/login/totp-setup/"
    assert "_auth_user_id" not in client.session  # only the half-state, not logged in
    assert client.get("/workbench/").status_code == 302

    page = client.get("/login/totp-setup/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html
    user.refresh_from_db()
    secret = user.totp_secret
    assert secret and not user.totp_confirmed
    assert "".join(re.findall(r"<span>([A-Z2-7]{1,4})</span>", html)) == secret
    assert "otpauth://totp/" in html

    # A reload shows the same secret: the setup is started once only.
    client.get("/login/totp-setup/")
    user.refresh_from_db()
    assert user.totp_secret == secret
    assert AuditRecord.objects.filter(action="core.totp_setup_started").count() == 1

    wrong = client.post("/login/totp-setup/", {"code": "000000"})
    assert wrong.status_code == 400
    assert "动态口令错误" in wrong.content.decode()

    code = pyotp.TOTP(secret).now()
    done = client.post("/login/totp-setup/", {"code": code})
    assert done.status_code == 302
    assert done["Location"] == "/workbench/"
    assert client.session["_auth_user_id"] == str(user.pk)
    user.refresh_from_db()
    assert user.totp_confirmed
    assert client.get("/workbench/").status_code == 200
    assert AuditRecord.objects.count() == audits_before + 2
    # The half-state is gone: the setup page is not reachable any more.
    assert client.get("/login/totp-setup/").status_code == 302


def test_totp_setup_needs_password_first(client: Client) -> None:
    response = client.get("/login/totp-setup/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"


# --- registration ----------------------------------------------------------------------------------

def _citizen_data(**overrides: str) -> dict[str, str]:
    data = {
        "username": "citizen_zhang", "password": "Sichuan-Road-88", "password2": "Sichuan-Road-88",
        "real_name": "张三", "id_number": _id_number(), "phone": "13800138000",
    }
    data.update(overrides)
    return data


def test_citizen_registration_with_invalid_id_number_creates_nothing(client: Client) -> None:
    users, audits = User.objects.count(), AuditRecord.objects.count()
    bad = _id_number()[:-1] + ("0" if _id_number()[-1] != "0" else "1")
    response = client.post("/register/citizen/", _citizen_data(id_number=bad))
    assert response.status_code == 400
    html = response.content.decode()
    # The error sits next to the ID number field.
    assert re.search(r'id="id_id_number_error"[^>]*>身份证号校验位错误<', html)
    assert 'aria-invalid="true"' in html
    assert User.objects.count() == users
    assert AuditRecord.objects.count() == audits
    assert "_auth_user_id" not in client.session


def test_citizen_registration_password_mismatch(client: Client) -> None:
    response = client.post("/register/citizen/", _citizen_data(password2="something-else-1"))
    assert response.status_code == 400
    assert "两次输入的密码不一致" in response.content.decode()
    assert not User.objects.filter(username="citizen_zhang").exists()


def test_citizen_registration_logs_in_and_masks_personal_data(client: Client) -> None:
    response = client.post("/register/citizen/", _citizen_data())
    assert response.status_code == 302
    assert response["Location"] == "/register/done/"
    user = User.objects.get(username="citizen_zhang")
    assert user.kind == "citizen"
    assert client.session["_auth_user_id"] == str(user.pk)
    done = client.get("/register/done/")
    assert done.status_code == 200 and "注册成功" in done.content.decode()

    # Citizens have no workbench: they get their account page, with personal data masked.
    assert client.get("/workbench/")["Location"] == "/me/"
    me = client.get("/me/").content.decode()
    assert "张三" in me
    assert _id_number() not in me and "13800138000" not in me
    assert "138****8000" in me
    # Password only for citizens.
    client.post("/logout/")
    login = client.post("/login/", {"username": "citizen_zhang", "password": "Sichuan-Road-88"})
    assert login.status_code == 302 and login["Location"] == "/me/"


def test_citizen_cannot_open_staff_pages(client: Client) -> None:
    client.post("/register/citizen/", _citizen_data())
    assert client.get("/map/").status_code == 403
    assert client.get("/divisions/").status_code == 403


def test_enterprise_registration_shows_legacy_credit_code_warning(client: Client) -> None:
    response = client.post("/register/enterprise/", {
        "username": "acme", "password": "Dongchang-Lake-7", "password2": "Dongchang-Lake-7",
        "organisation_name": "聊城示例有限公司", "credit_code": "91350100M0001TGQXM",
        "contact_name": "王五", "phone": "13900139000",
    }, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "注册成功" in html
    assert "历史赋码" in html
    assert "legacy code" not in html  # only the active language's half
    assert User.objects.get(username="acme").credit_code == "91350100M0001TGQXM"


# --- language --------------------------------------------------------------------------------------

def test_english_switch_renders_english(client: Client, staff_factory: Any) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    page = client.get("/login/")
    html = page.content.decode()
    assert '<html lang="en">' in html
    assert "Sign in" in html
    assert "One-time code" in html
    assert "动态口令" not in html
    # Service errors follow the language too.
    staff_factory("qian")
    wrong = client.post("/login/", {"username": "qian", "password": "wrong", "totp": ""})
    assert "wrong username or password" in wrong.content.decode()
    assert "用户名或密码错误" not in wrong.content.decode()
    portal = client.get("/").content.decode()
    assert "Digital Liaocheng" in portal

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "动态口令" in client.get("/login/").content.decode()


def test_error_pages_are_translated(client: Client) -> None:
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert "页面不存在" in page.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Page not found" in client.get("/no-such-page/").content.decode()


def test_portal_links(client: Client) -> None:
    html = client.get("/").content.decode()
    for href in ("/login/", "/register/citizen/", "/register/enterprise/", "/map/", "/api/docs"):
        assert f'href="{href}"' in html


@pytest.mark.django_db
def test_chinese_by_default_even_for_an_english_browser(client) -> None:
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-hans"' in html and "数字聊城" in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert 'lang="en"' in client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
