"""E-government service hall (网上办事大厅): the item catalogue, applications and their cases, processes
as data, certificates, electronic supervision, and government information disclosure.

- A ``ServiceItem`` (政务服务事项) carries its process as data: ``process`` is a list of steps
  ``{"key", "name", "role", "limit_days", "after": [keys]}``; several steps after the same step run in
  parallel, a step after several steps is a join. Deadlines are working days (``core.calendar``).
- An ``Application`` is what the applicant sees (one number, one set of materials); it has one ``Case``
  per item it needs (one for a single item; several for a one-stop ``Bundle``, whose prior approvals run in
  parallel and whose results are issued together). Each case's steps are ``CaseStep`` rows.
- ``SupervisionCard`` rows are written by the background sweep (warning, yellow card, red card, flags).
- Disclosure: ``Document`` (published government information), ``DisclosureGuide`` per department and
  ``DisclosureRequest`` (20 working days, extendable once by 20).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from liaocheng.core.fields import EncryptedTextField

# --- the catalogue ----------------------------------------------------------------------------------


class ItemType(models.Model):
    """A configurable item type (行政许可, 行政确认, 行政给付, 公共服务 ...); codes differ between platforms."""

    code = models.CharField(_("编码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("事项类型")
        verbose_name_plural = _("事项类型")

    def __str__(self) -> str:
        return self.name


class ItemStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    WITHDRAWN = "withdrawn", _("已停用")


class CreditRule(models.TextChoices):
    NONE = "none", _("不核查")
    FLAG = "flag", _("命中提示")
    BLOCK = "block", _("命中阻断")


class ServiceItem(models.Model):
    basic_code = models.CharField(_("基本编码"), max_length=12, db_index=True)
    code = models.CharField(_("实施编码"), max_length=40, unique=True)
    name = models.CharField(_("事项名称"), max_length=120)
    item_type = models.ForeignKey(ItemType, on_delete=models.PROTECT, related_name="items", verbose_name=_("事项类型"))
    level = models.CharField(_("实施层级"), max_length=10)  # city / county (core.models.Level values)
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="service_items",
                                   verbose_name=_("实施机构"))
    division_code = models.CharField(_("行政区划"), max_length=6, db_index=True)
    legal_basis = models.TextField(_("设定依据"), blank=True, default="")
    conditions = models.TextField(_("受理条件"), blank=True, default="")
    statutory_days = models.PositiveSmallIntegerField(_("法定办结时限（工作日）"))
    promised_days = models.PositiveSmallIntegerField(_("承诺办结时限（工作日）"))
    fee = models.CharField(_("收费标准"), max_length=200, blank=True, default="")
    serves = models.CharField(_("服务对象"), max_length=20, default="enterprise")  # citizen / enterprise / both
    online_depth = models.PositiveSmallIntegerField(_("网办深度"), default=1)  # 1 information .. 4 fully online
    max_visits = models.PositiveSmallIntegerField(_("到现场次数"), default=0)
    result_name = models.CharField(_("办理结果名称"), max_length=100, blank=True, default="")
    # licence / certificate / approval / none
    result_kind = models.CharField(_("结果类型"), max_length=20, default="licence")
    # [{"key", "label", "type", "required", "prefill"}]; prefill names a base-database field
    form_fields = models.JSONField(_("申请表字段"), default=list, blank=True)
    process = models.JSONField(_("办理流程"), default=list)  # [{"key", "name", "role", "limit_days", "after": []}]
    credit_rule = models.CharField(_("信用核查"), max_length=6, choices=CreditRule.choices, default=CreditRule.NONE)
    status = models.CharField(_("状态"), max_length=10, choices=ItemStatus.choices, default=ItemStatus.DRAFT,
                              db_index=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("政务服务事项")
        verbose_name_plural = _("政务服务事项")

    def __str__(self) -> str:
        return self.name


class MaterialForm(models.TextChoices):
    ELECTRONIC = "electronic", _("电子")
    PAPER = "paper", _("纸质")
    BOTH = "both", _("纸质和电子")


class Material(models.Model):
    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="materials")
    name = models.CharField(_("材料名称"), max_length=120)
    required = models.BooleanField(_("必要"), default=True)
    form = models.CharField(_("材料形式"), max_length=10, choices=MaterialForm.choices, default=MaterialForm.ELECTRONIC)
    accepted_types = models.CharField(_("文件类型"), max_length=60, default="pdf,jpg,png")
    max_mb = models.PositiveSmallIntegerField(_("大小上限 (MB)"), default=10)
    source = models.CharField(_("来源渠道"), max_length=60, blank=True, default="")  # e.g. 申请人自备, 政府部门核发
    blank_form = models.FileField(_("空白表格"), upload_to="egov/forms/", blank=True)
    sample = models.FileField(_("示例样表"), upload_to="egov/samples/", blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["item", "order", "pk"]
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")


class Bundle(models.Model):
    """A one-stop bundle (一件事 / 一站式并联审批): one application, one set of materials; the member items'
    cases run in parallel (prior approvals), the main items' results are issued together (证照联动)."""

    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=120)
    serves = models.CharField(_("服务对象"), max_length=20, default="enterprise")
    description = models.TextField(_("说明"), blank=True, default="")
    issue_together = models.BooleanField(_("证照同发"), default=True)
    status = models.CharField(_("状态"), max_length=10, choices=ItemStatus.choices, default=ItemStatus.DRAFT)

    class Meta:
        ordering = ["code"]
        verbose_name = _("一件事套餐")
        verbose_name_plural = _("一件事套餐")

    def __str__(self) -> str:
        return self.name


