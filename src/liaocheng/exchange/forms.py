"""Forms of the exchange pages. They only shape input; the services validate and decide."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from liaocheng.core.forms import SiteForm

from .models import SharingClass, Theme, UpdateFrequency
from .services import FieldInfo

Choices = Sequence[tuple[str, Any]]


def _choices(field: forms.Field, choices: Choices) -> None:
    assert isinstance(field, forms.ChoiceField)
    field.choices = list(choices)


class ResourceEditForm(SiteForm):
    """The owner's entry: description, sharing, update frequency, open data; one row per field."""

    description = forms.CharField(label=_("资源摘要"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    sharing_class = forms.ChoiceField(label=_("共享类型"), choices=SharingClass.choices)
    update_frequency = forms.ChoiceField(label=_("更新周期"), choices=UpdateFrequency.choices)
    is_open = forms.BooleanField(label=_("向社会开放（开放数据）"), required=False)
    theme = forms.ChoiceField(label=_("开放主题"), required=False, choices=[("", "—————"), *Theme.choices])
    tags = forms.CharField(label=_("标签"), required=False, max_length=400,
                           help_text=_("多个标签用逗号分隔。"))

    def __init__(self, *args: Any, fields_info: Sequence[FieldInfo] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["is_open"].widget.attrs["class"] = ""
        self.rows: list[dict[str, Any]] = []
        for info in fields_info:
            offered = forms.BooleanField(label=_("提供"), required=False, initial=info.offered)
            sharing = forms.ChoiceField(label=_("共享类型"), choices=SharingClass.choices,
                                        initial=info.sharing_class if info.offered else SharingClass.CONDITIONAL)
            opened = forms.BooleanField(label=_("开放"), required=False, initial=info.open,
                                        disabled=bool(info.personal))
            self.fields[f"offered__{info.name}"] = offered
            self.fields[f"sharing__{info.name}"] = sharing
            self.fields[f"open__{info.name}"] = opened
            sharing.widget.attrs["class"] = "input"
            self.rows.append({"info": info, "offered": f"offered__{info.name}", "sharing": f"sharing__{info.name}",
                              "open": f"open__{info.name}"})

    def bound_rows(self) -> list[dict[str, Any]]:
        return [{"info": r["info"], "offered": self[r["offered"]], "sharing": self[r["sharing"]],
                 "open": self[r["open"]]} for r in self.rows]

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        offered = [r["info"].name for r in self.rows if data.get(r["offered"])]
        return {
            "description": data["description"],
            "sharing_class": data["sharing_class"],
            "update_frequency": data["update_frequency"],
            "is_open": bool(data["is_open"]),
            "theme": data["theme"],
            "tags": [t for t in data["tags"].replace("，", ",").split(",") if t.strip()],
            "fields_offered": offered,
            "field_sharing": {r["info"].name: data[r["sharing"]] for r in self.rows if r["info"].name in offered},
            "open_fields": [r["info"].name for r in self.rows if data.get(r["open"]) and not r["info"].personal],
        }


class ApplyForm(SiteForm):
    consumer = forms.ChoiceField(label=_("接入系统"), help_text=_("数据将提供给哪个系统使用。"))
    requested = forms.MultipleChoiceField(label=_("申请的信息项"), widget=forms.CheckboxSelectMultiple)
    want_clear = forms.MultipleChoiceField(
        label=_("需要明文的个人信息项"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("个人信息默认脱敏提供；确需明文的，请勾选并在依据中说明。"),
    )
    purpose = forms.CharField(label=_("用途"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    legal_basis = forms.CharField(label=_("依据"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text=_("法律、法规、规章或政策文件名称及条款。"))

    def __init__(self, *args: Any, consumers: Choices = (), fields: Choices = (), personal: Choices = (),
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self.fields["consumer"], [("", "—————"), *consumers])
        _choices(self.fields["requested"], fields)
        _choices(self.fields["want_clear"], personal)
        self.fields["requested"].widget.attrs["class"] = "check-input"
        self.fields["want_clear"].widget.attrs["class"] = "check-input"


class DecisionForm(forms.Form):
    """One row per pending field: approve / reject / leave pending, clear values, reason."""

    CHOICES = [("", _("暂不处理")), ("approve", _("批准")), ("reject", _("驳回"))]

    def __init__(self, *args: Any, items: Sequence[Any] = (), personal: set[str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows: list[dict[str, Any]] = []
        for item in items:
            name = item.field_name
            self.fields[f"decision__{name}"] = forms.ChoiceField(
                label=_("决定"), choices=self.CHOICES, required=False, widget=forms.RadioSelect)
            self.fields[f"reason__{name}"] = forms.CharField(
                label=_("理由"), required=False, max_length=2000, widget=forms.TextInput(attrs={"class": "input"}))
            row = {"item": item, "decision": f"decision__{name}", "reason": f"reason__{name}", "clear": None}
            if personal is not None and name in personal:
                self.fields[f"clear__{name}"] = forms.BooleanField(label=_("准予明文"), required=False)
                row["clear"] = f"clear__{name}"
            self.rows.append(row)

    def bound_rows(self) -> list[dict[str, Any]]:
        return [{"item": r["item"], "decision": self[r["decision"]], "reason": self[r["reason"]],
                 "clear": self[r["clear"]] if r["clear"] else None} for r in self.rows]


class ConsumerSystemForm(SiteForm):
    department = forms.ChoiceField(label=_("所属部门"))
    code = forms.CharField(label=_("系统编码"), max_length=64,
                           help_text=_("3–64位小写字母、数字、点、下划线或连字符，如 rsj-shebao。"))
    name = forms.CharField(label=_("系统名称"), max_length=100)

    def __init__(self, *args: Any, departments: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self.fields["department"], departments)


class ReasonForm(SiteForm):
    reason = forms.CharField(label=_("理由"), required=False, max_length=2000)


class SubscribeForm(SiteForm):
    resource = forms.ChoiceField(label=_("资源"))

    def __init__(self, *args: Any, resources: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self.fields["resource"], resources)


class LogFilterForm(SiteForm):
    resource = forms.CharField(label=_("资源编码"), required=False, max_length=100)
    consumer = forms.CharField(label=_("接入系统"), required=False, max_length=64)
    key = forms.CharField(label=_("记录标识"), required=False, max_length=200,
                          help_text=_("按记录主键（如身份证号）精确查找，谁读取过该记录。"))
    status = forms.ChoiceField(label=_("结果"), required=False,
                               choices=[("", _("全部")), ("ok", _("成功")), ("refused", _("拒绝或出错"))])
    date_from = forms.DateField(label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
