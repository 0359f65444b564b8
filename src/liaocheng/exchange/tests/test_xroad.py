"""The exchange API end to end: a consuming department applies for fields of another department's
resource, the owner approves some, the consumer system reads exactly the granted fields (masked unless
granted in clear); a non-granted field is refused with 403 and logged; the owner sees the signed log
entry and downloads it as evidence."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from liaocheng.core.crypto import blind_index
from liaocheng.core.models import Department
from liaocheng.exchange import chain, services
from liaocheng.exchange.models import ExchangeHead, ExchangeLog

from .conftest import CONSUMER_DEPT, OWNER_DEPT, api_headers

pytestmark = pytest.mark.django_db

PERSON = "371502199001011234"


@pytest.fixture
def granted(catalogue: dict[str, Any], owner: Any, consumer_officer: Any) -> dict[str, Any]:
    """人社局's system holds: name (masked), id_number (clear), status; phone was rejected."""
    system, token = services.create_consumer_system(
        acting_user=consumer_officer, department=Department.objects.get(code=CONSUMER_DEPT), code="rsj-shebao",
        name="社保待遇核查系统")
    app = services.apply_for_fields(acting_user=consumer_officer, consumer=system, resource=catalogue["people"],
                                    fields=["id_number", "name", "status", "phone"], want_clear=["id_number"],
                                    purpose="核查养老金领取人生存状态", legal_basis="《社会保险法》第十六条")
    services.decide_application(acting_user=owner, application=app, decisions={
        "id_number": services.FieldDecision(approve=True, allow_clear=True),
        "name": services.FieldDecision(approve=True),
        "status": services.FieldDecision(approve=True),
        "phone": services.FieldDecision(approve=False, reason="用途不需要"),
    })
    return {"system": system, "token": token, "resource": catalogue["people"]}


def _get(client: Client, path: str, token: str, code: str = "rsj-shebao", **headers: str) -> Any:
    return client.get(path, **api_headers(token, code), **headers)


