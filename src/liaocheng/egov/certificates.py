"""Electronic licences and certificates (电子证照): the PDF with its verification code, checked on the portal.

``issue_certificate(case, *, acting_user)`` (called by the workflow when a case's issue step completes)
writes one ``Certificate``: number ``<division>-<item basic code>-<year>-<serial>``, title = the item's result
name, the holder (enterprise name and credit code, or a person's name with a masked ID number: the full ID
number stays SM4-encrypted on the application only), key data, and an A4 PDF (reportlab; Chinese text in the
CID font STSong-Light that every PDF reader has, so no font file is embedded or shipped) carrying the
verification code and a QR code of ``{PUBLIC_BASE_URL}/egov/verify/<code>/``. The PDF's SHA-256 is stored, so
``verify(code)`` reports a certificate whose file was altered as invalid, as it does a revoked one.

The verification code is 16 base32 characters (80 random bits): not guessable, not derived from the number.
A repeated call for the same case returns the certificate already issued (the workflow may retry). Issuing
and revoking are audited (the case timeline event is the workflow's); a credit-check block
(``credit.ensure_may_issue``) stops issuing.

Certificates loaded without their PDF (the demo history, ``demo_cases``) get it on first need: ``ensure_pdf``
renders and stores it with its SHA-256 (row locked, so two requests do not both render); ``verify`` and the
holder's download call it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from liaocheng.core import access, audit
from liaocheng.core.errors import Conflict, InvalidInput, NotFound
from liaocheng.core.identity import CODE_ALPHABET, credit_code_from

from . import credit
from .models import Application, Case, CaseStatus, Certificate

SYSTEM = "system"
FONT = "STSong-Light"
ISSUABLE = (CaseStatus.APPROVED, CaseStatus.ISSUED)
_CODE_RE = re.compile(r"^[A-Z2-7]{16}$")

__all__ = ["VerifyResult", "ensure_pdf", "issue_certificate", "mask_name", "new_verification_code", "render_pdf",
           "revoke_certificate", "verify", "verify_url"]


def new_verification_code() -> str:
    return base64.b32encode(secrets.token_bytes(10)).decode("ascii")  # 16 characters, 80 bits


def normalise_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()


def verify_url(code: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/egov/verify/{code}/"


def mask_name(name: str) -> str:
    """A person's name on the public page: the first character and one star per further character."""
    name = (name or "").strip()
    return name[:1] + "*" * max(len(name) - 1, 0)


def mask_id(id_number: str) -> str:
    value = (id_number or "").strip()
    return value[:6] + "*" * 8 + value[-4:] if len(value) == 18 else ""


def is_person(certificate: Certificate) -> bool:
    return bool(certificate.data.get("holder_kind") == "person")


# --- the PDF --------------------------------------------------------------------------------------------

