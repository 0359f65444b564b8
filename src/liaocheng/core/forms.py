"""Forms of the core pages. They only shape input; the services validate and decide.

A ``DomainError`` raised by a service is shown next to the field it names, in the active language
(:func:`add_domain_error`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .errors import DomainError


def in_active_language(message_zh: str, message_en: str) -> str:
    """Pick the message for the active language (Chinese unless English is active)."""
    return message_en if (get_language() or "").startswith("en") else message_zh


def domain_message(exc: DomainError) -> str:
    return in_active_language(exc.message_zh, exc.message_en)


def split_bilingual(text: str) -> str:
    """Services phrase some notes as ``"中文 / English"``; keep the half for the active language."""
    zh, sep, en = text.partition(" / ")
    return in_active_language(zh, en) if sep else text


def add_domain_error(form: forms.Form, exc: DomainError, field_map: dict[str, str] | None = None) -> None:
    """Attach a service's error to the form field it names (or to the form as a whole)."""
    field = (field_map or {}).get(exc.field or "", exc.field)
    form.add_error(field if field in form.fields else None, domain_message(exc))


class SiteForm(forms.Form):
    """Gives every input the site's CSS class (Django adds aria-invalid and aria-describedby)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "input")


class LoginForm(SiteForm):
    username = forms.CharField(label=_("用户名"), max_length=150,
                               widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}))
    password = forms.CharField(label=_("密码"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    totp = forms.CharField(
        label=_("动态口令"), required=False, max_length=8,
        help_text=_("工作人员填写身份验证器中的6位动态口令；市民和企业无需填写。"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "pattern": "[0-9]*"}),
    )


class TotpConfirmForm(SiteForm):
    code = forms.CharField(
        label=_("动态口令"), max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "pattern": "[0-9]*", "autofocus": True}),
    )


class _RegistrationForm(SiteForm):
    username = forms.CharField(label=_("用户名"), max_length=150,
                               widget=forms.TextInput(attrs={"autocomplete": "username"}))
    password = forms.CharField(
        label=_("密码"), strip=False, help_text=_("至少8位，不能全为数字，不能与用户名相近。"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(label=_("确认密码"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", _("两次输入的密码不一致"))
        return data


class CitizenRegistrationForm(_RegistrationForm):
    real_name = forms.CharField(label=_("姓名"), max_length=50,
                                widget=forms.TextInput(attrs={"autocomplete": "name"}))
    id_number = forms.CharField(label=_("居民身份证号"), max_length=18,
                                help_text=_("18位，按 GB 11643 校验。"),
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))
    phone = forms.CharField(label=_("手机号"), max_length=20,
                            widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))

    field_order = ["username", "password", "password2", "real_name", "id_number", "phone"]


class EnterpriseRegistrationForm(_RegistrationForm):
    organisation_name = forms.CharField(label=_("单位名称"), max_length=200,
                                        widget=forms.TextInput(attrs={"autocomplete": "organization"}))
    credit_code = forms.CharField(label=_("统一社会信用代码"), max_length=18,
                                  help_text=_("18位，按 GB 32100 校验。"),
                                  widget=forms.TextInput(attrs={"autocomplete": "off"}))
    contact_name = forms.CharField(label=_("联系人姓名"), max_length=50,
                                   widget=forms.TextInput(attrs={"autocomplete": "name"}))
    phone = forms.CharField(label=_("联系电话"), max_length=20,
                            widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))

    field_order = ["username", "password", "password2", "organisation_name", "credit_code", "contact_name",
                   "phone"]


class DivisionForm(SiteForm):
    """Name and point of a division (the point only for townships and villages)."""

    name = forms.CharField(label=_("名称"), max_length=60)
    lon = forms.FloatField(label=_("经度 (GCJ-02)"), required=False, min_value=-180, max_value=180,
                           widget=forms.NumberInput(attrs={"step": "any"}))
    lat = forms.FloatField(label=_("纬度 (GCJ-02)"), required=False, min_value=-90, max_value=90,
                           widget=forms.NumberInput(attrs={"step": "any"}))

    def __init__(self, *args: Any, point_editable: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not point_editable:
            del self.fields["lon"]
            del self.fields["lat"]


# --- staff administration, audit log, working calendar ------------------------------------------------

Choices = Sequence[tuple[str, Any]]


def _set_options(field: forms.Field, choices: Choices) -> None:
    """The options a select shows (validation is left to the service, which checks permission)."""
    widget = field.widget
    assert isinstance(widget, forms.Select)
    widget.choices = list(choices)


class StaffCreateForm(SiteForm):
    """A new staff account. The department is offered from the user's scope; the service decides."""

    username = forms.CharField(label=_("用户名"), max_length=150,
                               widget=forms.TextInput(attrs={"autocomplete": "off"}))
    password = forms.CharField(
        label=_("初始密码"), strip=False, help_text=_("至少8位，不能全为数字，不能与用户名相近。请当面告知本人。"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    real_name = forms.CharField(label=_("姓名"), max_length=50, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    department = forms.CharField(label=_("部门"), widget=forms.Select())
    phone = forms.CharField(label=_("手机号"), max_length=20, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}))
    id_number = forms.CharField(label=_("居民身份证号"), max_length=18, required=False,
                                help_text=_("18位，按 GB 11643 校验。"),
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def __init__(self, *args: Any, departments: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_options(self.fields["department"], [("", "—————"), *departments])


class GrantForm(SiteForm):
    """A role within a scope; only the scopes the acting user covers are offered."""

    role = forms.CharField(label=_("角色"), widget=forms.Select())
    scope_division = forms.CharField(label=_("授权范围"), max_length=15, widget=forms.Select())

    def __init__(self, *args: Any, roles: Choices = (), scopes: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_options(self.fields["role"], roles)
        _set_options(self.fields["scope_division"], scopes)


class AuditFilterForm(SiteForm):
    action = forms.CharField(label=_("操作"), required=False, max_length=80, widget=forms.Select())
    actor = forms.CharField(label=_("操作人"), required=False, max_length=150)
    object_id = forms.CharField(label=_("对象编号"), required=False, max_length=64)
    date_from = forms.DateField(label=_("起始日期"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = forms.DateField(label=_("截止日期"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args: Any, actions: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_options(self.fields["action"], [("", _("全部操作")), *actions])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("截止日期不能早于起始日期"))
        return data


class CalendarOverrideForm(SiteForm):
    date = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    is_workday = forms.TypedChoiceField(
        label=_("该日为"), coerce=lambda value: value == "1",
        choices=[("1", _("工作日")), ("0", _("休息日"))],
    )
    note = forms.CharField(label=_("说明"), max_length=100, required=False,
                           help_text=_("如：国务院办公厅关于某年部分节假日安排的通知"))


class DeadlineForm(SiteForm):
    """The deadline calculator: a start moment plus N working days or hours."""

    UNIT_DAYS = "days"
    UNIT_HOURS = "hours"

    start = forms.DateTimeField(
        label=_("起始时间"), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    amount = forms.DecimalField(label=_("时限"), min_value=0, max_value=1000, max_digits=6, decimal_places=1,
                                widget=forms.NumberInput(attrs={"step": "0.5"}))
    unit = forms.ChoiceField(label=_("单位"), choices=[(UNIT_DAYS, _("个工作日")), (UNIT_HOURS, _("个工作小时"))])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        amount = data.get("amount")
        if amount is not None and data.get("unit") == self.UNIT_DAYS and amount != int(amount):
            self.add_error("amount", _("工作日数应为整数"))
        return data
