"""Shipped incident types (GB/T 35561-2017 突发事件分类与编码) and default response plans.

Loaded by ``intake.load_incident_types`` (``liaocheng load_incident_types``): rows that do not exist yet are
created, existing rows (edited names, departments, priorities, plans) are never overwritten.

The text of the standard was not available: the codes follow the structure used in deployed code tables
(``shared/reference/emergency.md``): ``1`` + class digit + sub-class letter (I and O skipped, Y other,
``0`` the whole class) + two digits (``00`` the whole sub-class, ``99`` other). The table holds the four
classes, every sub-class and the details relevant to Liaocheng (an inland plain city on the Yellow River:
no sea, no mines worth listing in detail); anything else is added from the types page or the admin.

``owning_kind`` is a ``core.departments.KINDS`` key (the agency that leads the response); ``None`` inherits
the parent's. ``priority`` 1 (highest) .. 5; ``None`` inherits too.

Response plans (``PLANS``): which ``UnitType`` values and how many an incident of a type needs, for any
severity (``None``) or one level (1 Ⅰ特别重大 .. 4 Ⅳ一般). The most specific plan wins, walking up the code
tree (11A01 → 11A00 → 11000 → 10000); the figures are local defaults to be confirmed by each agency.
"""

from __future__ import annotations