def test_consumer_reads_exactly_the_granted_fields_masked_as_granted(client: Client, granted: dict[str, Any]) -> None:
    response = client.get(f"/exchange/r1/test.people/records/{PERSON}",
                          **api_headers(granted["token"], "rsj-shebao", request_id="req-0001"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body["record"]) == {"id_number", "name", "status"}
    assert body["record"] == {"id_number": PERSON, "name": "张**", "status": "正常"}
    assert body["masked"] == ["name"]
    assert response["X-Road-Id"] == "req-0001"
    rec = ExchangeLog.objects.get(seq=int(response["X-Road-Log-Seq"]))
    assert (rec.consumer_code, rec.end_user_id, rec.operation, rec.status) == ("rsj-shebao", "rsj-clerk-007",
                                                                               "get", 200)
    assert rec.resource_code == "test.people" and rec.owner_department == OWNER_DEPT
    assert rec.consumer_department == CONSUMER_DEPT
    assert rec.fields_returned == ["id_number", "name", "status"]
    assert rec.record_key == "371502********1234"  # personal key: masked in the log, blind index beside it
    assert rec.record_key_index == blind_index("exchange_key", PERSON)
    assert rec.response_hash == response["X-Road-Response-Hash"]
    assert rec.request_id == "req-0001"


def test_a_non_granted_field_is_refused_with_403_and_logged(client: Client, granted: dict[str, Any],
                                                            fake_providers: Any) -> None:
    before = len(fake_providers["people"].gets)
    response = _get(client, f"/exchange/r1/test.people/records/{PERSON}?fields=name,phone", granted["token"])
    assert response.status_code == 403
    assert response.json()["error"] == "field_not_granted" and "phone" in response.json()["message_en"]
    assert len(fake_providers["people"].gets) == before  # the provider was not even asked
    rec = ExchangeLog.objects.order_by("-seq").first()
    assert rec is not None and rec.status == 403 and rec.error == "field_not_granted"
    assert rec.fields_requested == ["name", "phone"] and rec.fields_returned == []
    # Asking for granted fields by name returns just those.
    ok = _get(client, f"/exchange/r1/test.people/records/{PERSON}?fields=status", granted["token"])
    assert ok.json()["record"] == {"status": "正常"}


def test_requests_without_valid_credentials_or_end_user_are_refused_and_logged(client: Client,
                                                                               granted: dict[str, Any]) -> None:
    url = f"/exchange/r1/test.people/records/{PERSON}"
    assert _get(client, url, "lcx_wrong").status_code == 401
    assert _get(client, url, granted["token"], code="someone-else").status_code == 401
    missing = client.get(url, HTTP_AUTHORIZATION=f"Bearer {granted['token']}", HTTP_X_ROAD_CLIENT="rsj-shebao")
    assert missing.status_code == 400 and missing.json()["field"] == "X-Road-UserId"
    assert client.post(url, **api_headers(granted["token"], "rsj-shebao")).status_code == 405
    statuses = list(ExchangeLog.objects.order_by("seq").values_list("status", flat=True))
    assert statuses == [401, 401, 400, 405]


def test_revoked_systems_and_rotated_tokens_stop_working(client: Client, granted: dict[str, Any],
                                                          consumer_officer: Any) -> None:
    url = f"/exchange/r1/test.people/records/{PERSON}"
    new = services.rotate_token(acting_user=consumer_officer, system=granted["system"])
    assert _get(client, url, granted["token"]).status_code == 401
    assert _get(client, url, new).status_code == 200
    services.revoke_consumer_system(acting_user=consumer_officer, system=granted["system"])
    assert _get(client, url, new).status_code == 401


def test_query_with_filters_on_granted_fields_only(client: Client, granted: dict[str, Any]) -> None:
    response = _get(client, "/exchange/r1/test.people/records?status=正常&limit=1", granted["token"])
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and len(body["records"]) == 1 and body["limit"] == 1
    assert set(body["records"][0]) == {"id_number", "name", "status"}
    refused = _get(client, "/exchange/r1/test.people/records?phone=13812345678", granted["token"])
    assert refused.status_code == 403
    rec = ExchangeLog.objects.order_by("-seq").first()
    assert rec is not None and rec.filters == {"phone": "138****5678"}  # personal filter values masked in the log
    assert _get(client, "/exchange/r1/test.people/records?limit=x", granted["token"]).status_code == 400


def test_unknown_resource_record_and_ungranted_resource(client: Client, granted: dict[str, Any]) -> None:
    assert _get(client, "/exchange/r1/nope/records/1", granted["token"]).status_code == 404
    assert _get(client, "/exchange/r1/test.people/records/000", granted["token"]).status_code == 404
    response = _get(client, "/exchange/r1/test.enterprises/records/91371500MA3C000001", granted["token"])
    assert response.status_code == 403 and response.json()["error"] == "not_granted"


def test_revocation_is_immediate(client: Client, granted: dict[str, Any], owner: Any) -> None:
    grant = granted["system"].grants.get(field_name="name", revoked_at__isnull=True)
    services.revoke_grant(acting_user=owner, grant=grant, reason="核查结束")
    body = _get(client, f"/exchange/r1/test.people/records/{PERSON}", granted["token"]).json()
    assert set(body["record"]) == {"id_number", "status"}


def test_change_feed_needs_a_subscription_and_returns_granted_fields(client: Client, granted: dict[str, Any]) -> None:
    token = granted["token"]
    refused = _get(client, "/exchange/r1/test.people/changes", token)
    assert refused.status_code == 403 and refused.json()["error"] == "not_subscribed"
    sub = client.post("/exchange/r1/test.people/subscription", data="{}", content_type="application/json",
                      **api_headers(token, "rsj-shebao"))
    assert sub.status_code == 200 and sub.json()["subscribed"] is True
    feed = _get(client, "/exchange/r1/test.people/changes?after=0", token).json()
    # Change 1 touched only the phone (not granted): left out. The death and the move are delivered.
    assert [c["seq"] for c in feed["changes"]] == [2, 3]
    death = feed["changes"][0]
    assert death["kind"] == "deceased" and death["changed_fields"] == ["status"]
    assert death["key"] == "371522198512120021"  # id_number granted in clear
    assert death["record"] == {"id_number": "371522198512120021", "name": "李*", "status": "死亡"}
    assert death["effective_date"] == "2026-03-01"
    assert feed["next"] == 3
    # Without ``after`` the feed continues from the subscription's cursor.
    assert _get(client, "/exchange/r1/test.people/changes", token).json()["changes"] == []


def test_change_feed_masks_the_key_unless_granted_in_clear(client: Client, catalogue: dict[str, Any],
                                                           owner: Any, consumer_officer: Any) -> None:
    system, token = services.create_consumer_system(
        acting_user=consumer_officer, department=Department.objects.get(code=CONSUMER_DEPT), code="rsj-other",
        name="其他系统")
    app = services.apply_for_fields(acting_user=consumer_officer, consumer=system, resource=catalogue["people"],
                                    fields=["status"], purpose="统计", legal_basis="依据")
    services.decide_application(acting_user=owner, application=app,
                                decisions={"status": services.FieldDecision(approve=True)})
    services.subscribe(acting_user=consumer_officer, consumer=system, resource=catalogue["people"])
    feed = _get(client, "/exchange/r1/test.people/changes?after=1", token, code="rsj-other").json()
    assert feed["changes"][0]["key"] == "371522********0021"
    assert feed["changes"][0]["record"] == {"status": "死亡"}


def test_service_discovery(client: Client, granted: dict[str, Any]) -> None:
    token = granted["token"]
    providers_ = _get(client, "/exchange/r1/listProviders", token).json()["providers"]
    assert {(p["code"], p["name"]) for p in providers_} >= {(OWNER_DEPT, "聊城市公安局")}
    services_ = _get(client, f"/exchange/r1/listServices?provider={OWNER_DEPT}", token).json()["services"]
    people = next(s for s in services_ if s["code"] == "test.people")  # real providers may be registered too
    assert people["key_field"] == "id_number" and people["provider"] == OWNER_DEPT
    assert {f["name"] for f in people["fields"]} == {"id_number", "name", "phone", "status", "division"}
    assert _get(client, "/exchange/r1/listServices?provider=nobody", token).status_code == 404
    allowed = _get(client, "/exchange/r1/allowedServices", token).json()
    assert allowed["client"] == "rsj-shebao"
    assert allowed["services"] == [{
        "code": "test.people", "name": "测试人口信息", "provider": OWNER_DEPT, "subscribed": False,
        "fields": [{"name": "id_number", "clear": True}, {"name": "name", "clear": False},
                   {"name": "status", "clear": False}],
    }]
    ops = list(ExchangeLog.objects.order_by("seq").values_list("operation", flat=True))
    assert ops == ["listProviders", "listServices", "listServices", "allowedServices"]


def test_log_chain_and_signatures_verify_and_tampering_is_found(client: Client, granted: dict[str, Any]) -> None:
    for _ in range(3):
        _get(client, f"/exchange/r1/test.people/records/{PERSON}", granted["token"])
    _get(client, f"/exchange/r1/test.people/records/{PERSON}?fields=phone", granted["token"])
    result = chain.verify()
    assert result.ok and result.checked == 4, result
    rec = ExchangeLog.objects.get(seq=2)
    ExchangeLog.objects.filter(pk=rec.pk).update(fields_returned=["id_number", "name", "status", "phone"])
    broken = chain.verify()
    assert not broken.ok and broken.problem == "altered" and broken.seq == 2
    ExchangeLog.objects.filter(pk=rec.pk).update(fields_returned=rec.fields_returned)
    assert chain.verify().ok
    # A forged signature over a correct hash is found too.
    other = ExchangeLog.objects.get(seq=3)
    ExchangeLog.objects.filter(pk=rec.pk).update(signature=other.signature)
    assert chain.verify().problem == "signature"
    ExchangeLog.objects.filter(pk=rec.pk).update(signature=rec.signature)
    # Deleting the newest record is caught by the head row.
    ExchangeLog.objects.filter(seq=4).delete()
    assert chain.verify().problem == "deleted"
    assert ExchangeHead.objects.get().seq == 4


def test_owner_sees_the_signed_log_entry_and_downloads_evidence(client: Client, granted: dict[str, Any],
                                                                owner: Any, staff_factory: Any) -> None:
    api = Client()
    _get(api, f"/exchange/r1/test.people/records/{PERSON}", granted["token"])
    _get(api, f"/exchange/r1/test.people/records/{PERSON}?fields=phone", granted["token"])
    client.force_login(owner)
    page = client.get("/exchange/log/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-seq="1" data-status="200"' in html and 'data-seq="2" data-status="403"' in html
    assert "rsj-shebao" in html and "371502********1234" in html and PERSON not in html
    by_key = client.get("/exchange/log/", {"key": PERSON})
    assert by_key.content.decode().count("data-seq=") == 2
    detail = client.get("/exchange/log/1/")
    assert detail.status_code == 200 and 'id="signature-status"' in detail.content.decode()
    assert "result-ok" in detail.content.decode()
    evidence = client.get("/exchange/log/1/evidence.json")
    assert evidence.status_code == 200 and "attachment" in evidence["Content-Disposition"]
    doc = json.loads(evidence.content)
    assert doc["record"]["fields_returned"] == ["id_number", "name", "status"]
    assert doc["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert chain.verify_evidence(doc) == (True, "record #1 verified: hash and SM2 signature intact")
    doc["record"]["fields_returned"].append("phone")
    assert chain.verify_evidence(doc)[0] is False
    # A department that is neither owner nor consumer sees nothing.
    stranger = staff_factory("tax_officer", department_code="371500-tax", roles=(("data_sharing_officer", "371500"),))
    client.force_login(stranger)
    assert client.get("/exchange/log/1/evidence.json").status_code == 404
    assert "data-seq=" not in client.get("/exchange/log/").content.decode()


def test_log_append_failure_withholds_the_answer(client: Client, granted: dict[str, Any],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(entry: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(chain, "append", fail)
    response = _get(client, f"/exchange/r1/test.people/records/{PERSON}", granted["token"])
    assert response.status_code == 503 and "张" not in response.content.decode()


def test_a_failing_provider_is_answered_500_and_logged(client: Client, granted: dict[str, Any],
                                                       fake_providers: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(key: str, fields: Any) -> None:
        raise RuntimeError("provider database down")

    monkeypatch.setattr(fake_providers["people"], "get", broken)
    response = _get(client, f"/exchange/r1/test.people/records/{PERSON}", granted["token"])
    assert response.status_code == 500 and response.json()["error"] == "internal_error"
    rec = ExchangeLog.objects.order_by("-seq").first()
    assert rec is not None and (rec.status, rec.error, rec.fields_returned) == (500, "internal_error", [])