def render_pdf(certificate: Certificate) -> bytes:
    """The certificate as an A4 PDF (title, holder, number, key data, issuer, date, code, QR code)."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    buf = io.BytesIO()
    width, height = A4
    pdf = canvas.Canvas(buf, pagesize=A4, invariant=True)
    pdf.setTitle(f"{certificate.title} {certificate.number}")
    pdf.setAuthor(str(certificate.data.get("department", "")))
    pdf.setSubject(certificate.number)
    pdf.setLineWidth(2)
    pdf.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)
    pdf.setFont(FONT, 28)
    pdf.drawCentredString(width / 2, height - 45 * mm, certificate.title)
    pdf.setFont(FONT, 11)
    pdf.drawCentredString(width / 2, height - 55 * mm, f"编号：{certificate.number}")
    data = certificate.data
    holder_label = "姓名" if is_person(certificate) else "名称"
    code_label = "公民身份号码" if is_person(certificate) else "统一社会信用代码"
    lines: list[tuple[str, str]] = [(holder_label, certificate.holder_name)]
    if certificate.holder_code:
        lines.append((code_label, certificate.holder_code))
    lines += [(str(k), str(v)) for k, v in data.get("fields", {}).items()]
    lines += [("事项名称", str(data.get("item_name", ""))), ("办件编号", str(data.get("case_number", "")))]
    if certificate.valid_until:
        lines.append(("有效期至", certificate.valid_until.isoformat()))
    y = height - 80 * mm
    for label, value in lines:
        pdf.setFont(FONT, 13)
        pdf.drawString(30 * mm, y, f"{label}：")
        text = value
        while text:  # wrap long values (Chinese has no spaces: cut by width)
            cut = len(text)
            while cut > 1 and pdfmetrics.stringWidth(text[:cut], FONT, 13) > width - 100 * mm:
                cut -= 1
            pdf.drawString(75 * mm, y, text[:cut])
            text = text[cut:]
            y -= 9 * mm
        if not value:
            y -= 9 * mm
    local = timezone.localtime(certificate.issued_at)
    pdf.setFont(FONT, 14)
    pdf.drawRightString(width - 30 * mm, 75 * mm, f"发证机关：{data.get('department', '')}")
    pdf.drawRightString(width - 30 * mm, 65 * mm, f"{local.year}年{local.month}月{local.day}日")
    qr = QrCodeWidget(verify_url(certificate.verification_code))
    x1, y1, x2, y2 = qr.getBounds()
    size = 32 * mm
    drawing = Drawing(size, size, transform=[size / (x2 - x1), 0, 0, size / (y2 - y1), 0, 0])
    drawing.add(qr)
    renderPDF.draw(drawing, pdf, 28 * mm, 40 * mm)
    pdf.setFont(FONT, 10)
    pdf.drawString(28 * mm, 34 * mm, f"核验码：{certificate.verification_code}")
    pdf.drawString(28 * mm, 28 * mm, f"扫码或登录 {settings.PUBLIC_BASE_URL}/egov/verify/ 输入核验码核验真伪")
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


# --- issuing and revoking -------------------------------------------------------------------------------

def _check_actor(acting_user: Any, division_code: str) -> None:
    if acting_user != SYSTEM:
        access.require(acting_user, "egov.issue", division_code)


def _next_number(case: Case, year: int) -> str:
    prefix = f"{case.division_code}-{case.item.basic_code}-{year}-"
    last = (Certificate.objects.filter(number__startswith=prefix).order_by("-number")
            .values_list("number", flat=True).first())
    serial = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{serial:05d}"


def _key_fields(case: Case) -> dict[str, str]:
    """The application's form values that belong on the certificate (labelled by the item's form; no
    personal contact data)."""
    labels = {f.get("key"): f.get("label") for f in case.item.form_fields or [] if isinstance(f, dict)}
    skip = {"name", "phone", "id_number", "mobile", "email"}  # the name is the holder line
    out: dict[str, str] = {}
    for key, value in (case.application.form_data or {}).items():
        if key in skip or not isinstance(value, str | int | float) or str(value) == "":
            continue
        label = labels.get(key) or {"address": "住所", "scope": "经营范围", "legal_person": "法定代表人"}.get(key)
        if label:
            out[str(label)] = str(value)[:200]
    return out


def founds_enterprise(application: Application) -> bool:
    """Does the application found a new enterprise? (One of its items asks for a ``name`` that is not taken
    from the base databases, e.g. 拟设立企业名称 of 企业设立登记.) Its certificates then belong to the new
    enterprise, under the credit code assigned to it (赋码)."""
    if (application.form_data or {}).get("assigned_credit_code"):
        return True
    if not application.credit_code or not str((application.form_data or {}).get("name", "")).strip():
        return False
    return any(f.get("key") == "name" and not f.get("prefill")
               for c in application.cases.select_related("item") for f in c.item.form_fields or []
               if isinstance(f, dict))


def assign_credit_code(application: Application, *, acting_user: Any) -> str:
    """赋码: the new enterprise's GB 32100 unified social credit code (registered by market regulation, "91",
    in the application's division), assigned once per application and kept on it."""
    known = str((application.form_data or {}).get("assigned_credit_code") or "")
    if known:
        return known
    app = Application.objects.select_for_update().get(pk=application.pk)
    code = str((app.form_data or {}).get("assigned_credit_code") or "")
    if code:
        return code
    for _attempt in range(10):
        code = credit_code_from("91", app.division_code,
                                "MA" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6)))
        if not Certificate.objects.filter(holder_code=code).exists():
            break
    app.form_data = {**(app.form_data or {}), "assigned_credit_code": code}
    app.save(update_fields=["form_data"])
    application.form_data = app.form_data
    audit.record(actor=acting_user, action="egov.credit_code_assigned", object_type="egov.Application",
                 object_id=app.number or app.pk, after={"credit_code": code, "name": app.form_data.get("name", "")},
                 division_code=app.division_code)
    return code


