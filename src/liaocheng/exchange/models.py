"""The data-exchange centre: resource catalogue, consumer systems, applications and grants,
subscriptions and the signed exchange log.

Data itself is never stored here: it stays with its owner and is read through ``core.providers``
at the moment a consumer asks for it.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from liaocheng.core.models import Department, User


class SharingClass(models.TextChoices):
    """GB/T 21063 / 政务信息资源共享管理暂行办法: the three sharing types."""

    UNCONDITIONAL = "unconditional", _("无条件共享")
    CONDITIONAL = "conditional", _("有条件共享")
    NONE = "none", _("不予共享")


class UpdateFrequency(models.TextChoices):
    REALTIME = "realtime", _("实时")
    DAILY = "daily", _("每日")
    WEEKLY = "weekly", _("每周")
    MONTHLY = "monthly", _("每月")
    QUARTERLY = "quarterly", _("每季度")
    YEARLY = "yearly", _("每年")


class Theme(models.TextChoices):
    """Open-data themes (the CKAN groups), after the national open-data catalogue's classification."""

    ECONOMY = "economy", _("经济建设")
    ENVIRONMENT = "environment", _("资源环境")
    EDUCATION = "education", _("教育科技")
    TRANSPORT = "transport", _("道路交通")
    SOCIETY = "society", _("社会发展")
    PUBLIC_SAFETY = "public-safety", _("公共安全")
    FINANCE = "finance", _("财税金融")
    HOUSING = "housing", _("城建住房")
    SOCIAL_SECURITY = "social-security", _("社会保障")
    HEALTH = "health", _("医疗卫生")
    CULTURE = "culture", _("文化休闲")
    AGRICULTURE = "agriculture", _("农业农村")
    GOVERNMENT = "government", _("机构团体")
    MARKET = "market", _("市场监管")


class CatalogueResource(models.Model):
    """One entry of the government information resource catalogue (政务信息资源目录)."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)  # the CKAN package id
    code = models.CharField(_("资源编码"), max_length=100, unique=True)
    slug = models.SlugField(_("开放名称"), max_length=100, unique=True)  # the CKAN package name
    name = models.CharField(_("资源名称"), max_length=200)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True, default="")
    description = models.TextField(_("资源摘要"), blank=True, default="")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="exchange_resources",
                                   verbose_name=_("提供部门"))
    provider_code = models.CharField(_("数据接口编码"), max_length=100, unique=True)
    fields_offered = models.JSONField(_("提供的信息项"), default=list)
    # field -> sharing class, for fields whose class differs from the resource's
    field_sharing = models.JSONField(_("信息项共享类型"), default=dict, blank=True)
    update_frequency = models.CharField(_("更新周期"), max_length=12, choices=UpdateFrequency.choices)
    sharing_class = models.CharField(_("共享类型"), max_length=16, choices=SharingClass.choices)
    is_open = models.BooleanField(_("向社会开放"), default=False)
    open_fields = models.JSONField(_("开放的信息项"), default=list, blank=True)
    tags = models.JSONField(_("标签"), default=list, blank=True)
    theme = models.CharField(_("主题"), max_length=20, choices=Theme.choices, blank=True, default="")
    license_id = models.CharField(_("许可协议"), max_length=40, default="cc-by")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    modified_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        ordering = ["code"]
        verbose_name = _("目录资源")
        verbose_name_plural = _("目录资源")

    def __str__(self) -> str:
        return self.name


class ConsumerSystem(models.Model):
    """A department's system that calls the exchange API with a bearer token (only its SM3 hash is kept)."""

    code = models.CharField(_("系统编码"), max_length=64, unique=True)
    name = models.CharField(_("系统名称"), max_length=100)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="consumer_systems",
                                   verbose_name=_("所属部门"))
    token_hash = models.CharField(max_length=64)
    token_hint = models.CharField(_("凭证前缀"), max_length=12)
    active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    token_rotated_at = models.DateTimeField(_("凭证更换时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("接入系统")
        verbose_name_plural = _("接入系统")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    PARTIAL = "partial", _("部分批准")
    REJECTED = "rejected", _("已驳回")


class Decision(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("批准")
    REJECTED = "rejected", _("驳回")


class Application(models.Model):
    """A consuming department's request for named fields of a resource, for a stated purpose."""

    consumer = models.ForeignKey(ConsumerSystem, on_delete=models.PROTECT, related_name="applications",
                                 verbose_name=_("接入系统"))
    resource = models.ForeignKey(CatalogueResource, on_delete=models.PROTECT, related_name="applications",
                                 verbose_name=_("资源"))
    purpose = models.TextField(_("用途"))
    legal_basis = models.TextField(_("依据"))
    applicant = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("申请人"))
    status = models.CharField(_("状态"), max_length=10, choices=ApplicationStatus.choices,
                              default=ApplicationStatus.PENDING, db_index=True)
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    decided_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("共享申请")
        verbose_name_plural = _("共享申请")


class ApplicationField(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="items")
    field_name = models.CharField(_("信息项"), max_length=64)
    want_clear = models.BooleanField(_("申请明文"), default=False)
    decision = models.CharField(_("审批结果"), max_length=10, choices=Decision.choices, default=Decision.PENDING)
    allow_clear = models.BooleanField(_("准予明文"), default=False)
    reason = models.TextField(_("理由"), blank=True, default="")
    auto = models.BooleanField(_("自动批准"), default=False)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["application", "field_name"], name="uniq_application_field"),
        ]


