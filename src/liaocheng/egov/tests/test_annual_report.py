"""The government information disclosure annual report (政府信息公开工作年度报告) in the national template:
the tables computed from documents, cases and requests, the office's draft and publication (frozen figures),
the public pages and CSV, the reminder, the document kinds and repeal dates, and the permission refusals."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from liaocheng.core.departments import department_code
from liaocheng.core.errors import Conflict, InvalidInput
from liaocheng.core.models import AuditRecord, Department, User
from liaocheng.egov import disclosure
from liaocheng.egov.models import (
    Application,
    Case,
    CaseStatus,
    DisclosureAnnualReport,
    ItemStatus,
    ItemType,
    ServiceItem,
)

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
CITY = "371500"
YEAR = 2025
COLUMNS = ["natural_person", "business", "research", "public_interest", "legal_service", "other"]


def at(y: int, m: int, d: int, hh: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, hh, 0, tzinfo=TZ)


def row(**counts: int) -> list[int]:
    """A requests-table row: the six requester columns and the total."""
    cells = [counts.get(c, 0) for c in COLUMNS]
    return [*cells, sum(cells)]


@pytest.fixture
def dept() -> Department:
    return Department.objects.get(code=department_code(CITY, "market_regulation"))


@pytest.fixture
def other_dept() -> Department:
    return Department.objects.get(code=department_code(CITY, "party_government_office"))


@pytest.fixture
def officer(staff_factory: Any) -> Any:
    return staff_factory("gk_scj", department_code=department_code(CITY, "market_regulation"),
                         roles=(("egov_disclosure_officer", CITY),))


@pytest.fixture
def county_officer(staff_factory: Any) -> Any:
    return staff_factory("gk_sx", department_code=department_code("371522", "party_government_office"),
                         roles=(("egov_disclosure_officer", "371522"),))


@pytest.fixture
def citizen() -> User:
    return User.objects.create_user(username="c_li", password="Pw-citizen-2026!", kind="citizen", real_name="李明")


@pytest.fixture
def firm() -> User:
    return User.objects.create_user(username="e_firm", password="Pw-enterprise-2026!", kind="enterprise",
                                    real_name="聊城市某某有限公司")


def _doc(officer: Any, dept: Department, title: str, issued: dt.date, kind: str = "normative",
         repealed: dt.date | None = None, classified: bool = False) -> Any:
    return disclosure.publish_document(acting_user=officer, department=dept, title=title, issued_on=issued,
                                       category="市场监管", doc_kind=kind, repealed_on=repealed, classified=classified,
                                       now=dt.datetime.combine(issued, dt.time(9), TZ) + dt.timedelta(days=2))


def _documents(officer: Any, dept: Department, other_dept: Any, other_officer: Any) -> None:
    _doc(officer, dept, "规范性文件甲", dt.date(2025, 3, 1))  # made, in force
    _doc(officer, dept, "规范性文件乙", dt.date(2025, 4, 1), repealed=dt.date(2025, 10, 1))  # made and repealed
    _doc(officer, dept, "规范性文件丙", dt.date(2023, 5, 1))  # in force
    _doc(officer, dept, "规范性文件丁", dt.date(2022, 1, 1), repealed=dt.date(2024, 6, 1))  # repealed earlier
    _doc(officer, dept, "规范性文件戊", dt.date(2023, 1, 1), repealed=dt.date(2026, 2, 1))  # in force at year end
    _doc(officer, dept, "规范性文件己", dt.date(2025, 6, 1), classified=True)  # not published: not counted
    _doc(officer, dept, "规范性文件庚", dt.date(2026, 1, 5))  # next year
    _doc(officer, dept, "聊城市某某管理办法", dt.date(2025, 2, 1), kind="rule")
    _doc(officer, dept, "一般通知", dt.date(2025, 2, 1), kind="other")
    _doc(other_officer, other_dept, "他部门规范性文件", dt.date(2025, 3, 1))


def _cases(dept: Department, other_dept: Department, applicant: User) -> None:
    licence, _ = ItemType.objects.get_or_create(code="01", defaults={"name": "行政许可"})
    confirm, _ = ItemType.objects.get_or_create(code="02", defaults={"name": "行政确认"})

    def item(code: str, item_type: ItemType, department: Department) -> ServiceItem:
        return ServiceItem.objects.create(
            basic_code=code, code=code, name=f"事项{code}", item_type=item_type, level="city", department=department,
            division_code=CITY, statutory_days=20, promised_days=10, process=[], status=ItemStatus.PUBLISHED)

    xk, qr, other_xk = item("XK1", licence, dept), item("QR1", confirm, dept), item("XK2", licence, other_dept)
    app = Application.objects.create(applicant=applicant, applicant_name="某公司", division_code=CITY,
                                     created_at=at(2025, 1, 2))
    cases = [(xk, CaseStatus.APPROVED, at(2025, 3, 3)), (xk, CaseStatus.ISSUED, at(2025, 5, 6)),
             (xk, CaseStatus.REJECTED, at(2025, 7, 8)),
             (xk, CaseStatus.REFUSED, at(2025, 7, 9)),  # 不予受理 is not a licensing decision
             (xk, CaseStatus.IN_REVIEW, None), (xk, CaseStatus.APPROVED, at(2024, 12, 31, 23)),
             (qr, CaseStatus.APPROVED, at(2025, 4, 1)), (other_xk, CaseStatus.APPROVED, at(2025, 4, 1))]
    for n, (it, status, decided) in enumerate(cases):
        Case.objects.create(number=f"BJ{n}", application=app, item=it, department=it.department, division_code=CITY,
                            status=status, received_at=at(2024, 12, 1), decided_at=decided)


def _requests(officer: Any, dept: Department, other_dept: Department, citizen: User, firm: User) -> dict[str, Any]:
    def submit(user: User, when: dt.datetime, category: str = "", department: Department = dept) -> Any:
        return disclosure.submit_request(acting_user=user, department=department, description="所需信息",
                                         requester_category=category, now=when)

    def answer(req: Any, kind: str, when: dt.datetime, reason: str = "") -> Any:
        return disclosure.answer_request(req, acting_user=officer, kind=kind, reason=reason, answer="答复",
                                         now=when)

    out = {}
    out["carried"] = answer(submit(citizen, at(2024, 12, 20)), "disclosed", at(2025, 1, 10))  # carried over
    answer(submit(citizen, at(2024, 11, 1)), "disclosed", at(2024, 11, 20))  # all in 2024: not in the 2025 tables
    answer(submit(citizen, at(2025, 3, 2)), "partly", at(2025, 3, 20))
    answer(submit(firm, at(2025, 4, 1), "business"), "refused", at(2025, 4, 20), "state_secret")
    answer(submit(firm, at(2025, 5, 1), "legal_service"), "unable", at(2025, 5, 20), "not_held")
    answer(submit(firm, at(2025, 6, 1), "research"), "not_processed", at(2025, 6, 20), "repeated")
    answer(submit(citizen, at(2025, 7, 1)), "other", at(2025, 7, 30), "no_correction")
    out["open"] = submit(firm, at(2025, 12, 20), "public_interest")  # carried to next year, still open
    out["late"] = submit(citizen, at(2025, 12, 25))  # carried to next year, answered in 2026
    answer(out["late"], "disclosed", at(2026, 1, 8))
    submit(citizen, at(2025, 5, 5), department=other_dept)  # another department
    return out


@pytest.fixture
def data(officer: Any, dept: Department, other_dept: Department, citizen: User, firm: User,
         staff_factory: Any) -> dict[str, Any]:
    other_officer = staff_factory("gk_zf", department_code=department_code(CITY, "party_government_office"),
                                  roles=(("egov_disclosure_officer", CITY),))
    _documents(officer, dept, other_dept, other_officer)
    _cases(dept, other_dept, firm)
    return _requests(officer, dept, other_dept, citizen, firm)


def _save_draft(officer: Any, dept: Department, year: int = YEAR, **overrides: Any) -> DisclosureAnnualReport:
    manual = {"punishment": "12", "coercion": "3", "fees": "12.5", "review_maintained": "1", "review_corrected": "1",
              "direct_maintained": "2", "after_review_pending": "1"}
    kw: dict[str, Any] = {"overview": "2025年，聊城市市场监督管理局认真贯彻落实《政府信息公开条例》。",
                          "problems": "政策解读形式还不够丰富。", "other_matters": "本年度未收取信息处理费。",
                          "manual_figures": manual, **overrides}
    return disclosure.save_annual_report(dept, year, acting_user=officer, **kw)


# --- the tables --------------------------------------------------------------------------------------

def test_tables_computed_from_documents_cases_and_requests(data: dict[str, Any], dept: Department) -> None:
    report = disclosure.annual_report(dept, YEAR)
    assert report.live
    rules, normative = report.document_rows
    assert (rules["label"], rules["made"], rules["repealed"], rules["in_force"]) == ("规章", 1, 0, 1)
    assert (normative["label"], normative["made"], normative["repealed"], normative["in_force"]) == (
        "行政规范性文件", 2, 1, 3)
    assert report.decision_rows[0] == ("行政许可", 3)  # approved, issued and rejected 行政许可 cases of 2025
    assert report.decision_rows[1] == ("行政处罚", None) and report.fees is None  # manual, not entered

    assert report.requests("received") == row(natural_person=3, business=1, research=1, public_interest=1,
                                              legal_service=1)
    assert report.requests("carried_over") == row(natural_person=1)
    assert report.requests("disclosed") == row(natural_person=1)
    assert report.requests("partly") == row(natural_person=1)
    assert report.requests("refused.state_secret") == row(business=1)
    assert report.requests("unable.not_held") == row(legal_service=1)
    assert report.requests("not_processed.repeated") == row(research=1)
    assert report.requests("other.no_correction") == row(natural_person=1)
    assert report.requests("refused.third_party") == row()
    assert report.requests("results_total") == row(natural_person=3, business=1, research=1, legal_service=1)
    assert report.requests("carried_forward") == row(natural_person=1, public_interest=1)
    # the template's check: 一 + 二 = 三 + 四
    total = [*zip(report.requests("received"), report.requests("carried_over"),
                  report.requests("results_total"), report.requests("carried_forward"), strict=True)]
    assert all(a + b == c + d for a, b, c, d in total)

    next_year = disclosure.annual_report(dept, 2026)
    assert next_year.requests("carried_over") == row(natural_person=1, public_interest=1)
    assert next_year.requests("disclosed") == row(natural_person=1)
    assert next_year.requests("carried_forward") == row(public_interest=1)
    rules, normative = next_year.document_rows
    assert (normative["made"], normative["repealed"], normative["in_force"]) == (1, 1, 3)

    labels = [r["label"] for r in report.request_rows]
    assert labels[0] == "一、本年新收政府信息公开申请数量" and labels[-1] == "四、结转下年度继续办理"
    assert "3.危及“三安全一稳定”" in labels and "（七）总计" in labels


def test_manual_figures_in_the_preview_and_their_validation(data: dict[str, Any], officer: Any,
                                                              dept: Department) -> None:
    _save_draft(officer, dept)
    preview = disclosure.annual_report(dept, YEAR, include_draft=True)
    assert preview.decision_rows[1:] == [("行政处罚", 12), ("行政强制", 3)] and preview.fees == "12.50"
    review, direct, after_review = preview.appeal_rows
    assert review["cells"] == [1, 1, 0, 0, 2] and direct["cells"] == [2, 0, 0, 0, 2]
    assert after_review["cells"] == [0, 0, 0, 1, 1]
    assert preview.sections["overview"].startswith("2025年")
    # the public live statistics never show the office's draft
    assert disclosure.annual_report(dept, YEAR).sections == {}
    for key, value in (("punishment", "-1"), ("review_pending", "两件"), ("fees", "abc"), ("fees", "1.23456")):
        with pytest.raises(InvalidInput) as err:
            _save_draft(officer, dept, manual_figures={key: value})
        assert err.value.field == key
    with pytest.raises(InvalidInput) as err:
        _save_draft(officer, dept, manual_figures={"bogus": "1"})
    assert err.value.field == "bogus"


# --- publication ---------------------------------------------------------------------------------------

def test_publish_freezes_the_figures_and_corrections_are_audited(data: dict[str, Any], officer: Any,
                                                                  dept: Department, citizen: User) -> None:
    with pytest.raises(InvalidInput) as err:  # nothing written yet
        disclosure.publish_annual_report(acting_user=officer, department=dept, year=YEAR, now=at(2026, 1, 20))
    assert err.value.field == "overview"
    _save_draft(officer, dept)
    with pytest.raises(Conflict):  # the year is not over
        disclosure.publish_annual_report(acting_user=officer, department=dept, year=YEAR, now=at(2025, 12, 30))
    row_ = disclosure.publish_annual_report(acting_user=officer, department=dept, year=YEAR, now=at(2026, 1, 20))
    assert row_.published_at == at(2026, 1, 20) and row_.figures["licensing"] == 3

    # later data and later edits do not change the published report
    disclosure.submit_request(acting_user=citizen, department=dept, description="补录的申请", now=at(2025, 8, 1))
    _doc(officer, dept, "补录的规范性文件", dt.date(2025, 9, 1))
    _save_draft(officer, dept, overview="修改后的总体情况（尚未发布）", manual_figures={"punishment": "99"})
    published = disclosure.published_report(dept, YEAR)
    assert published is not None and not published.live
    assert published.requests("received")[-1] == 7 and published.document_rows[1]["made"] == 2
    assert published.decision_rows[1] == ("行政处罚", 12) and "修改后" not in published.sections["overview"]
    live = disclosure.annual_report(dept, YEAR)
    assert live.requests("received")[-1] == 8 and live.document_rows[1]["made"] == 3

    # a correction: publishing again freezes the current figures
    disclosure.publish_annual_report(acting_user=officer, department=dept, year=YEAR, now=at(2026, 1, 25))
    corrected = disclosure.published_report(dept, YEAR)
    assert corrected is not None and corrected.requests("received")[-1] == 8
    assert corrected.decision_rows[1] == ("行政处罚", 99) and corrected.published_at == at(2026, 1, 25)
    records = list(AuditRecord.objects.filter(action="egov.disclosure_report.publish").order_by("seq"))
    assert [r.after["republished"] for r in records] == [False, True]
    assert records[1].before["published_at"] is not None
    assert AuditRecord.objects.filter(action="egov.disclosure_report.save").count() == 2


def test_reminder_until_last_years_report_is_published(officer: Any, dept: Department) -> None:
    reminder = disclosure.report_reminder(dept, dt.date(2026, 1, 20))
    assert reminder == {"year": 2025, "deadline": dt.date(2026, 1, 31), "overdue": False, "draft": False}
    assert disclosure.report_reminder(dept, dt.date(2026, 2, 3))["overdue"] is True  # type: ignore[index]
    _save_draft(officer, dept)
    assert disclosure.report_reminder(dept, dt.date(2026, 1, 20))["draft"] is True  # type: ignore[index]
    disclosure.publish_annual_report(acting_user=officer, department=dept, year=YEAR, now=at(2026, 1, 20))
    assert disclosure.report_reminder(dept, dt.date(2026, 1, 21)) is None


# --- pages ----------------------------------------------------------------------------------------------

def test_public_pages_and_csv(client: Client, data: dict[str, Any], officer: Any, dept: Department) -> None:
    url = reverse("egov_disclosure:report", args=[dept.code, YEAR])
    _save_draft(officer, dept, overview="草稿中的总体情况")
    live = client.get(url).content.decode()
    assert 'data-status="live"' in live and "未发布（实时统计）" in live
    assert "草稿中的总体情况" not in live  # a draft is not public
    listing = client.get(reverse("egov_disclosure:reports", args=[dept.code])).content.decode()
    assert 'data-year="2025"' not in listing and "暂无已发布的年度报告" in listing

    _save_draft(officer, dept)
    disclosure.publish_annual_report(acting_user=officer, department=dept, year=YEAR, now=at(2026, 1, 20))
    page = client.get(url).content.decode()
    assert 'data-status="published"' in page and "发布日期：2026-01-20" in page
    assert "2025年，聊城市市场监督管理局认真贯彻落实" in page and "政策解读形式还不够丰富" in page
    assert '<tr data-row="licensing"><th scope="row">行政许可</th><td colspan="3">3</td></tr>' in page
    received = "".join(f"<td>{n}</td>" for n in row(natural_person=3, business=1, research=1, public_interest=1,
                                                      legal_service=1))
    assert received in page.replace("\n", "").replace("      ", "")
    assert "属于四类过程性信息" in page and "复议后起诉" in page

    listing = client.get(reverse("egov_disclosure:reports", args=[dept.code])).content.decode()
    assert 'data-year="2025"' in listing and "2026-01-20" in listing
    assert url in client.get(reverse("egov_disclosure:department", args=[dept.code])).content.decode()

    resp = client.get(url, {"format": "csv"})
    body = resp.content
    assert resp["Content-Type"] == "text/csv; charset=utf-8" and body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert "行政规范性文件,2,1,3" in text and "规章,1,0,1" in text and "行政许可,3" in text
    assert "行政处罚,12" in text and "行政事业性收费,12.50" in text
    assert "一、本年新收政府信息公开申请数量,3,1,1,1,1,0,7" in text
    assert "二、上年结转政府信息公开申请数量,1,0,0,0,0,0,1" in text
    assert "（七）总计,3,1,1,0,1,0,6" in text and "四、结转下年度继续办理,1,0,0,1,0,0,2" in text
    assert "行政复议,1,1,0,0,2" in text and "行政诉讼：复议后起诉,0,0,0,1,1" in text
    assert client.get(reverse("egov_disclosure:report", args=[dept.code, 1999])).status_code == 404


def test_staff_page_edit_preview_publish(client: Client, data: dict[str, Any], officer: Any,
                                        dept: Department) -> None:
    client.force_login(officer)
    last_year = timezone.localdate().year - 1
    listing = client.get(reverse("egov_disclosure:staff_reports")).content.decode()
    assert 'id="report-reminder"' in listing and f'data-year="{last_year}"' in listing

    url = reverse("egov_disclosure:staff_report", args=[dept.code, YEAR])
    page = client.get(url).content.decode()
    assert 'id="report-preview"' in page and '<td colspan="3">3</td>' in page  # the computed 行政许可 count
    resp = client.post(url, {"action": "save", "overview": "", "punishment": "-2"})
    assert resp.status_code == 400 and 'data-field="punishment"' in resp.content.decode()
    resp = client.post(url, {"action": "save", "overview": "总体情况正文", "punishment": "5", "fees": "3.2"})
    assert resp.status_code == 302
    row_ = DisclosureAnnualReport.objects.get(department=dept, year=YEAR)
    assert row_.published_at is None and row_.manual_figures["punishment"] == 5
    assert "草稿" in client.get(reverse("egov_disclosure:staff_reports")).content.decode()
    resp = client.post(url, {"action": "publish", "overview": "总体情况正文", "punishment": "5", "fees": "3.2"})
    assert resp.status_code == 302
    row_.refresh_from_db()
    assert row_.published_at is not None and row_.figures["manual"]["fees"] == "3.20"
    public = client.get(reverse("egov_disclosure:report", args=[dept.code, YEAR])).content.decode()
    assert "总体情况正文" in public and 'data-status="published"' in public

    # the current year cannot be published yet
    this_year = timezone.localdate().year
    resp = client.post(reverse("egov_disclosure:staff_report", args=[dept.code, this_year]),
                       {"action": "publish", "overview": "正文"})
    assert resp.status_code == 409
    assert not DisclosureAnnualReport.objects.filter(year=this_year, published_at__isnull=False).exists()


def test_permission_refusals(client: Client, officer: Any, county_officer: Any, citizen: User,
                             dept: Department, staff_factory: Any) -> None:
    with pytest.raises(PermissionDenied):
        _save_draft(county_officer, dept)
    _save_draft(officer, dept)
    with pytest.raises(PermissionDenied):
        disclosure.publish_annual_report(acting_user=county_officer, department=dept, year=YEAR,
                                         now=at(2026, 1, 20))
    with pytest.raises(PermissionDenied):
        disclosure.publish_annual_report(acting_user=citizen, department=dept, year=YEAR, now=at(2026, 1, 20))
    assert not DisclosureAnnualReport.objects.filter(published_at__isnull=False).exists()

    url = reverse("egov_disclosure:staff_report", args=[dept.code, YEAR])
    client.force_login(county_officer)
    assert client.get(url).status_code == 403
    assert client.post(url, {"action": "publish", "overview": "越权"}).status_code == 403
    clerk = staff_factory("clerk_x", roles=(("clerk", "371522"),))
    client.force_login(clerk)
    assert client.get(reverse("egov_disclosure:staff_reports")).status_code == 403
    client.force_login(citizen)
    assert client.get(reverse("egov_disclosure:staff_reports")).status_code in (302, 403)
    assert DisclosureAnnualReport.objects.get().overview.startswith("2025年")


# --- documents: kind and repeal date ---------------------------------------------------------------------

def test_document_kind_and_repeal_date(client: Client, officer: Any, dept: Department) -> None:
    with pytest.raises(InvalidInput) as err:
        _doc(officer, dept, "废止早于成文", dt.date(2025, 3, 1), repealed=dt.date(2025, 2, 1))
    assert err.value.field == "repealed_on"
    with pytest.raises(InvalidInput) as err:
        _doc(officer, dept, "未知类型", dt.date(2025, 3, 1), kind="law")
    assert err.value.field == "doc_kind"

    client.force_login(officer)
    resp = client.post(reverse("egov_disclosure:staff_publish"), {
        "department": dept.code, "title": "聊城市市场监督管理局关于规范商品交易市场管理的通知",
        "doc_number": "聊市监发〔2025〕8号", "issued_on": "2025-03-01", "category": "市场监管",
        "disclosure_type": "proactive", "doc_kind": "normative", "repealed_on": "2025-01-01", "body": "正文"})
    assert "废止日期不能早于成文日期" in resp.content.decode()
    resp = client.post(reverse("egov_disclosure:staff_publish"), {
        "department": dept.code, "title": "聊城市市场监督管理局关于规范商品交易市场管理的通知",
        "doc_number": "聊市监发〔2025〕8号", "issued_on": "2025-03-01", "category": "市场监管",
        "disclosure_type": "proactive", "doc_kind": "normative", "body": "正文"})
    doc = disclosure.search.public_documents().get()
    assert doc.doc_kind == "normative" and doc.repealed_on is None
    public = client.get(reverse("egov_disclosure:document", args=[doc.pk])).content.decode()
    assert "行政规范性文件" in public and "已废止" not in public

    edit = reverse("egov_disclosure:staff_document", args=[doc.pk])
    form = {"title": doc.title, "doc_number": doc.doc_number, "issued_on": "2025-03-01", "category": "市场监管",
            "disclosure_type": "proactive", "doc_kind": "normative", "body": "正文"}
    resp = client.post(edit, {**form, "repealed_on": "2024-12-31"})
    assert resp.status_code == 400 and 'data-field="repealed_on"' in resp.content.decode()
    assert client.post(edit, {**form, "repealed_on": "2025-11-30"}).status_code == 302
    doc.refresh_from_db()
    assert doc.repealed_on == dt.date(2025, 11, 30)
    public = client.get(reverse("egov_disclosure:document", args=[doc.pk])).content.decode()
    assert "已废止" in public and "2025-11-30" in public
    update = AuditRecord.objects.filter(action="egov.document.update").last()
    assert update is not None and update.after["repealed_on"] == "2025-11-30"