class BundleItem(models.Model):
    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="members")
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="bundles")
    prior = models.BooleanField(_("前置审批"), default=False)  # must be approved before the main items issue
    # chosen by the applicant when their business needs it (e.g. 食品经营许可 only for a food business)
    optional = models.BooleanField(_("按需选择"), default=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["bundle", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["bundle", "item"], name="egov_bundle_item_unique")]


# --- applications and cases ---------------------------------------------------------------------------

class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    CORRECTION = "correction", _("待补正")
    IN_PROGRESS = "in_progress", _("办理中")
    REFUSED = "refused", _("不予受理")
    REJECTED = "rejected", _("不予许可")
    ISSUED = "issued", _("已办结")
    WITHDRAWN = "withdrawn", _("已撤回")


class Application(models.Model):
    number = models.CharField(_("申请编号"), max_length=32, unique=True, null=True, blank=True)
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="egov_applications",
                                  verbose_name=_("申请人"))
    item = models.ForeignKey(ServiceItem, null=True, blank=True, on_delete=models.PROTECT, related_name="applications")
    bundle = models.ForeignKey(Bundle, null=True, blank=True, on_delete=models.PROTECT, related_name="applications")
    applicant_name = models.CharField(_("申请人名称"), max_length=120)
    id_number = EncryptedTextField(_("证件号码"), blank=True, default="")  # GB 11643 (citizens)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True, default="")  # GB 32100
    phone = EncryptedTextField(_("联系电话"), blank=True, default="")
    division_code = models.CharField(_("行政区划"), max_length=6, db_index=True)
    form_data = models.JSONField(_("申请表"), default=dict, blank=True)
    # implementation codes of the optional bundle members the applicant chose (a bundle's other members always apply)
    chosen_items = models.JSONField(_("选择的联办事项"), default=list, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=ApplicationStatus.choices,
                              default=ApplicationStatus.DRAFT, db_index=True)
    created_at = models.DateTimeField(_("创建时间"))
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True, db_index=True)
    finished_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("办件申请")
        verbose_name_plural = _("办件申请")

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"


class ApplicationMaterial(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="materials")
    material = models.ForeignKey(Material, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to="egov/applications/%Y/%m/")
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["application", "material__order", "pk"]


class CaseStatus(models.TextChoices):
    WAITING = "waiting", _("待受理")
    CORRECTION = "correction", _("待补正")
    REFUSED = "refused", _("不予受理")
    IN_REVIEW = "in_review", _("审查中")
    APPROVED = "approved", _("准予许可")
    REJECTED = "rejected", _("不予许可")
    ISSUED = "issued", _("已发证")
    WITHDRAWN = "withdrawn", _("已撤回")
    STOPPED = "stopped", _("已终止")  # another case of its one-stop bundle was refused or rejected


