"""Emergency linkage and dispatch (应急联动): calls, incidents, units, assignments, warnings.

One intake for 110/119/120/122/12345 and the utility lines: every call is kept with its narrative and
belongs to one incident; incidents are typed by GB/T 35561 codes, located on the unit grid, owned by one
agency (a ``core.Department``) with assisting agencies, and worked by units of every agency. Positions are
GCJ-02 like the rest of the platform. Every change goes through the app's services (intake, dispatch,
warnings), which write an ``IncidentEvent`` (the timeline) and an audit record in one transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from liaocheng.core.fields import EncryptedTextField

# --- incident types (GB/T 35561-2017) and response plans ---------------------------------------------

class IncidentClass(models.TextChoices):
    NATURAL = "1", _("自然灾害")
    ACCIDENT = "2", _("事故灾难")
    PUBLIC_HEALTH = "3", _("公共卫生事件")
    SOCIAL_SECURITY = "4", _("社会安全事件")


class IncidentType(models.Model):
    """A GB/T 35561 code: ``1`` + class digit + sub-class letter (I, O skipped; Y other; 0 = whole class)
    + two digits (00 = whole sub-class, 99 = other), e.g. 12G04 高层民用建筑火灾. Loadable and editable."""

    code = models.CharField(_("分类编码"), max_length=5, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    incident_class = models.CharField(_("类别"), max_length=1, choices=IncidentClass.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("上级分类"))
    owning_kind = models.CharField(_("牵头部门类别"), max_length=40, blank=True, default="")
    default_priority = models.PositiveSmallIntegerField(_("默认优先级"), default=3)  # 1 highest .. 5 lowest
    active = models.BooleanField(_("有效"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("突发事件分类")
        verbose_name_plural = _("突发事件分类")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class UnitType(models.TextChoices):
    POLICE_CAR = "police_car", _("警车")
    TRAFFIC_POLICE = "traffic_police", _("交警车")
    FIRE_ENGINE = "fire_engine", _("水罐消防车")
    FOAM_TENDER = "foam_tender", _("泡沫消防车")
    AERIAL_LADDER = "aerial_ladder", _("登高平台消防车")
    RESCUE_ENGINE = "rescue_engine", _("抢险救援消防车")
    HAZMAT = "hazmat", _("危化品处置车")
    AMBULANCE = "ambulance", _("救护车")
    WATER_CREW = "water_crew", _("供水抢修队")
    POWER_CREW = "power_crew", _("电力抢修队")
    GAS_CREW = "gas_crew", _("燃气抢修队")
    RESCUE_TEAM = "rescue_team", _("专业救援队")
    COMMAND = "command", _("指挥车")


class ResponsePlan(models.Model):
    """Which units an incident type needs at a severity level (``severity`` null = any level; the most
    specific plan wins: own code and level, own code any level, then the parent codes')."""

    incident_type = models.ForeignKey(IncidentType, on_delete=models.CASCADE, related_name="plans",
                                      verbose_name=_("事件分类"))
    severity = models.PositiveSmallIntegerField(_("事件级别"), null=True, blank=True)  # 1 Ⅰ .. 4 Ⅳ
    needs = models.JSONField(_("所需力量"), default=dict)  # {"fire_engine": 2, "ambulance": 1}

    class Meta:
        ordering = ["incident_type__code", "severity"]
        constraints = [models.UniqueConstraint(fields=["incident_type", "severity"], name="emergency_plan_unique")]
        verbose_name = _("响应预案")
        verbose_name_plural = _("响应预案")


# --- incidents and calls ------------------------------------------------------------------------------

class Line(models.TextChoices):
    POLICE = "110", _("110 报警")
    FIRE = "119", _("119 火警")
    AMBULANCE = "120", _("120 急救")
    TRAFFIC = "122", _("122 交通事故")
    HOTLINE = "12345", _("12345 政务服务热线")
    FLOOD = "flood", _("防汛抗旱指挥")
    EPIDEMIC = "epidemic", _("疫情防控指挥")
    SAFETY = "safety", _("安全生产监测")
    WATER = "water", _("供水抢修")
    POWER = "power", _("供电抢修")
    GAS = "gas", _("燃气抢修")
    URBAN = "urban", _("数字城管移交")


class Severity(models.IntegerChoices):
    I = 1, _("Ⅰ级 特别重大")  # noqa: E741
    II = 2, _("Ⅱ级 重大")
    III = 3, _("Ⅲ级 较大")
    IV = 4, _("Ⅳ级 一般")


class IncidentState(models.TextChoices):
    NEW = "new", _("新建")
    DISPATCHED = "dispatched", _("已派警")
    ON_SCENE = "on_scene", _("已到场")
    UNDER_CONTROL = "under_control", _("已控制")
    CLOSED = "closed", _("已结束")
    MERGED = "merged", _("已合并")


class Incident(models.Model):
    number = models.CharField(_("事件编号"), max_length=32, unique=True)
    incident_type = models.ForeignKey(IncidentType, on_delete=models.PROTECT, related_name="incidents",
                                      verbose_name=_("事件分类"))
    severity = models.PositiveSmallIntegerField(_("事件级别"), choices=Severity.choices, default=Severity.IV)
    priority = models.PositiveSmallIntegerField(_("优先级"), default=3)  # 1 highest .. 5 lowest
    state = models.CharField(_("状态"), max_length=14, choices=IncidentState.choices, default=IncidentState.NEW,
                             db_index=True)
    disposition = models.CharField(_("处置结果"), max_length=200, blank=True, default="")
    summary = models.CharField(_("事件摘要"), max_length=200)
    address = models.CharField(_("地址"), max_length=200, blank=True, default="")
    lon = models.FloatField(_("经度 (GCJ-02)"))
    lat = models.FloatField(_("纬度 (GCJ-02)"))
    grid_code = models.CharField(_("单元网格"), max_length=15, db_index=True)
    community_code = models.CharField(max_length=12)
    township_code = models.CharField(max_length=9)
    county_code = models.CharField(max_length=6, db_index=True)
    # the centre working it: 371500 (city) or a county code; transfers change it
    centre_code = models.CharField(_("受理中心"), max_length=6, db_index=True)
    owning_department = models.ForeignKey("core.Department", null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="owned_incidents", verbose_name=_("牵头部门"))
    assisting_departments = models.ManyToManyField("core.Department", blank=True, related_name="assisted_incidents",
                                                   verbose_name=_("协办部门"))
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="merged_incidents", verbose_name=_("合并到"))
    created_at = models.DateTimeField(_("创建时间"), db_index=True)
    first_answered_at = models.DateTimeField(_("首次接警时间"), null=True, blank=True)
    first_dispatched_at = models.DateTimeField(_("首次派警时间"), null=True, blank=True)
    first_on_scene_at = models.DateTimeField(_("首次到场时间"), null=True, blank=True)
    controlled_at = models.DateTimeField(_("控制时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    urban_case_number = models.CharField(_("城管案卷编号"), max_length=32, blank=True, default="")
    referral_id = models.CharField(max_length=64, blank=True, default="", db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("突发事件")
        verbose_name_plural = _("突发事件")

    def __str__(self) -> str:
        return self.number


class LinkKind(models.TextChoices):
    PARENT = "parent", _("父事件")
    CHILD = "child", _("子事件")
    RELATED = "related", _("相关事件")


class IncidentLink(models.Model):
    """``source`` is ``kind`` of ``target`` (source PARENT of target ⇔ target CHILD of source; one row per
    pair, read from both sides). Splits create a PARENT link from the original to the new incident."""

    source = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(_("关系"), max_length=8, choices=LinkKind.choices)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "target"], name="emergency_link_unique")]


