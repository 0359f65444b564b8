"""Macro-economy base (宏观经济基础库): indicators and their values by division and period.

Every value records where it came from: the import job (file, its SHA-256, sheet and cell, who imported it)
or the demo generator (``generated=True``: synthetic demo values, not statistics). Re-importing a period
replaces the value and keeps the previous one in :class:`IndicatorValueHistory`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Frequency(models.TextChoices):
    YEARLY = "yearly", _("年度")
    QUARTERLY = "quarterly", _("季度")
    MONTHLY = "monthly", _("月度")


class Indicator(models.Model):
    code = models.CharField(_("指标代码"), max_length=40, unique=True)
    name_zh = models.CharField(_("指标名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=150, blank=True, default="")
    unit_zh = models.CharField(_("计量单位"), max_length=20)
    unit_en = models.CharField(_("英文单位"), max_length=40, blank=True, default="")
    # the finest frequency the indicator is published at (a monthly one also has quarterly and yearly values)
    frequency = models.CharField(_("频度"), max_length=10, choices=Frequency.choices, default=Frequency.YEARLY)
    description = models.TextField(_("说明"), blank=True, default="")
    source_department = models.CharField(_("来源部门代码"), max_length=60, blank=True, default="")
    public = models.BooleanField(_("公开"), default=False)
    additive = models.BooleanField(_("可按县汇总"), default=True)
    decimals = models.PositiveSmallIntegerField(_("小数位数"), default=2)
    aliases = models.JSONField(_("别名"), default=list, blank=True)  # other names used in published tables
    sort_order = models.IntegerField(default=100)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("经济指标")
        verbose_name_plural = _("经济指标")

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"


class ImportJob(models.Model):
    """One committed import (an Excel file) or one run of the demo generator."""

    kind = models.CharField(max_length=10, default="excel")  # excel | demo
    file_name = models.CharField(_("文件名"), max_length=255, blank=True, default="")
    sha256 = models.CharField(max_length=64, blank=True, default="")
    layouts = models.JSONField(default=dict)  # sheet -> layout
    periods = models.JSONField(default=list)
    divisions = models.JSONField(default=list)
    source = models.CharField(_("数据来源"), max_length=200, blank=True, default="")
    generated = models.BooleanField(_("生成的演示数据"), default=False)
    created = models.IntegerField(default=0)
    replaced = models.IntegerField(default=0)
    unchanged = models.IntegerField(default=0)
    warnings = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_by_label = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name or self.kind}"


class IndicatorValue(models.Model):
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="values")
    division_code = models.CharField(_("区划代码"), max_length=6)
    period = models.CharField(_("统计期"), max_length=10)  # 2024 | 2024Q3 | 2024-09
    period_kind = models.CharField(max_length=10, choices=Frequency.choices)
    value = models.DecimalField(_("数值"), max_digits=20, decimal_places=4)
    job = models.ForeignKey(ImportJob, on_delete=models.PROTECT, related_name="values")
    cell = models.CharField(_("来源单元格"), max_length=80, blank=True, default="")  # Sheet1!C5
    generated = models.BooleanField(_("生成的演示数据"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["indicator", "period", "division_code"]
        verbose_name = _("指标数值")
        verbose_name_plural = _("指标数值")
        constraints = [
            models.UniqueConstraint(fields=["indicator", "division_code", "period"], name="uniq_indicator_value"),
        ]
        indexes = [models.Index(fields=["indicator", "division_code", "period"], name="econ_value_series")]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.division_code} {self.period} = {self.value}"


class IndicatorValueHistory(models.Model):
    """A value replaced by a later import: what it was, where it came from, which import replaced it."""

    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="history")
    division_code = models.CharField(max_length=6)
    period = models.CharField(max_length=10)
    value = models.DecimalField(max_digits=20, decimal_places=4)
    job = models.ForeignKey(ImportJob, on_delete=models.PROTECT, related_name="+")
    cell = models.CharField(max_length=80, blank=True, default="")
    generated = models.BooleanField(default=False)
    replaced_by = models.ForeignKey(ImportJob, on_delete=models.PROTECT, related_name="replacements")
    replaced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["indicator", "division_code", "period", "replaced_at"]
        indexes = [models.Index(fields=["indicator", "division_code", "period"], name="econ_history_series")]
