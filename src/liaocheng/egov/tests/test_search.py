"""Full-text search of government information: words inside sentences (bigram index), public documents only,
the index kept in sync by the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection

from liaocheng.core.departments import department_code
from liaocheng.core.models import Department
from liaocheng.egov import disclosure, search
from liaocheng.egov.disclosure_demo import ensure_demo_documents
from liaocheng.egov.models import DisclosureType, Document

pytestmark = pytest.mark.django_db

BODY = ("各县（市、区）人民政府：\n\n为进一步做好城乡供水一体化工作，全市今年安排农村饮水安全资金3200万元，"
        "完成供水管网改造项目46个。\n\n各单位要加强水质检测，确保群众喝上放心水。")


@pytest.fixture
def officer(staff_factory: Any) -> Any:
    return staff_factory("gk_officer", department_code=department_code("371500", "party_government_office"),
                         roles=(("egov_disclosure_officer", "371500"),))


@pytest.fixture
def dept() -> Department:
    return Department.objects.get(code=department_code("371500", "party_government_office"))


def publish(officer: Any, dept: Department, **kw: Any) -> Document:
    data: dict[str, Any] = {"title": "聊城市人民政府办公室关于印发聊城市城乡供水一体化实施方案的通知",
                            "doc_number": "聊政办发〔2025〕12号", "issued_on": dt.date(2025, 3, 2),
                            "category": "城乡建设", "body": BODY}
    data.update(kw)
    return disclosure.publish_document(acting_user=officer, department=dept, **data)


def ids(q: str, **kw: Any) -> list[int]:
    return [h.document.pk for h in search.search_documents(q, **kw).hits]


def test_bigram_tokenisation() -> None:
    assert search.index_text("城市管理，A1") == "城市 市管 管理 a1"
    assert search.bigrams("水") == ["水"]


def test_words_inside_sentences_are_found(officer: Any, dept: Department) -> None:
    doc = publish(officer, dept)
    publish(officer, dept, title="关于做好秸秆综合利用工作的通知", category="农业农村", body="秸秆综合利用。")
    assert ids("水质") == [doc.pk]  # a 2-character word inside a sentence of the body
    assert ids("放心水") == [doc.pk]  # 3 characters
    assert ids("供水管网改造") == [doc.pk]
    assert ids("饮水 检测") == [doc.pk]  # every word
    assert ids("管网检测") == []  # characters present, but not consecutive
    assert ids("3200万元") == [doc.pk]
    assert ids("水") == [doc.pk]  # a single character (LIKE fallback)
    result = search.search_documents("水质")
    assert result.total == 1
    assert "<mark>水质</mark>" in result.hits[0].snippet_html
    assert ids("水质", category="农业农村") == [] and ids("水质", year=2025) == [doc.pk]
    assert ids("水质", year=2024) == []


def test_title_ranks_above_body(officer: Any, dept: Department) -> None:
    in_body = publish(officer, dept, title="关于加强机关作风建设的通知", category="综合政务",
                      body="会议要求做好秸秆综合利用和其他工作。" * 3)
    in_title = publish(officer, dept, title="关于做好秸秆综合利用工作的通知", category="农业农村", body="详见附件。")
    assert ids("秸秆") == [in_title.pk, in_body.pk]


def test_classified_and_unpublished_are_not_found(officer: Any, dept: Department) -> None:
    publish(officer, dept, classified=True)
    publish(officer, dept, disclosure_type=DisclosureType.NOT_PUBLIC)
    assert ids("水质") == []
    assert Document.objects.count() == 2


def test_withdraw_removes_and_update_keeps_in_sync(officer: Any, dept: Department) -> None:
    doc = publish(officer, dept)
    disclosure.update_document(doc, acting_user=officer, body="本方案聚焦雨污分流改造。")
    assert ids("水质") == [] and ids("雨污分流") == [doc.pk]
    disclosure.update_document(doc, acting_user=officer, classified=True)
    assert ids("雨污分流") == []
    disclosure.update_document(doc, acting_user=officer, classified=False)
    assert ids("雨污分流") == [doc.pk]
    disclosure.withdraw_document(doc, acting_user=officer, reason="政策已废止")
    assert ids("雨污分流") == [] and ids("供水") == []


def test_demo_documents_are_searchable_and_idempotent() -> None:
    assert ensure_demo_documents(300) == 300
    assert ensure_demo_documents(300) == 0
    doc = search.public_documents().order_by("pk")[5]
    word = search.runs(doc.body)[3][:2]
    truth = set(search.like_scan_ids(word))
    found = {i for i, _ in search.matching_ids(word, limit=None)[0]}
    assert doc.pk in found and found == truth
    assert Document.objects.filter(index_number__contains="/").count() == 300


def test_rebuild_index_restores_the_public_set(officer: Any, dept: Department) -> None:
    doc = publish(officer, dept)
    publish(officer, dept, classified=True)
    search.remove([doc.pk])
    assert ids("水质") == []
    assert search.rebuild_index() == 1
    assert ids("水质") == [doc.pk]


def test_very_common_words_are_answered_newest_first(officer: Any, dept: Department, monkeypatch: Any) -> None:
    docs = [publish(officer, dept, title=f"关于第{n}批项目的通知") for n in "一二三"]
    monkeypatch.setattr(search, "RANK_LIMIT", 2)
    result = search.search_documents("水质", limit=2)
    assert result.total == 3 and [h.document.pk for h in result.hits] == [docs[2].pk, docs[1].pk]
    assert ids("水质", limit=2, offset=2) == [docs[0].pk]


@pytest.mark.parametrize("dense", [0.0, 2.0])  # PostgreSQL: newest-by-primary-key walk / sorted GIN bitmap
def test_capped_ranking_keeps_the_best_match_first(officer: Any, dept: Department, monkeypatch: Any,
                                                   dense: float) -> None:
    older = publish(officer, dept, title="关于第一批项目的通知")
    best = publish(officer, dept, title="关于加强水质检测工作的通知")
    newer = [publish(officer, dept, title=f"关于第{n}批项目的通知") for n in "二三"]
    monkeypatch.setattr(search, "PG_EXACT_COUNT", 2)  # more matches than that: estimated total, capped ranking
    monkeypatch.setattr(search, "PG_RANK_CANDIDATES", 3)
    monkeypatch.setattr(search, "DENSE", dense)
    result = search.search_documents("水质", limit=4)
    # the word in the title ranks first, then the newest; beyond the ranked window the older ones
    assert [h.document.pk for h in result.hits] == [best.pk, newer[1].pk, newer[0].pk, older.pk]
    assert ids("水质", limit=2, offset=2) == [newer[0].pk, older.pk]
    if connection.vendor == "postgresql":
        assert result.approximate and not result.exact
        assert result.total == 4 and result.count_text == "找到约 4 条结果"
    else:
        assert result.exact and result.count_text == "找到 4 条结果"


def test_small_result_counts_are_exact(officer: Any, dept: Department) -> None:
    publish(officer, dept)
    result = search.search_documents("供水管网")
    assert result.exact and not result.approximate and result.total == 1
    assert result.count_text == "找到 1 条结果"
    publish(officer, dept, title="关于印发全市质量提升行动方案的通知", body="提高质量水平，确保水质达标。")
    # "水质" and "质量" are both in that body, "水质量" is not: the phrase counts, not its bigrams in any order
    assert search.search_documents("水质量").total == 0 and search.search_documents("质量").total == 1


def test_estimates_are_rounded_to_two_digits() -> None:
    assert search._round2(47_980) == 48_000
    assert search._round2(1_234) == 1_200
    assert search._round2(501) == 500
    assert search._round2(7) == 7
