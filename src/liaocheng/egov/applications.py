"""The applicant's side: start an application (form prefilled from base data), save the form, upload
materials (type checked by extension and content), submit (cases created, credit check), withdraw, and
follow progress. Only real-name citizen and enterprise accounts apply.

A bundle's application has one form (the union of its items' fields) and one set of materials: a material
required by several member items under the same name is uploaded once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from liaocheng.core import audit
from liaocheng.core.errors import Conflict, InvalidInput, NotFound

from . import workflow
from .models import (
    Application,
    ApplicationMaterial,
    ApplicationStatus,
    Bundle,
    BundleItem,
    Case,
    CaseStatus,
    CreditRule,
    ItemStatus,
    Material,
    ServiceItem,
)

APPLICANT_KINDS = ("citizen", "enterprise")
EDITABLE = (ApplicationStatus.DRAFT, ApplicationStatus.CORRECTION)
MAX_FIELD = 2000
IMAGE_FORMATS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG"}
CONTENT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png",
                 "doc": "application/msword", "xls": "application/vnd.ms-excel",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "ofd": "application/ofd"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


# --- who may apply -----------------------------------------------------------------------------------

def require_applicant(user: Any) -> None:
    """Signed-in, real-name citizen or enterprise account."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "kind", "") not in APPLICANT_KINDS:
        raise PermissionDenied("只有实名认证的市民或企业账号可以申请 / only real-name citizen or enterprise accounts "
                               "may apply")
    if user.kind == "citizen" and not (user.real_name and user.id_number):
        raise PermissionDenied("请先完成实名认证（姓名和身份证号） / complete real-name registration first")
    if user.kind == "enterprise" and not (user.credit_code and user.organisation_name):
        raise PermissionDenied("请先完成企业实名认证（统一社会信用代码和名称） / "
                               "complete enterprise registration first")


def _own(user: Any, application: Application) -> Application:
    require_applicant(user)
    if application.applicant_id != user.pk:
        raise PermissionDenied("不是本人的申请 / not your application")
    return application


def get_own_application(*, acting_user: Any, number: str) -> Application:
    require_applicant(acting_user)
    qs = Application.objects.filter(applicant=acting_user).select_related("item", "bundle")
    application = qs.filter(number=number).first() if number else None
    if application is None:
        raise NotFound("申请不存在", "no such application", field="number")
    return application


# --- items, form and base data -----------------------------------------------------------------------

def application_items(application: Application) -> list[ServiceItem]:
    """The items the application asks for: the item, or the bundle's members (optional ones when chosen)."""
    if application.bundle_id is not None:
        chosen = set(application.chosen_items or [])
        return [m.item for m in BundleItem.objects.filter(bundle_id=application.bundle_id).select_related(
            "item", "item__department") if not m.optional or m.item.code in chosen]
    assert application.item is not None
    return [application.item]


def bundle_options(application: Application) -> list[dict[str, Any]]:
    """The bundle's optional members (e.g. prior approvals a business needs) and whether each is chosen."""
    if application.bundle_id is None:
        return []
    chosen = set(application.chosen_items or [])
    return [{"item": m.item, "prior": m.prior, "chosen": m.item.code in chosen}
            for m in BundleItem.objects.filter(bundle_id=application.bundle_id, optional=True).select_related(
                "item", "item__department")]


def choose_items(*, acting_user: Any, application: Application, codes: list[str]) -> Application:
    """Choose the bundle's optional members that apply (the rest of the bundle always applies)."""
    _own(acting_user, application)
    if application.status != ApplicationStatus.DRAFT:
        raise Conflict("申请已提交，不能修改", "the application can no longer be changed", field="status")
    allowed = {o["item"].code for o in bundle_options(application)}
    wanted = sorted({str(c).strip() for c in codes if str(c).strip()})
    unknown = [c for c in wanted if c not in allowed]
    if unknown:
        raise InvalidInput(f"该套餐没有可选事项：{unknown[0]}", f"the bundle has no optional item {unknown[0]}",
                           field="chosen_items")
    if wanted == sorted(application.chosen_items or []):
        return application
    with transaction.atomic():
        before = list(application.chosen_items or [])
        application.chosen_items = wanted
        application.save(update_fields=["chosen_items"])
        audit.record(actor=acting_user, action="egov.application_items_chosen", object_type="egov.Application",
                     object_id=application.pk, before={"chosen_items": before}, after={"chosen_items": wanted},
                     division_code=application.division_code)
    return application


