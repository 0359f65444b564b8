"""Permission codes and the built-in roles. Light module: no models, safe to import anywhere."""

from __future__ import annotations

from django.utils.translation import gettext_noop as _noop

CITY_CODE = "371500"

# permission code -> (Chinese, English)
PERMISSIONS: dict[str, tuple[str, str]] = {
    "core.view_personal_data": ("查看完整个人信息", "view personal data unmasked"),
    "core.manage_users": ("管理用户与授权", "manage users and grants"),
    "core.manage_calendar": ("维护工作日历", "maintain the working-day calendar"),
    "core.view_audit": ("查看审计日志", "view the audit log"),
    "geo.view_divisions": ("查看区划与网格", "view divisions and grids"),
    "geo.edit_divisions": ("维护区划与网格", "edit divisions and grids"),
    "geo.manage_layers": ("定义空间图层", "define spatial layers"),
    "geo.edit_features": ("导入和维护空间图层要素", "import and edit features of spatial layers"),
    "economy.import_indicators": ("导入宏观经济指标数据", "import macro-economic indicator values"),
    "economy.manage_indicators": ("维护宏观经济指标目录", "maintain the macro-economic indicator catalogue"),
    "exchange.manage_catalogue": ("维护本部门资源目录", "maintain the department's resource catalogue"),
    "exchange.apply": ("申请共享数据", "apply for shared data"),
    "exchange.approve": ("审批共享申请", "approve data-sharing applications"),
    "exchange.manage_systems": ("管理接入系统", "manage consumer systems"),
    "exchange.view_log": ("查看数据交换日志", "view the data-exchange log"),
    "exchange.administer": ("管理数据交换中心", "administer the data-exchange centre"),
    "registry.view_population": ("查看人口基础库", "view the population register"),
    "registry.edit_population": ("维护人口基础库", "change the population register"),
    "registry.view_entities": ("查看法人单位基础库", "view the legal-entity register"),
    "registry.edit_entities": ("维护法人单位基础库", "change the legal-entity register"),
    "registry.import": ("导入基础数据", "import base data files"),
    "registry.act_for_any_source": (
        "代任一来源部门录入基础数据", "record base data on behalf of any source department"),
    "urban.view_cases": ("查看城管案卷", "view urban-management cases"),
    "urban.report": ("上报城管问题", "report urban-management problems"),
    "urban.file": ("受理立案城管案卷", "file urban-management cases"),
    "urban.dispatch": ("派遣城管案卷", "dispatch urban-management cases"),
    "urban.handle": ("处置城管案卷", "handle urban-management cases"),
    "urban.verify": ("核查城管案卷", "verify urban-management cases on site"),
    "urban.close": ("城管案卷结案", "close urban-management cases"),
    "urban.approve": ("审批退回、延期、挂账和作废", "approve returns, extensions, deferrals and voids"),
    "urban.manage_classes": ("维护部件事件分类", "maintain component and event classes"),
    "urban.manage_components": ("维护城市部件普查数据", "maintain the city component census"),
    "emergency.view": ("查看应急事件", "view emergency incidents"),
    "emergency.take_calls": ("接警", "take emergency calls"),
    "emergency.dispatch": ("调度派警", "dispatch units to incidents"),
    "emergency.update_units": ("更新救援力量状态", "update unit status"),
    "emergency.transfer": ("转办与联动", "transfer incidents between lines and centres"),
    "emergency.manage_resources": ("维护救援力量与应急资源", "maintain units, stations and fixed resources"),
    "emergency.manage_types": ("维护事件分类与响应预案", "maintain incident types and response plans"),
    "emergency.draft_warning": ("起草预警信息", "draft public warnings"),
    "emergency.issue_warning": ("审批发布预警信息", "approve and issue public warnings"),
    "emergency.view_metrics": ("查看响应时效统计", "view response metrics"),
    "egov.manage_items": ("维护本部门政务服务事项", "maintain the department's service items"),
    "egov.publish_items": ("发布政务服务事项", "publish service items"),
    "egov.accept": ("受理办件", "accept or refuse applications"),
    "egov.review": ("审查办件", "review cases"),
    "egov.decide": ("审批决定", "decide on cases"),
    "egov.issue": ("制证发证", "issue licences and certificates"),
    "egov.supervise": ("电子监察", "supervise approvals"),
    "egov.publish_documents": ("发布政府信息", "publish government information"),
    "egov.answer_requests": ("办理依申请公开", "answer disclosure requests"),
}

_REGISTRY_ALL = [p for p in PERMISSIONS if p.startswith("registry.")]

