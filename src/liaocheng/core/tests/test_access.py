"""Scoped permissions: the guard functions, and through the HTTP API a county clerk denied another
county's record (403, nothing changed)."""

import json

import pytest
from django.core.exceptions import PermissionDenied

from liaocheng.core import access
from liaocheng.core.departments import department_code
from liaocheng.core.models import AuditRecord
from liaocheng.core.permissions import scope_prefix
from liaocheng.geo.models import Division


def test_scope_prefixes() -> None:
    assert scope_prefix("371500") == "3715"
    assert scope_prefix("371522") == "371522"
    assert scope_prefix("371522101") == "371522101"
    assert scope_prefix("370000") == "37"


@pytest.mark.django_db
def test_county_grant_covers_only_that_county(staff_factory) -> None:
    clerk = staff_factory("scope_clerk", roles=(("clerk", "371525"),),
                          department_code=department_code("371525", "urban_management"))
    assert access.has_perm(clerk, "geo.edit_divisions", "371525101001")
    assert not access.has_perm(clerk, "geo.edit_divisions", "371522101001")
    assert not access.has_perm(clerk, "core.manage_users")
    with pytest.raises(PermissionDenied):
        access.require(clerk, "geo.edit_divisions", "371522")
    visible = access.filter_by_scope(Division.objects.all(), clerk, "geo.view_divisions", "code")
    assert visible.exists() and not visible.exclude(code__startswith="371525").exists()


@pytest.mark.django_db
def test_city_grant_covers_every_county(staff_factory) -> None:
    admin = staff_factory("scope_city", roles=(("data_admin", "371500"),))
    for county in ("371502", "371503", "371522", "371581"):
        assert access.has_perm(admin, "geo.edit_divisions", county + "101")


def _village(county: str) -> Division:
    div = Division.objects.filter(level="village", code__startswith=county).order_by("code").first()
    assert div is not None
    return div


@pytest.mark.django_db
def test_api_county_clerk_denied_other_countys_village(client, staff_factory) -> None:
    clerk = staff_factory("guan_api", roles=(("clerk", "371525"),),
                          department_code=department_code("371525", "urban_management"))
    client.force_login(clerk)
    village = _village("371522")
    before_name, audits = village.name, AuditRecord.objects.count()

    assert client.get(f"/api/geo/divisions/{village.code}").status_code == 403
    response = client.patch(f"/api/geo/divisions/{village.code}", data=json.dumps({"name": "改名"}),
                            content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"] == "permission_denied"
    village.refresh_from_db()
    assert village.name == before_name
    assert AuditRecord.objects.count() == audits


@pytest.mark.django_db
def test_api_county_clerk_edits_own_countys_village_with_audit(client, staff_factory) -> None:
    clerk = staff_factory("guan_api2", roles=(("clerk", "371525"),),
                          department_code=department_code("371525", "urban_management"))
    client.force_login(clerk)
    village = _village("371525")
    response = client.patch(f"/api/geo/divisions/{village.code}", data=json.dumps({"name": "新名称村委会"}),
                            content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "新名称村委会"
    rec = AuditRecord.objects.order_by("-seq").first()
    assert rec is not None and rec.action == "geo.update_division" and rec.object_id == village.code
    assert rec.before["name"] == village.name and rec.after["name"] == "新名称村委会"
    assert rec.actor_id == clerk.pk


@pytest.mark.django_db
def test_personal_data_masked_without_the_right(client, staff_factory) -> None:
    target = staff_factory("pd_target", phone="13806351234", id_number="371502199801011232",
                           roles=(("viewer", "371522"),))
    user_admin = staff_factory("pd_users", roles=(("user_admin", "371522"),))
    client.force_login(user_admin)  # may manage the account, may not see personal data in full
    masked = client.get(f"/api/core/users/{target.pk}").json()
    assert masked["id_number"] == "371502********1232" and masked["phone"] == "138****1234"

    data_admin = staff_factory("pd_data", roles=(("data_admin", "371500"), ("user_admin", "371500")))
    client.force_login(data_admin)
    full = client.get(f"/api/core/users/{target.pk}").json()
    assert full["id_number"] == "371502199801011232" and full["phone"] == "13806351234"

    clerk = staff_factory("pd_clerk", roles=(("clerk", "371522"),))
    client.force_login(clerk)
    assert client.get(f"/api/core/users/{target.pk}").status_code == 403
    client.force_login(target)
    assert client.get("/api/core/me").json()["id_number"] == "371502199801011232"
