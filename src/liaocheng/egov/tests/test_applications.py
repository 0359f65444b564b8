"""The applicant's side: who may apply, prefilled forms, material checks, submission all-or-nothing,
withdrawal, progress, and the pages (applicant and staff)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from liaocheng.core.departments import department_code
from liaocheng.core.errors import Conflict, InvalidInput
from liaocheng.egov import applications, workflow
from liaocheng.egov.models import (
    Application,
    ApplicationMaterial,
    ApplicationStatus,
    Case,
    CaseEvent,
    CaseStatus,
    CaseStep,
)

from .workflow_helpers import SX, citizen, enterprise, make_bundle, make_item, patch_certificates, pdf


@pytest.fixture
def media(db: None, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 0, 0)).save(buf, format="PNG")
    return buf.getvalue()


def test_only_real_name_applicants(media: None, staff_factory: Any) -> None:
    make_item("SX-001")
    with pytest.raises(PermissionDenied):
        applications.start_application(acting_user=staff_factory("e_staff"), item_code="SX-001")
    user = enterprise()
    user.credit_code = ""
    with pytest.raises(PermissionDenied):
        applications.start_application(acting_user=user, item_code="SX-001")
    with pytest.raises(InvalidInput):  # an enterprise item is not for a citizen
        applications.start_application(acting_user=citizen(), item_code="SX-001")


def test_prefill_from_account_and_locked(media: None) -> None:
    make_item("SX-001")
    user = enterprise()
    app = applications.start_application(acting_user=user, item_code="SX-001")
    assert app.form_data == {"name": "聊城示例贸易有限公司", "credit_code": "91371522MA3C0AAA0X"}
    assert app.applicant_name == "聊城示例贸易有限公司" and app.division_code == SX
    # reusing the open draft; a prefilled field cannot be overwritten
    assert applications.start_application(acting_user=user, item_code="SX-001").pk == app.pk
    applications.save_form(acting_user=user, application=app, data={"name": "别的名字", "scope": "零售"})
    app.refresh_from_db()
    assert app.form_data["name"] == "聊城示例贸易有限公司" and app.form_data["scope"] == "零售"
    with pytest.raises(InvalidInput):
        applications.save_form(acting_user=user, application=app, data={"unknown": "x"})
    with pytest.raises(PermissionDenied):
        applications.save_form(acting_user=enterprise("ent2", "91371522MA3C0BBB0X"), application=app, data={})
    rows = {r["key"]: r for r in applications.prefilled_fields(app)}
    assert rows["name"]["locked"] and not rows["scope"]["locked"]


def test_citizen_prefill(media: None) -> None:
    item = make_item("SX-C01", serves="citizen")
    item.form_fields = [{"key": "name", "label": "姓名", "required": True, "prefill": "name"},
                        {"key": "id", "label": "身份证号", "required": True, "prefill": "id_number"}]
    item.save()
    app = applications.start_application(acting_user=citizen(), item_code="SX-C01")
    assert app.form_data == {"name": "王小明", "id": "371522199001011234"}
    assert app.id_number == "371522199001011234"


def test_missing_material_and_field_clear_error_nothing_written(media: None) -> None:
    make_item("SX-001", materials=("申请书", "章程"))
    user = enterprise()
    app = applications.start_application(acting_user=user, item_code="SX-001")
    with pytest.raises(InvalidInput) as exc:
        applications.submit_application(acting_user=user, application=app)
    assert "申请书" in exc.value.message_zh and "章程" in exc.value.message_zh and "经营范围" in exc.value.message_zh
    assert exc.value.missing == {"fields": ["经营范围"], "materials": ["申请书", "章程"]}  # type: ignore[attr-defined]
    applications.save_form(acting_user=user, application=app, data={"scope": "零售"})
    first = applications.application_materials(app)[0]["material"]
    applications.upload_material(acting_user=user, application=app, material_id=first.pk, file=pdf())
    with pytest.raises(InvalidInput) as exc:
        applications.submit_application(acting_user=user, application=app)
    assert exc.value.missing == {"fields": [], "materials": ["章程"]}  # type: ignore[attr-defined]
    app.refresh_from_db()
    assert app.status == ApplicationStatus.DRAFT and app.number is None
    assert not Case.objects.exists() and not CaseStep.objects.exists() and not CaseEvent.objects.exists()


def test_file_checks(media: None) -> None:
    make_item("SX-001")
    user = enterprise()
    app = applications.start_application(acting_user=user, item_code="SX-001")
    material = applications.application_materials(app)[0]["material"]

    def upload(f: Any) -> Any:
        return applications.upload_material(acting_user=user, application=app, material_id=material.pk, file=f)

    with pytest.raises(InvalidInput, match="pdf、jpg、png"):
        upload(SimpleUploadedFile("a.exe", b"MZ...."))
    with pytest.raises(InvalidInput, match="不是 PDF"):  # renamed text file
        upload(SimpleUploadedFile("a.pdf", b"just some text"))
    with pytest.raises(InvalidInput, match="不是 JPG"):  # a PNG named .jpg
        upload(SimpleUploadedFile("a.jpg", png_bytes()))
    with pytest.raises(InvalidInput, match="1 MB"):
        upload(pdf(content=b"%PDF-1.4\n" + b"0" * (1024 * 1024)))
    with pytest.raises(InvalidInput) as exc:
        upload(SimpleUploadedFile("a.pdf", b""))
    assert exc.value.field == f"material_{material.pk}"
    assert not ApplicationMaterial.objects.exists()
    upload(SimpleUploadedFile("photo.png", png_bytes()))
    row = upload(pdf())  # replaces the earlier upload
    assert ApplicationMaterial.objects.get() == row and row.content_type == "application/pdf" and len(row.sha256) == 64


def test_withdraw_and_my_applications(media: None, staff_factory: Any, monkeypatch: Any) -> None:
    patch_certificates(monkeypatch)
    make_item("SX-001")
    user = enterprise()
    app = applications.start_application(acting_user=user, item_code="SX-001")
    applications.save_form(acting_user=user, application=app, data={"scope": "零售"})
    material = applications.application_materials(app)[0]["material"]
    applications.upload_material(acting_user=user, application=app, material_id=material.pk, file=pdf())
    app = applications.submit_application(acting_user=user, application=app)
    assert app.number and app.status == ApplicationStatus.SUBMITTED
    with pytest.raises(Conflict):
        applications.submit_application(acting_user=user, application=app)
    with pytest.raises(Conflict):  # submitted: materials frozen
        applications.upload_material(acting_user=user, application=app, material_id=material.pk, file=pdf())
    assert list(applications.my_applications(acting_user=user)) == [app]
    assert not applications.my_applications(acting_user=enterprise("ent2", "91371522MA3C0BBB0X")).exists()
    applications.withdraw_application(acting_user=user, application=app, reason="不办了")
    app.refresh_from_db()
    assert app.status == ApplicationStatus.WITHDRAWN
    assert app.cases.get().status == CaseStatus.WITHDRAWN
    with pytest.raises(Conflict):
        applications.withdraw_application(acting_user=user, application=app)


def _login(client: Any, user: Any) -> None:
    client.force_login(user)


def test_pages_apply_submit_progress_and_staff_queue(media: None, client: Any, staff_factory: Any,
                                                     monkeypatch: Any) -> None:
    patch_certificates(monkeypatch)
    prior = make_item("SX-CUL", "culture_tourism")
    main = make_item("SX-LIC", "market_regulation")
    bundle = make_bundle("BD-OPEN", [prior], [main])
    user = enterprise()
    _login(client, user)
    page = client.get(f"/egov/apply/bundle/{bundle.code}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "聊城示例贸易有限公司" in body and "申请书" in body
    app = Application.objects.get(applicant=user)
    material = applications.application_materials(app)[0]["material"]
    resp = client.post(f"/egov/apply/bundle/{bundle.code}/", {"action": "submit", "field_scope": "零售"})
    assert resp.status_code == 400 and "缺少材料" in resp.content.decode()
    resp = client.post(f"/egov/apply/bundle/{bundle.code}/", {"action": "submit", "field_scope": "零售",
                                                              f"material_{material.pk}": pdf()})
    assert resp.status_code == 302
    app.refresh_from_db()
    assert app.status == ApplicationStatus.SUBMITTED and resp["Location"] == f"/egov/mine/{app.number}/"
    mine = client.get("/egov/mine/")
    assert app.number in mine.content.decode()
    detail = client.get(f"/egov/mine/{app.number}/").content.decode()
    assert "SX-CUL" in detail or prior.name in detail
    # staff pages: applicants get 403, staff see their queue
    assert client.get("/egov/cases/").status_code == 403
    intake = staff_factory("e_intake", roles=(("egov_intake", SX),))
    client.force_login(intake)
    queue = client.get("/egov/cases/?queue=accept").content.decode()
    case = app.cases.order_by("number").first()
    assert case is not None and case.number in queue
    resp = client.post(f"/egov/cases/{case.number}/", {"action": "refuse", "reason": ""})
    assert resp.status_code == 400
    resp = client.post(f"/egov/cases/{case.number}/", {"action": "accept"})
    assert resp.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    page = client.get(f"/egov/cases/{case.number}/").content.decode()
    assert "审查" in page
    reviewer = staff_factory("e_rev", department_code=department_code(SX, "culture_tourism"),
                             roles=(("egov_reviewer", SX),))
    client.force_login(reviewer)
    resp = client.post(f"/egov/cases/{case.number}/", {"action": "correction", "items": "补充场所证明"})
    assert resp.status_code == 302
    client.force_login(user)
    detail = client.get(f"/egov/mine/{app.number}/").content.decode()
    assert "补充场所证明" in detail
    resp = client.post(f"/egov/mine/{app.number}/", {"action": "answer", "case": case.number, "note": "已补"})
    assert resp.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    assert workflow.can_view_case(reviewer, case)
