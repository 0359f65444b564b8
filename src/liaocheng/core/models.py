"""Core models: departments, users, roles and grants, audit chain, calendar, login throttling."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from .fields import EncryptedTextField


class Level(models.TextChoices):
    CITY = "city", _("市级")
    COUNTY = "county", _("县级")


class Department(models.Model):
    """A government department at city or county level (e.g. 莘县公安局)."""

    code = models.CharField(_("编码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类别"), max_length=40, db_index=True)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    # GB/T 2260 code of the division the department serves (371500 for the city, 3715xx for a county).
    division_code = models.CharField(_("行政区划代码"), max_length=15, db_index=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        verbose_name=_("上级部门"),
    )
    active = models.BooleanField(_("有效"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")

    def __str__(self) -> str:
        return self.name


class UserKind(models.TextChoices):
    STAFF = "staff", _("工作人员")
    CITIZEN = "citizen", _("市民")
    ENTERPRISE = "enterprise", _("企业")


class User(AbstractUser):
    """Any account: staff (password + TOTP), citizen or enterprise (real-name registered)."""

    kind = models.CharField(_("账号类型"), max_length=12, choices=UserKind.choices, default=UserKind.STAFF)
    real_name = models.CharField(_("姓名"), max_length=50, blank=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="staff",
        verbose_name=_("部门"),
    )
    # Personal data: SM4-encrypted at rest, blind index (HMAC-SM3) for exact lookup.
    id_number = EncryptedTextField(_("身份证号"), blank=True, default="")
    id_number_bidx = models.CharField(max_length=64, blank=True, default="", db_index=True)
    phone = EncryptedTextField(_("手机号"), blank=True, default="")
    phone_bidx = models.CharField(max_length=64, blank=True, default="", db_index=True)
    # Enterprise accounts: unified social credit code (GB 32100) and registered name.
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True, default="", db_index=True)
    organisation_name = models.CharField(_("单位名称"), max_length=200, blank=True, default="")
    totp_secret = EncryptedTextField(_("TOTP 密钥"), blank=True, default="")
    totp_confirmed = models.BooleanField(_("已绑定动态口令"), default=False)
    totp_last_step = models.BigIntegerField(default=0)  # last accepted time step: no code is used twice

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_bidx"], condition=~models.Q(id_number_bidx=""), name="uniq_user_id_number"
            ),
            models.UniqueConstraint(
                fields=["credit_code"], condition=~models.Q(credit_code=""), name="uniq_user_credit_code"
            ),
        ]

    def __str__(self) -> str:
        return self.real_name or self.username


class Role(models.Model):
    """A named set of permission codes (see ``core.permissions``)."""

    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    permissions = models.JSONField(_("权限"), default=list)

    class Meta:
        ordering = ["code"]
        verbose_name = _("角色")
        verbose_name_plural = _("角色")

    def __str__(self) -> str:
        return self.name


class RoleGrant(models.Model):
    """A role held by a user within a division scope (a county, or the whole city)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="grants")
    # GB/T 2260 code: 371500 = the whole city, 3715xx = one county (and everything under it).
    scope_division = models.CharField(_("授权范围"), max_length=15)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "scope_division"], name="uniq_role_grant"),
        ]


class AuditRecord(models.Model):
    """One state change. The records form an SM3 hash chain (see ``core.audit``)."""

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, db_index=True)
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64)
    division_code = models.CharField(max_length=15, blank=True, default="", db_index=True)
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)
    request_id = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")


class AuditHead(models.Model):
    """The single row that holds the chain's tip; locking it serialises appends."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)


class CalendarOverride(models.Model):
    """An administrator's decision that a date is (or is not) a working day.

    Overrides win over the chinese-calendar data; they cover years the State Council has not
    announced yet and local adjustments.
    """

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否工作日"))
    note = models.CharField(_("说明"), max_length=100, blank=True, default="")

    class Meta:
        ordering = ["date"]
        verbose_name = _("工作日历调整")
        verbose_name_plural = _("工作日历调整")


class LoginFailure(models.Model):
    username = models.CharField(max_length=150, db_index=True)
    ip = models.CharField(max_length=45, db_index=True)
    at = models.DateTimeField(db_index=True)


class WorkerHeartbeat(models.Model):
    name = models.CharField(max_length=100, unique=True)
    at = models.DateTimeField()
