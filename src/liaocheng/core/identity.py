"""Validation of real-name data with python-stdnum: GB 11643 ID numbers, GB 32100 credit codes, phones."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum import exceptions as stdnum_exc
from stdnum.cn import ric, uscc

from .errors import InvalidInput

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def clean_id_number(value: str, field: str = "id_number") -> str:
    """Validate a GB 11643 citizen ID number; returns the compact upper-case form."""
    try:
        return str(ric.validate(value))
    except stdnum_exc.InvalidChecksum as exc:
        raise InvalidInput("身份证号校验位错误", "ID number check digit is wrong", field=field) from exc
    except stdnum_exc.InvalidLength as exc:
        raise InvalidInput("身份证号应为18位", "ID number must have 18 characters", field=field) from exc
    except stdnum_exc.InvalidComponent as exc:
        raise InvalidInput(
            "身份证号的地址码或出生日期无效", "ID number has an invalid region code or birth date", field=field
        ) from exc
    except stdnum_exc.ValidationError as exc:
        raise InvalidInput("身份证号格式无效", "ID number is malformed", field=field) from exc


@dataclass(frozen=True)
class CreditCode:
    code: str
    warning: str = ""  # set for legacy codes with a wrong check character


def clean_credit_code(value: str, field: str = "credit_code") -> CreditCode:
    """Validate a GB 32100 unified social credit code.

    Some codes issued early carry a wrong check character (e.g. 91350100M0001TGQXM); they are
    accepted with a warning rather than rejected, since they are already in use.
    """
    try:
        return CreditCode(str(uscc.validate(value)))
    except stdnum_exc.InvalidChecksum:
        compact = uscc.compact(value)
        return CreditCode(
            compact,
            warning="统一社会信用代码校验位不符（历史赋码），已接受 / credit code check character does not match"
            " (legacy code), accepted",
        )
    except stdnum_exc.InvalidLength as exc:
        raise InvalidInput(
            "统一社会信用代码应为18位", "credit code must have 18 characters", field=field
        ) from exc
    except stdnum_exc.ValidationError as exc:
        raise InvalidInput("统一社会信用代码格式无效", "credit code is malformed", field=field) from exc


# GB 32100 characters (no I, O, S, V, Z) and the GB 11714 organisation code check
CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_code_check(body: str) -> str:
    """The GB 11714 check character of an 8-character organisation code body."""
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def credit_code_from(prefix: str, division_code: str, org_body: str) -> str:
    """A GB 32100 code: registration authority and entity type (``prefix``, e.g. "91" for an enterprise
    registered by market regulation), the 6-digit division, the organisation code (body + GB 11714 check),
    then the GB 32100 check character."""
    body = f"{prefix}{division_code}{org_body}{org_code_check(org_body)}"
    return body + uscc.calc_check_digit(body)


def clean_phone(value: str, field: str = "phone") -> str:
    compact = re.sub(r"[\s()]", "", value or "")
    compact = compact.removeprefix("+86")
    if _MOBILE.match(compact) or _LANDLINE.match(compact):
        return compact
    raise InvalidInput("电话号码格式无效", "phone number is malformed", field=field)