# (code, name, owning kind or None = parent's, default priority or None = parent's)
TYPES: list[tuple[str, str, str | None, int | None]] = [
    ("10000", "突发事件", "emergency_management", 3),
    # --- 11 自然灾害 ---------------------------------------------------------------------------------
    ("11000", "自然灾害", "emergency_management", 2),
    ("11A00", "水旱灾害", "water", None),
    ("11A01", "洪水", None, 1),
    ("11A02", "内涝", None, 2),
    ("11A03", "水库险情", None, 1),
    ("11A04", "堤防险情", None, 1),
    ("11A52", "农业干旱", "agriculture_rural", 4),
    ("11B00", "气象灾害", "emergency_management", None),
    ("11B03", "暴雨", None, None),
    ("11B04", "暴雪", None, None),
    ("11B05", "寒潮", None, 3),
    ("11B06", "大风", None, None),
    ("11B09", "高温", None, 3),
    ("11B14", "雷电", None, None),
    ("11B17", "大雾", "traffic_police", 3),
    ("11C00", "地震灾害", None, 1),
    ("11D00", "地质灾害", "natural_resources", None),
    ("11E00", "海洋灾害", None, 4),
    ("11F00", "生物灾害", "agriculture_rural", 4),
    ("11G00", "森林草原火灾", "fire_rescue", 1),
    ("11Y00", "其他自然灾害", None, None),
    # --- 12 事故灾难 ---------------------------------------------------------------------------------
    ("12000", "事故灾难", "emergency_management", 2),
    ("12A00", "煤矿事故", None, 1),
    ("12B00", "金属非金属矿山事故", None, 1),
    ("12C00", "建筑业事故", "housing_construction", 2),
    ("12D00", "危险化学品事故", "fire_rescue", 1),
    ("12D01", "危险化学品爆炸事故", None, None),
    ("12D02", "危险化学品泄漏事故", None, None),
    ("12D03", "危险化学品火灾事故", None, None),
    ("12D04", "危险化学品中毒和窒息事故", None, None),
    ("12D05", "危险化学品灼烫事故", None, None),
    ("12E00", "烟花爆竹和民用爆炸物事故", "fire_rescue", 1),
    ("12F00", "其他工矿商贸事故", None, None),
    ("12G00", "火灾事故", "fire_rescue", 1),
    ("12G01", "一般工业建筑火灾", None, None),
    ("12G02", "特种工业建筑火灾", None, None),
    ("12G03", "一般民用建筑火灾", None, None),
    ("12G04", "高层民用建筑火灾", None, None),
    ("12G05", "地下建筑火灾", None, None),
    ("12G06", "公用建筑火灾", None, None),
    ("12G07", "隧道火灾", None, None),
    ("12H00", "道路交通事故", "traffic_police", 2),
    ("12H01", "翻车事故", None, None),
    ("12H02", "撞车事故", None, None),
    ("12H03", "车辆坠水、坠沟事故", None, 1),
    ("12H04", "车辆起火事故", None, 1),
    ("12H05", "校车交通事故", None, 1),
    ("12J00", "水上交通事故", "transport", 2),
    ("12K00", "铁路交通事故", None, 1),
    ("12L00", "城市轨道交通事故", None, 1),
    ("12M00", "民用航空器事故", None, 1),
    ("12N00", "特种设备事故", "market_regulation", 2),
    ("12P00", "基础设施和公用设施事故", "emergency_management", 3),
    ("12P07", "水利设施事故", "water", 2),
    ("12P08", "电力基础设施事故", "power", 2),
    ("12P09", "石油天然气基础设施事故", "gas", 1),
    ("12P10", "通讯基础设施事故", None, 3),
    ("12P12", "城市生命线基础设施事故", "housing_construction", 2),
    ("12P13", "建筑垮塌事故", "fire_rescue", 1),
    ("12Q00", "环境污染和生态破坏事件", "ecology_environment", 2),
    ("12R00", "农业机械事故", "agriculture_rural", 3),
    ("12S00", "踩踏事件", "public_security", 1),
    ("12T00", "核与辐射事故", "ecology_environment", 1),
    ("12U00", "能源供应中断事故", "power", 2),
    ("12Y00", "其他事故灾难", None, 3),
    # --- 13 公共卫生事件 ---------------------------------------------------------------------------
    ("13000", "公共卫生事件", "health", 2),
    ("13A00", "传染病事件", None, None),
    ("13A01", "鼠疫流行事件", None, 1),
    ("13A02", "霍乱流行事件", None, 1),
    ("13A03", "肺炭疽流行事件", None, 1),
    ("13A04", "传染性非典型肺炎流行事件", None, 1),
    ("13A05", "人感染高致病性禽流感流行事件", None, 1),
    ("13A06", "其他甲类或按甲类管理传染病流行事件", None, 1),
    ("13A07", "其他乙类传染病流行事件", None, None),
    ("13A08", "新传染病或我国尚未发现的传染病传入事件", None, 1),
    ("13A09", "我国已消灭传染病重新流行事件", None, 1),
    ("13B00", "食品药品安全事件", "market_regulation", None),
    ("13C00", "群体性中毒、感染事件", "emergency_medical", 1),
    ("13D00", "病原微生物、菌毒株事件", None, None),
    ("13E00", "动物疫情事件", "agriculture_rural", 3),
    ("13F00", "群体性不明原因疾病", None, 1),
    ("13Y00", "其他公共卫生事件", None, None),
    # --- 14 社会安全事件 ---------------------------------------------------------------------------
    ("14000", "社会安全事件", "public_security", 2),
    ("14A00", "群体性事件", None, None),
    ("14B00", "刑事案件", None, None),
    ("14B01", "杀人案件", None, 1),
    ("14B02", "爆炸案件", None, 1),
    ("14B03", "放火案件", None, 1),
    ("14B04", "投放危险物质案件", None, 1),
    ("14B05", "以危险方法危害公共安全案件", None, 1),
    ("14B06", "绑架案件", None, 1),
    ("14B07", "抢劫、盗窃金融机构或运钞车案件", None, 1),
    ("14B08", "抢劫、走私、盗窃军（警）用枪械案件", None, 1),
    ("14B09", "放射性材料被盗、丢失案件", None, 1),
    ("14B10", "炸药、雷管被盗、丢失案件", None, 1),
    ("14B11", "走私放射性材料案件", None, None),
    ("14B12", "走私固体废物案件", None, 3),
    ("14B13", "制贩毒品案件", None, None),
    ("14B14", "盗窃、出卖、泄露及丢失国家秘密案件", None, None),
    ("14B15", "攻击破坏计算机网络案件", None, None),
    ("14B16", "攻击破坏卫星通信、广播电视传输系统案件", None, None),
    ("14B17", "制售假劣药品、医疗器械案件", None, 3),
    ("14B18", "制售不符合卫生标准、有毒有害食品案件", None, 3),
    ("14B19", "走私、骗汇、逃汇、洗钱案件", None, 3),
    ("14B20", "金融诈骗案件", None, 3),
    ("14B21", "增值税发票及其他票证案件", None, 4),
    ("14B22", "假劣种子、化肥、农药坑农案件", None, 3),
    ("14B23", "非法狩猎、采集保护野生动植物案件", None, 3),
    ("14B24", "破坏物种资源案件", None, 4),
    ("14B25", "偷渡案件", None, 3),
    ("14C00", "金融突发事件", "development_reform", 3),
    ("14D00", "影响市场稳定的突发事件", "market_regulation", 3),
    ("14E00", "民族宗教事件", None, None),
    ("14F00", "恐怖袭击事件", None, 1),
    ("14Y00", "其他社会安全事件", None, None),
]

