"""Forms of the base-database pages. They only shape input; the services validate, check permission and the
authority of the source department, and their ``DomainError`` is shown next to the field it names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from liaocheng.core.forms import SiteForm

from . import codes
from .models import EntityStatus, EntityType, PersonStatus

Choices = Sequence[tuple[str, Any]]
MAX_UPLOAD_BYTES = 2 * 1024 ** 3  # a city-wide household register extract is about 1 GB
DATE_WIDGET = {"type": "date"}
UNCHANGED = ("", _("（不变）"))


def _date_field(label: Any, *, required: bool = True, help_text: Any = "") -> forms.DateField:
    return forms.DateField(label=label, required=required, help_text=help_text,
                           widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"))


def _code_choices(table: dict[str, str]) -> list[tuple[str, str]]:
    return [(code, f"{code} {name}") for code, name in table.items()]


def industry_choices() -> list[tuple[Any, Any]]:
    """GB/T 4754-2017 sections, each followed by its divisions (an optgroup per section)."""
    groups: list[tuple[Any, Any]] = []
    for section, name in codes.INDUSTRY_SECTIONS.items():
        options = [(section, f"{section} {name}")]
        options += [(f"{section}{div}", f"{section}{div} {label}") for div, label in codes.INDUSTRY_DIVISIONS.items()
                    if codes.section_of_division(div) == section]
        groups.append((f"{section} {name}", options))
    return groups


def _set_choices(field: forms.Field, choices: Choices) -> None:
    assert isinstance(field, forms.ChoiceField)
    field.choices = list(choices)


# --- population ------------------------------------------------------------------------------------------------

class IdLookupForm(SiteForm):
    """Exact lookup by ID number: posted, so the number never appears in a URL or an access log."""

    id_number = forms.CharField(label=_("公民身份号码"), max_length=18, min_length=15,
                                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                                              "placeholder": _("18位身份证号")}))


class PersonSearchForm(SiteForm):
    """Current residents by name within a county, township, community or grid."""

    name = forms.CharField(label=_("姓名"), required=False, max_length=50,
                           help_text=_("可只填姓或名字的开头；不填则列出该区域的全部人口。"))
    county = forms.ChoiceField(label=_("县（市、区）"), required=False)
    code = forms.RegexField(label=_("乡镇/社区/网格代码"), required=False, regex=r"^\d{9}$|^\d{12}$|^\d{15}$",
                            help_text=_("9位乡镇、12位社区/村或15位网格编码；填写后代替上面的县（市、区）。"),
                            error_messages={"invalid": _("应为9位乡镇、12位社区/村代码或15位网格编码")},
                            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))

    def __init__(self, *args: Any, counties: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self.fields["county"], [("", _("全部（授权范围内）")), *counties])

    def area(self) -> str:
        data = self.cleaned_data
        return str(data.get("code") or data.get("county") or "")


class ResidentsForm(SiteForm):
    """Who lived in a grid, community, township or county on a date (``services.residents_at``)."""

    code = forms.RegexField(label=_("网格或区划代码"), regex=r"^(\d{6}|\d{9}|\d{12}|\d{15})$",
                            help_text=_("15位网格编码、12位社区/村、9位乡镇或6位县级代码。"),
                            error_messages={"invalid": _("应为6/9/12位区划代码或15位网格编码")},
                            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    date = _date_field(_("日期"))


class PersonChangeForm(SiteForm):
    """An effective-dated change; fields left blank stay as they are."""

    effective_date = _date_field(_("生效日期"), help_text=_("变更自该日起生效；不能早于当前版本的生效日期。"))
    name = forms.CharField(label=_("姓名"), required=False, max_length=50)
    ethnic = forms.ChoiceField(label=_("民族"), required=False)
    hukou_division = forms.CharField(label=_("户籍地区划代码"), required=False, max_length=12)
    household_number = forms.CharField(label=_("户号"), required=False, max_length=20)
    relationship = forms.ChoiceField(label=_("与户主关系"), required=False)
    residence_address = forms.CharField(label=_("居住地址"), required=False, max_length=200)
    grid_code = forms.CharField(label=_("居住网格"), required=False, max_length=15,
                                help_text=_("15位网格编码；或填写下面的经纬度，由平台定位到网格。"))
    lon = forms.FloatField(label=_("经度 (GCJ-02)"), required=False, min_value=-180, max_value=180,
                           widget=forms.NumberInput(attrs={"step": "any"}))
    lat = forms.FloatField(label=_("纬度 (GCJ-02)"), required=False, min_value=-90, max_value=90,
                           widget=forms.NumberInput(attrs={"step": "any"}))
    marital_status = forms.ChoiceField(label=_("婚姻状况"), required=False)
    status = forms.ChoiceField(label=_("人口状态"), required=False)
    phone = forms.CharField(label=_("联系电话"), required=False, max_length=20,
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))
    reason = forms.CharField(label=_("变更说明"), required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self.fields["ethnic"], [UNCHANGED, *_code_choices(codes.ETHNIC_GROUPS)])
        _set_choices(self.fields["relationship"], [UNCHANGED, *_code_choices(codes.RELATIONSHIPS)])
        _set_choices(self.fields["marital_status"], [UNCHANGED, *_code_choices(codes.MARITAL_STATUS)])
        _set_choices(self.fields["status"], [UNCHANGED, *PersonStatus.choices])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("lon") is None) != (data.get("lat") is None):
            self.add_error("lat" if data.get("lon") is not None else "lon", _("经度和纬度须同时填写"))
        return data

    def changes(self) -> dict[str, Any]:
        """The fields filled in, as ``services.change_person`` takes them. A new grid or point replaces the old
        place whole (a point left blank with a new grid is cleared)."""
        data = self.cleaned_data
        out: dict[str, Any] = {}
        for name in ("name", "ethnic", "hukou_division", "household_number", "relationship", "marital_status",
                     "status", "phone"):
            value = data.get(name)
            if value not in (None, ""):
                out[name] = value
        if data.get("residence_address"):
            out["residence_address"] = data["residence_address"]
        if data.get("grid_code") or data.get("lon") is not None:
            out["grid_code"] = data.get("grid_code") or ""
            out["lon"], out["lat"] = data.get("lon"), data.get("lat")
        return out


# --- legal entities ----------------------------------------------------------------------------------------------

class EntitySearchForm(SiteForm):
    credit_code = forms.CharField(label=_("统一社会信用代码"), required=False, max_length=18,
                                  widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    name = forms.CharField(label=_("名称（开头）"), required=False, max_length=100)
    industry = forms.ChoiceField(label=_("行业"), required=False)
    county = forms.ChoiceField(label=_("县（市、区）"), required=False)
    status = forms.ChoiceField(label=_("登记状态"), required=False)

    def __init__(self, *args: Any, counties: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self.fields["industry"], [("", _("全部行业")), *industry_choices()])
        _set_choices(self.fields["county"], [("", _("全部（授权范围内）")), *counties])
        _set_choices(self.fields["status"], [("", _("全部状态")), *EntityStatus.choices])


class EntityChangeForm(SiteForm):
    effective_date = _date_field(_("生效日期"), help_text=_("变更自该日起生效；不能早于当前版本的生效日期。"))
    name = forms.CharField(label=_("名称"), required=False, max_length=200)
    entity_type = forms.ChoiceField(label=_("单位类型"), required=False)
    legal_representative = forms.CharField(label=_("法定代表人"), required=False, max_length=50)
    registered_capital = forms.DecimalField(label=_("注册资本（万元）"), required=False, min_value=0, max_digits=18,
                                            decimal_places=4)
    industry_code = forms.ChoiceField(label=_("行业代码"), required=False)
    address = forms.CharField(label=_("住所"), required=False, max_length=200)
    grid_code = forms.CharField(label=_("所在网格"), required=False, max_length=15,
                                help_text=_("15位网格编码；或填写经纬度，由平台定位到网格。"))
    lon = forms.FloatField(label=_("经度 (GCJ-02)"), required=False, min_value=-180, max_value=180,
                           widget=forms.NumberInput(attrs={"step": "any"}))
    lat = forms.FloatField(label=_("纬度 (GCJ-02)"), required=False, min_value=-90, max_value=90,
                           widget=forms.NumberInput(attrs={"step": "any"}))
    status = forms.ChoiceField(label=_("登记状态"), required=False)
    registering_authority = forms.CharField(label=_("登记机关"), required=False, max_length=100)
    changed_date = _date_field(_("变更日期"), required=False, help_text=_("登记机关核准变更的日期。"))
    reason = forms.CharField(label=_("变更说明"), required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self.fields["entity_type"], [UNCHANGED, *EntityType.choices])
        _set_choices(self.fields["industry_code"], [UNCHANGED, *industry_choices()])
        _set_choices(self.fields["status"], [UNCHANGED, *EntityStatus.choices])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("lon") is None) != (data.get("lat") is None):
            self.add_error("lat" if data.get("lon") is not None else "lon", _("经度和纬度须同时填写"))
        return data

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        out: dict[str, Any] = {}
        for name in ("name", "entity_type", "legal_representative", "industry_code", "address", "status",
                     "registering_authority"):
            if data.get(name):
                out[name] = data[name]
        if data.get("registered_capital") is not None:
            out["registered_capital"] = str(data["registered_capital"])
        if data.get("changed_date"):
            out["changed_date"] = data["changed_date"].isoformat()
        if data.get("grid_code"):
            out["grid_code"] = data["grid_code"]
        if data.get("lon") is not None:
            out["lon"], out["lat"] = data["lon"], data["lat"]
        return out


# --- imports -----------------------------------------------------------------------------------------------------

KIND_CHOICES = [("population", _("人口基础库")), ("entities", _("法人单位基础库"))]


class UploadForm(SiteForm):
    kind = forms.ChoiceField(label=_("导入到"), choices=KIND_CHOICES, widget=forms.RadioSelect)
    file = forms.FileField(
        label=_("文件（CSV 或 XLSX）"),
        help_text=_("第一行为表头（中文或英文列名）；CSV 可为 UTF-8、GBK 或 GB18030 编码。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-"
                                                         "officedocument.spreadsheetml.sheet"}))
    source_department = forms.ChoiceField(label=_("来源部门"), required=False,
                                          help_text=_("全市数据管理员可代其他部门导入；不选则为本人所在部门。"))
    batch_size = forms.IntegerField(label=_("每批行数"), min_value=1, max_value=100_000, initial=10_000,
                                    help_text=_("一批中有任何错误行时，整批不写入，其余批次照常导入。"))

    def __init__(self, *args: Any, departments: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].widget.attrs["class"] = "radio-list"
        if departments:
            _set_choices(self.fields["source_department"], [("", _("本人所在部门")), *departments])
        else:
            del self.fields["source_department"]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("文件不能超过2GB"))
        if not upload.name.lower().endswith((".csv", ".xlsx", ".txt")):
            raise forms.ValidationError(_("请上传 .csv 或 .xlsx 文件"))
        return upload


class ResumeForm(SiteForm):
    file = forms.FileField(
        label=_("改正后的文件（可选）"), required=False,
        help_text=_("不上传则用原文件重试；已写入的批次不会重复写入。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}))

    def clean_file(self) -> Any:
        upload = self.cleaned_data.get("file")
        if upload is None:
            return None
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("文件不能超过2GB"))
        if not upload.name.lower().endswith((".csv", ".xlsx", ".txt")):
            raise forms.ValidationError(_("请上传 .csv 或 .xlsx 文件"))
        return upload