class Case(models.Model):
    """One item's handling inside an application (a bundle has one per member item)."""

    number = models.CharField(_("办件编号"), max_length=40, unique=True)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="cases")
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="cases")
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="egov_cases")
    division_code = models.CharField(max_length=6, db_index=True)
    status = models.CharField(_("状态"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.WAITING,
                              db_index=True)
    received_at = models.DateTimeField(_("收件时间"), db_index=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    promised_due_at = models.DateTimeField(_("承诺办结期限"), null=True, blank=True, db_index=True)
    statutory_due_at = models.DateTimeField(_("法定办结期限"), null=True, blank=True)
    paused_days = models.PositiveSmallIntegerField(_("暂停工作日"), default=0)  # correction time not counted
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    issued_at = models.DateTimeField(_("发证时间"), null=True, blank=True)
    reason = models.TextField(_("不予受理/不予许可理由"), blank=True, default="")
    credit_result = models.JSONField(_("信用核查结果"), default=dict, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("办件")
        verbose_name_plural = _("办件")

    def __str__(self) -> str:
        return self.number


class StepStatus(models.TextChoices):
    PENDING = "pending", _("未开始")
    ACTIVE = "active", _("办理中")
    DONE = "done", _("已完成")
    SKIPPED = "skipped", _("已跳过")


class CaseStep(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps")
    key = models.CharField(max_length=40)
    name = models.CharField(_("环节"), max_length=60)
    role = models.CharField(_("办理角色"), max_length=60)
    limit_days = models.PositiveSmallIntegerField(_("环节时限（工作日）"))
    after = models.JSONField(default=list, blank=True)
    status = models.CharField(_("状态"), max_length=8, choices=StepStatus.choices, default=StepStatus.PENDING,
                              db_index=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    due_at = models.DateTimeField(_("环节期限"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    opinion = models.TextField(_("意见"), blank=True, default="")
    outcome = models.CharField(_("结论"), max_length=10, blank=True, default="")  # approve / reject

    class Meta:
        ordering = ["case", "pk"]
        constraints = [models.UniqueConstraint(fields=["case", "key"], name="egov_case_step_unique")]
        indexes = [models.Index(fields=["status", "due_at"], name="egov_step_status_due")]


class CaseEvent(models.Model):
    """Timeline of an application and its cases (what the applicant and the supervision office see)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=30)
    note = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]


class CorrectionRequest(models.Model):
    """补正: the officer lists what is missing; the clock stops until the applicant answers."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="corrections")
    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    items = models.TextField(_("需补正内容"))
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]


class Certificate(models.Model):
    """A licence or certificate issued as a PDF with a verification code anyone can check on the portal."""

    number = models.CharField(_("证照编号"), max_length=40, unique=True)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="certificates")
    kind = models.CharField(_("证照类型"), max_length=60)
    title = models.CharField(_("证照名称"), max_length=120)
    holder_name = models.CharField(_("持证主体"), max_length=120)
    holder_code = models.CharField(_("持证主体代码"), max_length=18, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    pdf = models.FileField(upload_to="egov/certificates/%Y/")
    pdf_sha256 = models.CharField(max_length=64)
    verification_code = models.CharField(_("核验码"), max_length=32, unique=True)
    issued_at = models.DateTimeField(_("发证时间"))
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("注销时间"), null=True, blank=True)

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("电子证照")
        verbose_name_plural = _("电子证照")


# --- electronic supervision ---------------------------------------------------------------------------

class CardKind(models.TextChoices):
    WARNING = "warning", _("预警")
    YELLOW = "yellow", _("黄牌")
    RED = "red", _("红牌")
    STEP_OVERDUE = "step_overdue", _("环节超时")
    REFUSED_NO_REASON = "refused_no_reason", _("无理由不予受理")
    ACCEPTANCE_DELAYED = "acceptance_delayed", _("受理延误")


class SupervisionCard(models.Model):
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="cards")
    disclosure_request = models.ForeignKey("DisclosureRequest", null=True, blank=True, on_delete=models.CASCADE,
                                           related_name="cards")
    kind = models.CharField(_("类型"), max_length=20, choices=CardKind.choices)
    step_key = models.CharField(max_length=40, blank=True, default="")
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="egov_cards")
    division_code = models.CharField(max_length=6, db_index=True)
    created_at = models.DateTimeField(_("发出时间"), db_index=True)
    deadline_at = models.DateTimeField(_("期限"), null=True, blank=True)  # finish-by date on a yellow card
    note = models.TextField(blank=True, default="")
    resolved_at = models.DateTimeField(_("解除时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind", "step_key"], name="egov_card_once_per_case"),
            models.UniqueConstraint(fields=["disclosure_request", "kind"], name="egov_card_once_per_request"),
        ]
        indexes = [models.Index(fields=["kind", "resolved_at"], name="egov_card_kind_open")]
        verbose_name = _("监察牌")
        verbose_name_plural = _("监察牌")


# --- government information disclosure ---------------------------------------------------------------

class DisclosureType(models.TextChoices):
    PROACTIVE = "proactive", _("主动公开")
    ON_REQUEST = "on_request", _("依申请公开")
    NOT_PUBLIC = "not_public", _("不予公开")


class DocumentKind(models.TextChoices):
    RULE = "rule", _("规章")
    NORMATIVE = "normative", _("行政规范性文件")
    OTHER = "other", _("其他文件")


class Document(models.Model):
    title = models.CharField(_("标题"), max_length=300)
    doc_number = models.CharField(_("文号"), max_length=60, blank=True, default="")
    index_number = models.CharField(_("索引号"), max_length=60, unique=True)
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="documents",
                                   verbose_name=_("发布机构"))
    division_code = models.CharField(max_length=6, db_index=True)
    issued_on = models.DateField(_("成文日期"), db_index=True)
    category = models.CharField(_("主题分类"), max_length=40, db_index=True)
    disclosure_type = models.CharField(_("公开方式"), max_length=12, choices=DisclosureType.choices,
                                       default=DisclosureType.PROACTIVE)
    classified = models.BooleanField(_("涉密"), default=False)
    # 文件类型 for the annual report's table (规章 / 行政规范性文件 made, repealed, in force)
    doc_kind = models.CharField(_("文件类型"), max_length=12, choices=DocumentKind.choices, default=DocumentKind.OTHER,
                                db_index=True)
    repealed_on = models.DateField(_("废止日期"), null=True, blank=True)
    body = models.TextField(_("正文"), blank=True, default="")
    file = models.FileField(_("附件"), upload_to="egov/documents/%Y/", blank=True)
    published_at = models.DateTimeField(_("公开时间"), null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-issued_on", "pk"]
        verbose_name = _("政府信息")
        verbose_name_plural = _("政府信息")

    def __str__(self) -> str:
        return self.title


class DisclosureGuide(models.Model):
    department = models.OneToOneField("core.Department", on_delete=models.CASCADE, related_name="disclosure_guide")
    text = models.TextField(_("公开指南"))
    updated_at = models.DateTimeField(auto_now=True)


class DisclosureRequestStatus(models.TextChoices):
    RECEIVED = "received", _("已登记")
    EXTENDED = "extended", _("已延期")
    ANSWERED = "answered", _("已答复")


class DisclosureRequest(models.Model):
    number = models.CharField(_("申请编号"), max_length=32, unique=True)
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="disclosure_requests")
    division_code = models.CharField(max_length=6, db_index=True)
    description = models.TextField(_("所需信息描述"))
    purpose = models.TextField(_("用途"), blank=True, default="")
    status = models.CharField(_("状态"), max_length=10, choices=DisclosureRequestStatus.choices,
                              default=DisclosureRequestStatus.RECEIVED, db_index=True)
    received_at = models.DateTimeField(_("收到时间"))
    due_at = models.DateTimeField(_("答复期限"), db_index=True)
    extended_at = models.DateTimeField(_("延期时间"), null=True, blank=True)
    extension_reason = models.TextField(blank=True, default="")
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    answer = models.TextField(_("答复内容"), blank=True, default="")
    # disclosed / partly / refused / not_held
    answer_kind = models.CharField(_("答复类型"), max_length=20, blank=True, default="")
    # the national annual-report template's sub-reason of a refused / unable / not processed / other answer
    answer_reason = models.CharField(_("答复理由"), max_length=30, blank=True, default="")
    # natural_person / business / research / public_interest / legal_service / other (the template's columns)
    requester_category = models.CharField(_("申请人类型"), max_length=20, default="natural_person")

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("依申请公开")
        verbose_name_plural = _("依申请公开")


class DisclosureAnnualReport(models.Model):
    """政府信息公开工作年度报告 in the national template: the tables are computed from the platform's data;
    the officer writes the text sections and the figures the platform does not hold (行政处罚, 复议, 诉讼 ...),
    then publishes it (by 31 January of the following year)."""

    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="disclosure_reports")
    year = models.PositiveSmallIntegerField(_("年度"))
    overview = models.TextField(_("总体情况"), blank=True, default="")
    problems = models.TextField(_("存在的主要问题及改进情况"), blank=True, default="")
    other_matters = models.TextField(_("其他需要报告的事项"), blank=True, default="")
    manual_figures = models.JSONField(_("人工填报数据"), default=dict, blank=True)
    figures = models.JSONField(_("发布时的统计数据"), default=dict, blank=True)  # frozen when published
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    class Meta:
        ordering = ["-year", "department"]
        constraints = [models.UniqueConstraint(fields=["department", "year"], name="egov_annual_report_once")]
        verbose_name = _("政府信息公开工作年度报告")
        verbose_name_plural = _("政府信息公开工作年度报告")