# (code, severity or None for any level) -> {UnitType value: count}
PLANS: dict[tuple[str, int | None], dict[str, int]] = {
    ("10000", None): {"police_car": 1},
    # natural disasters: rescue teams, the water department's crews, a command vehicle for the big ones
    ("11000", None): {"rescue_team": 1},
    ("11A00", None): {"rescue_team": 1, "water_crew": 1},
    ("11A01", None): {"rescue_team": 2, "water_crew": 1, "command": 1},
    ("11A01", 1): {"rescue_team": 6, "water_crew": 3, "rescue_engine": 2, "ambulance": 2, "police_car": 2,
                   "command": 1},
    ("11A01", 2): {"rescue_team": 4, "water_crew": 2, "rescue_engine": 1, "ambulance": 1, "police_car": 1,
                   "command": 1},
    ("11A02", None): {"water_crew": 1, "rescue_engine": 1, "traffic_police": 1},
    ("11A03", None): {"rescue_team": 2, "water_crew": 2, "command": 1},
    ("11A04", None): {"rescue_team": 2, "water_crew": 2, "command": 1},
    ("11B00", None): {"rescue_team": 1},
    ("11B06", None): {"rescue_engine": 1, "power_crew": 1},
    ("11B17", None): {"traffic_police": 2},
    ("11C00", None): {"rescue_team": 3, "rescue_engine": 2, "ambulance": 2, "police_car": 2, "command": 1},
    ("11G00", None): {"fire_engine": 2, "rescue_team": 1},
    # accidents
    ("12000", None): {"fire_engine": 1, "ambulance": 1},
    ("12C00", None): {"rescue_engine": 1, "ambulance": 1},
    ("12D00", None): {"hazmat": 1, "fire_engine": 2, "ambulance": 1},
    ("12D00", 1): {"hazmat": 3, "fire_engine": 6, "foam_tender": 2, "rescue_engine": 2, "ambulance": 4, "police_car": 3,
                   "command": 1},
    ("12D00", 2): {"hazmat": 2, "fire_engine": 4, "foam_tender": 1, "rescue_engine": 1, "ambulance": 3, "police_car": 2,
                   "command": 1},
    ("12D01", None): {"hazmat": 1, "fire_engine": 3, "rescue_engine": 1, "ambulance": 2, "police_car": 1},
    ("12D02", None): {"hazmat": 1, "fire_engine": 2, "ambulance": 1},
    ("12D03", None): {"hazmat": 1, "foam_tender": 2, "fire_engine": 2, "ambulance": 1},
    ("12D04", None): {"hazmat": 1, "rescue_engine": 1, "ambulance": 2},
    ("12D05", None): {"hazmat": 1, "ambulance": 1},
    ("12E00", None): {"fire_engine": 2, "rescue_engine": 1, "ambulance": 2, "police_car": 1},
    ("12G00", None): {"fire_engine": 2, "ambulance": 1},
    ("12G00", 1): {"fire_engine": 8, "aerial_ladder": 2, "rescue_engine": 2, "ambulance": 4, "police_car": 3,
                   "command": 1},
    ("12G00", 2): {"fire_engine": 6, "aerial_ladder": 1, "rescue_engine": 1, "ambulance": 3, "police_car": 2,
                   "command": 1},
    ("12G00", 3): {"fire_engine": 4, "rescue_engine": 1, "ambulance": 2, "police_car": 1},
    ("12G01", None): {"fire_engine": 3, "ambulance": 1},
    ("12G02", None): {"fire_engine": 3, "foam_tender": 1, "ambulance": 1},
    ("12G04", None): {"fire_engine": 3, "aerial_ladder": 1, "ambulance": 1, "police_car": 1},
    ("12G04", 1): {"fire_engine": 8, "aerial_ladder": 3, "rescue_engine": 2, "ambulance": 4, "police_car": 3,
                   "command": 1},
    ("12G04", 2): {"fire_engine": 6, "aerial_ladder": 2, "rescue_engine": 1, "ambulance": 3, "police_car": 2,
                   "command": 1},
    ("12G05", None): {"fire_engine": 3, "rescue_engine": 1, "ambulance": 1},
    ("12G06", None): {"fire_engine": 3, "aerial_ladder": 1, "ambulance": 1, "police_car": 1},
    ("12G07", None): {"fire_engine": 2, "rescue_engine": 1, "ambulance": 1, "traffic_police": 1},
    ("12H00", None): {"traffic_police": 1, "ambulance": 1},
    ("12H00", 1): {"traffic_police": 4, "ambulance": 6, "rescue_engine": 2, "fire_engine": 1, "police_car": 2,
                   "command": 1},
    ("12H00", 2): {"traffic_police": 3, "ambulance": 4, "rescue_engine": 1, "police_car": 1},
    ("12H00", 3): {"traffic_police": 2, "ambulance": 2, "rescue_engine": 1},
    ("12H01", None): {"traffic_police": 1, "ambulance": 1, "rescue_engine": 1},
    ("12H02", None): {"traffic_police": 1, "ambulance": 1},
    ("12H03", None): {"traffic_police": 1, "rescue_engine": 1, "ambulance": 1},
    ("12H04", None): {"fire_engine": 1, "traffic_police": 1},
    ("12H05", None): {"traffic_police": 2, "ambulance": 2, "police_car": 1},
    ("12N00", None): {"rescue_engine": 1, "ambulance": 1},
    ("12P00", None): {"rescue_team": 1, "police_car": 1},
    ("12P07", None): {"water_crew": 1},
    ("12P08", None): {"power_crew": 1},
    ("12P09", None): {"gas_crew": 1, "fire_engine": 1, "police_car": 1},
    ("12P12", None): {"water_crew": 1, "rescue_engine": 1, "police_car": 1},
    ("12P13", None): {"rescue_engine": 2, "rescue_team": 1, "ambulance": 2, "police_car": 1},
    ("12Q00", None): {"hazmat": 1},
    ("12S00", None): {"police_car": 3, "ambulance": 3},
    ("12T00", None): {"hazmat": 1, "police_car": 1},
    ("12U00", None): {"power_crew": 1},
    # public health
    ("13000", None): {"ambulance": 1},
    ("13C00", None): {"ambulance": 3, "police_car": 1},
    ("13F00", None): {"ambulance": 2},
    # social security
    ("14000", None): {"police_car": 1},
    ("14A00", None): {"police_car": 4, "command": 1},
    ("14B00", None): {"police_car": 2},
    ("14B01", None): {"police_car": 3, "ambulance": 1},
    ("14B02", None): {"police_car": 3, "fire_engine": 2, "ambulance": 2, "hazmat": 1},
    ("14B03", None): {"police_car": 2, "fire_engine": 2},
    ("14F00", None): {"police_car": 6, "ambulance": 3, "fire_engine": 2, "command": 1},
}