# code -> (name, permissions)
BUILTIN_ROLES: dict[str, tuple[str, list[str]]] = {
    "platform_admin": (_noop("平台管理员"), list(PERMISSIONS)),
    "data_admin": (
        _noop("数据管理员"),
        ["geo.view_divisions", "geo.edit_divisions", "core.view_personal_data", "core.view_audit", *_REGISTRY_ALL],
    ),
    "user_admin": (_noop("用户管理员"), ["core.manage_users", "geo.view_divisions"]),
    "clerk": (_noop("业务经办人员"), ["geo.view_divisions", "geo.edit_divisions"]),
    "viewer": (_noop("查询人员"), ["geo.view_divisions"]),
    "auditor": (_noop("审计人员"), ["core.view_audit", "geo.view_divisions"]),
    # staff of an authoritative department (public security, civil affairs, health, market regulation, ...)
    # who keep the base databases; which fields each may change is decided by their department
    "registry_clerk": (
        _noop("基础库经办人员"),
        ["geo.view_divisions", "registry.view_population", "registry.edit_population", "registry.view_entities",
         "registry.edit_entities", "registry.import"],
    ),
    "data_sharing_officer": (
        _noop("数据共享专员"),
        ["exchange.manage_catalogue", "exchange.apply", "exchange.approve", "exchange.manage_systems",
         "exchange.view_log"],
    ),
    "exchange_admin": (
        _noop("数据交换中心管理员"),
        ["exchange.manage_catalogue", "exchange.apply", "exchange.approve", "exchange.manage_systems",
         "exchange.view_log", "exchange.administer"],
    ),
    "gis_admin": (_noop("空间数据管理员"), ["geo.view_divisions", "geo.manage_layers", "geo.edit_features"]),
    "statistics_admin": (
        _noop("统计数据管理员"), ["geo.view_divisions", "economy.import_indicators", "economy.manage_indicators"],
    ),
    # county statistics bureau staff: import values for their county only
    "statistics_clerk": (_noop("统计数据经办人员"), ["geo.view_divisions", "economy.import_indicators"]),
    # grid urban management (数字城管): the roles of the case cycle
    "urban_supervisor": (_noop("城管监督员"), ["urban.view_cases", "urban.report", "urban.verify"]),
    "urban_intake": (_noop("城管受理员"), ["urban.view_cases", "urban.report", "urban.file"]),
    "urban_shift_lead": (
        _noop("城管值班长"), ["urban.view_cases", "urban.report", "urban.file", "urban.close", "urban.approve"],
    ),
    "urban_dispatcher": (_noop("城管派遣员"), ["urban.view_cases", "urban.dispatch"]),
    "urban_department": (_noop("城管专业部门处置人员"), ["urban.view_cases", "urban.handle"]),
    "urban_admin": (_noop("城管分类管理员"), ["urban.view_cases", "urban.manage_classes", "urban.manage_components"]),
    # e-government service hall (网上办事大厅)
    "egov_item_admin": (_noop("政务服务事项管理员"), ["egov.manage_items"]),
    "egov_catalogue_admin": (_noop("事项目录发布管理员"), ["egov.manage_items", "egov.publish_items"]),
    "egov_intake": (_noop("窗口受理人员"), ["egov.accept"]),
    "egov_reviewer": (_noop("审查人员"), ["egov.review"]),
    "egov_approver": (_noop("审批负责人"), ["egov.review", "egov.decide"]),
    "egov_issuer": (_noop("制证发证人员"), ["egov.issue"]),
    "egov_supervisor": (_noop("电子监察人员"), ["egov.supervise"]),
    "egov_disclosure_officer": (_noop("政府信息公开工作人员"), ["egov.publish_documents", "egov.answer_requests"]),
    # emergency linkage (应急联动)
    "emergency_call_taker": (_noop("应急接警员"), ["emergency.view", "emergency.take_calls"]),
    "emergency_dispatcher": (
        _noop("应急调度员"),
        ["emergency.view", "emergency.take_calls", "emergency.dispatch", "emergency.update_units",
         "emergency.transfer"],
    ),
    "emergency_unit": (_noop("救援力量执勤人员"), ["emergency.view", "emergency.update_units"]),
    "emergency_duty_leader": (
        _noop("应急值班领导"),
        ["emergency.view", "emergency.dispatch", "emergency.transfer", "emergency.issue_warning",
         "emergency.view_metrics"],
    ),
    "emergency_warning_officer": (_noop("预警信息发布员"), ["emergency.view", "emergency.draft_warning"]),
    "emergency_admin": (
        _noop("应急资源管理员"),
        ["emergency.view", "emergency.manage_resources", "emergency.manage_types", "emergency.view_metrics"],
    ),
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
