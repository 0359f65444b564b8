"""Disclosure services: index numbers, requests with the 20-working-day deadline (extendable once), answers,
the annual report."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied

from liaocheng.core.departments import department_code
from liaocheng.core.errors import Conflict, InvalidInput
from liaocheng.core.models import AuditRecord, Department, User
from liaocheng.egov import disclosure
from liaocheng.egov.models import DisclosureRequestStatus

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def officer(staff_factory: Any) -> Any:
    return staff_factory("gk_officer", department_code=department_code("371500", "party_government_office"),
                         roles=(("egov_disclosure_officer", "371500"),))


@pytest.fixture
def dept() -> Department:
    return Department.objects.get(code=department_code("371500", "party_government_office"))


@pytest.fixture
def citizen() -> User:
    return User.objects.create_user(username="c_wang", password="Pw-citizen-2026!", kind="citizen",
                                    real_name="王小明")


def test_index_numbers_count_per_department_and_year(officer: Any, dept: Department) -> None:
    kw: dict[str, Any] = {"acting_user": officer, "department": dept, "category": "综合政务", "body": "正文"}
    a = disclosure.publish_document(title="甲", issued_on=dt.date(2025, 1, 5), **kw)
    b = disclosure.publish_document(title="乙", issued_on=dt.date(2025, 2, 5), **kw)
    c = disclosure.publish_document(title="丙", issued_on=dt.date(2024, 2, 5), **kw)
    assert a.index_number == f"{dept.code}/2025-00001" and b.index_number == f"{dept.code}/2025-00002"
    assert c.index_number == f"{dept.code}/2024-00001"
    assert AuditRecord.objects.filter(action="egov.document.publish").count() == 3


def test_publishing_needs_the_permission_in_the_division(staff_factory: Any, dept: Department) -> None:
    county_officer = staff_factory("gk_shen", department_code=department_code("371522", "party_government_office"),
                                   roles=(("egov_disclosure_officer", "371522"),))
    with pytest.raises(PermissionDenied):
        disclosure.publish_document(acting_user=county_officer, department=dept, title="甲",
                                    issued_on=dt.date(2025, 1, 5), category="综合政务")
    with pytest.raises(InvalidInput) as err:
        disclosure.publish_document(acting_user=county_officer, department=county_officer.department, title="甲",
                                    issued_on=dt.date(2025, 1, 5), category="没有这个分类")
    assert err.value.field == "category"


def test_request_due_in_20_working_days_across_a_holiday(citizen: User, dept: Department) -> None:
    # received Friday 2025-09-26; National Day holiday 10-01..10-08 with make-up days 09-28 and 10-11
    received = dt.datetime(2025, 9, 26, 10, 0, tzinfo=TZ)
    req = disclosure.submit_request(acting_user=citizen, department=dept, description="2024年城乡供水项目资金安排",
                                    now=received)
    # working days after 09-26: 09-28(Sun, make-up), 09-29, 09-30, 10-09, 10-10, 10-11(Sat, make-up) = 6, then
    # 14 more from 10-13: 10-13..17 (5), 10-20..24 (10), 10-27..30 (14) -> 2025-10-30
    assert req.due_at.astimezone(TZ).date() == dt.date(2025, 10, 30)
    assert req.status == DisclosureRequestStatus.RECEIVED


def test_requests_need_a_real_name_account(officer: Any, dept: Department) -> None:
    anonymous = User.objects.create_user(username="c_anon", password="Pw-citizen-2026!", kind="citizen")
    for user in (officer, anonymous):
        with pytest.raises(InvalidInput):
            disclosure.submit_request(acting_user=user, department=dept, description="信息")


def test_extension_once_only_and_late_answer_flagged(citizen: User, officer: Any, dept: Department) -> None:
    received = dt.datetime(2025, 3, 3, 9, 0, tzinfo=TZ)
    req = disclosure.submit_request(acting_user=citizen, department=dept, description="某项目环评批复",
                                    now=received)
    first_due = req.due_at
    with pytest.raises(PermissionDenied):
        disclosure.extend_request(req, acting_user=citizen, reason="需要协商")
    with pytest.raises(InvalidInput):
        disclosure.extend_request(req, acting_user=officer, reason=" ")
    req = disclosure.extend_request(req, acting_user=officer, reason="需征求第三方意见", now=received)
    assert req.status == DisclosureRequestStatus.EXTENDED
    assert req.due_at.date() > first_due.date()
    assert (req.due_at - first_due).days >= 28  # 20 working days
    with pytest.raises(Conflict):
        disclosure.extend_request(req, acting_user=officer, reason="再延一次")
    late = req.due_at + dt.timedelta(days=2)
    req = disclosure.answer_request(req, acting_user=officer, kind="partly", answer="部分公开，见附件。", now=late)
    assert req.status == DisclosureRequestStatus.ANSWERED and disclosure.is_late(req)
    assert AuditRecord.objects.get(action="egov.disclosure_request.answer").after["late"] is True
    with pytest.raises(Conflict):
        disclosure.answer_request(req, acting_user=officer, kind="disclosed", answer="再答复")


def test_answer_kinds_in_the_national_template_terms(citizen: User, officer: Any, dept: Department) -> None:
    t = dt.datetime(2025, 6, 2, 9, tzinfo=TZ)
    reqs = [disclosure.submit_request(acting_user=citizen, department=dept, description=f"信息{i}", now=t)
            for i in range(4)]
    assert set(disclosure.ANSWER_KINDS) == {"disclosed", "partly", "refused", "unable", "not_processed", "other"}
    for kind in ("refused", "unable", "not_processed", "other"):  # a sub-reason is required for these four
        with pytest.raises(InvalidInput) as err:
            disclosure.answer_request(reqs[0], acting_user=officer, kind=kind, answer="答复", now=t)
        assert err.value.field == "answer_reason" and "请选择具体理由" in err.value.message_zh
    with pytest.raises(InvalidInput) as err:  # a reason of another kind is not accepted
        disclosure.answer_request(reqs[0], acting_user=officer, kind="refused", reason="not_held", answer="答复", now=t)
    assert err.value.field == "answer_reason"
    with pytest.raises(InvalidInput) as err:
        disclosure.answer_request(reqs[0], acting_user=officer, kind="not_held", answer="不掌握", now=t)
    assert err.value.field == "answer_kind"  # the old kind is gone (migrated to 无法提供 / 本机关不掌握)
    a = disclosure.answer_request(reqs[0], acting_user=officer, kind="refused", reason="third_party",
                                  answer="涉及第三方商业秘密", now=t)
    b = disclosure.answer_request(reqs[1], acting_user=officer, kind="unable", reason="not_held", answer="不掌握",
                                  now=t)
    c = disclosure.answer_request(reqs[2], acting_user=officer, kind="disclosed", reason="state_secret",
                                  answer="予以公开", now=t)
    assert (a.answer_kind, a.answer_reason) == ("refused", "third_party")
    assert (b.answer_kind, b.answer_reason) == ("unable", "not_held")
    assert (c.answer_kind, c.answer_reason) == ("disclosed", "")  # no reason for a full disclosure
    assert disclosure.answer_label("refused", "third_party") == "不予公开：保护第三方合法权益"
    assert AuditRecord.objects.filter(action="egov.disclosure_request.answer").last().after["answer_reason"] == ""
    assert reqs[3].requester_category == "natural_person"


def test_enterprise_requests_record_their_category(officer: Any, dept: Department) -> None:
    firm = User.objects.create_user(username="e_law", password="Pw-enterprise-2026!", kind="enterprise",
                                    real_name="山东聊城某某律师事务所")
    req = disclosure.submit_request(acting_user=firm, department=dept, description="某项目批复")
    assert req.requester_category == "business"  # 商业企业 by default
    req = disclosure.submit_request(acting_user=firm, department=dept, description="某项目批复",
                                    requester_category="legal_service")
    assert req.requester_category == "legal_service"
    with pytest.raises(InvalidInput) as err:
        disclosure.submit_request(acting_user=firm, department=dept, description="某项目批复",
                                  requester_category="natural_person")
    assert err.value.field == "requester_category"


def test_pages_search_request_and_answer(client: Any, citizen: User, officer: Any, dept: Department) -> None:
    from django.urls import reverse

    from liaocheng.egov.models import DisclosureRequest

    client.force_login(officer)
    resp = client.post(reverse("egov_disclosure:staff_publish"), {
        "department": dept.code, "title": "关于做好冬季清洁取暖工作的通知", "doc_number": "聊政办发〔2025〕3号",
        "issued_on": "2025-11-02", "category": "城乡建设", "disclosure_type": "proactive",
        "body": "各县（市、区）人民政府：\n\n今年新增集中供热面积120万平方米。"})
    assert resp.status_code == 200 and f"{dept.code}/2025-00001" in resp.content.decode()
    client.logout()
    page = client.get(reverse("egov_disclosure:index"), {"q": "供热面积"}).content.decode()
    assert "<mark>供热面积</mark>" in page and "找到 1 条结果" in page
    doc = disclosure.search.public_documents().get()
    assert "集中供热" in client.get(reverse("egov_disclosure:document", args=[doc.pk])).content.decode()
    dept_page = client.get(reverse("egov_disclosure:department", args=[dept.code])).content.decode()
    assert "城乡建设" in dept_page and "公开指南" in dept_page
    year = doc.published_at.year
    report_page = client.get(reverse("egov_disclosure:report", args=[dept.code, year])).content.decode()
    assert "未发布（实时统计）" in report_page and "收到和处理政府信息公开申请情况" in report_page
    csv_resp = client.get(reverse("egov_disclosure:report", args=[dept.code, year]), {"format": "csv"})
    assert csv_resp["Content-Type"].startswith("text/csv") and csv_resp.content.startswith(b"\xef\xbb\xbf")
    assert "一、本年新收政府信息公开申请数量" in csv_resp.content.decode("utf-8-sig")

    client.force_login(citizen)
    resp = client.post(reverse("egov_disclosure:request"), {"department": dept.code, "description": "供热补贴标准"})
    assert resp.status_code == 302
    req = DisclosureRequest.objects.get()
    assert req.number in client.get(reverse("egov_disclosure:mine")).content.decode()
    client.force_login(officer)
    assert req.number in client.get(reverse("egov_disclosure:staff_requests")).content.decode()
    resp = client.post(reverse("egov_disclosure:staff_request_action", args=[req.pk]),
                       {"action": "answer", "kind": "unable", "reason": "", "answer": "本机关不掌握"}, follow=True)
    assert "请选择具体理由" in resp.content.decode()  # the reason is required for 无法提供
    req.refresh_from_db()
    assert req.status != DisclosureRequestStatus.ANSWERED
    client.post(reverse("egov_disclosure:staff_request_action", args=[req.pk]),
                {"action": "answer", "kind": "unable", "reason": "not_held", "answer": "本机关不掌握该信息。"})
    req.refresh_from_db()
    assert req.status == DisclosureRequestStatus.ANSWERED and (req.answer_kind, req.answer_reason) == (
        "unable", "not_held")
    client.force_login(citizen)
    assert "无法提供：本机关不掌握相关政府信息" in client.get(reverse("egov_disclosure:mine")).content.decode()
