"""The synthetic data generator: valid, consistent, distributed like the city; code tables complete."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from stdnum.cn import ric, uscc

from liaocheng.geo.profile import load_profile
from liaocheng.registry import codes
from liaocheng.registry.generator import generate

CACHE = Path.cwd() / "var" / "cache"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    out = tmp_path_factory.mktemp("gen")
    result = generate(load_profile(CACHE), out, residents=6000, entities=1500, seed=3, encoding="gbk")
    with result.residents.open(encoding="gbk") as fh:
        residents = list(csv.DictReader(fh))
    with result.entities.open(encoding="gbk") as fh:
        entities = list(csv.DictReader(fh))
    return residents, entities


def test_residents_are_valid_and_consistent(files: tuple[list[dict[str, str]], list[dict[str, str]]]) -> None:
    residents, _ = files
    assert len(residents) == 6000
    ids = [r["公民身份号码"] for r in residents]
    assert len(set(ids)) == len(ids)
    for r in residents:
        number = r["公民身份号码"]
        assert ric.is_valid(number), number
        assert r["性别"] == ("1" if int(number[16]) % 2 else "2")
        assert r["出生日期"].replace("-", "") == number[6:14]
        year = int(number[6:10])
        assert number[:4] == ("3715" if year >= 1997 else "3725")
        assert r["户籍地区划代码"].startswith("3715") and len(r["户籍地区划代码"]) == 12
        assert r["婚姻状况"] in codes.MARITAL_STATUS and r["民族"] in codes.ETHNIC_GROUPS
        if year >= 2008:
            assert r["婚姻状况"] == "10"  # children are unmarried
    heads = Counter(r["户号"] for r in residents if r["与户主关系"] == "02")
    households = Counter(r["户号"] for r in residents)
    assert all(heads[h] == 1 for h in households), "every household has exactly one head"
    assert 1 <= max(households.values()) <= 6
    ethnic = Counter(r["民族"] for r in residents)
    assert ethnic["01"] > 0.97 * len(residents) and len(ethnic) > 1
    counties = Counter(r["户籍地区划代码"][:6] for r in residents)
    assert counties["371502"] == 1200 and counties["371524"] == 550  # 1.2 M and 0.55 M of 6 M, scaled


def test_entities_have_valid_codes(files: tuple[list[dict[str, str]], list[dict[str, str]]]) -> None:
    _, entities = files
    valid = [e for e in entities if uscc.is_valid(e["统一社会信用代码"])]
    assert len(entities) - len(valid) in range(0, 20)  # a few legacy codes with a wrong check character
    assert len(valid) > 0.98 * len(entities)
    assert all(codes.industry_code(e["行业代码"]) for e in entities)
    assert {e["统一社会信用代码"][:2] for e in entities} >= {"91", "92"}


def test_code_tables_are_complete() -> None:
    assert len(codes.ETHNIC_GROUPS) == 58 and codes.ETHNIC_GROUPS["56"] == "基诺族"
    assert len(codes.INDUSTRY_SECTIONS) == 20 and len(codes.INDUSTRY_DIVISIONS) == 97
    assert codes.industry_code("c1310") == "C1310" and codes.industry_code("13") == "C13"
    assert codes.industry_code("A13") is None and codes.industry_code("98") is None
    assert codes.relationship_code("户主") == "02" and codes.ethnic_code("回") == "03"
    assert codes.marital_code("离婚") == "40" and codes.sex_code("女") == "2"
