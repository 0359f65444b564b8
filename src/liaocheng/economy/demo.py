"""Synthetic demo values for 2015–2024 (deterministic). NOT official statistics.

The magnitudes are roughly those of Liaocheng (city GDP rising from about 1,900 to about 3,000 亿元, counties
between about 150 and 700 亿元) and the values are consistent with each other: the three industries add up
to GDP, the counties add up to a little less than the city for additive indicators (the rest belongs to
the development zones), per-capita GDP is GDP over population. 茌平 is 371523 up to 2019, 371503 after.
"""

from __future__ import annotations

import hashlib
import random
from decimal import Decimal

from .periods import CITY, counties_for_year

YEARS = list(range(2015, 2025))
DEMO_SOURCE = "生成的演示数据（合成数值，非统计数据） / generated synthetic demo values, not official statistics (v1)"

# nominal GDP growth of the city, % per year from 2016
_CITY_GROWTH = [6.6, 6.1, 5.4, 4.6, 2.9, 9.8, 5.0, 4.3, 4.8]
_CITY_GDP_2015 = Decimal("1840")
# county -> (share of the city's GDP, primary share, secondary share, population 2015 in 万人)
_COUNTY = {
    "371502": (0.215, 0.05, 0.34, 126.0),
    "371503": (0.135, 0.10, 0.52, 51.5),
    "371521": (0.105, 0.15, 0.42, 71.0),
    "371522": (0.110, 0.18, 0.38, 92.0),
    "371524": (0.078, 0.14, 0.45, 38.5),
    "371525": (0.092, 0.17, 0.40, 76.0),
    "371526": (0.088, 0.13, 0.46, 45.5),
    "371581": (0.127, 0.12, 0.44, 74.0),
}
_ZONES_SHARE = 1 - sum(v[0] for v in _COUNTY.values())  # development zones: about 5 %
_CITY_POP_2015 = 602.0


def _rng(*parts: object) -> random.Random:
    seed = int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")
    return random.Random(seed)


def _d(x: float, places: int = 2) -> Decimal:
    return Decimal(repr(round(x, places)))


def generate() -> list[tuple[str, str, str, Decimal]]:
    """(indicator code, division code, period, value) for the city and every county, 2015–2024."""
    out: list[tuple[str, str, str, Decimal]] = []
    city_gdp = float(_CITY_GDP_2015)
    for i, year in enumerate(YEARS):
        if i:
            city_gdp *= 1 + _CITY_GROWTH[i - 1] / 100
        t = i / (len(YEARS) - 1)
        counties = counties_for_year(year)
        totals = {"gdp": 0.0, "gdp_primary": 0.0, "gdp_secondary": 0.0, "gdp_tertiary": 0.0, "retail_sales": 0.0,
                  "budget_revenue": 0.0, "budget_expenditure": 0.0, "trade_total": 0.0, "population": 0.0}
        real_growth = (_CITY_GROWTH[i - 1] if i else 8.0) - 1.6
        for code in counties:
            spec_code = "371503" if code == "371523" else code
            share, primary, secondary, pop0 = _COUNTY[spec_code]
            r = _rng("economy", spec_code, year)
            drift = 1 + 0.012 * (t - 0.5) * (1 if spec_code in ("371502", "371503", "371581") else -1)
            gdp = city_gdp * share * drift * r.uniform(0.985, 1.015)
            p_share = primary * (1.08 - 0.16 * t) * r.uniform(0.97, 1.03)
            s_share = secondary * (1.04 - 0.1 * t) * r.uniform(0.98, 1.02)
            p, s = round(gdp * p_share, 2), round(gdp * s_share, 2)
            gdp = round(gdp, 2)
            pop = pop0 * (1 - 0.0035 * i) * r.uniform(0.998, 1.002)
            retail = gdp * (0.36 + 0.03 * (1 if spec_code == "371502" else 0)) * (0.93 if year == 2020 else 1.0) \
                * r.uniform(0.96, 1.04)
            revenue = gdp * 0.052 * r.uniform(0.9, 1.1)
            values = {
                "gdp": gdp, "gdp_primary": p, "gdp_secondary": s, "gdp_tertiary": round(gdp - p - s, 2),
                "retail_sales": retail, "budget_revenue": revenue, "budget_expenditure": revenue * r.uniform(1.9, 2.6),
                "trade_total": gdp * (0.16 if spec_code in ("371503", "371581", "371526") else 0.08)
                * r.uniform(0.85, 1.15),
                "population": pop,
            }
            for key, value in values.items():
                totals[key] += value
                out.append((key, code, str(year), _d(value)))
            out += [
                ("per_capita_gdp", code, str(year), _d(gdp * 1e4 / pop, 0)),
                ("gdp_growth", code, str(year), _d(real_growth + r.uniform(-1.2, 1.2), 1)),
                ("industrial_growth", code, str(year), _d(real_growth + 1.5 + r.uniform(-3.0, 3.0), 1)),
                ("fai_growth", code, str(year), _d(_fai(year) + r.uniform(-4.0, 4.0), 1)),
                ("urban_income", code, str(year), _d(_urban_income(year) * r.uniform(0.9, 1.08), 0)),
                ("rural_income", code, str(year), _d(_rural_income(year) * r.uniform(0.9, 1.1), 0)),
                ("urbanization", code, str(year), _d((46 + 10 * t) * (1.25 if spec_code == "371502" else 0.92)
                                                     * r.uniform(0.97, 1.03), 1)),
            ]
        r = _rng("economy", CITY, year)
        zones = 1 / (1 - _ZONES_SHARE)
        gdp = round(totals["gdp"] * zones, 2)
        p = round(totals["gdp_primary"] * zones, 2)
        s = round(totals["gdp_secondary"] * zones, 2)
        pop = totals["population"] + (_CITY_POP_2015 - sum(v[3] for v in _COUNTY.values())) * (1 - 0.002 * i)
        city = {
            "gdp": gdp, "gdp_primary": p, "gdp_secondary": s, "gdp_tertiary": round(gdp - p - s, 2),
            "retail_sales": totals["retail_sales"] * zones, "budget_revenue": totals["budget_revenue"] * 1.3,
            "budget_expenditure": totals["budget_expenditure"] * 1.2, "trade_total": totals["trade_total"] * zones,
            "population": pop,
        }
        out += [(key, CITY, str(year), _d(value)) for key, value in city.items()]
        out += [
            ("per_capita_gdp", CITY, str(year), _d(gdp * 1e4 / pop, 0)),
            ("gdp_growth", CITY, str(year), _d(real_growth, 1)),
            ("industrial_growth", CITY, str(year), _d(real_growth + 1.5 + r.uniform(-1.0, 1.0), 1)),
            ("fai_growth", CITY, str(year), _d(_fai(year), 1)),
            ("urban_income", CITY, str(year), _d(_urban_income(year), 0)),
            ("rural_income", CITY, str(year), _d(_rural_income(year), 0)),
            ("urbanization", CITY, str(year), _d(46 + 10 * t, 1)),
        ]
    return out


def _fai(year: int) -> float:
    return {2015: 13.5, 2016: 10.2, 2017: 7.1, 2018: 3.9, 2019: -8.6, 2020: 3.8, 2021: 8.9, 2022: 6.1,
            2023: 4.3, 2024: 3.2}[year]


def _urban_income(year: int) -> float:
    return 21800 * 1.068 ** (year - 2015)


def _rural_income(year: int) -> float:
    return 10600 * 1.078 ** (year - 2015)