# Urban-management classes (GB/T 30428, ``urban.handoff.EmergencyReferral.class_code``) -> incident type when
# a case is handed over; the referral's text is checked first (``URBAN_KEYWORDS``), the default last.
URBAN_CLASS_TYPES: dict[str, str] = {
    "E0401": "12P12",  # 路面塌陷: a lifeline failure under the road (water or drainage pipe) far more often than a
    #                    building collapse; the dispatcher reclassifies to 12P13 when a structure came down
    "C0101": "12P12",  # 上水井盖
    "C0102": "12P12",  # 污水井盖
    "C0103": "12P12",  # 雨水井盖
    "C0104": "11A02",  # 雨水箅子 (blocked: waterlogging)
    "C0105": "12P08",  # 电力井盖
    "C0116": "12P08",  # 电力设施
    "C0117": "12P08",  # 电杆
    "C0113": "12G00",  # 消防设施
    "C0402": "11B06",  # 行道树 (fallen in a storm)
}
# (keywords in the referral's description or reason, incident type); first match wins
URBAN_KEYWORDS: list[tuple[tuple[str, ...], str]] = [
    (("燃气", "煤气", "天然气", "液化气"), "12P09"),
    (("起火", "着火", "火灾", "冒烟", "明火"), "12G00"),
    (("倒塌", "垮塌"), "12P13"),
    (("触电", "电线", "漏电"), "12P08"),
    (("积水", "内涝", "淹"), "11A02"),
    (("危化", "化学品", "泄漏"), "12D02"),
]
URBAN_DEFAULT_TYPES = ("12Y00", "10000")
