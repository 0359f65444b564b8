"""Field cleaning shared by the single-record services and the bulk importer.

Each ``clean_*_row`` takes raw strings by canonical field name and returns the cleaned values plus every
problem found in the row (all fields are checked, not just the first bad one). The ID-number check is the
one of :func:`liaocheng.core.identity.clean_id_number` (python-stdnum), with the costly birth-place lookup
cached per (region code, birth year), since the importer checks millions of numbers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from stdnum import exceptions as stdnum_exc
from stdnum.cn import ric

from liaocheng.core.errors import DomainError, InvalidInput
from liaocheng.core.identity import CreditCode, clean_credit_code, clean_id_number, clean_phone
from liaocheng.core.tabular import normalise_header  # noqa: F401  (part of this module's interface)

from . import codes

# --- column names accepted in import files (Chinese or English), by canonical field name ----------------

PERSON_COLUMNS: dict[str, tuple[str, ...]] = {
    "id_number": ("公民身份号码", "身份证号", "身份证号码", "id_number", "id number", "id_no"),
    "name": ("姓名", "name"),
    "sex": ("性别", "sex", "gender"),
    "birth_date": ("出生日期", "birth_date", "date of birth", "birthday"),
    "ethnic": ("民族", "ethnic", "ethnic_group", "ethnicity"),
    "hukou_division": ("户籍地区划代码", "户籍地", "户籍区划", "户籍地代码", "hukou_division", "hukou"),
    "household_number": ("户号", "household_number", "household"),
    "relationship": ("与户主关系", "relationship", "relationship_to_head"),
    "residence_address": ("居住地址", "现住址", "residence_address", "address"),
    "lon": ("经度", "lon", "lng", "longitude"),
    "lat": ("纬度", "lat", "latitude"),
    "community_code": ("居住社区代码", "社区代码", "community_code", "community"),
    "grid_code": ("网格编码", "网格代码", "grid_code", "grid"),
    "marital_status": ("婚姻状况", "marital_status", "marital"),
    "status": ("人口状态", "状态", "status"),
    "phone": ("联系电话", "手机号", "电话", "phone", "mobile"),
    "effective_date": ("生效日期", "effective_date", "valid_from"),
}
PERSON_REQUIRED = ("id_number", "name", "hukou_division", "household_number", "relationship")

ENTITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "credit_code": ("统一社会信用代码", "信用代码", "credit_code", "uscc"),
    "name": ("名称", "单位名称", "name"),
    "entity_type": ("单位类型", "类型", "entity_type", "type"),
    "legal_representative": ("法定代表人", "负责人", "legal_representative", "representative"),
    "registered_capital": ("注册资本（万元）", "注册资本(万元)", "注册资本", "registered_capital", "capital"),
    "industry_code": ("行业代码", "国民经济行业代码", "industry_code", "industry"),
    "address": ("住所", "地址", "address"),
    "lon": ("经度", "lon", "lng", "longitude"),
    "lat": ("纬度", "lat", "latitude"),
    "grid_code": ("网格编码", "网格代码", "grid_code", "grid"),
    "status": ("登记状态", "状态", "status"),
    "registering_authority": ("登记机关", "registering_authority", "authority"),
    "established_date": ("成立日期", "established_date", "established"),
    "changed_date": ("变更日期", "核准日期", "changed_date"),
    "effective_date": ("生效日期", "effective_date", "valid_from"),
}
ENTITY_REQUIRED = ("credit_code", "name")




# --- problems ---------------------------------------------------------------------------------------------

@dataclass
class RowProblem:
    field: str
    message_zh: str
    message_en: str
    code: str = "invalid"


@dataclass
class Cleaned:
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, fld: str, zh: str, en: str, code: str = "invalid") -> None:
        self.problems.append(RowProblem(fld, zh, en, code))

    def add_error(self, exc: DomainError, fld: str) -> None:
        self.problems.append(RowProblem(exc.field or fld, exc.message_zh, exc.message_en, exc.code))


# --- ID numbers -------------------------------------------------------------------------------------------

@lru_cache(maxsize=8192)
def _place_valid(area: str, year: int) -> bool:
    try:
        ric.get_birth_place(f"{area}{year:04d}01010000")
    except stdnum_exc.ValidationError:
        return False
    return True


def clean_id(value: str, fld: str = "id_number", today: dt.date | None = None) -> tuple[str, dt.date]:
    """A valid GB 11643 number (compact, upper case) and the birth date it holds; ``InvalidInput`` otherwise.

    Same rules and messages as ``core.identity.clean_id_number`` (which is called for every number the
    fast path does not accept, so the error is always the canonical one); also refuses a birth date in
    the future.
    """
    v = value.strip().upper()
    birth: dt.date | None = None
    if len(v) == 18 and v.isascii() and v[:17].isdigit() and v[17] == ric.calc_check_digit(v):
        try:
            birth = dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
        except ValueError:
            birth = None
        if birth is not None and not _place_valid(v[:6], birth.year):
            birth = None
    if birth is None:
        v = clean_id_number(value, field=fld)
        birth = ric.get_birth_date(v)
    if birth > (today or dt.date.today()):
        raise InvalidInput("身份证号中的出生日期晚于今天", "the birth date in the ID number is in the future",
                           field=fld)
    return v, birth


def sex_from_id(id_number: str) -> str:
    return "1" if int(id_number[16]) % 2 else "2"


# --- small parsers ----------------------------------------------------------------------------------------

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d")


def parse_date(value: Any, fld: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            pass
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise InvalidInput(f"日期格式无效：{text}", f"invalid date: {text} (use YYYY-MM-DD)", field=fld)


def parse_float(value: Any, fld: str) -> float:
    try:
        return float(str(value).strip())
    except ValueError as exc:
        raise InvalidInput("应为数字", "must be a number", field=fld) from exc


_NAME = re.compile(r"^[\u3400-\u9fff\U00020000-\U0003134fA-Za-z·.\- ]{1,50}$")
_HOUSEHOLD = re.compile(r"^[0-9A-Za-z\-]{1,20}$")


_BAD_TEXT = re.compile("[\x00-\x1f\ufffd]")


def _bad_text(text: str) -> bool:
    return _BAD_TEXT.search(text) is not None


@dataclass(frozen=True)
class GeoContext:
    """Known codes (from geo) for validating division, community and grid codes."""

    divisions: frozenset[str]   # current county (6), township (9) and village/community (12) codes
    communities: frozenset[str]
    grids: frozenset[str]


PERSON_STATUS_ALIASES = {
    "resident": "resident", "在册": "resident", "正常": "resident", "户籍在册": "resident",
    "moved_out": "moved_out", "迁出": "moved_out", "deceased": "deceased", "死亡": "deceased",
}
ENTITY_STATUS_ALIASES = {
    "active": "active", "存续": "active", "在业": "active", "开业": "active",
    "revoked": "revoked", "吊销": "revoked", "deregistered": "deregistered", "注销": "deregistered",
}
ENTITY_TYPE_ALIASES = {
    "enterprise": "enterprise", "企业": "enterprise", "institution": "institution", "事业单位": "institution",
    "social_organisation": "social_organisation", "社会组织": "social_organisation", "社会团体": "social_organisation",
    "government": "government", "机关": "government", "sole_trader": "sole_trader", "个体工商户": "sole_trader",
}


def _code_field(c: Cleaned, raw: Mapping[str, Any], fld: str, lookup: Any, label_zh: str, label_en: str,
                std: str) -> None:
    text = str(raw.get(fld) or "").strip()
    if not text:
        return
    code = lookup(text)
    if code is None:
        c.add(fld, f"{label_zh}不是有效的 {std} 代码或名称：{text}",
              f"{label_en} is not a valid {std} code or name: {text}")
    else:
        c.values[fld] = code


def clean_location(c: Cleaned, raw: Mapping[str, Any], geo: GeoContext) -> None:
    """lon/lat (located later, in bulk) or community/grid codes."""
    lon_text, lat_text = str(raw.get("lon") or "").strip(), str(raw.get("lat") or "").strip()
    if lon_text or lat_text:
        if not (lon_text and lat_text):
            c.add("lat" if lon_text else "lon", "经度和纬度须同时提供", "lon and lat must be given together")
        else:
            try:
                lon, lat = parse_float(lon_text, "lon"), parse_float(lat_text, "lat")
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    raise InvalidInput("经纬度超出范围", "longitude/latitude out of range", field="lon")
                c.values["lon"], c.values["lat"] = lon, lat
            except InvalidInput as exc:
                c.add_error(exc, "lon")
    grid = str(raw.get("grid_code") or "").strip()
    community = str(raw.get("community_code") or "").strip()
    if grid:
        if grid not in geo.grids:
            c.add("grid_code", f"网格编码不存在：{grid}", f"unknown grid code: {grid}")
        else:
            c.values["grid_code"] = grid
            c.values["community_code"] = grid[:12]
    if community:
        if community not in geo.communities:
            c.add("community_code", f"社区/村代码不存在：{community}", f"unknown community code: {community}")
        elif grid and grid[:12] != community:
            c.add("grid_code", "网格不属于所填社区/村", "the grid is not in the given community")
        else:
            c.values["community_code"] = community


def clean_person_row(raw: Mapping[str, Any], geo: GeoContext, *, partial: bool = False,
                     today: dt.date | None = None) -> Cleaned:
    """Clean one person. ``partial`` (a change to an existing person) cleans only the fields present."""
    c = Cleaned()
    v = c.values
    id_text = str(raw.get("id_number") or "").strip()
    birth: dt.date | None = None
    if id_text or not partial:
        if not id_text:
            c.add("id_number", "身份证号不能为空", "ID number is required", "required")
        else:
            try:
                v["id_number"], birth = clean_id(id_text, today=today)
            except InvalidInput as exc:
                c.add_error(exc, "id_number")
    if "name" in raw or not partial:
        name = str(raw.get("name") or "").strip()
        if not name:
            c.add("name", "姓名不能为空", "name is required", "required")
        elif not _NAME.match(name):
            c.add("name", "姓名含有无效字符或超过50字", "name has invalid characters or is longer than 50")
        else:
            v["name"] = name
    sex_text = str(raw.get("sex") or "").strip()
    if sex_text:
        sex = codes.sex_code(sex_text)
        if sex is None:
            c.add("sex", f"性别不是有效的 GB/T 2261.1 代码：{sex_text}", f"sex is not a GB/T 2261.1 code: {sex_text}")
        elif "id_number" in v and sex in ("1", "2") and sex != sex_from_id(v["id_number"]):
            c.add("sex", "性别与身份证号不符", "sex does not match the ID number")
        else:
            v["sex"] = sex
    elif "id_number" in v:
        v["sex"] = sex_from_id(v["id_number"])
    birth_raw = raw.get("birth_date")
    if birth_raw not in (None, "") and str(birth_raw).strip():
        try:
            given = parse_date(birth_raw, "birth_date")
            if birth is not None and given != birth:
                c.add("birth_date", "出生日期与身份证号不符", "birth date does not match the ID number")
            else:
                v["birth_date"] = given
        except InvalidInput as exc:
            c.add_error(exc, "birth_date")
    elif birth is not None:
        v["birth_date"] = birth
    _code_field(c, raw, "ethnic", codes.ethnic_code, "民族", "ethnic group", "GB/T 3304")
    if "hukou_division" in raw or not partial:
        hukou = str(raw.get("hukou_division") or "").strip()
        if not hukou:
            c.add("hukou_division", "户籍地区划代码不能为空", "household registration division is required", "required")
        elif hukou not in geo.divisions:
            c.add("hukou_division", f"户籍地区划代码不存在：{hukou}",
                  f"unknown household registration division: {hukou}")
        else:
            v["hukou_division"] = hukou
    if "household_number" in raw or not partial:
        household = str(raw.get("household_number") or "").strip()
        if not household:
            c.add("household_number", "户号不能为空", "household number is required", "required")
        elif not _HOUSEHOLD.match(household):
            c.add("household_number", "户号应为1-20位字母或数字", "household number must be 1-20 letters or digits")
        else:
            v["household_number"] = household
    if "relationship" in raw or not partial:
        if not str(raw.get("relationship") or "").strip():
            c.add("relationship", "与户主关系不能为空", "relationship to the head of household is required", "required")
        _code_field(c, raw, "relationship", codes.relationship_code, "与户主关系", "relationship", "GB/T 4761")
    if "residence_address" in raw:
        address = str(raw.get("residence_address") or "").strip()
        if len(address) > 200 or _bad_text(address):
            c.add("residence_address", "居住地址含有无效字符或超过200字",
                  "address has invalid characters or is too long")
        else:
            v["residence_address"] = address
    clean_location(c, raw, geo)
    _code_field(c, raw, "marital_status", codes.marital_code, "婚姻状况", "marital status", "GB/T 2261.2")
    status_text = str(raw.get("status") or "").strip()
    if status_text:
        status = PERSON_STATUS_ALIASES.get(status_text.lower()) or PERSON_STATUS_ALIASES.get(status_text)
        if status is None:
            c.add("status", f"人口状态无效：{status_text}（在册/迁出/死亡）",
                  f"invalid status: {status_text} (resident, moved_out, deceased)")
        else:
            v["status"] = status
    elif not partial:
        v["status"] = "resident"
    phone_text = str(raw.get("phone") or "").strip()
    if phone_text:
        try:
            v["phone"] = clean_phone(phone_text)
        except InvalidInput as exc:
            c.add_error(exc, "phone")
    elif "phone" in raw:
        v["phone"] = ""
    eff = raw.get("effective_date")
    if eff not in (None, ""):
        try:
            v["effective_date"] = parse_date(eff, "effective_date")
        except InvalidInput as exc:
            c.add_error(exc, "effective_date")
    return c


# --- legal entities ---------------------------------------------------------------------------------------

# GB 32100: first character = registration authority, second = kind of organisation
_TYPE_BY_PREFIX = {
    "11": "government", "12": "institution", "13": "government", "19": "institution",
    "51": "social_organisation", "52": "social_organisation", "53": "social_organisation",
    "59": "social_organisation", "91": "enterprise", "92": "sole_trader", "93": "enterprise",
}


def derive_entity_type(credit_code: str) -> str:
    """Default type from the registration-authority and organisation-kind characters of the code."""
    prefix = credit_code[:2]
    if prefix in _TYPE_BY_PREFIX:
        return _TYPE_BY_PREFIX[prefix]
    return {"1": "institution", "5": "social_organisation"}.get(prefix[:1], "enterprise")


def clean_credit(value: str) -> CreditCode:
    return clean_credit_code(value)


_CAPITAL_MAX = Decimal("99999999999999")


def clean_entity_row(raw: Mapping[str, Any], geo: GeoContext, *, partial: bool = False) -> Cleaned:
    c = Cleaned()
    v = c.values
    code_text = str(raw.get("credit_code") or "").strip()
    if code_text or not partial:
        if not code_text:
            c.add("credit_code", "统一社会信用代码不能为空", "credit code is required", "required")
        else:
            try:
                code = clean_credit(code_text)
                v["credit_code"] = code.code
                v["credit_code_warning"] = code.warning
                if code.warning:
                    c.warnings.append(code.warning)
            except InvalidInput as exc:
                c.add_error(exc, "credit_code")
    if "name" in raw or not partial:
        name = str(raw.get("name") or "").strip()
        if not name:
            c.add("name", "名称不能为空", "name is required", "required")
        elif len(name) > 200 or _bad_text(name):
            c.add("name", "名称含有无效字符或超过200字", "name has invalid characters or is longer than 200")
        else:
            v["name"] = name
    type_text = str(raw.get("entity_type") or "").strip()
    if type_text:
        etype = ENTITY_TYPE_ALIASES.get(type_text.lower()) or ENTITY_TYPE_ALIASES.get(type_text)
        if etype is None:
            c.add("entity_type", f"单位类型无效：{type_text}", f"invalid entity type: {type_text}")
        else:
            v["entity_type"] = etype
            if "credit_code" in v:
                v["entity_type_derived"] = etype == derive_entity_type(v["credit_code"])
            else:
                v["entity_type_derived"] = False
    elif "credit_code" in v and not partial:
        v["entity_type"] = derive_entity_type(v["credit_code"])
        v["entity_type_derived"] = True
    if "legal_representative" in raw:
        rep = str(raw.get("legal_representative") or "").strip()
        if rep and not _NAME.match(rep):
            c.add("legal_representative", "法定代表人姓名含有无效字符或超过50字",
                  "legal representative name has invalid characters or is longer than 50")
        else:
            v["legal_representative"] = rep
    cap_text = str(raw.get("registered_capital") or "").strip().replace(",", "")
    if cap_text:
        try:
            capital = Decimal(cap_text)
            if not capital.is_finite() or capital < 0 or capital > _CAPITAL_MAX:
                raise InvalidOperation
            v["registered_capital"] = capital.quantize(Decimal("0.0001"))
        except InvalidOperation:
            c.add("registered_capital", "注册资本应为非负数（万元）", "registered capital must be a non-negative number"
                  " (10,000 yuan)")
    ind_text = str(raw.get("industry_code") or "").strip()
    if ind_text:
        ind = codes.industry_code(ind_text)
        if ind is None:
            c.add("industry_code", f"行业代码不是有效的 GB/T 4754-2017 代码：{ind_text}",
                  f"not a GB/T 4754-2017 industry code: {ind_text}")
        else:
            v["industry_code"] = ind
    if "address" in raw:
        address = str(raw.get("address") or "").strip()
        if len(address) > 200 or _bad_text(address):
            c.add("address", "住所含有无效字符或超过200字", "address has invalid characters or is too long")
        else:
            v["address"] = address
    clean_location(c, raw, geo)
    status_text = str(raw.get("status") or "").strip()
    if status_text:
        status = ENTITY_STATUS_ALIASES.get(status_text.lower()) or ENTITY_STATUS_ALIASES.get(status_text)
        if status is None:
            c.add("status", f"登记状态无效：{status_text}（存续/吊销/注销）",
                  f"invalid status: {status_text} (active, revoked, deregistered)")
        else:
            v["status"] = status
    elif not partial:
        v["status"] = "active"
    if "registering_authority" in raw:
        auth = str(raw.get("registering_authority") or "").strip()
        if len(auth) > 100 or _bad_text(auth):
            c.add("registering_authority", "登记机关名称无效", "invalid registering authority")
        else:
            v["registering_authority"] = auth
    for fld in ("established_date", "changed_date", "effective_date"):
        val = raw.get(fld)
        if val not in (None, ""):
            try:
                v[fld] = parse_date(val, fld)
            except InvalidInput as exc:
                c.add_error(exc, fld)
    return c
