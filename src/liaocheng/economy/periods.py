"""Statistical periods and the divisions statistics are published for.

Periods are stored normalised: ``2024`` (year), ``2024Q3`` (quarter, usually cumulative 1–3 quarters as the
bureaus publish), ``2024-09`` (month, usually cumulative January–September). Spreadsheet headers and
titles use Chinese forms (``2024年``, ``2024年三季度``, ``2024年1-9月``); :func:`parse_period` reads them.

Divisions are the city (371500) and its county-level divisions. 茌平县 (371523) became 茌平区 (371503) in
2019: either name is stored as 371523 for periods up to 2019 and as 371503 afterwards, so a county's
series stays continuous through :data:`PREDECESSORS`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

CITY = "371500"
CHIPING_OLD, CHIPING_NEW = "371523", "371503"
CHIPING_LAST_OLD_YEAR = 2019

DIVISION_NAMES: dict[str, str] = {
    "371500": "聊城市",
    "371502": "东昌府区",
    "371503": "茌平区",
    "371521": "阳谷县",
    "371522": "莘县",
    "371524": "东阿县",
    "371525": "冠县",
    "371526": "高唐县",
    "371581": "临清市",
    "371523": "茌平县",
}
DIVISION_NAMES_EN: dict[str, str] = {
    "371500": "Liaocheng City", "371502": "Dongchangfu District", "371503": "Chiping District",
    "371521": "Yanggu County", "371522": "Shenxian County", "371524": "Dong'e County", "371525": "Guanxian County",
    "371526": "Gaotang County", "371581": "Linqing City", "371523": "Chiping County",
}
COUNTIES_NOW = ["371502", "371503", "371521", "371522", "371524", "371525", "371526", "371581"]
# successor -> predecessors whose values continue its series
PREDECESSORS: dict[str, list[str]] = {CHIPING_NEW: [CHIPING_OLD]}

_NAME_TO_CODE: dict[str, str] = {
    "聊城市": CITY, "聊城": CITY, "全市": CITY, "合计": CITY, "全市合计": CITY, "总计": CITY, "聊城市合计": CITY,
    "东昌府区": "371502", "东昌府": "371502",
    "阳谷县": "371521", "阳谷": "371521",
    "莘县": "371522",
    "东阿县": "371524", "东阿": "371524",
    "冠县": "371525",
    "高唐县": "371526", "高唐": "371526",
    "临清市": "371581", "临清": "371581",
}
_CHIPING_NAMES = frozenset({"茌平县", "茌平区", "茌平"})
# functional zones that statistics tables list beside the counties but that are not divisions
_ZONE_RE = re.compile(r"(开发区|高新区|度假区|示范区|新区|市直|市属|市本级)$")


def normalise(text: object) -> str:
    """NFKC (full-width forms to ASCII), without any whitespace (tables pad names: 莘　　县)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text)))


def canonical_division(code: str, year: int) -> str:
    """茌平: 371523 up to 2019, 371503 afterwards, whichever code was given."""
    if code in (CHIPING_OLD, CHIPING_NEW):
        return CHIPING_OLD if year <= CHIPING_LAST_OLD_YEAR else CHIPING_NEW
    return code


def division_for_name(name: object, year: int) -> str | None:
    """The division code for a name as it appears in a table (None when it is not one)."""
    key = normalise(name)
    if key in _CHIPING_NAMES:
        return canonical_division(CHIPING_NEW, year)
    if key.isdigit() and key in DIVISION_NAMES:
        return canonical_division(key, year)
    return _NAME_TO_CODE.get(key)


def is_zone(name: object) -> bool:
    key = normalise(name)
    return bool(key) and key not in _NAME_TO_CODE and bool(_ZONE_RE.search(key))


def division_label(code: str, lang: str = "zh") -> str:
    return (DIVISION_NAMES_EN if lang == "en" else DIVISION_NAMES).get(code, code)


def counties_for_year(year: int) -> list[str]:
    return [canonical_division(c, year) for c in COUNTIES_NOW]


# --- periods ------------------------------------------------------------------------------------------

@dataclass(frozen=True, order=True)
class Period:
    year: int
    kind: str  # "yearly" | "quarterly" | "monthly"
    number: int = 0  # quarter 1-4 or month 1-12

    def __str__(self) -> str:
        if self.kind == "quarterly":
            return f"{self.year}Q{self.number}"
        if self.kind == "monthly":
            return f"{self.year}-{self.number:02d}"
        return str(self.year)

    @property
    def sort_key(self) -> tuple[int, int]:
        months = {"yearly": 12, "quarterly": self.number * 3, "monthly": self.number}[self.kind]
        return (self.year, months)


_CN_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^((?:19|20)\d{2})(?:年|年度)?$"), "y"),
    (re.compile(r"^((?:19|20)\d{2})[-_/]?[Qq]([1-4])$"), "q"),
    (re.compile(r"^((?:19|20)\d{2})年(?:第|1-|一至|1至)?([一二三四1-4])季度$"), "q"),
    (re.compile(r"^((?:19|20)\d{2})年(?:1-)?([一二三四1-4])季度$"), "q"),
    (re.compile(r"^((?:19|20)\d{2})[-/.](0?[1-9]|1[0-2])$"), "m"),
    (re.compile(r"^((?:19|20)\d{2})年(?:1-|1—|1~|1至)?(0?[1-9]|1[0-2])月(?:份)?$"), "m"),
]


def parse_period(text: object) -> Period | None:
    """A period from ``2024``, ``2024年``, ``2024Q3``, ``2024年三季度``, ``2024年1-3季度``, ``2024-09``,
    ``2024年9月``, ``2024年1-9月`` (None when the text is not one). Integers 1900–2099 are years."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        if float(text).is_integer() and 1900 <= int(text) <= 2099:
            return Period(int(text), "yearly")
        return None
    key = normalise(text).replace("—", "-").replace("–", "-").replace("~", "-")
    for pattern, kind in _PATTERNS:
        m = pattern.match(key)
        if not m:
            continue
        year = int(m.group(1))
        if kind == "y":
            return Period(year, "yearly")
        if kind == "q":
            return Period(year, "quarterly", _CN_NUM[m.group(2)])
        return Period(year, "monthly", int(m.group(2)))
    return None


_TITLE_PERIOD = re.compile(
    r"((?:19|20)\d{2})年(?:(?:第|1-|1—|一至|1至)?([一二三四1-4])季度|(?:1-|1—|1至)?(0?[1-9]|1[0-2])月)?"
)


def period_in_title(text: object) -> Period | None:
    """The period a title names: ``2024年聊城市…`` -> 2024, ``2024年1-9月…`` -> 2024-09."""
    m = _TITLE_PERIOD.search(normalise(text).replace("—", "-"))
    if not m:
        return None
    year = int(m.group(1))
    if m.group(2):
        return Period(year, "quarterly", _CN_NUM[m.group(2)])
    if m.group(3):
        return Period(year, "monthly", int(m.group(3)))
    return Period(year, "yearly")


FREQUENCY_RANK = {"yearly": 0, "quarterly": 1, "monthly": 2}


def allowed(frequency: str, period: Period) -> bool:
    """A yearly indicator has yearly values only; a quarterly one yearly and quarterly; a monthly one all."""
    return FREQUENCY_RANK[period.kind] <= FREQUENCY_RANK[frequency]
