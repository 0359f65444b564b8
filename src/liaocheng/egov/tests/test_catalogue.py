"""The service item catalogue: shipped data, process validation, department scoping, publication and the
public pages, and the plan indicators."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from liaocheng.core.departments import KINDS, department_code
from liaocheng.core.errors import InvalidInput
from liaocheng.core.models import AuditRecord, Department
from liaocheng.egov import catalogue, catalogue_data
from liaocheng.egov.models import Bundle, Document, ItemStatus, ItemType, ServiceItem

CITY = "371500"
SX = "371522"
MR = department_code(CITY, "market_regulation")
HEALTH = department_code(CITY, "health")


@pytest.fixture
def loaded(db: None) -> dict[str, int]:
    return catalogue.ensure_demo_catalogue()


def _item_kwargs(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "测试事项", "legal_basis": "《中华人民共和国行政许可法》", "conditions": "条件", "statutory_days": 20,
        "promised_days": 10, "serves": "enterprise", "online_depth": 3, "max_visits": 1, "result_name": "许可证",
        "result_kind": "licence", "process": catalogue_data.standard(5), "form_fields": catalogue_data.ENTERPRISE_FORM}
    data.update(over)
    return data


@pytest.fixture
def admins(db: None, staff_factory: Any) -> dict[str, Any]:
    catalogue.load_item_types()
    return {
        "mr": staff_factory("cat_mr", department_code=MR, roles=(("egov_catalogue_admin", CITY),)),
        "health": staff_factory("cat_health", department_code=HEALTH, roles=(("egov_catalogue_admin", CITY),)),
        "editor": staff_factory("cat_editor", department_code=MR, roles=(("egov_item_admin", CITY),)),
    }


# --- shipped data -------------------------------------------------------------------------------------

def test_shipped_data_is_consistent() -> None:
    codes = [i["basic_code"] for i in catalogue_data.ITEMS]
    assert len(codes) == len(set(codes))
    assert all(len(c) == 12 and c.isdigit() for c in codes)
    assert {i["kind"] for i in catalogue_data.ITEMS} == set(KINDS)  # every department kind has items
    for spec in catalogue_data.ITEMS:
        catalogue.validate_process(spec["process"], spec["promised_days"])
        assert spec["promised_days"] <= spec["statutory_days"], spec["name"]
        assert spec["materials"], spec["name"]
        assert 1 <= spec["online_depth"] <= 4


def test_load_and_ensure_are_idempotent(db: None) -> None:
    assert catalogue.load_item_types() == 8
    assert catalogue.load_item_types() == 0
    first = catalogue.ensure_demo_catalogue()
    assert first["items"] > 300 and first["bundles"] == 18  # two bundles in the city and each county
    count = ServiceItem.objects.count()
    assert catalogue.ensure_demo_catalogue() == {"items": 0, "bundles": 0}
    assert ServiceItem.objects.count() == count
    assert ItemType.objects.count() == 8
    kinds = set(ServiceItem.objects.values_list("department__kind", flat=True))
    assert len(kinds) >= 10 and kinds == set(KINDS)
    # implemented by the city and each county where the kind exists
    food = ServiceItem.objects.filter(name="食品经营许可")
    assert set(food.values_list("division_code", flat=True)) == set(
        Department.objects.filter(kind="market_regulation").values_list("division_code", flat=True))
    assert ServiceItem.objects.filter(status=ItemStatus.PUBLISHED).count() == count
    item = ServiceItem.objects.get(code=catalogue_data.implementation_code(
        catalogue_data.basic_code("行政许可", "market_regulation", 1), SX, "market_regulation"))
    assert item.department.code == department_code(SX, "market_regulation")
    assert any(f["prefill"] == "credit_code" for f in ServiceItem.objects.get(
        code=food.first().code).form_fields)  # type: ignore[union-attr]


def test_bundles(loaded: dict[str, int]) -> None:
    start = Bundle.objects.get(code=f"QYKB-{CITY}")
    members = {(m.item.name, m.item.department.kind, m.prior) for m in start.members.select_related("item__department")}
    assert ("企业设立登记", "market_regulation", False) in members
    assert ("统一社会信用代码赋码", "market_regulation", False) in members
    assert ("涉税信息确认（税务登记）", "tax", False) in members
    assert ("娱乐场所经营许可", "culture_tourism", True) in members
    assert ("公共场所卫生许可", "health", True) in members
    assert all(m.item.division_code == CITY for m in start.members.all())
    birth = Bundle.objects.get(code=f"CSYJS-{CITY}")
    assert [m.item.name for m in birth.members.all()] == [
        "出生医学证明签发", "户口登记（出生登记）", "城乡居民医保参保登记", "社会保障卡申领"]


# --- process validation -------------------------------------------------------------------------------

def _steps() -> list[dict[str, Any]]:
    return catalogue_data.parallel(3, 2)


def test_valid_parallel_process_and_longest_path() -> None:
    steps = catalogue.validate_process(_steps(), 7)
    assert catalogue.process_total_days(steps) == 1 + 3 + 1 + 1


@pytest.mark.parametrize("mutate, promised, needle", [
    (lambda s: s[0].update(after=["issue"]), 30, "exactly one start"),
    (lambda s: s[1].update(after=["decide"]), 30, "cycle"),
    (lambda s: s[1].update(role="urban_dispatcher"), 30, "unknown role"),
    (lambda s: s[3].update(after=["review", "nowhere"]), 30, "unknown step"),
    (lambda s: s[2].update(key="review"), 30, "duplicate"),
    (lambda s: s[1].update(limit_days=0), 30, "positive"),
    (lambda s: None, 5, "longest path"),
])
def test_process_errors(mutate: Any, promised: int, needle: str) -> None:
    steps = _steps()
    mutate(steps)
    with pytest.raises(InvalidInput) as exc:
        catalogue.validate_process(steps, promised)
    assert exc.value.field == "process"
    assert needle in exc.value.message_en


# --- maintenance and publication -----------------------------------------------------------------------

def test_create_update_publish_and_search(admins: dict[str, Any]) -> None:
    mr = Department.objects.get(code=MR)
    license_type = ItemType.objects.get(code="01")
    item = catalogue.create_item(acting_user=admins["editor"], department=mr, item_type=license_type,
                                 basic_code="010129990000", **_item_kwargs(name="网络餐饮服务第三方平台备案"))
    assert item.status == ItemStatus.DRAFT and item.code == "010129990000-371500-012"
    assert not catalogue.search_items(q="网络餐饮").exists()
    with pytest.raises(PermissionDenied):  # item admin may maintain but not publish
        catalogue.publish_item(acting_user=admins["editor"], item=item)
    with pytest.raises(InvalidInput) as exc:  # no materials yet
        catalogue.publish_item(acting_user=admins["mr"], item=item)
    assert exc.value.field == "materials"
    catalogue.set_materials(acting_user=admins["editor"], item=item, materials=[
        {"name": "申请书", "required": True, "form": "electronic", "accepted_types": "PDF, .jpg"}])
    assert item.materials.get().accepted_types == "pdf,jpg"
    with pytest.raises(InvalidInput) as exc:
        catalogue.update_item(acting_user=admins["editor"], item=item, promised_days=4)
    assert exc.value.field == "process"  # 8 working days along the path > 4
    catalogue.update_item(acting_user=admins["editor"], item=item, promised_days=8, online_depth=4)
    catalogue.publish_item(acting_user=admins["mr"], item=item)
    assert [i.code for i in catalogue.search_items(q="网络餐饮")] == [item.code]
    assert catalogue.search_items(q="010129990000").count() == 1
    assert catalogue.search_items(q="市场监督管理局", serves="enterprise").filter(pk=item.pk).exists()
    assert not catalogue.search_items(q="网络餐饮", serves="citizen").exists()
    catalogue.withdraw_item(acting_user=admins["mr"], item=item)
    assert not catalogue.search_items(q="网络餐饮").exists()
    actions = list(AuditRecord.objects.filter(object_id=item.code).values_list("action", flat=True))
    assert actions == ["egov.create_item", "egov.set_materials", "egov.update_item", "egov.publish_item",
                       "egov.withdraw_item"]


def test_department_cannot_edit_another_departments_item(loaded: dict[str, int], admins: dict[str, Any]) -> None:
    item = ServiceItem.objects.get(name="食品经营许可", division_code=CITY)
    with pytest.raises(PermissionDenied):
        catalogue.update_item(acting_user=admins["health"], item=item, name="改名")
    with pytest.raises(PermissionDenied):
        catalogue.withdraw_item(acting_user=admins["health"], item=item)
    county_item = ServiceItem.objects.get(name="食品经营许可", division_code=SX)
    with pytest.raises(PermissionDenied):  # own kind but another department (the county's)
        catalogue.update_item(acting_user=admins["mr"], item=county_item, name="改名")
    client = Client()
    client.force_login(admins["health"])
    assert client.get(f"/egov/manage/items/{item.code}/").status_code == 403
    assert client.post(f"/egov/manage/items/{item.code}/publish/", {"action": "withdraw"}).status_code == 403
    item.refresh_from_db()
    assert item.status == ItemStatus.PUBLISHED


def test_staff_edit_page_shows_process_errors(loaded: dict[str, int], admins: dict[str, Any]) -> None:
    item = ServiceItem.objects.get(name="食品经营许可", division_code=CITY)
    client = Client()
    client.force_login(admins["mr"])
    listing = client.get("/egov/manage/items/")
    assert listing.status_code == 200 and item.code in listing.content.decode()
    page = client.get(f"/egov/manage/items/{item.code}/")
    assert page.status_code == 200
    form = {"name": item.name, "legal_basis": item.legal_basis, "conditions": item.conditions, "fee": "不收费",
            "statutory_days": "20", "promised_days": "8", "serves": "enterprise", "online_depth": "4",
            "max_visits": "0", "result_name": item.result_name, "result_kind": "licence",
            "materials": "申请书 | 必要 | electronic | pdf | 申请人自备",
            "process": '[{"key": "a", "name": "受理", "role": "egov_nobody", "limit_days": 1, "after": []}]'}
    bad = client.post(f"/egov/manage/items/{item.code}/", form)
    assert bad.status_code == 400 and "egov_nobody" in bad.content.decode()
    form["process"] = '[{"key": "a", "name": "受理", "role": "egov_intake", "limit_days": 1, "after": []}]'
    ok = client.post(f"/egov/manage/items/{item.code}/", form)
    assert ok.status_code == 302
    item.refresh_from_db()
    assert item.online_depth == 4 and [m.name for m in item.materials.all()] == ["申请书"]


# --- public pages ---------------------------------------------------------------------------------------

def test_public_catalogue_and_detail(loaded: dict[str, int]) -> None:
    client = Client()
    listing = client.get("/egov/items/", {"q": "食品经营", "division": CITY})
    assert listing.status_code == 200
    item = ServiceItem.objects.get(name="食品经营许可", division_code=CITY)
    assert item.code in listing.content.decode()
    detail = client.get(f"/egov/items/{item.code}/")
    html = detail.content.decode()
    assert detail.status_code == 200
    for text in ("食品经营许可申请书", "材料审查", "现场核查", "《中华人民共和国食品安全法》",
                 f"/egov/apply/{item.code}/"):
        assert text in html
    catalogue.withdraw_item(acting_user=_superuser(), item=item)
    assert client.get(f"/egov/items/{item.code}/").status_code == 404
    bundle = client.get(f"/egov/bundles/QYKB-{CITY}/")
    assert bundle.status_code == 200 and "娱乐场所经营许可" in bundle.content.decode()
    assert client.get("/egov/bundles/").status_code == 200


def _superuser() -> Any:
    from liaocheng.core.models import User
    return User.objects.create_superuser("cat_root", password="Root-pass-2026!")


# --- indicators ----------------------------------------------------------------------------------------

def test_indicators_compute_exact_shares(admins: dict[str, Any]) -> None:
    mr, health = Department.objects.get(code=MR), Department.objects.get(code=HEALTH)
    t = ItemType.objects.get(code="01")
    now = timezone.now()
    for i, (dept, depth, status) in enumerate([(mr, 4, "published"), (mr, 3, "published"), (mr, 2, "published"),
                                               (health, 4, "published"), (health, 1, "draft")]):
        ServiceItem.objects.create(basic_code=f"0101299900{i:02d}", code=f"T{i}", name=f"事项{i}", item_type=t,
                                   level="city", department=dept, division_code=CITY, statutory_days=5,
                                   promised_days=3, online_depth=depth, process=catalogue_data.simple(),
                                   status=status)
    for i, (dept, classified, published) in enumerate([(mr, False, True), (mr, False, False), (mr, True, False),
                                                       (health, False, True)]):
        Document.objects.create(title=f"文件{i}", index_number=f"IDX-{i}", department=dept, division_code=CITY,
                                issued_on=dt.date(2026, 1, 5), category="其他", classified=classified,
                                published_at=now if published else None)
    overall, rows = catalogue.online_indicators()
    assert (overall.items, overall.online, overall.fully_online) == (4, 3, 2)
    assert overall.online_share == 75.0 and overall.fully_online_share == 50.0 and not overall.meets_target
    by_dept = {r.code: r for r in rows}
    assert by_dept[MR].online_share == 66.7 and by_dept[MR].fully_online_share == 33.3
    assert by_dept[HEALTH].online_share == 100.0 and by_dept[HEALTH].meets_target
    disc, disc_rows = catalogue.disclosure_indicators()
    assert (disc.documents, disc.published, disc.share) == (3, 2, 66.7)
    assert {r.code: r.share for r in disc_rows} == {MR: 50.0, HEALTH: 100.0}
    page = Client().get("/egov/indicators/")
    html = page.content.decode()
    assert page.status_code == 200 and "75.0%" in html and "50.0%" in html and "66.7%" in html
