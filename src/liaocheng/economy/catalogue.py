"""The shipped indicator catalogue (main indicators of the statistical yearbook and monthly bulletins)."""

from __future__ import annotations

from dataclasses import dataclass, field

from liaocheng.core.departments import department_code

_STATS = department_code("371500", "statistics")
_FINANCE = department_code("371500", "development_reform")


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    frequency: str
    public: bool
    additive: bool
    description: str
    aliases: list[str] = field(default_factory=list)
    decimals: int = 2
    source_department: str = _STATS


CATALOGUE: list[IndicatorSpec] = [
    IndicatorSpec("gdp", "地区生产总值", "Gross regional product (GDP)", "亿元", "100 million yuan", "quarterly",
                  True, True, "按当年价格计算的地区生产总值。 / GDP at current prices.",
                  ["地区生产总值(GDP)", "生产总值", "GDP", "地区生产总值(现价)", "生产总值(GDP)"]),
    IndicatorSpec("gdp_primary", "第一产业增加值", "Value added of the primary industry", "亿元", "100 million yuan",
                  "quarterly", True, True,
                  "农、林、牧、渔业增加值。 / Agriculture, forestry, animal husbandry and fishery.",
                  ["第一产业", "第一产业增加值(现价)"]),
    IndicatorSpec("gdp_secondary", "第二产业增加值", "Value added of the secondary industry", "亿元",
                  "100 million yuan", "quarterly", True, True, "工业和建筑业增加值。 / Industry and construction.",
                  ["第二产业", "第二产业增加值(现价)"]),
    IndicatorSpec("gdp_tertiary", "第三产业增加值", "Value added of the tertiary industry", "亿元",
                  "100 million yuan", "quarterly", True, True, "服务业增加值。 / Services.",
                  ["第三产业", "第三产业增加值(现价)"]),
    IndicatorSpec("gdp_growth", "地区生产总值增长率", "GDP growth (constant prices)", "%", "%", "quarterly", False,
                  False, "按可比价格计算，比上年同期增长。 / Year-on-year, at constant prices.",
                  ["地区生产总值增速", "地区生产总值比上年增长", "GDP增速", "生产总值增长", "地区生产总值增长"], 1),
    IndicatorSpec("per_capita_gdp", "人均地区生产总值", "GDP per capita", "元", "yuan", "yearly", True, False,
                  "地区生产总值除以年平均常住人口。 / GDP divided by the average resident population.",
                  ["人均生产总值", "人均GDP"], 0),
    IndicatorSpec("industrial_growth", "规模以上工业增加值增长率", "Growth of industrial value added above designated "
                  "size", "%", "%", "monthly", False, False,
                  "规模以上工业企业增加值，比上年同期增长（可比价）。 / Year-on-year, constant prices.",
                  ["规模以上工业增加值增长", "规模以上工业增加值增速", "规上工业增加值增长"], 1),
    IndicatorSpec("fai_growth", "固定资产投资增长率", "Growth of fixed-asset investment", "%", "%", "monthly", False,
                  False, "固定资产投资（不含农户）比上年同期增长。 / Excluding rural households, year-on-year.",
                  ["固定资产投资增长", "固定资产投资增速", "固定资产投资(不含农户)增长", "固定资产投资比上年增长",
                   "固定资产投资(不含农户)比上年增长"], 1),
    IndicatorSpec("retail_sales", "社会消费品零售总额", "Total retail sales of consumer goods", "亿元",
                  "100 million yuan", "monthly", True, True,
                  "社会消费品零售总额。 / Total retail sales of consumer goods.",
                  ["社会消费品零售额", "社零额"]),
    IndicatorSpec("budget_revenue", "一般公共预算收入", "General public budget revenue", "亿元", "100 million yuan",
                  "monthly", True, True,
                  "地方一般公共预算收入（市本级与各县合计）。 / Local general public budget revenue.",
                  ["地方一般公共预算收入", "一般公共预算收入(地方)", "一般预算收入"], 2, _FINANCE),
    IndicatorSpec("budget_expenditure", "一般公共预算支出", "General public budget expenditure", "亿元",
                  "100 million yuan", "monthly", False, True, "一般公共预算支出。 / General public budget expenditure.",
                  ["地方一般公共预算支出", "一般预算支出"], 2, _FINANCE),
    IndicatorSpec("trade_total", "货物进出口总额", "Total imports and exports of goods", "亿元", "100 million yuan",
                  "monthly", False, True, "按人民币计价。 / In yuan.", ["进出口总额", "外贸进出口总额"]),
    IndicatorSpec("urban_income", "城镇居民人均可支配收入", "Per-capita disposable income of urban residents", "元",
                  "yuan", "quarterly", True, False, "城镇常住居民。 / Urban resident households.",
                  ["城镇常住居民人均可支配收入", "城镇居民人均可支配收入"], 0),
    IndicatorSpec("rural_income", "农村居民人均可支配收入", "Per-capita disposable income of rural residents", "元",
                  "yuan", "quarterly", True, False, "农村常住居民。 / Rural resident households.",
                  ["农村常住居民人均可支配收入", "农民人均可支配收入"], 0),
    IndicatorSpec("population", "年末常住人口", "Resident population at year end", "万人", "10,000 people", "yearly",
                  True, True, "年末常住人口。 / Resident population at the end of the year.",
                  ["常住人口", "年末常住人口数"]),
    IndicatorSpec("urbanization", "常住人口城镇化率", "Urbanisation rate of the resident population", "%", "%",
                  "yearly", False, False, "城镇常住人口占常住人口比重。 / Urban share of the resident population.",
                  ["城镇化率", "常住人口城镇化率"], 1),
]

# unit as written in a table -> the catalogue unit it converts to, by factor
UNIT_FACTORS: dict[tuple[str, str], str] = {
    ("万元", "亿元"): "0.0001", ("亿元", "万元"): "10000", ("元", "万元"): "0.0001", ("万元", "元"): "10000",
    ("元", "亿元"): "0.00000001", ("亿元", "元"): "100000000", ("人", "万人"): "0.0001", ("万人", "人"): "10000",
}
UNIT_ALIASES: dict[str, str] = {"％": "%", "百分比": "%", "比上年增长%": "%", "增长%": "%", "元/人": "元",
                                "人民币亿元": "亿元", "万人口": "万人"}