def holder(case: Case, *, acting_user: Any) -> tuple[str, str]:
    """(holder name, holder code) of the case's certificate: the new enterprise for a founding application,
    else the applicant (a person's ID number masked)."""
    app = case.application
    if founds_enterprise(app):
        return str(app.form_data["name"]).strip()[:120], assign_credit_code(app, acting_user=acting_user)
    if not app.credit_code:
        return app.applicant_name, mask_id(app.id_number)
    return app.applicant_name, app.credit_code


def issue_certificate(case: Case, *, acting_user: Any, issued_at: dt.datetime | None = None) -> Certificate:
    """Issue the result of ``case`` as a PDF certificate (or return the one already issued for it)."""
    _check_actor(acting_user, case.division_code)
    existing = Certificate.objects.filter(case=case, revoked_at__isnull=True).first()
    if existing is not None:
        return existing
    if case.status not in ISSUABLE:
        raise Conflict("办件尚未准予许可，不能发证", "the case is not approved; nothing to issue", field="status")
    if case.item.result_kind == "none":
        raise Conflict("该事项没有证照结果", "this item has no certificate as its result", field="item")
    credit.ensure_may_issue(case)
    issued_at = issued_at or timezone.now()
    app = case.application
    person = not app.credit_code
    data: dict[str, Any] = {
        "holder_kind": "person" if person else "enterprise",
        "item_code": case.item.code, "item_name": case.item.name, "case_number": case.number,
        "application_number": app.number or "", "department": case.department.name,
        "division_code": case.division_code, "fields": _key_fields(case),
    }
    holder_name, holder_code = holder(case, acting_user=acting_user)
    for _attempt in range(5):
        cert = Certificate(
            number=_next_number(case, timezone.localtime(issued_at).year), case=case,
            kind=case.item.result_kind, title=(case.item.result_name or case.item.name)[:120],
            holder_name=holder_name, holder_code=holder_code,
            data=data, verification_code=new_verification_code(), issued_at=issued_at)
        content = render_pdf(cert)
        try:
            with transaction.atomic():
                cert.pdf_sha256 = hashlib.sha256(content).hexdigest()
                cert.pdf.save(f"{cert.number}.pdf", ContentFile(content), save=False)
                cert.save()
                audit.record(actor=acting_user, action="egov.certificate_issue", object_type="egov.Certificate",
                             object_id=cert.pk, after={"number": cert.number, "case": case.number,
                                                       "title": cert.title, "sha256": cert.pdf_sha256},
                             division_code=case.division_code)
            return cert
        except IntegrityError:  # a concurrent issue took the number (or, astronomically rarely, the code)
            if cert.pdf.name:
                cert.pdf.storage.delete(cert.pdf.name)
            continue
    raise Conflict("证照编号分配失败，请重试", "could not allocate a certificate number, try again")


