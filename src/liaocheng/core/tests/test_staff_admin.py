"""Staff administration pages and services: scoped listing, creation, grants, activation and TOTP reset."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from stdnum.cn import ric

from liaocheng.core import services
from liaocheng.core.departments import department_code
from liaocheng.core.models import AuditRecord, RoleGrant, User
from liaocheng.core.testing import totp_code

pytestmark = pytest.mark.django_db

SHENXIAN, GUANXIAN, CITY = "371522", "371525", "371500"
SHENXIAN_POLICE = department_code(SHENXIAN, "public_security")
GUANXIAN_POLICE = department_code(GUANXIAN, "public_security")


def _id_number(seq: str = "123", birth: str = "20000101", area: str = SHENXIAN) -> str:
    body = f"{area}{birth}{seq}"
    return body + ric.calc_check_digit(body + "0")


def _county_admin(staff_factory: Any, county: str = SHENXIAN, username: str = "sx_admin") -> Any:
    return staff_factory(username, department_code=department_code(county, "big_data"),
                         roles=(("user_admin", county),))


def _raw_column(user_id: int, column: str) -> str:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {column} FROM core_user WHERE id = %s", [user_id])
        return str(cur.fetchone()[0])


def _new_staff_post(department: str, username: str = "sx_police_1", **extra: str) -> dict[str, str]:
    return {"username": username, "password": "Shenxian-2026-pw", "real_name": "王警官", "department": department,
            "phone": "13906351111", "id_number": _id_number(), **extra}


# --- access to the pages -------------------------------------------------------------------------

def test_pages_need_the_manage_users_right(client: Client, staff_factory: Any) -> None:
    assert client.get("/workbench/staff/")["Location"].startswith("/login/?next=/workbench/staff/")
    clerk = staff_factory("clerk")
    client.force_login(clerk)
    assert client.get("/workbench/staff/").status_code == 403
    assert client.get("/workbench/staff/new/").status_code == 403
    # The workbench offers the page only to those who may open it.
    assert "/workbench/staff/" not in client.get("/workbench/").content.decode()
    client.force_login(_county_admin(staff_factory))
    html = client.get("/workbench/").content.decode()
    assert "/workbench/staff/" in html and "工作人员管理" in html


def test_county_admin_lists_only_own_county_staff(client: Client, staff_factory: Any) -> None:
    admin = _county_admin(staff_factory)
    staff_factory("sx_member", department_code=SHENXIAN_POLICE, real_name="莘县民警")
    staff_factory("gx_member", department_code=GUANXIAN_POLICE, real_name="冠县民警", roles=(("clerk", GUANXIAN),))
    client.force_login(admin)
    def listed(**params: str) -> set[str]:
        html = client.get("/workbench/staff/", params).content.decode()
        return set(re.findall(r'data-username="([^"]+)"', html))

    assert listed() == {"sx_admin", "sx_member"}
    assert listed(q="莘县民警") == {"sx_member"}
    assert listed(status="inactive") == set()


# --- creating staff ---------------------------------------------------------------------------------

def test_county_admin_creates_staff_in_own_county(client: Client, staff_factory: Any) -> None:
    admin = _county_admin(staff_factory)
    client.force_login(admin)
    form = client.get("/workbench/staff/new/").content.decode()
    assert "莘县公安局" in form and "冠县公安局" not in form and "聊城市公安局" not in form

    response = client.post("/workbench/staff/new/", _new_staff_post(SHENXIAN_POLICE))
    assert response.status_code == 302
    member = User.objects.get(username="sx_police_1")
    assert response["Location"] == f"/workbench/staff/{member.pk}/"
    assert member.kind == "staff" and member.department.code == SHENXIAN_POLICE
    assert member.check_password("Shenxian-2026-pw") and not member.totp_confirmed

    # Stored encrypted, with no trace of the number in the row.
    raw_phone = _raw_column(member.pk, "phone")
    assert raw_phone.startswith("v1:") and "13906351111" not in raw_phone
    assert _id_number() not in _raw_column(member.pk, "id_number")

    record = AuditRecord.objects.get(action="core.create_staff", object_id=str(member.pk))
    assert record.actor_label == "sx_admin" and record.division_code == SHENXIAN
    assert record.after["phone"] == "139****1111"
    assert record.after["id_number"] == "371522********" + _id_number()[-4:]

    # The admin has no right to see personal data in full: masked on the list and the account page.
    for url in ("/workbench/staff/", f"/workbench/staff/{member.pk}/"):
        html = client.get(url).content.decode()
        assert "139****1111" in html and "13906351111" not in html and _id_number() not in html
    # A city platform administrator (who holds core.view_personal_data) sees the numbers.
    boss = staff_factory("city_boss", department_code=department_code(CITY, "big_data"),
                         roles=(("platform_admin", CITY),))
    client.force_login(boss)
    html = client.get(f"/workbench/staff/{member.pk}/").content.decode()
    assert "13906351111" in html and _id_number() in html


def test_county_admin_is_refused_for_another_county_department(client: Client, staff_factory: Any) -> None:
    client.force_login(_county_admin(staff_factory))
    audits, users = AuditRecord.objects.count(), User.objects.count()
    response = client.post("/workbench/staff/new/", _new_staff_post(GUANXIAN_POLICE, username="gx_police_1"))
    assert response.status_code == 403
    assert "无权" in response.content.decode()
    assert not User.objects.filter(username="gx_police_1").exists()
    assert (AuditRecord.objects.count(), User.objects.count()) == (audits, users)


def test_create_staff_errors_are_shown_in_the_form(client: Client, staff_factory: Any) -> None:
    staff_factory("taken")
    client.force_login(_county_admin(staff_factory))
    response = client.post("/workbench/staff/new/", _new_staff_post(SHENXIAN_POLICE, username="taken"))
    assert response.status_code == 409
    assert "已被注册" in response.content.decode()
    response = client.post("/workbench/staff/new/", _new_staff_post(SHENXIAN_POLICE, password="12345678"))
    assert response.status_code == 400
    assert "密码不符合要求" in response.content.decode()
    response = client.post("/workbench/staff/new/", _new_staff_post("no-such-department"))
    assert response.status_code == 400
    assert not User.objects.filter(username="sx_police_1").exists()


# --- another county's staff --------------------------------------------------------------------------

def test_county_admin_is_refused_for_another_county_staff(client: Client, staff_factory: Any) -> None:
    other = staff_factory("gx_member", department_code=GUANXIAN_POLICE, roles=(("clerk", GUANXIAN),))
    grant = other.grants.get()
    client.force_login(_county_admin(staff_factory))
    audits = AuditRecord.objects.count()
    base = f"/workbench/staff/{other.pk}/"
    assert client.get(base).status_code == 403
    assert client.post(base, {"role": "viewer", "scope_division": SHENXIAN}).status_code == 403
    assert client.post(f"{base}active/", {"active": "0"}).status_code == 403
    assert client.post(f"{base}reset-totp/").status_code == 403
    assert client.post(f"{base}grants/{grant.pk}/revoke/").status_code == 403
    other.refresh_from_db()
    assert other.is_active and other.totp_confirmed and other.totp_secret
    assert list(other.grants.values_list("role__code", "scope_division")) == [("clerk", GUANXIAN)]
    assert AuditRecord.objects.count() == audits


# --- grants -----------------------------------------------------------------------------------------

def test_grant_and_revoke_a_role(client: Client, staff_factory: Any) -> None:
    member = staff_factory("sx_member", department_code=SHENXIAN_POLICE, roles=())
    client.force_login(_county_admin(staff_factory))
    page = client.get(f"/workbench/staff/{member.pk}/").content.decode()
    assert "尚未授予任何角色" in page
    # Only the scopes the admin covers are offered.
    assert f'value="{SHENXIAN}"' in page and f'value="{GUANXIAN}"' not in page and f'value="{CITY}"' not in page

    response = client.post(f"/workbench/staff/{member.pk}/", {"role": "viewer", "scope_division": SHENXIAN})
    assert response.status_code == 302
    grant = RoleGrant.objects.get(user=member)
    assert (grant.role.code, grant.scope_division) == ("viewer", SHENXIAN)
    page = client.get(f"/workbench/staff/{member.pk}/").content.decode()
    assert f'data-grant="viewer@{SHENXIAN}"' in page and "已授予角色" in page
    assert AuditRecord.objects.filter(action="core.grant_role", object_id=str(member.pk)).count() == 1

    response = client.post(f"/workbench/staff/{member.pk}/grants/{grant.pk}/revoke/")
    assert response.status_code == 302
    assert not RoleGrant.objects.filter(user=member).exists()
    page = client.get(f"/workbench/staff/{member.pk}/").content.decode()
    assert "data-grant=" not in page and "已撤销授权" in page
    record = AuditRecord.objects.get(action="core.revoke_role", object_id=str(member.pk))
    assert record.before == {"role": "viewer", "scope_division": SHENXIAN} and record.division_code == SHENXIAN


def test_grant_outside_own_scope_is_refused(client: Client, staff_factory: Any) -> None:
    member = staff_factory("sx_member", department_code=SHENXIAN_POLICE, roles=())
    client.force_login(_county_admin(staff_factory))
    audits = AuditRecord.objects.count()
    for scope in (GUANXIAN, CITY):
        response = client.post(f"/workbench/staff/{member.pk}/", {"role": "viewer", "scope_division": scope})
        assert response.status_code == 403
    assert not RoleGrant.objects.filter(user=member).exists()
    assert AuditRecord.objects.count() == audits
    response = client.post(f"/workbench/staff/{member.pk}/", {"role": "no_such_role", "scope_division": SHENXIAN})
    assert response.status_code == 404 and "角色不存在" in response.content.decode()


def test_county_admin_cannot_revoke_a_city_wide_grant(staff_factory: Any) -> None:
    admin = _county_admin(staff_factory)
    member = staff_factory("sx_member", department_code=SHENXIAN_POLICE, roles=(("viewer", CITY),))
    grant = member.grants.get()
    with pytest.raises(PermissionDenied):
        services.revoke_role(acting_user=admin, grant_id=grant.pk)
    assert RoleGrant.objects.filter(pk=grant.pk).exists()
    assert not AuditRecord.objects.filter(action="core.revoke_role").exists()


def test_revoke_unknown_grant_is_not_found(client: Client, staff_factory: Any) -> None:
    member = staff_factory("sx_member", department_code=SHENXIAN_POLICE)
    client.force_login(_county_admin(staff_factory))
    assert client.post(f"/workbench/staff/{member.pk}/grants/999999/revoke/").status_code == 404


# --- activation -------------------------------------------------------------------------------------

def test_deactivate_and_reactivate(client: Client, staff_factory: Any) -> None:
    member = staff_factory("sx_member", department_code=SHENXIAN_POLICE)
    member_client = Client()
    member_client.force_login(member)
    assert member_client.get("/workbench/").status_code == 200

    client.force_login(_county_admin(staff_factory))
    response = client.post(f"/workbench/staff/{member.pk}/active/", {"active": "0"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert not member.is_active
    page = client.get(f"/workbench/staff/{member.pk}/").content.decode()
    assert 'id="inactive-badge"' in page
    record = AuditRecord.objects.get(action="core.deactivate_user", object_id=str(member.pk))
    assert record.before["is_active"] is True and record.after["is_active"] is False
    # The open session ends and the password no longer opens the account.
    assert member_client.get("/workbench/").status_code == 302
    response = Client().post("/login/", {"username": "sx_member", "password": member.raw_password,
                                         "totp": totp_code(member)})
    assert response.status_code == 401

    client.post(f"/workbench/staff/{member.pk}/active/", {"active": "1"})
    member.refresh_from_db()
    assert member.is_active
    assert AuditRecord.objects.filter(action="core.activate_user", object_id=str(member.pk)).count() == 1
    # Asking for the state it already has changes nothing and records nothing.
    audits = AuditRecord.objects.count()
    client.post(f"/workbench/staff/{member.pk}/active/", {"active": "1"})
    assert AuditRecord.objects.count() == audits


def test_an_admin_cannot_deactivate_themselves(client: Client, staff_factory: Any) -> None:
    admin = _county_admin(staff_factory)
    client.force_login(admin)
    response = client.post(f"/workbench/staff/{admin.pk}/active/", {"active": "0"}, follow=True)
    assert "不能停用自己的账号" in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active


# --- authenticator reset -----------------------------------------------------------------------------

def test_reset_totp_forces_setup_at_next_login(client: Client, staff_factory: Any) -> None:
    member = staff_factory("sx_member", department_code=SHENXIAN_POLICE, phone="13906352222")
    client.force_login(_county_admin(staff_factory))
    response = client.post(f"/workbench/staff/{member.pk}/reset-totp/")
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.totp_secret, member.totp_confirmed, member.totp_last_step) == ("", False, 0)
    record = AuditRecord.objects.get(action="core.reset_totp", object_id=str(member.pk))
    assert record.before["totp_confirmed"] is True and record.after["totp_confirmed"] is False
    assert record.after["phone"] == "139****2222"  # personal data only masked in the trail

    result = services.authenticate(username="sx_member", password=member.raw_password)
    assert result.needs_totp_setup
    login = Client().post("/login/", {"username": "sx_member", "password": member.raw_password, "totp": ""})
    assert login["Location"] == "/login/totp-setup/"


def test_new_services_refuse_without_changing_anything(staff_factory: Any) -> None:
    clerk = staff_factory("clerk_only")
    member = staff_factory("sx_member", department_code=SHENXIAN_POLICE, roles=(("viewer", SHENXIAN),))
    grant = member.grants.get()
    audits = AuditRecord.objects.count()
    with pytest.raises(PermissionDenied):
        services.set_user_active(acting_user=clerk, user=member, active=False)
    with pytest.raises(PermissionDenied):
        services.reset_totp(acting_user=clerk, user=member)
    with pytest.raises(PermissionDenied):
        services.revoke_role(acting_user=clerk, grant_id=grant.pk)
    member.refresh_from_db()
    assert member.is_active and member.totp_confirmed and RoleGrant.objects.filter(pk=grant.pk).exists()
    assert AuditRecord.objects.count() == audits


def test_reset_totp_of_an_unbound_account_records_nothing(staff_factory: Any) -> None:
    admin = _county_admin(staff_factory)
    member = staff_factory("sx_new", department_code=SHENXIAN_POLICE, totp=False)
    audits = AuditRecord.objects.count()
    services.reset_totp(acting_user=admin, user=member)
    assert AuditRecord.objects.count() == audits


@pytest.mark.django_db
def test_a_user_admin_cannot_grant_rights_they_do_not_hold(staff_factory) -> None:
    admin = staff_factory("esc_admin", roles=(("user_admin", "371522"),))
    target = staff_factory("esc_target", roles=())
    with pytest.raises(PermissionDenied):
        services.grant_role(acting_user=admin, user=target, role_code="data_admin", scope_division="371522")
    assert not RoleGrant.objects.filter(user=target).exists()
    services.grant_role(acting_user=admin, user=target, role_code="viewer", scope_division="371522")
    assert RoleGrant.objects.filter(user=target, role__code="viewer").exists()