def form_fields(items: list[ServiceItem]) -> list[dict[str, Any]]:
    """The union of the items' form fields (first definition of a key wins; required if any item says so)."""
    fields: dict[str, dict[str, Any]] = {}
    for item in items:
        for f in item.form_fields or []:
            key = str(f.get("key") or "")
            if not key:
                continue
            if key in fields:
                fields[key]["required"] = fields[key]["required"] or bool(f.get("required"))
            else:
                fields[key] = {"key": key, "label": str(f.get("label") or key), "type": str(f.get("type") or "text"),
                               "required": bool(f.get("required")), "prefill": str(f.get("prefill") or "")}
    return list(fields.values())


def base_data(user: Any) -> dict[str, str]:
    """What the base databases already know about the applicant (keys that form fields may ``prefill``)."""
    if user.kind == "citizen":
        return {"name": user.real_name, "applicant_name": user.real_name, "id_number": user.id_number,
                "phone": user.phone or ""}
    data = {"name": user.organisation_name, "applicant_name": user.organisation_name,
            "credit_code": user.credit_code, "phone": user.phone or ""}
    try:
        from liaocheng.registry import services as registry

        # keyed by the account's own verified credit code, so no registry permission is asked of the user
        entity = registry.find_entity(acting_user=registry.SYSTEM, credit_code=user.credit_code)
    except Exception:  # base data is a convenience: no registry record (or no registry), nothing prefilled
        return data
    for key in ("name", "address", "legal_representative", "entity_type", "industry_code", "registered_capital",
                "established_date", "registering_authority"):
        value = entity.get(key)
        if value not in (None, ""):
            data[key] = str(value)
    data["applicant_name"] = data["name"]
    return data


# form keys holding personal data: kept in the application's encrypted fields, never in ``form_data`` (plain JSON)
PERSONAL_FIELDS = ("id_number", "phone")


def _stored(application: Application, key: str) -> str:
    if key in PERSONAL_FIELDS:
        return str(getattr(application, key) or "")
    return str((application.form_data or {}).get(key, ""))


def prefilled_fields(application: Application) -> list[dict[str, Any]]:
    """The form's fields with their current values; ``locked`` ones come from base data."""
    base = base_data(application.applicant)
    rows = []
    for f in form_fields(application_items(application)):
        locked = bool(f["prefill"] and base.get(f["prefill"]))
        value = base[f["prefill"]] if locked else _stored(application, f["key"])
        rows.append({**f, "value": value, "locked": locked})
    return rows


def application_materials(application: Application) -> list[dict[str, Any]]:
    """One row per distinct material name across the items, with the uploaded file if any. In a bundle, a
    material that the bundle itself produces (a prior approval asking for the 营业执照 the bundle issues) is
    not asked of the applicant."""
    uploads = {m.material.name: m for m in application.materials.select_related("material")}
    rows: dict[str, dict[str, Any]] = {}
    items = application_items(application)
    produced = {item.result_name for item in items if item.result_name} if application.bundle_id else set()
    for item in items:
        for material in item.materials.all():
            if material.name in produced:
                continue
            row = rows.setdefault(material.name, {"name": material.name, "required": False, "material": material,
                                                  "items": [], "upload": uploads.get(material.name)})
            row["required"] = row["required"] or material.required
            row["items"].append(item.name)
    return list(rows.values())


# --- start, form, materials ------------------------------------------------------------------------

