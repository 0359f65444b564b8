"""Certificates: the PDF (Chinese text in the CID font, QR code, verification code), the public verification
page (valid, revoked, tampered, unknown), the holder's download, numbering and audit."""

from __future__ import annotations

import base64
import hashlib
import re
import zlib
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from liaocheng.core.departments import department_code
from liaocheng.core.errors import Conflict, InvalidInput
from liaocheng.core.models import AuditRecord
from liaocheng.egov import certificates
from liaocheng.egov.models import CaseStatus, Certificate
from liaocheng.egov.tests.test_supervision import SX, at, make_applicant, make_case, make_item


def pdf_text(data: bytes) -> str:
    """The text drawn in a reportlab PDF (ASCII85 + Flate streams, UCS-2 strings of the CID font)."""
    out: list[str] = []
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        raw = match.group(1).strip()
        try:
            content = zlib.decompress(base64.a85decode(raw.removesuffix(b"~>")))
        except ValueError:
            continue
        except zlib.error:
            continue
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", content, re.S):
            unescaped = re.sub(rb"\\([0-7]{1,3}|.)", lambda m: bytes([int(m.group(1), 8)]) if m.group(1)[:1].isdigit()
                               else {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(m.group(1), m.group(1)), literal)
            out.append(unescaped.decode("utf-16-be", errors="replace"))
    return "\n".join(out)


@pytest.fixture
def issued(db: None, settings: Any, tmp_path: Any, staff_factory: Any) -> dict[str, Any]:
    settings.MEDIA_ROOT = str(tmp_path)
    settings.PUBLIC_BASE_URL = "https://zwfw.example.cn"
    applicant = make_applicant("ent_holder")
    case = make_case(make_item(), applicant=applicant, status=CaseStatus.APPROVED)
    issuer = staff_factory("issuer_sx", department_code=department_code(SX, "market_regulation"),
                           roles=(("egov_issuer", SX),))
    cert = certificates.issue_certificate(case, acting_user=issuer, issued_at=at(10, 9, 10))
    return {"case": case, "cert": cert, "issuer": issuer, "applicant": applicant}


def test_issue_writes_pdf_with_cjk_text_and_qr(issued: dict[str, Any]) -> None:
    cert: Certificate = issued["cert"]
    assert re.fullmatch(rf"{SX}-000105001000-2026-00001", cert.number)
    assert re.fullmatch(r"[A-Z2-7]{16}", cert.verification_code)
    assert cert.title == "食品经营许可证" and cert.holder_name == "聊城市鲁西食品有限公司"
    assert cert.holder_code == "91371500MA3C7XKX2L" and cert.data["holder_kind"] == "enterprise"
    assert cert.data["fields"] == {"住所": "莘县燕塔街1号", "经营范围": "预包装食品销售"}
    data = cert.pdf.read()
    assert data.startswith(b"%PDF") and len(data) > 2000
    assert hashlib.sha256(data).hexdigest() == cert.pdf_sha256
    assert b"/STSong-Light" in data and b"/UniGB-UCS2-H" in data  # the CID font, no font file needed
    text = pdf_text(data)
    for expected in ("食品经营许可证", "聊城市鲁西食品有限公司", cert.number, "莘县市场监督管理局",
                     cert.verification_code, "2026年10月9日", "91371500MA3C7XKX2L"):
        assert expected in text, expected
    assert AuditRecord.objects.filter(action="egov.certificate_issue", object_id=str(cert.pk)).count() == 1
    # repeated call (the workflow retrying) returns the same certificate; the next case gets the next number
    assert certificates.issue_certificate(issued["case"], acting_user=issued["issuer"]).pk == cert.pk
    second = certificates.issue_certificate(make_case(issued["case"].item, status=CaseStatus.APPROVED),
                                            acting_user=issued["issuer"], issued_at=at(10, 9, 11))
    assert second.number.endswith("-2026-00002") and second.verification_code != cert.verification_code


def test_qr_code_links_to_verification_page(issued: dict[str, Any]) -> None:
    cert = issued["cert"]
    from reportlab.graphics.barcode.qr import QrCodeWidget

    assert certificates.verify_url(cert.verification_code) == (
        f"https://zwfw.example.cn/egov/verify/{cert.verification_code}/")
    assert QrCodeWidget(certificates.verify_url(cert.verification_code)).value.endswith(
        f"/egov/verify/{cert.verification_code}/")


def test_verification_page_valid_tampered_revoked(client: Any, issued: dict[str, Any]) -> None:
    cert: Certificate = issued["cert"]
    page = client.get(f"/egov/verify/{cert.verification_code}/")
    text = page.content.decode()
    assert page.status_code == 200 and 'data-valid="true"' in text
    assert cert.number in text and "聊城市鲁西食品有限公司" in text and "莘县市场监督管理局" in text
    assert client.get("/egov/verify/", {"code": cert.verification_code.lower()}).status_code == 302
    assert client.get("/egov/verify/").status_code == 200
    missing = client.get("/egov/verify/AAAAAAAAAAAAAAAA/")
    assert missing.status_code == 404 and 'data-status="not_found"' in missing.content.decode()

    # tampered: the stored file no longer matches its hash
    path = cert.pdf.path
    with open(path, "rb") as fh:
        original = fh.read()
    with open(path, "wb") as fh:
        fh.write(original.replace(b"STSong-Light", b"STSong-Lighx"))
    assert certificates.verify(cert.verification_code).status == "tampered"
    assert 'data-status="tampered"' in client.get(f"/egov/verify/{cert.verification_code}/").content.decode()
    with open(path, "wb") as fh:
        fh.write(original)
    assert certificates.verify(cert.verification_code).valid

    with pytest.raises(InvalidInput):
        certificates.revoke_certificate(cert, acting_user=issued["issuer"], reason=" ")
    certificates.revoke_certificate(cert, acting_user=issued["issuer"], reason="企业申请注销")
    result = certificates.verify(cert.verification_code)
    assert not result.valid and result.status == "revoked"
    assert 'data-status="revoked"' in client.get(f"/egov/verify/{cert.verification_code}/").content.decode()
    assert AuditRecord.objects.filter(action="egov.certificate_revoke", object_id=str(cert.pk)).count() == 1
    with pytest.raises(Conflict):
        certificates.revoke_certificate(cert, acting_user=issued["issuer"], reason="再次注销")


def test_person_holder_is_masked(db: None, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    case = make_case(status=CaseStatus.APPROVED, applicant=make_applicant(kind="citizen"), applicant_name="王小明",
                     credit_code="", id_number="371502199801011232")
    cert = certificates.issue_certificate(case, acting_user=certificates.SYSTEM)
    assert cert.holder_code == "371502********1232"
    result = certificates.verify(cert.verification_code)
    assert result.valid and result.holder_display == "王**"
    assert "王小明" in pdf_text(cert.pdf.read())


def test_download_only_for_applicant_or_issuer(client: Any, issued: dict[str, Any], staff_factory: Any) -> None:
    cert: Certificate = issued["cert"]
    url = f"/egov/certificates/{cert.number}.pdf"
    assert client.get(url).status_code == 302  # sign in first
    client.force_login(make_applicant("someone_else"))
    assert client.get(url).status_code == 403
    client.force_login(issued["applicant"])
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == cert.pdf_sha256
    client.force_login(issued["issuer"])
    assert client.get(url).status_code == 200
    other_county = staff_factory("issuer_yg", department_code=department_code("371521", "market_regulation"),
                                 roles=(("egov_issuer", "371521"),))
    client.force_login(other_county)
    assert client.get(url).status_code == 403
    assert client.get("/egov/certificates/nope.pdf").status_code == 404


def test_issue_refused_without_permission_or_approval(issued: dict[str, Any], staff_factory: Any) -> None:
    waiting = make_case(status=CaseStatus.IN_REVIEW)
    with pytest.raises(Conflict):
        certificates.issue_certificate(waiting, acting_user=issued["issuer"])
    outsider = staff_factory("issuer_yg2", department_code=department_code("371521", "market_regulation"),
                             roles=(("egov_issuer", "371521"),))
    with pytest.raises(PermissionDenied):
        certificates.issue_certificate(make_case(status=CaseStatus.APPROVED), acting_user=outsider)
    assert Certificate.objects.count() == 1
