"""Demo accounts for the embedded default (idempotent). Never used in production."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from . import audit
from .crypto import blind_index
from .departments import department_code
from .models import Department, Role, RoleGrant, User, UserKind

DEMO_PASSWORD = "Liaocheng-demo-2026"  # noqa: S105 - published demo password, refused in production


@dataclass(frozen=True)
class DemoAccount:
    username: str
    real_name: str
    kind: str
    department: str | None
    grants: tuple[tuple[str, str], ...]
    note: str
    id_number: str = ""
    phone: str = ""
    credit_code: str = ""
    organisation_name: str = ""


DEMO_ACCOUNTS = [
    DemoAccount("admin", "平台管理员", UserKind.STAFF, department_code("371500", "big_data"),
                (("platform_admin", "371500"),), "全市范围平台管理员 / city-wide platform administrator"),
    DemoAccount("city_data", "市大数据局数据管理员", UserKind.STAFF, department_code("371500", "big_data"),
                (("data_admin", "371500"), ("gis_admin", "371500"), ("statistics_admin", "371500")),
                "全市数据管理员（基础库、空间图层、经济指标） / city data administrator",
                id_number="372501198503150015", phone="13906350001"),
    DemoAccount("guanxian_clerk", "冠县城管经办员", UserKind.STAFF, department_code("371525", "urban_management"),
                (("clerk", "371525"),), "仅限冠县 / Guanxian county only", phone="13906350002"),
    DemoAccount("shenxian_clerk", "莘县城管经办员", UserKind.STAFF, department_code("371522", "urban_management"),
                (("clerk", "371522"),), "仅限莘县 / Shenxian county only", phone="13906350003"),
    # grid urban management (数字城管), 东昌府区 (the city centre)
    DemoAccount("urban_supervisor", "东昌府区城管监督员", UserKind.STAFF, department_code("371502", "urban_management"),
                (("urban_supervisor", "371502"),), "网格监督员（手机上报、核查） / grid supervisor (phone)"),
    DemoAccount("urban_intake", "市城管受理员", UserKind.STAFF, department_code("371500", "urban_management"),
                (("urban_intake", "371500"),), "受理立案 / intake clerk"),
    DemoAccount("urban_dispatcher", "市城管派遣员", UserKind.STAFF, department_code("371500", "urban_management"),
                (("urban_dispatcher", "371500"),), "派遣 / dispatcher"),
    DemoAccount("urban_shift_lead", "市城管值班长", UserKind.STAFF, department_code("371500", "urban_management"),
                (("urban_shift_lead", "371500"),), "结案、审批 / shift lead (close, approve)"),
    DemoAccount("dongchangfu_urban", "东昌府区综合行政执法局处置员", UserKind.STAFF,
                department_code("371502", "urban_management"), (("urban_department", "371502"),),
                "专业部门处置 / department handling"),
    # emergency linkage (应急联动), city centre
    DemoAccount("call_taker", "市应急联动中心接警员", UserKind.STAFF, department_code("371500", "emergency_management"),
                (("emergency_call_taker", "371500"),), "接警 / call-taker"),
    DemoAccount("dispatcher1", "市应急联动中心调度员甲", UserKind.STAFF,
                department_code("371500", "emergency_management"), (("emergency_dispatcher", "371500"),),
                "调度 / dispatcher"),
    DemoAccount("dispatcher2", "市应急联动中心调度员乙", UserKind.STAFF,
                department_code("371500", "emergency_management"), (("emergency_dispatcher", "371500"),),
                "调度 / dispatcher"),
    DemoAccount("duty_leader", "市应急管理局值班领导", UserKind.STAFF,
                department_code("371500", "emergency_management"), (("emergency_duty_leader", "371500"),),
                "值班领导、签发预警 / duty leader, issues warnings"),
    DemoAccount("warning_officer", "市应急管理局预警发布员", UserKind.STAFF,
                department_code("371500", "emergency_management"), (("emergency_warning_officer", "371500"),),
                "起草预警 / drafts warnings"),
    # e-government service hall (网上办事大厅), city market regulation and the supervision office
    DemoAccount("egov_window", "市行政审批服务局窗口受理员", UserKind.STAFF,
                department_code("371500", "administrative_approval"),
                (("egov_intake", "371500"),), "窗口受理 / intake window"),
    DemoAccount("egov_approver", "市市场监管局审批负责人", UserKind.STAFF,
                department_code("371500", "market_regulation"),
                (("egov_approver", "371500"), ("egov_intake", "371500")), "审查、决定 / review and decide"),
    DemoAccount("egov_culture", "市文化和旅游局审批员", UserKind.STAFF,
                department_code("371500", "culture_tourism"),
                (("egov_approver", "371500"),), "文旅许可审查、决定 / culture and tourism licences"),
    DemoAccount("egov_tax", "市税务局登记审核员", UserKind.STAFF, department_code("371500", "tax"),
                (("egov_approver", "371500"),), "涉税信息确认 / tax registration"),
    DemoAccount("egov_issuer", "市行政审批服务局综合出件窗口", UserKind.STAFF,
                department_code("371500", "administrative_approval"),
                (("egov_issuer", "371500"),), "制证发证、证照同发 / issues licences (together for bundles)"),
    DemoAccount("egov_supervisor", "市政府办公室电子监察员", UserKind.STAFF,
                department_code("371500", "party_government_office"),
                (("egov_supervisor", "371500"),), "电子监察 / electronic supervision"),
    DemoAccount("disclosure_officer", "市政府办公室政务公开专员", UserKind.STAFF,
                department_code("371500", "party_government_office"),
                (("egov_disclosure_officer", "371500"),), "政府信息公开 / information disclosure"),
    DemoAccount("citizen_demo", "张三", UserKind.CITIZEN, None, (), "实名注册市民 / registered citizen",
                id_number="371502199801011232", phone="13806351234"),
    DemoAccount("enterprise_demo", "李四", UserKind.ENTERPRISE, None, (), "企业账号 / enterprise account",
                phone="06358881234", credit_code="91371500MA3C4XXX0J", organisation_name="聊城示范科技有限公司"),
]


def _derive(username: str) -> str:
    """A TOTP secret stable per installation (derived from the secret key), so a demo authenticator
    keeps working across restarts; real accounts get random secrets from services.begin_totp_setup."""
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:demo-totp:{username}".encode()).digest()
    return base64.b32encode(digest[:20]).decode("ascii")


def ensure_demo_accounts() -> list[tuple[DemoAccount, str]]:
    """Create the demo accounts if missing; returns (account, TOTP secret or '') for printing."""
    out: list[tuple[DemoAccount, str]] = []
    with transaction.atomic():
        for acc in DEMO_ACCOUNTS:
            user = User.objects.filter(username=acc.username).first()
            secret = _derive(acc.username) if acc.kind == UserKind.STAFF else ""
            if user is None:
                user = User(username=acc.username, kind=acc.kind, real_name=acc.real_name,
                            organisation_name=acc.organisation_name, credit_code=acc.credit_code)
                if acc.department:
                    user.department = Department.objects.get(code=acc.department)
                if acc.id_number:
                    user.id_number, user.id_number_bidx = acc.id_number, blind_index("id_number", acc.id_number)
                if acc.phone:
                    user.phone, user.phone_bidx = acc.phone, blind_index("phone", acc.phone)
                if secret:
                    user.totp_secret, user.totp_confirmed = secret, True
                user.is_staff = user.is_superuser = acc.username == "admin"
                user.set_password(DEMO_PASSWORD)
                user.save()
                for role_code, scope in acc.grants:
                    RoleGrant.objects.get_or_create(user=user, role=Role.objects.get(code=role_code),
                                                    scope_division=scope)
                audit.record(actor="demo", action="core.create_demo_account", object_type="core.User",
                             object_id=user.pk, after={"username": acc.username, "kind": acc.kind,
                                                       "grants": [list(g) for g in acc.grants]})
            out.append((acc, user.totp_secret if acc.kind == UserKind.STAFF else ""))
    return out
