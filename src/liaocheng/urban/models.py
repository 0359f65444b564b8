"""Grid urban management (数字城管): component/event classes, cases and their cycle (GB/T 30428 style)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from liaocheng.core.fields import EncryptedTextField


class ClassKind(models.TextChoices):
    COMPONENT = "component", _("部件")
    EVENT = "event", _("事件")


KIND_PREFIX = {ClassKind.COMPONENT: "C", ClassKind.EVENT: "E"}


class DeadlineUnit(models.TextChoices):
    HOURS = "hours", _("工作小时")
    DAYS = "days", _("工作日")


class MajorClass(models.Model):
    kind = models.CharField(_("类型"), max_length=10, choices=ClassKind.choices)
    code = models.CharField(_("大类代码"), max_length=2)
    name = models.CharField(_("名称"), max_length=60)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("部件事件大类")
        verbose_name_plural = _("部件事件大类")
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="uniq_urban_major")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.code} {self.name}"


class MinorClass(models.Model):
    """A minor class with its responsible department kind and handling deadline (working time)."""

    major = models.ForeignKey(MajorClass, on_delete=models.PROTECT, related_name="minors", verbose_name=_("大类"))
    kind = models.CharField(_("类型"), max_length=10, choices=ClassKind.choices)
    code = models.CharField(_("小类代码"), max_length=4)
    # kind prefix + code, e.g. C0101 (上水井盖), E0102 (暴露垃圾): the code callers use
    full_code = models.CharField(_("分类编码"), max_length=5, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    department_kind = models.CharField(_("责任部门类别"), max_length=40)
    filing_condition = models.TextField(_("立案条件"), blank=True, default="")
    deadline_value = models.PositiveIntegerField(_("处置时限"))
    deadline_unit = models.CharField(_("时限单位"), max_length=5, choices=DeadlineUnit.choices)
    closing_condition = models.TextField(_("结案条件"), blank=True, default="")
    active = models.BooleanField(_("有效"), default=True)

    class Meta:
        ordering = ["full_code"]
        verbose_name = _("部件事件小类")
        verbose_name_plural = _("部件事件小类")

    def __str__(self) -> str:
        return f"{self.full_code} {self.name}"


class ComponentStatus(models.TextChoices):
    NORMAL = "normal", _("完好")
    DAMAGED = "damaged", _("损坏")
    MISSING = "missing", _("丢失")
    REMOVED = "removed", _("已拆除")


class Component(models.Model):
    """One surveyed city component (部件普查): a lamp, a manhole cover, a bin, a tree, a sign.

    ``code`` is the 16-digit component ID: 6-digit county + 2-digit major + 2-digit minor class + 6-digit
    serial (e.g. 3715020101000001, a water-supply manhole cover in 东昌府区). Location is GCJ-02 with the
    grid, community, township and county it lies in (from the locator at import).
    """

    code = models.CharField(_("部件编码"), max_length=16, unique=True)
    minor_class = models.ForeignKey(MinorClass, on_delete=models.PROTECT, related_name="components",
                                    verbose_name=_("小类"))
    name = models.CharField(_("名称"), max_length=100, blank=True, default="")
    lon = models.FloatField(_("经度 (GCJ-02)"))
    lat = models.FloatField(_("纬度 (GCJ-02)"))
    address = models.CharField(_("地址"), max_length=200, blank=True, default="")
    grid_code = models.CharField(_("单元网格"), max_length=15, db_index=True)
    community_code = models.CharField(max_length=12)
    township_code = models.CharField(max_length=9)
    county_code = models.CharField(max_length=6, db_index=True)
    owner = models.CharField(_("权属单位"), max_length=100, blank=True, default="")
    maintainer = models.ForeignKey("core.Department", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="urban_components", verbose_name=_("养护部门"))
    maintainer_name = models.CharField(_("养护单位"), max_length=100, blank=True, default="")
    status = models.CharField(_("状态"), max_length=10, choices=ComponentStatus.choices,
                              default=ComponentStatus.NORMAL)
    surveyed_on = models.DateField(_("普查日期"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["lon", "lat"], name="urban_comp_lonlat")]
        verbose_name = _("部件")
        verbose_name_plural = _("部件")

    def __str__(self) -> str:
        return f"{self.code} {self.name or self.minor_class.name}"


class CaseState(models.TextChoices):
    REPORTED = "reported", _("已上报")
    FILED = "filed", _("已立案")
    NOT_FILED = "not_filed", _("不予立案")
    DISPATCHED = "dispatched", _("已派遣")
    HANDLING = "handling", _("处置中")
    HANDLED = "handled", _("已处置")
    VERIFIED = "verified", _("核查通过")
    CLOSED = "closed", _("已结案")
    DEFERRED = "deferred", _("挂账")
    VOIDED = "voided", _("已作废")
    MERGED = "merged", _("已合并")


class Channel(models.TextChoices):
    SUPERVISOR = "supervisor", _("监督员上报")
    PUBLIC = "public", _("公众举报")
    HOTLINE = "hotline", _("12345热线")
    LEADER = "leader", _("领导批示")


class Case(models.Model):
    number = models.CharField(_("案卷编号"), max_length=32, unique=True, null=True, blank=True)
    minor_class = models.ForeignKey(MinorClass, on_delete=models.PROTECT, related_name="cases",
                                    verbose_name=_("小类"))
    channel = models.CharField(_("来源"), max_length=12, choices=Channel.choices)
    state = models.CharField(_("状态"), max_length=12, choices=CaseState.choices, default=CaseState.REPORTED,
                             db_index=True)
    description = models.TextField(_("问题描述"), max_length=4000)
    address = models.CharField(_("地址"), max_length=200, blank=True, default="")
    lon = models.FloatField(_("经度 (GCJ-02)"))
    lat = models.FloatField(_("纬度 (GCJ-02)"))
    grid_code = models.CharField(_("单元网格"), max_length=15, db_index=True)
    community_code = models.CharField(max_length=12, db_index=True)
    township_code = models.CharField(max_length=9, db_index=True)
    county_code = models.CharField(max_length=6, db_index=True)
    department = models.ForeignKey("core.Department", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="urban_cases", verbose_name=_("责任部门"))
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("上报人"))
    reported_at = models.DateTimeField(_("上报时间"))
    filed_at = models.DateTimeField(_("立案时间"), null=True, blank=True)
    not_filed_reason = models.TextField(_("不予立案理由"), blank=True, default="")
    dispatched_at = models.DateTimeField(_("派遣时间"), null=True, blank=True)
    due_at = models.DateTimeField(_("处置时限"), null=True, blank=True, db_index=True)
    warn_at = models.DateTimeField(_("预警时间"), null=True, blank=True, db_index=True)
    warned_at = models.DateTimeField(_("已预警"), null=True, blank=True)
    overdue = models.BooleanField(_("超期"), default=False)
    handled_at = models.DateTimeField(_("处置时间"), null=True, blank=True)
    handling_notes = models.TextField(_("处置说明"), blank=True, default="")
    rework_count = models.PositiveIntegerField(_("返工次数"), default=0)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="merged_reports", verbose_name=_("合并到"))
    component = models.ForeignKey(Component, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="cases", verbose_name=_("部件"))

    class Meta:
        ordering = ["-reported_at"]
        verbose_name = _("案卷")
        verbose_name_plural = _("案卷")
        indexes = [
            # evaluation: cases with any of their dates in a range (the planner ORs the ranges; due_at has one)
            models.Index(fields=["reported_at"], name="urban_case_reported"),
            models.Index(fields=["filed_at"], name="urban_case_filed"),
            models.Index(fields=["dispatched_at"], name="urban_case_dispatched"),
            models.Index(fields=["closed_at"], name="urban_case_closed"),
            # duplicate search at intake: same class within a small latitude/longitude box
            models.Index(fields=["minor_class", "lat", "lon"], name="urban_case_class_latlon"),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"


class CaseEvent(models.Model):
    """One step of a case's cycle (every transition writes one)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_label = models.CharField(_("操作人"), max_length=150)
    action = models.CharField(_("动作"), max_length=30)
    from_state = models.CharField(_("原状态"), max_length=12)
    to_state = models.CharField(_("新状态"), max_length=12)
    note = models.TextField(_("说明"), blank=True, default="")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("案卷环节")
        verbose_name_plural = _("案卷环节")
        indexes = [
            # evaluation: the few cases ever returned to the centre (correct-dispatch rate)
            models.Index(fields=["case"], condition=models.Q(action="approve_return"), name="urban_event_returned"),
        ]