class LocationSource(models.TextChoices):
    ADDRESS = "address", _("口述地址")
    MAP = "map", _("地图选点")
    DEVICE = "device", _("设备定位")


class Call(models.Model):
    """One call answered by a call-taker; its narrative is kept intact whatever happens to incidents."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="calls", verbose_name=_("事件"))
    line = models.CharField(_("来电线路"), max_length=8, choices=Line.choices)
    caller_number = EncryptedTextField(_("来电号码"), blank=True, default="")
    caller_index = models.CharField(max_length=64, blank=True, default="", db_index=True)
    caller_name = EncryptedTextField(_("报警人"), blank=True, default="")
    location_source = models.CharField(_("定位方式"), max_length=8, choices=LocationSource.choices)
    address = models.CharField(_("地址"), max_length=200, blank=True, default="")
    lon = models.FloatField(_("经度 (GCJ-02)"))
    lat = models.FloatField(_("纬度 (GCJ-02)"))
    narrative = models.TextField(_("报警内容"), max_length=4000)
    received_at = models.DateTimeField(_("振铃时间"))
    answered_at = models.DateTimeField(_("接听时间"), db_index=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    taker = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("接警员"))
    centre_code = models.CharField(_("受理中心"), max_length=6)

    class Meta:
        ordering = ["answered_at", "pk"]
        verbose_name = _("来电")
        verbose_name_plural = _("来电")


class IncidentEvent(models.Model):
    """The incident's timeline: calls, dispatches, unit status, state changes, notes, messages."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_label = models.CharField(_("操作人"), max_length=150)
    action = models.CharField(_("动作"), max_length=30)
    note = models.TextField(_("说明"), blank=True, default="")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("事件记录")
        verbose_name_plural = _("事件记录")


