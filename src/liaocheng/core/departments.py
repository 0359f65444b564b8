"""The city's and counties' departments (the demo and default organisation chart).

Codes are ``<division code>-<kind>``, e.g. ``371522-public_security`` for 莘县公安局.
"""

from __future__ import annotations

from dataclasses import dataclass

CITY = ("371500", "聊城市")
COUNTIES = [
    ("371502", "东昌府区"), ("371503", "茌平区"), ("371521", "阳谷县"), ("371522", "莘县"),
    ("371524", "东阿县"), ("371525", "冠县"), ("371526", "高唐县"), ("371581", "临清市"),
]

# kind -> (city-level name, county-level name pattern or None when the city level only)
KINDS: dict[str, tuple[str, str | None]] = {
    "party_government_office": ("聊城市人民政府办公室", "{c}人民政府办公室"),
    "public_security": ("聊城市公安局", "{c}公安局"),
    "traffic_police": ("聊城市公安局交通警察支队", "{c}公安局交通警察大队"),
    "fire_rescue": ("聊城市消防救援支队", "{c}消防救援大队"),
    "health": ("聊城市卫生健康委员会", "{c}卫生健康局"),
    "emergency_medical": ("聊城市急救中心（120）", None),
    "urban_management": ("聊城市城市管理局", "{c}综合行政执法局"),
    "housing_construction": ("聊城市住房和城乡建设局", "{c}住房和城乡建设局"),
    "water": ("聊城市水利局", "{c}水利局"),
    "power": ("国网聊城供电公司", "国网{c}供电公司"),
    "gas": ("聊城市燃气热力事务中心", "{c}燃气热力服务中心"),
    "market_regulation": ("聊城市市场监督管理局", "{c}市场监督管理局"),
    "tax": ("国家税务总局聊城市税务局", "国家税务总局{c}税务局"),
    "human_resources_social_security": ("聊城市人力资源和社会保障局", "{c}人力资源和社会保障局"),
    "civil_affairs": ("聊城市民政局", "{c}民政局"),
    "agriculture_rural": ("聊城市农业农村局", "{c}农业农村局"),
    "culture_tourism": ("聊城市文化和旅游局", "{c}文化和旅游局"),
    "big_data": ("聊城市大数据局", "{c}大数据中心"),
    "development_reform": ("聊城市发展和改革委员会", "{c}发展和改革局"),
    "emergency_management": ("聊城市应急管理局", "{c}应急管理局"),
    "ecology_environment": ("聊城市生态环境局", "聊城市生态环境局{c}分局"),
    "natural_resources": ("聊城市自然资源和规划局", "{c}自然资源局"),
    "statistics": ("聊城市统计局", "{c}统计局"),
    "housing_provident_fund": ("聊城市住房公积金管理中心", "聊城市住房公积金管理中心{c}管理部"),
    "administrative_approval": ("聊城市行政审批服务局", "{c}行政审批服务局"),
    "hotline_12345": ("聊城市12345政务服务便民热线", None),
    "education_sports": ("聊城市教育和体育局", "{c}教育和体育局"),
    "transport": ("聊城市交通运输局", "{c}交通运输局"),
}


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str
    kind: str
    level: str
    division_code: str
    parent_code: str | None


def department_code(division_code: str, kind: str) -> str:
    return f"{division_code}-{kind}"


def all_departments() -> list[DepartmentSpec]:
    specs: list[DepartmentSpec] = []
    for kind, (city_name, county_pattern) in KINDS.items():
        city_code = department_code(CITY[0], kind)
        specs.append(DepartmentSpec(city_code, city_name, kind, "city", CITY[0], None))
        if county_pattern:
            for code, name in COUNTIES:
                specs.append(
                    DepartmentSpec(department_code(code, kind), county_pattern.format(c=name), kind, "county",
                                   code, city_code)
                )
    return specs
