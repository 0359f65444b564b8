"""Fixtures for the base-database tests: places from the loaded city profile, valid ID numbers and credit
codes, small import files, and staff of the authoritative departments."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import shapely
from stdnum.cn import ric

from liaocheng.core.departments import department_code
from liaocheng.registry.generator import RESIDENT_HEADER, credit_code


def make_id(birth: str = "19900101", seq: int = 1, area: str = "") -> str:
    """A valid GB 11643 number; the region defaults to the Shenxian code in force at the birth year."""
    if not area:
        area = "371522" if int(birth[:4]) >= 1997 else "372523"
    body = f"{area}{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


@dataclass(frozen=True)
class Place:
    county: str
    village: str
    grid: str
    lon: float
    lat: float


def place(county: str, n: int = 0) -> Place:
    """The n-th grid of a county, with a point inside it."""
    from liaocheng.geo.models import Grid

    grid = Grid.objects.filter(county_code=county).order_by("code")[n]
    pt = shapely.from_geojson(grid.geometry).representative_point()
    return Place(county, grid.community_code, grid.code, pt.x, pt.y)


def person_row(id_number: str, *, name: str = "张三", village: str, lon: float | None = None,
               lat: float | None = None, household: str = "H0001", relationship: str = "02",
               phone: str = "13800000000", marital: str = "20") -> list[str]:
    sex = "1" if int(id_number[16]) % 2 else "2"
    birth = f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}"
    return [id_number, name, sex, birth, "01", village, household, relationship, "测试地址1号",
            "" if lon is None else f"{lon:.6f}", "" if lat is None else f"{lat:.6f}", marital, "在册", phone]


def write_csv(path: Path, rows: list[list[str]], *, header: list[str] | None = None, encoding: str = "utf-8"
              ) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header or RESIDENT_HEADER)
        w.writerows(rows)
    return path


def people_rows(n: int, *, place_: Place, start: int = 1, birth: str = "19800101") -> list[list[str]]:
    """n distinct valid people (sequence numbers from ``start``) living in ``place_``."""
    out = []
    for k in range(start, start + n):
        day = dt.date(int(birth[:4]), 1, 1) + dt.timedelta(days=k // 400)
        out.append(person_row(make_id(day.strftime("%Y%m%d"), k % 400 + 1), village=place_.village,
                              lon=place_.lon, lat=place_.lat, household=f"H{k:05d}"))
    return out


def entity_code(prefix: str = "91", region: str = "371522", seed: int = 1, bad: bool = False) -> str:
    import random

    return credit_code(prefix, region, random.Random(seed), bad_check=bad)


@pytest.fixture
def shenxian(db: None) -> Place:
    return place("371522")


@pytest.fixture
def guanxian(db: None) -> Place:
    return place("371525")


@pytest.fixture
def police(staff_factory: Any) -> Any:
    """A clerk of the Shenxian public security bureau (registry_clerk for Shenxian, personal data too)."""
    return staff_factory("sx_police", department_code=department_code("371522", "public_security"),
                         roles=(("registry_clerk", "371522"),))


@pytest.fixture
def city_admin(staff_factory: Any) -> Any:
    return staff_factory("city_data", department_code=department_code("371500", "big_data"),
                         roles=(("data_admin", "371500"),))


def clerk(staff_factory: Any, username: str, county: str, kind: str) -> Any:
    return staff_factory(username, department_code=department_code(county, kind),
                         roles=(("registry_clerk", county),))