class Grant(models.Model):
    """The right of a consumer system to read one field of a resource (masked unless ``allow_clear``)."""

    consumer = models.ForeignKey(ConsumerSystem, on_delete=models.PROTECT, related_name="grants")
    resource = models.ForeignKey(CatalogueResource, on_delete=models.PROTECT, related_name="grants")
    field_name = models.CharField(_("信息项"), max_length=64)
    allow_clear = models.BooleanField(_("准予明文"), default=False)
    application = models.ForeignKey(Application, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="grants")
    granted_at = models.DateTimeField(_("授权时间"), default=timezone.now)
    granted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoke_reason = models.TextField(_("撤销理由"), blank=True, default="")

    class Meta:
        ordering = ["resource_id", "consumer_id", "field_name"]
        verbose_name = _("共享授权")
        verbose_name_plural = _("共享授权")
        constraints = [
            models.UniqueConstraint(fields=["consumer", "resource", "field_name"],
                                    condition=models.Q(revoked_at__isnull=True), name="uniq_active_grant"),
        ]
        indexes = [models.Index(fields=["consumer", "resource"])]


class Subscription(models.Model):
    """A consumer system following a resource's change feed (``DataProvider.changes``)."""

    consumer = models.ForeignKey(ConsumerSystem, on_delete=models.PROTECT, related_name="subscriptions")
    resource = models.ForeignKey(CatalogueResource, on_delete=models.PROTECT, related_name="subscriptions")
    active = models.BooleanField(_("有效"), default=True)
    cursor = models.BigIntegerField(_("已读取到"), default=0)
    callback_url = models.URLField(_("回调地址"), blank=True, default="")
    created_at = models.DateTimeField(_("订阅时间"), default=timezone.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("订阅")
        verbose_name_plural = _("订阅")
        constraints = [
            models.UniqueConstraint(fields=["consumer", "resource"], name="uniq_subscription"),
        ]


class ExchangeLog(models.Model):
    """One exchange request and its answer. The rows form an SM3 hash chain and each hash is signed
    with the platform's SM2 key (see ``exchange.chain``). Bodies are kept only as SM3 hashes; a
    personal record key is kept masked, with a blind index for exact lookup.
    """

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    request_id = models.CharField(max_length=64, db_index=True)
    consumer_code = models.CharField(max_length=64, db_index=True)
    consumer_department = models.CharField(max_length=64, blank=True, default="")
    end_user_id = models.CharField(max_length=128)
    operation = models.CharField(max_length=32)
    resource_code = models.CharField(max_length=100, blank=True, default="", db_index=True)
    owner_department = models.CharField(max_length=64, blank=True, default="", db_index=True)
    record_key = models.CharField(max_length=200, blank=True, default="")
    record_key_index = models.CharField(max_length=64, blank=True, default="", db_index=True)
    filters = models.JSONField(default=dict)
    fields_requested = models.JSONField(default=list)
    fields_returned = models.JSONField(default=list)
    record_count = models.IntegerField(default=0)
    status = models.PositiveSmallIntegerField()
    error = models.CharField(max_length=64, blank=True, default="")
    request_hash = models.CharField(max_length=64)
    response_hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    signature = models.TextField()

    class Meta:
        ordering = ["seq"]
        verbose_name = _("交换日志")
        verbose_name_plural = _("交换日志")
        indexes = [models.Index(fields=["owner_department", "seq"])]


class ExchangeHead(models.Model):
    """The single row holding the exchange log's tip; locking it serialises appends."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)


class SigningKey(models.Model):
    """Every public key that has signed log records, so that records verify after a key rotation."""

    key_id = models.CharField(max_length=16, unique=True)
    public_pem = models.TextField()
    first_used_at = models.DateTimeField(default=timezone.now)