# --- resources ----------------------------------------------------------------------------------------

class Station(models.Model):
    """A home station of units (police station, fire station, 120 post, utility depot)."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="stations",
                                   verbose_name=_("所属部门"))
    lon = models.FloatField(_("经度 (GCJ-02)"))
    lat = models.FloatField(_("纬度 (GCJ-02)"))
    county_code = models.CharField(max_length=6, db_index=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("站点")
        verbose_name_plural = _("站点")

    def __str__(self) -> str:
        return self.name


class UnitStatus(models.TextChoices):
    AVAILABLE = "available", _("待命")
    DISPATCHED = "dispatched", _("已派出")
    EN_ROUTE = "en_route", _("途中")
    ON_SCENE = "on_scene", _("到场")
    TRANSPORTING = "transporting", _("转运中")
    AT_HOSPITAL = "at_hospital", _("到达医院")
    CLEARED = "cleared", _("任务完成")
    OUT_OF_SERVICE = "out_of_service", _("停用")


class Unit(models.Model):
    """A unit that can be dispatched. ``incident`` is its current assignment (null when free)."""

    call_sign = models.CharField(_("呼号"), max_length=32, unique=True)
    unit_type = models.CharField(_("类型"), max_length=16, choices=UnitType.choices, db_index=True)
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="units",
                                   verbose_name=_("所属部门"))
    station = models.ForeignKey(Station, null=True, blank=True, on_delete=models.PROTECT, related_name="units",
                                verbose_name=_("驻地"))
    capabilities = models.JSONField(_("能力"), default=list, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=UnitStatus.choices, default=UnitStatus.AVAILABLE,
                              db_index=True)
    status_at = models.DateTimeField(_("状态时间"))
    lon = models.FloatField(_("经度 (GCJ-02)"))
    lat = models.FloatField(_("纬度 (GCJ-02)"))
    position_at = models.DateTimeField(_("定位时间"))
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="current_units", verbose_name=_("当前任务"))
    county_code = models.CharField(max_length=6, db_index=True)

    class Meta:
        ordering = ["call_sign"]
        verbose_name = _("救援力量")
        verbose_name_plural = _("救援力量")

    def __str__(self) -> str:
        return self.call_sign


class Assignment(models.Model):
    """A unit sent to an incident, with the times of its status steps (for the response metrics)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assignments")
    recommended = models.BooleanField(_("系统推荐"), default=False)
    eta_seconds = models.PositiveIntegerField(_("预计到达 (秒)"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派出时间"), db_index=True)
    en_route_at = models.DateTimeField(_("出发时间"), null=True, blank=True)
    on_scene_at = models.DateTimeField(_("到场时间"), null=True, blank=True)
    transporting_at = models.DateTimeField(_("转运时间"), null=True, blank=True)
    at_hospital_at = models.DateTimeField(_("到院时间"), null=True, blank=True)
    cleared_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    dispatcher = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("调度员"))

    class Meta:
        ordering = ["dispatched_at", "pk"]
        constraints = [
            # a unit has at most one open assignment: the database refuses a double dispatch
            models.UniqueConstraint(fields=["unit"], condition=models.Q(cleared_at__isnull=True),
                                    name="emergency_one_open_assignment"),
        ]
        verbose_name = _("派警记录")
        verbose_name_plural = _("派警记录")


class FixedResourceKind(models.TextChoices):
    SHELTER = "shelter", _("应急避难场所")
    HOSPITAL = "hospital", _("医院")
    DEPOT = "depot", _("物资储备库")


class FixedResource(models.Model):
    kind = models.CharField(_("类型"), max_length=10, choices=FixedResourceKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    lon = models.FloatField(_("经度 (GCJ-02)"))
    lat = models.FloatField(_("纬度 (GCJ-02)"))
    county_code = models.CharField(max_length=6, db_index=True)
    capacity = models.PositiveIntegerField(_("容量"), default=0)  # people, beds or stock units
    available = models.PositiveIntegerField(_("可用"), default=0)  # free places / free beds
    details = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("应急资源")
        verbose_name_plural = _("应急资源")


# --- linkage: 12345 ↔ 110 work orders and centre transfers ----------------------------------------------

class TransferStatus(models.TextChoices):
    SENT = "sent", _("已转出")
    ACCEPTED = "accepted", _("已接收")
    RETURNED = "returned", _("已反馈")
    REFUSED = "refused", _("已退回")


class Transfer(models.Model):
    """A work order handed between lines (12345 ↔ 110) or centres (county ↔ city); the result flows back."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="transfers")
    from_line = models.CharField(_("转出线路"), max_length=8, blank=True, default="")
    to_line = models.CharField(_("转入线路"), max_length=8, blank=True, default="")
    from_centre = models.CharField(_("转出中心"), max_length=6)
    to_centre = models.CharField(_("转入中心"), max_length=6)
    reason = models.TextField(_("转办说明"))
    status = models.CharField(_("状态"), max_length=10, choices=TransferStatus.choices, default=TransferStatus.SENT)
    result = models.TextField(_("办理结果"), blank=True, default="")
    sent_at = models.DateTimeField(_("转出时间"))
    answered_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("转办工单")
        verbose_name_plural = _("转办工单")


# --- public warnings (CAP 1.2) ---------------------------------------------------------------------------

class WarningLevel(models.TextChoices):
    RED = "red", _("红色")
    ORANGE = "orange", _("橙色")
    YELLOW = "yellow", _("黄色")
    BLUE = "blue", _("蓝色")


class WarningStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待审批")
    ISSUED = "issued", _("已发布")
    REJECTED = "rejected", _("已驳回")
    CANCELLED = "cancelled", _("已解除")


class PublicWarning(models.Model):
    """A public warning: drafted, approved and issued as a CAP 1.2 alert (``cap_xml`` frozen at issue)."""

    identifier = models.CharField(_("标识符"), max_length=64, unique=True, null=True, blank=True)
    incident_type = models.ForeignKey(IncidentType, on_delete=models.PROTECT, related_name="warnings",
                                      verbose_name=_("事件分类"))
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="warnings")
    level = models.CharField(_("预警级别"), max_length=6, choices=WarningLevel.choices)
    status = models.CharField(_("状态"), max_length=10, choices=WarningStatus.choices, default=WarningStatus.DRAFT)
    cap_category = models.CharField(_("CAP 类别"), max_length=10, default="Met")
    event_zh = models.CharField(_("事件名称"), max_length=100)
    event_en = models.CharField(_("事件名称 (英文)"), max_length=100)
    headline_zh = models.CharField(_("标题"), max_length=200)
    headline_en = models.CharField(_("标题 (英文)"), max_length=200)
    description_zh = models.TextField(_("内容"))
    description_en = models.TextField(_("内容 (英文)"))
    instruction_zh = models.TextField(_("防御指南"), blank=True, default="")
    instruction_en = models.TextField(_("防御指南 (英文)"), blank=True, default="")
    urgency = models.CharField(_("紧急程度"), max_length=10, default="Expected")
    certainty = models.CharField(_("确定性"), max_length=10, default="Likely")
    area_codes = models.JSONField(_("区域代码"), default=list)  # GB/T 2260 codes
    area_desc = models.CharField(_("区域描述"), max_length=200)
    effective = models.DateTimeField(_("生效时间"), null=True, blank=True)
    expires = models.DateTimeField(_("失效时间"), null=True, blank=True)
    issuer_department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="warnings",
                                          verbose_name=_("发布单位"))
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    drafted_at = models.DateTimeField(_("起草时间"))
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    issued_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    references = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="updates", verbose_name=_("更新/解除的预警"))
    msg_type = models.CharField(max_length=8, default="Alert")  # Alert / Update / Cancel
    cap_xml = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-drafted_at"]
        verbose_name = _("预警信息")
        verbose_name_plural = _("预警信息")
