"""The staff pages of the exchange centre, driven through the test client: catalogue, editing an
entry, applying, per-field approval, consumer systems (token shown once) and permissions."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from liaocheng.core.models import AuditRecord
from liaocheng.exchange import services
from liaocheng.exchange.models import Application, ApplicationStatus, CatalogueResource, ConsumerSystem, Grant

pytestmark = pytest.mark.django_db


def _login(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def test_catalogue_lists_shared_resources_and_searches(client: Client, catalogue: dict[str, Any],
                                                       consumer_officer: Any) -> None:
    _login(client, consumer_officer)
    html = client.get("/exchange/").content.decode()
    assert 'data-resource="test.people"' in html and 'data-resource="test.enterprises"' in html
    html = client.get("/exchange/", {"q": "人口"}).content.decode()
    assert 'data-resource="test.people"' in html and 'data-resource="test.enterprises"' not in html
    detail = client.get("/exchange/resources/test.people/").content.decode()
    assert 'id="apply-link"' in detail and 'id="edit-link"' not in detail and 'data-field="id_number"' in detail


def test_not_shared_resources_are_hidden_from_other_departments(client: Client, catalogue: dict[str, Any],
                                                                owner: Any, consumer_officer: Any) -> None:
    services.update_resource(acting_user=owner, resource=catalogue["people"], sharing_class="none")
    _login(client, consumer_officer)
    assert 'data-resource="test.people"' not in client.get("/exchange/").content.decode()
    assert client.get("/exchange/resources/test.people/").status_code == 404
    _login(client, owner)
    assert 'data-resource="test.people"' in client.get("/exchange/").content.decode()


def test_owner_edits_fields_and_open_data_on_the_page(client: Client, catalogue: dict[str, Any], owner: Any) -> None:
    _login(client, owner)
    assert 'data-resource="test.people"' in client.get("/exchange/mine/").content.decode()
    page = client.get("/exchange/resources/test.people/edit/")
    assert page.status_code == 200
    data = {
        "description": "公安人口基础信息", "sharing_class": "conditional", "update_frequency": "daily",
        "theme": "public-safety", "tags": "人口，户籍", "is_open": "on",
        "offered__id_number": "on", "sharing__id_number": "conditional",
        "offered__name": "on", "sharing__name": "conditional",
        "sharing__phone": "conditional",  # phone no longer offered
        "offered__status": "on", "sharing__status": "unconditional", "open__status": "on",
        "offered__division": "on", "sharing__division": "conditional", "open__division": "on",
    }
    response = client.post("/exchange/resources/test.people/edit/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    resource = CatalogueResource.objects.get(code="test.people")
    assert resource.fields_offered == ["id_number", "name", "status", "division"]
    assert resource.field_sharing == {"status": "unconditional"}
    assert resource.is_open and resource.open_fields == ["status", "division"] and resource.tags == ["人口", "户籍"]
    # Opening a personal field is refused (the checkbox is disabled; a forged post changes nothing).
    data["open__name"] = "on"
    client.post("/exchange/resources/test.people/edit/", data)
    assert "name" not in CatalogueResource.objects.get(code="test.people").open_fields
    # Opening with no open field: error shown, nothing saved.
    for key in ("open__status", "open__division"):
        data.pop(key)
    response = client.post("/exchange/resources/test.people/edit/", data)
    assert response.status_code == 400 and "开放" in response.content.decode()


def test_other_departments_cannot_edit(client: Client, catalogue: dict[str, Any], consumer_officer: Any) -> None:
    _login(client, consumer_officer)
    assert client.get("/exchange/resources/test.people/edit/").status_code == 403
    assert client.post("/exchange/resources/test.people/edit/", {"sharing_class": "none"}).status_code == 403


def test_create_system_shows_the_token_once(client: Client, consumer_officer: Any) -> None:
    _login(client, consumer_officer)
    response = client.post("/exchange/systems/", {"department": consumer_officer.department.code,
                                                  "code": "rsj-shebao", "name": "社保系统"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    token = re.search(r'id="token">([^<]+)<', response.content.decode()).group(1)  # type: ignore[union-attr]
    system = ConsumerSystem.objects.get(code="rsj-shebao")
    assert system.token_hash == services.hash_token(token)
    detail = client.get("/exchange/systems/rsj-shebao/").content.decode()
    assert token not in detail and system.token_hint in detail
    rotated = client.post("/exchange/systems/rsj-shebao/rotate/").content.decode()
    new = re.search(r'id="token">([^<]+)<', rotated).group(1)  # type: ignore[union-attr]
    assert new != token
    client.post("/exchange/systems/rsj-shebao/revoke/")
    assert not ConsumerSystem.objects.get(code="rsj-shebao").active


def test_apply_and_approve_through_the_pages(client: Client, catalogue: dict[str, Any], owner: Any,
                                             consumer_officer: Any) -> None:
    _login(client, consumer_officer)
    client.post("/exchange/systems/", {"department": consumer_officer.department.code, "code": "rsj-shebao",
                                       "name": "社保系统"})
    form = client.get("/exchange/resources/test.people/apply/")
    assert form.status_code == 200
    response = client.post("/exchange/resources/test.people/apply/", {
        "consumer": "rsj-shebao", "requested": ["name", "status", "phone"], "want_clear": [],
        "purpose": "核查生存状态", "legal_basis": "《社会保险法》"})
    assert response.status_code == 302
    application = Application.objects.get()
    assert client.get("/exchange/applications/").content.decode().count(f'data-application="{application.pk}"') == 1
    # The applicant cannot decide.
    assert client.post(f"/exchange/applications/{application.pk}/", {"decision__name": "approve"}).status_code == 403

    _login(client, owner)
    incoming = client.get("/exchange/applications/").content.decode()
    assert f'data-application="{application.pk}"' in incoming
    page = client.get(f"/exchange/applications/{application.pk}/").content.decode()
    assert 'id="decide-form"' in page and 'name="clear__name"' in page and 'name="clear__status"' not in page
    missing_reason = client.post(f"/exchange/applications/{application.pk}/", {"decision__phone": "reject"})
    assert missing_reason.status_code == 400
    response = client.post(f"/exchange/applications/{application.pk}/", {
        "decision__name": "approve", "decision__status": "approve",
        "decision__phone": "reject", "reason__phone": "与用途无关"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PARTIAL
    assert set(Grant.objects.filter(revoked_at__isnull=True).values_list("field_name", "allow_clear")) == {
        ("name", False), ("status", False)}
    detail = client.get("/exchange/resources/test.people/").content.decode()
    assert 'data-grant="rsj-shebao:name"' in detail
    grant = Grant.objects.get(field_name="name")
    client.post(f"/exchange/grants/{grant.pk}/revoke/", {"reason": "核查结束"})
    assert Grant.objects.get(pk=grant.pk).revoked_at is not None
    assert AuditRecord.objects.filter(action="exchange.revoke_grant").exists()


def test_subscribe_on_the_system_page(client: Client, catalogue: dict[str, Any], consumer_officer: Any) -> None:
    system, _ = services.create_consumer_system(acting_user=consumer_officer,
                                                department=consumer_officer.department, code="rsj-x", name="X")
    services.apply_for_fields(acting_user=consumer_officer, consumer=system, resource=catalogue["enterprises"],
                              fields=["name"], purpose="核查", legal_basis="依据")
    _login(client, consumer_officer)
    page = client.get("/exchange/systems/rsj-x/").content.decode()
    assert 'id="subscribe-form"' in page
    client.post("/exchange/systems/rsj-x/subscribe/", {"resource": "test.enterprises"})
    assert system.subscriptions.get().active
    assert 'data-resource="test.enterprises"' in client.get("/exchange/systems/rsj-x/").content.decode()


def test_pages_need_staff(client: Client, catalogue: dict[str, Any]) -> None:
    assert client.get("/exchange/").status_code == 302  # to the login page
    from liaocheng.core.models import User

    client.force_login(User.objects.create(username="citizen1", kind="citizen", real_name="市民"))
    assert client.get("/exchange/").status_code == 403