def start_application(*, acting_user: Any, item_code: str | None = None, bundle_code: str | None = None
                      ) -> Application:
    """A draft application for a published item or bundle, prefilled from base data (reuses an open draft)."""
    require_applicant(acting_user)
    item = bundle = None
    if bool(item_code) == bool(bundle_code):
        raise InvalidInput("请选择一个事项或一件事套餐", "name one item or one bundle", field="item_code")
    if item_code:
        item = ServiceItem.objects.filter(code=item_code, status=ItemStatus.PUBLISHED).first()
        if item is None:
            raise NotFound("事项不存在或未发布", "no such published item", field="item_code")
        serves, division = item.serves, item.division_code
        items = [item]
    else:
        bundle = Bundle.objects.filter(code=bundle_code, status=ItemStatus.PUBLISHED).first()
        if bundle is None:
            raise NotFound("一件事套餐不存在或未发布", "no such published bundle", field="bundle_code")
        items = [m.item for m in bundle.members.select_related("item")]
        if not items:
            raise Conflict("该套餐没有事项", "the bundle has no items", field="bundle_code")
        serves, division = bundle.serves, items[0].division_code
    if serves not in (acting_user.kind, "both"):
        raise InvalidInput("该事项不面向此类账号办理", "this item is not for this kind of account", field="item_code")
    existing = Application.objects.filter(applicant=acting_user, item=item, bundle=bundle,
                                          status=ApplicationStatus.DRAFT).first()
    if existing is not None:
        return existing
    base = base_data(acting_user)
    form = {f["key"]: base[f["prefill"]] for f in form_fields(items)
            if f["prefill"] and base.get(f["prefill"]) and f["key"] not in PERSONAL_FIELDS}
    with transaction.atomic():
        application = Application.objects.create(
            applicant=acting_user, item=item, bundle=bundle, applicant_name=base["applicant_name"],
            id_number=acting_user.id_number if acting_user.kind == "citizen" else "",
            credit_code=acting_user.credit_code if acting_user.kind == "enterprise" else "",
            phone=acting_user.phone or "", division_code=division, form_data=form, created_at=timezone.now())
        audit.record(actor=acting_user, action="egov.application_started", object_type="egov.Application",
                     object_id=application.pk, after={"item": item_code or "", "bundle": bundle_code or ""},
                     division_code=division)
    return application


def save_form(*, acting_user: Any, application: Application, data: dict[str, Any]) -> Application:
    """Store the form's fields (unknown keys refused; base-data fields stay as the base data says)."""
    _own(acting_user, application)
    if application.status not in EDITABLE:
        raise Conflict("申请已提交，不能修改", "the application can no longer be changed", field="status")
    fields = {f["key"]: f for f in prefilled_fields(application)}
    form = dict(application.form_data or {})
    personal: list[str] = []
    for key, value in data.items():
        if key not in fields:
            raise InvalidInput(f"申请表没有该字段：{key}", f"the form has no field {key}", field=key)
        text = ("" if value is None else str(value)).strip()
        if len(text) > MAX_FIELD:
            raise InvalidInput(f"{fields[key]['label']}过长", f"{key} is too long", field=key)
        if key in PERSONAL_FIELDS:
            form.pop(key, None)
            if not fields[key]["locked"]:
                setattr(application, key, text)
                personal.append(key)
            continue
        form[key] = fields[key]["value"] if fields[key]["locked"] else text
    with transaction.atomic():
        application.form_data = form
        application.save(update_fields=["form_data", *personal])
        audit.record(actor=acting_user, action="egov.application_form_saved", object_type="egov.Application",
                     object_id=application.pk, after={"fields": sorted(data)}, division_code=application.division_code)
    return application


def _sniff(head: bytes, upload: Any, ext: str) -> bool:
    if ext == "pdf":
        return head.startswith(b"%PDF-")
    if ext in IMAGE_FORMATS:
        try:
            upload.seek(0)
            with Image.open(upload) as img:
                fmt = img.format
                img.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            return False
        finally:
            upload.seek(0)
        return fmt == IMAGE_FORMATS[ext]
    if ext in ("docx", "xlsx", "ofd"):
        return head.startswith(ZIP_MAGIC)
    if ext in ("doc", "xls"):
        return head.startswith(OLE_MAGIC)
    return False


def check_file(material: Material, upload: Any) -> tuple[str, str]:
    """(extension, content type) of an acceptable upload, else ``InvalidInput`` saying why."""
    name = str(getattr(upload, "name", "") or "")
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    accepted = [t.strip().lower().lstrip(".") for t in material.accepted_types.split(",") if t.strip()]
    field_name = f"material_{material.pk}"
    if ext not in accepted:
        raise InvalidInput(f"“{material.name}”只接受 {'、'.join(accepted)} 文件",
                           f"{material.name}: only {', '.join(accepted)} files are accepted", field=field_name)
    size = int(getattr(upload, "size", 0) or 0)
    if size <= 0:
        raise InvalidInput(f"“{material.name}”的文件是空的", f"{material.name}: the file is empty", field=field_name)
    if size > material.max_mb * 1024 * 1024:
        raise InvalidInput(f"“{material.name}”的文件不能超过 {material.max_mb} MB",
                           f"{material.name}: the file exceeds {material.max_mb} MB", field=field_name)
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not _sniff(head, upload, ext):
        raise InvalidInput(f"“{material.name}”的文件内容不是 {ext.upper()} 格式",
                           f"{material.name}: the file's content is not {ext.upper()}", field=field_name)
    return ext, CONTENT_TYPES.get(ext, "application/octet-stream")