def ensure_pdf(certificate: Certificate) -> Certificate:
    """The certificate with its PDF: one loaded without it (``pdf`` and ``pdf_sha256`` empty) gets it rendered and
    stored now, file and hash in one transaction under a row lock (a concurrent caller waits and finds it
    rendered). A certificate with a hash but a missing or altered file is left alone: ``verify`` reports it."""
    if certificate.pdf.name or certificate.pdf_sha256:
        return certificate
    with transaction.atomic():
        cert = Certificate.objects.select_for_update().select_related("case").get(pk=certificate.pk)
        if cert.pdf.name or cert.pdf_sha256:
            return cert
        content = render_pdf(cert)
        cert.pdf_sha256 = hashlib.sha256(content).hexdigest()
        cert.pdf.save(f"{cert.number}.pdf", ContentFile(content), save=False)
        name = cert.pdf.name
        try:
            cert.save(update_fields=["pdf", "pdf_sha256"])
            audit.record(actor=SYSTEM, action="egov.certificate_render", object_type="egov.Certificate",
                         object_id=cert.pk, after={"number": cert.number, "sha256": cert.pdf_sha256},
                         division_code=cert.case.division_code)
        except Exception:
            cert.pdf.storage.delete(name)
            raise
    return cert


def revoke_certificate(certificate: Certificate, *, acting_user: Any, reason: str,
                       at: dt.datetime | None = None) -> Certificate:
    """Revoke (注销) a certificate: the portal shows it as invalid from now on."""
    _check_actor(acting_user, certificate.case.division_code)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写注销理由", "a reason is required to revoke a certificate", field="reason")
    with transaction.atomic():
        cert = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if cert.revoked_at is not None:
            raise Conflict("证照已注销", "the certificate is already revoked")
        cert.revoked_at = at or timezone.now()
        cert.save(update_fields=["revoked_at"])
        audit.record(actor=acting_user, action="egov.certificate_revoke", object_type="egov.Certificate",
                     object_id=cert.pk, before={"revoked_at": None},
                     after={"number": cert.number, "revoked_at": cert.revoked_at.isoformat(), "reason": reason},
                     division_code=cert.case.division_code)
    return cert


# --- verification ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VerifyResult:
    certificate: Certificate | None
    valid: bool
    status: str  # valid / not_found / revoked / tampered / expired

    @property
    def holder_display(self) -> str:
        cert = self.certificate
        if cert is None:
            return ""
        return mask_name(cert.holder_name) if is_person(cert) else cert.holder_name


def file_sha256(certificate: Certificate) -> str | None:
    if not certificate.pdf.name:
        return None
    try:
        with certificate.pdf.storage.open(certificate.pdf.name, "rb") as fh:
            digest = hashlib.sha256()
            for chunk in iter(lambda: fh.read(65536), b""):
                digest.update(chunk)
            return digest.hexdigest()
    except OSError:
        return None


def verify(code: str, *, today: dt.date | None = None) -> VerifyResult:
    """Check a verification code: the certificate, and whether it is valid (its PDF unaltered, not revoked,
    not expired)."""
    code = normalise_code(code)
    cert = (Certificate.objects.select_related("case").filter(verification_code=code).first()
            if _CODE_RE.match(code) else None)
    if cert is None:
        return VerifyResult(None, False, "not_found")
    if cert.revoked_at is not None:
        return VerifyResult(cert, False, "revoked")
    cert = ensure_pdf(cert)
    if file_sha256(cert) != cert.pdf_sha256:
        return VerifyResult(cert, False, "tampered")
    if cert.valid_until and cert.valid_until < (today or timezone.localdate()):
        return VerifyResult(cert, False, "expired")
    return VerifyResult(cert, True, "valid")


def certificate_for_download(number: str, user: Any) -> Certificate:
    """The certificate ``number`` if ``user`` is its applicant or holds ``egov.issue`` in its division."""
    cert = Certificate.objects.select_related("case__application").filter(number=number).first()
    if cert is None:
        raise NotFound("证照不存在", "no such certificate")
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied("请先登录 / sign in first")
    if cert.case.application.applicant_id != user.pk and not access.has_perm(user, "egov.issue",
                                                                           cert.case.division_code):
        raise PermissionDenied("无权下载该证照 / not allowed to download this certificate")
    return ensure_pdf(cert)
