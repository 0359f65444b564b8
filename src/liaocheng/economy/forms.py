"""Forms of the macro-economy pages. They only shape input; the services validate and decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from liaocheng.core.forms import SiteForm

from .periods import CITY, COUNTIES_NOW

MAX_UPLOAD = 10 * 1024 * 1024


def _division_choices(names: dict[str, str]) -> list[tuple[str, str]]:
    return [(code, names.get(code, code)) for code in (CITY, *COUNTIES_NOW)]


class ChartForm(SiteForm):
    period = forms.ChoiceField(label=_("统计期"), required=False)
    divisions = forms.MultipleChoiceField(label=_("折线图地区"), required=False,
                                          widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, periods: list[str], names: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        period_field = self.fields["period"]
        assert isinstance(period_field, forms.ChoiceField)
        period_field.choices = [(p, p) for p in reversed(periods)]
        divisions_field = self.fields["divisions"]
        assert isinstance(divisions_field, forms.MultipleChoiceField)
        divisions_field.choices = _division_choices(names)
        divisions_field.widget.attrs["class"] = "checkbox-list"


class ImportForm(SiteForm):
    file = forms.FileField(
        label=_("Excel 文件（.xlsx）"),
        help_text=_("支持三种版式：各县（市、区）为列、指标为行；各指标为列、地区为行；各年份为列（单一地区的时间序列）。"),
        widget=forms.ClearableFileInput(attrs={
            "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}),
    )
    period = forms.CharField(
        label=_("统计期"), required=False, max_length=20,
        help_text=_("如 2024、2024Q3、2024-09；不填时取标题中的年份（如“2024年聊城市……”）。时间序列表不需要。"),
    )
    division = forms.ChoiceField(label=_("地区（时间序列表）"), required=False,
                                 help_text=_("时间序列表所属地区；不填时取标题中的地区名称。"))
    source = forms.CharField(label=_("数据来源"), required=False, max_length=200,
                             help_text=_("如：聊城市统计局《2024年聊城市国民经济和社会发展统计公报》"))

    def __init__(self, *args: Any, names: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        division_field = self.fields["division"]
        assert isinstance(division_field, forms.ChoiceField)
        division_field.choices = [("", "—"), *_division_choices(names)]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("文件不能超过10MB"))
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("请上传 .xlsx 格式的 Excel 文件"))
        return upload