def upload_material(*, acting_user: Any, application: Application, material_id: int, file: Any
                    ) -> ApplicationMaterial:
    """Attach (or replace) the file for one material of the application."""
    _own(acting_user, application)
    if application.status not in EDITABLE:
        raise Conflict("申请已提交，不能修改材料", "the application's materials can no longer be changed",
                       field="status")
    items = application_items(application)
    material = Material.objects.filter(pk=material_id, item__in=items).first()
    if material is None:
        raise NotFound("该事项没有这项材料", "no such material for this application", field="material")
    _ext, content_type = check_file(material, file)
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    with transaction.atomic():
        same_name = application.materials.filter(material__name=material.name)
        old = list(same_name)
        same_name.delete()
        row = ApplicationMaterial(application=application, material=material, filename=str(file.name)[:200],
                                  content_type=content_type, size=file.size, sha256=digest.hexdigest(),
                                  uploaded_at=timezone.now())
        row.file.save(f"{secrets.token_hex(8)}.{_ext}", file, save=False)
        row.save()
        for o in old:
            transaction.on_commit(_deleter(o))
        audit.record(actor=acting_user, action="egov.material_uploaded", object_type="egov.Application",
                     object_id=application.pk, after={"material": material.name, "sha256": row.sha256,
                                                      "size": row.size}, division_code=application.division_code)
    return row


def _deleter(row: ApplicationMaterial) -> Any:
    def delete() -> None:
        row.file.delete(save=False)

    return delete


# --- submit, withdraw --------------------------------------------------------------------------------

def _missing(application: Application) -> tuple[list[str], list[str]]:
    fields = [f["label"] for f in prefilled_fields(application) if f["required"] and not str(f["value"]).strip()]
    materials = [m["name"] for m in application_materials(application) if m["required"] and m["upload"] is None]
    return fields, materials


def _new_number() -> str:
    return f"SQ{timezone.localdate():%Y%m%d}{secrets.token_hex(3).upper()}"


def _credit_check(application: Application, cases: list[Case]) -> None:
    """Check the applicant before anything is issued (per item rule: flag → shown to staff, block → the case
    cannot be issued); the result is stored on each case."""
    if all(c.item.credit_rule == CreditRule.NONE for c in cases):
        return
    from . import credit  # lazy: the credit module's published interface (a stub receiver until it exists)

    for case in cases:
        rule = case.item.credit_rule
        if rule == CreditRule.NONE:
            continue
        result = dict(credit.check_applicant(application, item=case.item) or {})
        listed = bool(result.get("listed"))
        decision = result.get("decision") or ("allow" if not listed else "block" if rule == CreditRule.BLOCK
                                              else "flag")
        case.credit_result = {**result, "listed": listed, "rule": str(rule), "decision": decision,
                              "blocked": decision == "block", "flagged": decision in ("flag", "block")}
        case.save(update_fields=["credit_result"])
        if listed:
            workflow._event(case, application, workflow.SYSTEM, "credit_hit",
                            data={"rule": str(rule), "decision": decision, "lists": result.get("lists", [])})


