"""The urban case cycle through services: intake, transitions, exceptions, escalation."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import shapely
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from liaocheng.core.calendar import get_calendar
from liaocheng.core.errors import InvalidInput
from liaocheng.core.models import AuditRecord
from liaocheng.geo.models import Grid
from liaocheng.geo.services import OutsideCity
from liaocheng.urban import services, tasks
from liaocheng.urban.models import Case, CaseEvent, CasePhoto, CaseRequest, MinorClass, Supervision

SX = "371522"  # 莘县
TZ = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 25, 9, 0, tzinfo=TZ)  # a Wednesday, 09:00


@pytest.fixture
def urban(db: None, settings: Any, tmp_path: Any, staff_factory: Any) -> dict[str, Any]:
    settings.MEDIA_ROOT = str(tmp_path)
    services.load_classes()
    dept = "371522-urban_management"
    return {
        "supervisor": staff_factory("u_sup", roles=(("urban_supervisor", SX),)),
        "intake": staff_factory("u_intake", roles=(("urban_intake", SX),)),
        "lead": staff_factory("u_lead", roles=(("urban_shift_lead", SX),)),
        "dispatcher": staff_factory("u_disp", roles=(("urban_dispatcher", SX),)),
        "dept": staff_factory("u_dept", department_code=dept, roles=(("urban_department", SX),)),
        "admin": staff_factory("u_admin", roles=(("urban_admin", "371500"),)),
    }


def point_in(county: str = SX) -> tuple[float, float]:
    grid = Grid.objects.filter(county_code=county, size_class="urban").first() or Grid.objects.filter(
        county_code=county).first()
    assert grid is not None
    p = shapely.from_geojson(grid.geometry).representative_point()
    return p.x, p.y


def png(name: str = "after.png") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, format="PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def report(u: dict[str, Any], code: str = "E0102", **kw: Any) -> services.ReportResult:
    lon, lat = point_in()
    args: dict[str, Any] = {"channel": "supervisor", "class_code": code, "lon": lon, "lat": lat,
                            "description": "路边有暴露垃圾", "address": "莘县燕塔街"}
    args.update(kw)
    return services.report_case(acting_user=u["supervisor"], **args)


def to_dispatched(u: dict[str, Any], at: dt.datetime = T0) -> Case:
    case = report(u).case
    services.transition(case, "file", acting_user=u["intake"])
    with mock.patch("django.utils.timezone.now", return_value=at):
        return services.transition(case, "dispatch", acting_user=u["dispatcher"])


def test_load_classes_idempotent_and_edit_audited(urban: dict[str, Any]) -> None:
    assert MinorClass.objects.filter(full_code="E0102", deadline_value=4, deadline_unit="hours").exists()
    assert MinorClass.objects.get(full_code="E0103").deadline_unit == "days"
    call_command("load_urban_classes", stdout=io.StringIO())
    assert services.load_classes() == 0
    with pytest.raises(PermissionDenied):
        services.update_minor_class(acting_user=urban["dept"], full_code="E0102", deadline_value=1)
    with pytest.raises(InvalidInput):
        services.update_minor_class(acting_user=urban["admin"], full_code="E0102", department_kind="nope")
    minor = services.update_minor_class(acting_user=urban["admin"], full_code="e0102", deadline_value=1,
                                        deadline_unit="days", department_kind="emergency_medical")
    assert (minor.deadline_value, minor.deadline_unit) == (1, "days")
    rec = AuditRecord.objects.get(action="urban.update_class")
    assert rec.before["deadline_unit"] == "hours" and rec.after["deadline_unit"] == "days"
    # a kind without a county department falls back to the city level
    assert services.responsible_department(minor, SX).code == "371500-emergency_medical"


def test_full_cycle(urban: dict[str, Any]) -> None:
    u = urban
    result = report(u)
    case = result.case
    assert result.duplicates == []
    assert case.state == "reported" and case.county_code == SX and case.grid_code.startswith(SX)
    assert case.department is not None and case.department.code == "371522-urban_management"
    assert case.number and case.number.startswith("CG371522")
    services.transition(case, "file", acting_user=u["intake"])
    with mock.patch("django.utils.timezone.now", return_value=T0):
        case = services.transition(case, "dispatch", acting_user=u["dispatcher"])
    assert case.state == "dispatched" and case.dispatched_at == T0
    assert case.due_at == dt.datetime(2026, 11, 25, 14, 30, tzinfo=TZ)  # 4 working hours, lunch excluded
    assert case.warn_at is not None and T0 < case.warn_at < case.due_at
    services.transition(case, "accept", acting_user=u["dept"])
    with pytest.raises(InvalidInput):
        services.transition(case, "handle", acting_user=u["dept"], notes="已清理",
                            photos=[SimpleUploadedFile("x.jpg", b"not really a jpeg")])
    assert Case.objects.get(pk=case.pk).state == "handling" and not CasePhoto.objects.exists()
    services.transition(case, "handle", acting_user=u["dept"], notes="垃圾已清运", photos=[png()])
    photo = CasePhoto.objects.get(case=case)
    assert (photo.kind, photo.content_type) == ("after", "image/png") and photo.image.size > 0
    services.transition(case, "verify", acting_user=u["supervisor"])
    case = services.transition(case, "close", acting_user=u["lead"], note="核查通过，结案")
    assert case.state == "closed" and case.closed_at is not None
    steps = list(CaseEvent.objects.filter(case=case).order_by("pk").values_list("action", "from_state", "to_state"))
    assert steps == [("report", "", "reported"), ("file", "reported", "filed"), ("dispatch", "filed", "dispatched"),
                     ("accept", "dispatched", "handling"), ("handle", "handling", "handled"),
                     ("verify", "handled", "verified"), ("close", "verified", "closed")]
    assert AuditRecord.objects.filter(object_type="urban.Case", object_id=str(case.pk)).count() == 7


def test_not_filed_requires_reason(urban: dict[str, Any]) -> None:
    case = report(urban).case
    with pytest.raises(InvalidInput):
        services.transition(case, "not_file", acting_user=urban["intake"])
    case = services.transition(case, "not_file", acting_user=urban["intake"], reason="非城管职责范围")
    assert case.state == "not_filed" and case.not_filed_reason == "非城管职责范围"


def test_rework_loop(urban: dict[str, Any]) -> None:
    u = urban
    case = to_dispatched(u)
    services.transition(case, "accept", acting_user=u["dept"])
    services.transition(case, "handle", acting_user=u["dept"], notes="已处理")
    with pytest.raises(InvalidInput):
        services.transition(case, "rework", acting_user=u["supervisor"])
    case = services.transition(case, "rework", acting_user=u["supervisor"], note="现场仍有垃圾")
    assert case.state == "handling" and case.rework_count == 1
    services.transition(case, "handle", acting_user=u["dept"], notes="再次清理")
    assert services.transition(case, "verify", acting_user=u["supervisor"]).state == "verified"


def test_disallowed_transition_and_wrong_role_write_nothing(urban: dict[str, Any], staff_factory: Any) -> None:
    u = urban
    case = report(u).case
    events, audits = CaseEvent.objects.count(), AuditRecord.objects.count()
    with pytest.raises(services.InvalidTransition):
        services.transition(case, "close", acting_user=u["lead"])
    with pytest.raises(PermissionDenied):
        services.transition(case, "file", acting_user=u["dept"])  # a handling department cannot file
    other_county = staff_factory("u_intake_dcf", roles=(("urban_intake", "371502"),))
    with pytest.raises(PermissionDenied):
        services.transition(case, "file", acting_user=other_county)
    case = to_dispatched(u)
    wrong_dept = staff_factory("u_water", department_code="371522-water", roles=(("urban_department", SX),))
    events, audits = CaseEvent.objects.count(), AuditRecord.objects.count()
    with pytest.raises(PermissionDenied):
        services.transition(case, "accept", acting_user=wrong_dept)
    with pytest.raises(InvalidInput):
        services.transition(case, "accept", acting_user=u["dept"], bogus=1)
    assert (CaseEvent.objects.count(), AuditRecord.objects.count()) == (events, audits)
    assert Case.objects.get(pk=case.pk).state == "dispatched"


def test_intake_rejects_outside_city_and_long_description(urban: dict[str, Any]) -> None:
    before = Case.objects.count()
    with pytest.raises(OutsideCity):
        report(urban, lon=116.397, lat=39.909)  # Beijing
    with pytest.raises(InvalidInput) as exc:
        report(urban, description="垃" * 4001)
    assert exc.value.field == "description"
    with pytest.raises(InvalidInput):
        report(urban, class_code="E9999")
    assert Case.objects.count() == before
    assert report(urban, description="垃" * 4000).case.pk


def test_duplicate_offered_and_merged(urban: dict[str, Any]) -> None:
    first = report(urban).case
    lon, lat = point_in()
    second = report(urban, lon=lon + 0.0002, lat=lat)  # about 18 m east
    assert second.duplicates == [first]
    assert report(urban, code="C0101").duplicates == []  # another class is no duplicate
    merged = services.merge_duplicate(acting_user=urban["intake"], case=second.case, into=first)
    assert merged.state == "merged" and merged.merged_into_id == first.pk
    assert CaseEvent.objects.filter(case=first, action="merge_in").count() == 1
    assert first.pk not in [c.pk for c in report(urban, lon=lon + 0.0008, lat=lat).duplicates]  # ~72 m away


def test_extension_request_and_approval_in_working_time(urban: dict[str, Any]) -> None:
    u = urban
    case = to_dispatched(u)
    assert case.due_at == dt.datetime(2026, 11, 25, 14, 30, tzinfo=TZ)
    services.transition(case, "request_extension", acting_user=u["dept"], reason="需调用清运车辆", value=4,
                        unit="hours")
    with pytest.raises(PermissionDenied):
        services.transition(case, "approve_extension", acting_user=u["dept"])
    case = services.transition(case, "approve_extension", acting_user=u["lead"], note="同意")
    # 14:30 + 4 working hours: 3 h until 17:30, then 1 h from 08:30 the next working day
    assert case.due_at == dt.datetime(2026, 11, 26, 9, 30, tzinfo=TZ)
    assert case.due_at == get_calendar().add_working_hours(dt.datetime(2026, 11, 25, 14, 30, tzinfo=TZ), 4)
    req = CaseRequest.objects.get(case=case)
    assert (req.status, req.decided_by_id) == ("approved", u["lead"].pk)
    assert case.state == "dispatched"


def test_return_deferral_and_void_need_approval(urban: dict[str, Any]) -> None:
    u = urban
    case = to_dispatched(u)
    services.transition(case, "request_return", acting_user=u["dept"], reason="不属本部门职责")
    with pytest.raises(services.InvalidTransition):
        services.transition(case, "approve_deferral", acting_user=u["lead"])  # no such pending request
    case = services.transition(case, "approve_return", acting_user=u["lead"])
    assert case.state == "filed" and case.department is None and case.due_at is None
    case = to_dispatched(u)
    services.transition(case, "request_deferral", acting_user=u["dept"], reason="需列入年度预算")
    case = services.transition(case, "approve_deferral", acting_user=u["lead"])
    assert case.state == "deferred"
    assert services.escalate_overdue(now=dt.datetime(2027, 6, 1, tzinfo=TZ)).escalated == 0  # clock stopped
    with mock.patch("django.utils.timezone.now", return_value=dt.datetime(2026, 12, 1, 9, 0, tzinfo=TZ)):
        case = services.transition(case, "resume", acting_user=u["lead"])
    assert case.state == "handling" and case.due_at == dt.datetime(2026, 12, 1, 14, 30, tzinfo=TZ)
    case = report(u).case
    services.transition(case, "request_void", acting_user=u["intake"], reason="重复上报")
    services.transition(case, "reject_request", acting_user=u["lead"], note="不是重复")
    services.transition(case, "request_void", acting_user=u["intake"], reason="测试数据")
    assert services.transition(case, "approve_void", acting_user=u["lead"]).state == "voided"
    assert list(CaseRequest.objects.filter(case=case).values_list("status", flat=True)) == ["rejected", "approved"]


def test_escalation_task_with_controlled_clock(urban: dict[str, Any]) -> None:
    case = to_dispatched(urban)
    assert case.due_at == dt.datetime(2026, 11, 25, 14, 30, tzinfo=TZ)
    with mock.patch("django.utils.timezone.now", return_value=dt.datetime(2026, 11, 25, 11, 0, tzinfo=TZ)):
        tasks.escalate_overdue_cases()
    case.refresh_from_db()
    assert case.warned_at is None and not case.overdue
    with mock.patch("django.utils.timezone.now", return_value=dt.datetime(2026, 11, 25, 14, 0, tzinfo=TZ)):
        tasks.escalate_overdue_cases()  # past warn_at, before due_at
    case.refresh_from_db()
    assert case.warned_at is not None and not case.overdue
    late = dt.datetime(2026, 11, 25, 15, 0, tzinfo=TZ)
    with mock.patch("django.utils.timezone.now", return_value=late):
        tasks.escalate_overdue_cases()
        tasks.escalate_overdue_cases()
    assert services.escalate_overdue(now=late + dt.timedelta(days=3)) == services.EscalationResult(0, 0)
    case.refresh_from_db()
    assert case.overdue
    sup = Supervision.objects.get(case=case)
    assert sup.due_at == case.due_at and sup.department_id == case.department_id
    assert AuditRecord.objects.filter(action="urban.escalate", object_id=str(case.pk)).count() == 1
    assert AuditRecord.objects.filter(action="urban.warn", object_id=str(case.pk)).count() == 1
    assert CaseEvent.objects.filter(case=case, action="escalate").count() == 1


def test_photo_checks(urban: dict[str, Any]) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, format="WEBP")
    assert services._check_photo(SimpleUploadedFile("a.bin", buf.getvalue())) == "image/webp"
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, format="GIF")
    with pytest.raises(InvalidInput):
        services._check_photo(SimpleUploadedFile("a.jpg", buf.getvalue(), content_type="image/jpeg"))
    with pytest.raises(InvalidInput):
        services._check_photo(SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * services.MAX_PHOTO_BYTES))
    case = report(urban, photos=[png("before.png")]).case
    assert list(CasePhoto.objects.filter(case=case).values_list("kind", flat=True)) == ["before"]
    assert visible_count(urban["dept"]) == 1 and visible_count(urban["admin"]) == 1


def visible_count(user: Any) -> int:
    return services.visible_cases(acting_user=user).count()
