"""Permission codes and the built-in roles. Light module: no models, safe to import anywhere."""

from __future__ import annotations

CITY_CODE = "371500"

# permission code -> (Chinese, English)
PERMISSIONS: dict[str, tuple[str, str]] = {
    "core.view_personal_data": ("查看完整个人信息", "view personal data unmasked"),
    "core.manage_users": ("管理用户与授权", "manage users and grants"),
    "core.manage_calendar": ("维护工作日历", "maintain the working-day calendar"),
    "core.view_audit": ("查看审计日志", "view the audit log"),
    "geo.view_divisions": ("查看区划与网格", "view divisions and grids"),
    "geo.edit_divisions": ("维护区划与网格", "edit divisions and grids"),
}

# code -> (name, permissions)
BUILTIN_ROLES: dict[str, tuple[str, list[str]]] = {
    "platform_admin": ("平台管理员", list(PERMISSIONS)),
    "data_admin": (
        "数据管理员",
        ["geo.view_divisions", "geo.edit_divisions", "core.view_personal_data", "core.view_audit"],
    ),
    "user_admin": ("用户管理员", ["core.manage_users", "geo.view_divisions"]),
    "clerk": ("业务经办人员", ["geo.view_divisions", "geo.edit_divisions"]),
    "viewer": ("查询人员", ["geo.view_divisions"]),
    "auditor": ("审计人员", ["core.view_audit", "geo.view_divisions"]),
}


def scope_prefix(division_code: str) -> str:
    """The code prefix that every division inside ``division_code`` shares.

    GB/T 2260 codes pad with zeros: 371500 (a city) covers 3715xx, 371522 (a county) covers
    371522xxx..., and 9/12/15-digit township, village and grid codes extend their parent's code.
    """
    code = division_code.strip()
    if len(code) == 6:
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    return code


def in_scope(scope_division: str, division_code: str) -> bool:
    return division_code.startswith(scope_prefix(scope_division))