class RequestKind(models.TextChoices):
    RETURN = "return", _("退回")
    EXTENSION = "extension", _("延期")
    DEFERRAL = "deferral", _("挂账")
    VOID = "void", _("作废")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")


class CaseRequest(models.Model):
    """An exception request (return, extension, deferral, void) and its approval."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="requests")
    kind = models.CharField(_("类型"), max_length=10, choices=RequestKind.choices)
    status = models.CharField(_("状态"), max_length=10, choices=RequestStatus.choices,
                              default=RequestStatus.PENDING)
    reason = models.TextField(_("申请理由"))
    extension_value = models.PositiveIntegerField(_("延期时长"), null=True, blank=True)
    extension_unit = models.CharField(_("延期单位"), max_length=5, choices=DeadlineUnit.choices, blank=True,
                                      default="")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("申请时间"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True, default="")

    class Meta:
        ordering = ["requested_at", "pk"]
        verbose_name = _("案卷申请")
        verbose_name_plural = _("案卷申请")
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=models.Q(status="pending"),
                                    name="uniq_urban_pending_request"),
        ]


class Supervision(models.Model):
    """A supervision record (督办), created once per case when it goes overdue."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supervisions")
    kind = models.CharField(_("类型"), max_length=12, default="overdue")
    created_at = models.DateTimeField(_("督办时间"))
    due_at = models.DateTimeField(_("原处置时限"))
    department = models.ForeignKey("core.Department", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("被督办部门"))
    note = models.TextField(_("督办意见"), blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("督办")
        verbose_name_plural = _("督办")
        constraints = [models.UniqueConstraint(fields=["case", "kind"], name="uniq_urban_supervision")]


class PhotoKind(models.TextChoices):
    BEFORE = "before", _("处置前")
    AFTER = "after", _("处置后")


class CasePhoto(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    event = models.ForeignKey(CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos")
    kind = models.CharField(_("类型"), max_length=6, choices=PhotoKind.choices)
    image = models.FileField(_("照片"), upload_to="urban/%Y/%m/")
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("案卷照片")
        verbose_name_plural = _("案卷照片")


# --- Open311 GeoReport v2 (public reporting API) ------------------------------------------------------

class Open311Client(models.Model):
    """A registered Open311 client (an app or a partner system): it posts requests with its API key.

    Only the SM3 hash of the key is stored; ``liaocheng open311_client NAME`` prints the key once.
    """

    name = models.CharField(_("名称"), max_length=100, unique=True)
    contact = models.CharField(_("联系方式"), max_length=200, blank=True, default="")
    key_hash = models.CharField(max_length=64, unique=True)
    active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Open311 接入客户端")
        verbose_name_plural = _("Open311 接入客户端")

    def __str__(self) -> str:
        return self.name


class Open311Request(models.Model):
    """What an Open311 POST carried beyond the case: client, token, attributes and the reporter's
    personal data (SM4-encrypted at rest, never in public output)."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="open311")
    client = models.ForeignKey(Open311Client, on_delete=models.PROTECT, related_name="requests")
    token = models.CharField(max_length=32, unique=True)
    attributes = models.JSONField(default=dict, blank=True)
    address_id = models.CharField(_("地址编码"), max_length=64, blank=True, default="")
    media_url = models.URLField(_("图片地址"), max_length=500, blank=True, default="")
    account_id = EncryptedTextField(_("账号"), blank=True, default="")
    device_id = EncryptedTextField(_("设备号"), blank=True, default="")
    email = EncryptedTextField(_("电子邮箱"), blank=True, default="")
    first_name = EncryptedTextField(_("名"), blank=True, default="")
    last_name = EncryptedTextField(_("姓"), blank=True, default="")
    phone = EncryptedTextField(_("电话"), blank=True, default="")

    class Meta:
        verbose_name = _("Open311 上报")
        verbose_name_plural = _("Open311 上报")


# --- public follow-up: area subscriptions -------------------------------------------------------------

class Subscription(models.Model):
    """A citizen's e-mail subscription to case updates in an area (a county, township, community or
    grid code; codes are prefixes). Double opt-in: nothing is sent before ``confirmed_at``; ``token``
    is the secret in the confirm and unsubscribe links. The address is SM4-encrypted at rest."""

    email = EncryptedTextField(_("电子邮箱"))
    email_index = models.CharField(max_length=64, db_index=True)
    area_code = models.CharField(_("区域代码"), max_length=15, db_index=True)
    token = models.CharField(max_length=64, unique=True)
    language = models.CharField(_("语言"), max_length=8, default="zh-hans")
    created_at = models.DateTimeField(_("订阅时间"))
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("退订时间"), null=True, blank=True)
    last_sent_at = models.DateTimeField(_("上次发送"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("区域订阅")
        verbose_name_plural = _("区域订阅")


# --- hand-off to the emergency module ---------------------------------------------------------------------

class EmergencyHandoff(models.Model):
    """A case handed to the emergency module (road collapse with injuries, gas smell ...) through the
    published interface ``liaocheng.urban.handoff``: what was sent, to which receiver, and the incident
    reference it returned."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="emergency_handoffs")
    at = models.DateTimeField(_("移交时间"))
    receiver = models.CharField(_("接收方"), max_length=100)
    reference = models.CharField(_("应急事件编号"), max_length=64, blank=True, default="")
    reason = models.TextField(_("移交理由"))
    payload = models.JSONField(default=dict)
    handed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("移交人"))

    class Meta:
        ordering = ["-at"]
        verbose_name = _("移交应急")
        verbose_name_plural = _("移交应急")
