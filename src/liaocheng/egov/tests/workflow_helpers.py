"""Shared set-up for the workflow and application tests: items with processes as data, users, fakes for the
certificate and credit modules (real ones are patched, missing ones stood in for)."""

from __future__ import annotations

import datetime as dt
import importlib
import sys
import types
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

import liaocheng.egov as egov_pkg
from liaocheng.core.departments import department_code
from liaocheng.core.models import Department, User
from liaocheng.egov.models import (
    Bundle,
    BundleItem,
    Case,
    Certificate,
    ItemStatus,
    ItemType,
    Material,
    ServiceItem,
)

SX = "371522"  # 莘县
TZ = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

PROCESS = [
    {"key": "accept", "name": "受理", "role": "egov_intake", "limit_days": 1, "after": []},
    {"key": "review", "name": "审查", "role": "egov_reviewer", "limit_days": 3, "after": ["accept"]},
    {"key": "decide", "name": "决定", "role": "egov_approver", "limit_days": 2, "after": ["review"]},
    {"key": "issue", "name": "制证", "role": "egov_issuer", "limit_days": 1, "after": ["decide"]},
]
# two reviews in parallel, joined by the decision
PARALLEL = [
    {"key": "accept", "name": "受理", "role": "egov_intake", "limit_days": 1, "after": []},
    {"key": "site", "name": "现场核查", "role": "egov_reviewer", "limit_days": 3, "after": ["accept"]},
    {"key": "docs", "name": "材料审查", "role": "egov_reviewer", "limit_days": 2, "after": ["accept"]},
    {"key": "decide", "name": "决定", "role": "egov_approver", "limit_days": 2, "after": ["site", "docs"]},
    {"key": "issue", "name": "制证", "role": "egov_issuer", "limit_days": 1, "after": ["decide"]},
]
FORM = [
    {"key": "name", "label": "企业名称", "type": "text", "required": True, "prefill": "name"},
    {"key": "credit_code", "label": "统一社会信用代码", "type": "text", "required": True, "prefill": "credit_code"},
    {"key": "scope", "label": "经营范围", "type": "text", "required": True, "prefill": ""},
]


def at(y: int, m: int, d: int, hh: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, hh, 0, tzinfo=TZ)


def make_item(code: str, kind: str = "market_regulation", *, process: list[dict[str, Any]] | None = None,
              promised: int = 5, statutory: int = 20, credit_rule: str = "none", materials: tuple[str, ...] = (
                  "申请书",), serves: str = "enterprise") -> ServiceItem:
    item_type, _ = ItemType.objects.get_or_create(code="XK", defaults={"name": "行政许可"})
    item = ServiceItem.objects.create(
        basic_code=code[:12], code=code, name=f"事项{code}", item_type=item_type, level="county",
        department=Department.objects.get(code=department_code(SX, kind)), division_code=SX, statutory_days=statutory,
        promised_days=promised, form_fields=FORM, process=process or PROCESS, credit_rule=credit_rule, serves=serves,
        result_name=f"证照{code}", status=ItemStatus.PUBLISHED, published_at=timezone.now())
    for i, name in enumerate(materials):
        Material.objects.create(item=item, name=name, accepted_types="pdf,jpg,png", max_mb=1, order=i)
    return item


def make_bundle(code: str, prior: list[ServiceItem], main: list[ServiceItem], together: bool = True) -> Bundle:
    bundle = Bundle.objects.create(code=code, name="企业开办一件事", issue_together=together,
                                   status=ItemStatus.PUBLISHED)
    for i, item in enumerate([*prior, *main]):
        BundleItem.objects.create(bundle=bundle, item=item, prior=item in prior, order=i)
    return bundle


def enterprise(username: str = "ent1", credit_code: str = "91371522MA3C0AAA0X") -> User:
    return User.objects.create(username=username, kind="enterprise", real_name="张经理", credit_code=credit_code,
                               organisation_name="聊城示例贸易有限公司")


def citizen(username: str = "cit1") -> User:
    from liaocheng.core.crypto import blind_index

    return User.objects.create(username=username, kind="citizen", real_name="王小明",
                               id_number="371522199001011234", id_number_bidx=blind_index("id_number",
                                                                                          "371522199001011234"))


def pdf(name: str = "a.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def fake_issue_certificate(case: Case, *, acting_user: Any, issued_at: dt.datetime | None = None) -> Certificate:
    return Certificate.objects.create(
        number=f"Z{case.number}", case=case, kind=case.item.result_kind, title=case.item.result_name,
        holder_name=case.application.applicant_name, holder_code=case.application.credit_code, pdf="x.pdf",
        pdf_sha256="0" * 64, verification_code=f"V{case.number}", issued_at=issued_at or timezone.now())


def _patch_module(monkeypatch: pytest.MonkeyPatch, name: str, attr: str, func: Any) -> None:
    full = f"liaocheng.egov.{name}"
    try:
        module = importlib.import_module(full)
    except ImportError:
        module = types.ModuleType(full)
        monkeypatch.setitem(sys.modules, full, module)
        monkeypatch.setattr(egov_pkg, name, module, raising=False)
    monkeypatch.setattr(module, attr, func, raising=False)


def patch_certificates(monkeypatch: pytest.MonkeyPatch, func: Any = fake_issue_certificate) -> None:
    _patch_module(monkeypatch, "certificates", "issue_certificate", func)


def patch_credit(monkeypatch: pytest.MonkeyPatch, result: dict[str, Any]) -> None:
    _patch_module(monkeypatch, "credit", "check_applicant", lambda application, item=None: dict(result))