def submit_application(*, acting_user: Any, application: Application) -> Application:
    """Submit: every required field and material present (else one error listing what is missing); then one
    case per item (waiting for acceptance) with its steps, and the credit check. All or nothing."""
    _own(acting_user, application)
    if application.status != ApplicationStatus.DRAFT:
        raise Conflict("申请已提交", "the application was already submitted", field="status")
    fields, materials = _missing(application)
    if fields or materials:
        parts_zh, parts_en = [], []
        if fields:
            parts_zh.append("未填写：" + "、".join(fields))
            parts_en.append("missing fields: " + ", ".join(fields))
        if materials:
            parts_zh.append("缺少材料：" + "、".join(materials))
            parts_en.append("missing materials: " + ", ".join(materials))
        error = InvalidInput("；".join(parts_zh), "; ".join(parts_en), field="materials" if materials else "form",
                             code="incomplete")
        error.missing = {"fields": fields, "materials": materials}  # type: ignore[attr-defined]
        raise error
    items = application_items(application)
    for item in items:
        workflow.validate_process(item.process)
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        if application.status != ApplicationStatus.DRAFT:
            raise Conflict("申请已提交", "the application was already submitted", field="status")
        now = timezone.now()
        for _attempt in range(5):
            number = _new_number()
            if not Application.objects.filter(number=number).exists():
                break
        application.number, application.status, application.submitted_at = number, ApplicationStatus.SUBMITTED, now
        try:
            with transaction.atomic():
                application.save(update_fields=["number", "status", "submitted_at"])
        except IntegrityError as exc:
            raise Conflict("申请编号冲突，请重试", "number clash, please retry", field="number") from exc
        cases = []
        for i, item in enumerate(items, start=1):
            case = Case.objects.create(number=f"{number}-{i:02d}", application=application, item=item,
                                       department=item.department, division_code=item.division_code,
                                       status=CaseStatus.WAITING, received_at=now)
            workflow.instantiate_steps(case)
            cases.append(case)
            workflow._event(case, application, acting_user, "received", data={"item": item.code}, at=now)
        workflow._event(None, application, acting_user, "submitted", data={"cases": [c.number for c in cases]},
                        at=now)
        _credit_check(application, cases)
        audit.record(actor=acting_user, action="egov.application_submitted", object_type="egov.Application",
                     object_id=number, after={"cases": [c.number for c in cases]},
                     division_code=application.division_code)
    return application


def withdraw_application(*, acting_user: Any, application: Application, reason: str = "") -> Application:
    """撤回: possible until a result is issued or the application was refused or rejected."""
    _own(acting_user, application)
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        if application.status not in (ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED,
                                      ApplicationStatus.CORRECTION, ApplicationStatus.IN_PROGRESS):
            raise Conflict("该申请不能撤回", "this application can no longer be withdrawn", field="status")
        cases = list(application.cases.select_for_update())
        if any(c.status == CaseStatus.ISSUED for c in cases):
            raise Conflict("已有办件发证，不能撤回", "a result was already issued", field="status")
        now = timezone.now()
        for case in cases:
            before = case.status
            case.status = CaseStatus.WITHDRAWN
            case.save(update_fields=["status"])
            workflow.skip_open_steps(case)
            workflow._event(case, application, acting_user, "withdrawn", note=reason.strip()[:500], at=now)
            workflow._audit(acting_user, "case_withdrawn", case, before={"status": before},
                            after={"status": case.status})
        application.status, application.finished_at = ApplicationStatus.WITHDRAWN, now
        application.save(update_fields=["status", "finished_at"])
        audit.record(actor=acting_user, action="egov.application_withdrawn", object_type="egov.Application",
                     object_id=application.number or application.pk, after={"status": application.status},
                     division_code=application.division_code)
    return application


# --- progress ----------------------------------------------------------------------------------------

def my_applications(*, acting_user: Any) -> QuerySet[Application]:
    require_applicant(acting_user)
    return Application.objects.filter(applicant=acting_user).select_related("item", "bundle").order_by("-created_at")


@dataclass
class Part:
    case: Case
    prior: bool
    steps: list[Any]
    open_correction: Any
    certificates: list[Any] = field(default_factory=list)


@dataclass
class Progress:
    application: Application
    parts: list[Part]
    events: list[Any]

    @property
    def status_label(self) -> str:
        return str(self.application.get_status_display())


def application_progress(*, acting_user: Any, number: str) -> Progress:
    """One view of the whole application: each case's status and steps, open corrections, certificates."""
    application = get_own_application(acting_user=acting_user, number=number)
    members = {m.item_id: m.prior for m in BundleItem.objects.filter(bundle_id=application.bundle_id)} \
        if application.bundle_id else {}
    parts = []
    for case in application.cases.select_related("item", "department").order_by("number"):
        parts.append(Part(case=case, prior=members.get(case.item_id, False), steps=list(case.steps.all()),
                          open_correction=case.corrections.filter(answered_at__isnull=True).first(),
                          certificates=list(case.certificates.all())))
    events = list(application.events.select_related("case").order_by("at", "pk"))
    return Progress(application=application, parts=parts, events=events)

