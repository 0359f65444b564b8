"""Shipped item types and the demo catalogue of government service items (政务服务事项实施清单).

Code scheme (documented here, used by ``catalogue.ensure_demo_catalogue``):

- **Basic code** (基本编码, 12 digits, the same for every division): ``TT KKK NNN SSSS`` —
  ``TT`` the item type code (``ITEM_TYPES``), ``KKK`` the department kind's number (``KIND_NUMBERS``,
  its position in ``core.departments.KINDS`` + 1), ``NNN`` the item's number within that kind and type,
  ``SSSS`` the sub-item / business situation (``0000`` for the main item). Example: ``010120010000`` =
  行政许可 (01), market_regulation (012), item 001, main item.
- **Implementation code** (实施编码): ``<basic code>-<division code>-<KKK>``, e.g.
  ``010120010000-371522-012`` for 莘县市场监督管理局's implementation; unique per implementing body.

Each item is implemented by its department kind in the city (371500) and, when ``levels == "all"`` and
the kind exists in the counties, by every county's department too. Processes use the ``egov_*`` roles.
Prefill names in ``form_fields`` are fields of the base databases (``registry``): for enterprises the
legal-entity fields (``name``, ``credit_code``, ``legal_representative``, ``address``, ``registered_capital``,
``industry_code``), for citizens the population fields (``name``, ``id_number``, ``sex``, ``birth_date``,
``residence_address``, ``hukou_division``, ``phone``).
"""

from __future__ import annotations

from typing import Any

from liaocheng.core.departments import KINDS

# (code, name) in display order; codes differ between platforms, the table is editable afterwards.
ITEM_TYPES: list[tuple[str, str]] = [
    ("01", "行政许可"), ("02", "行政确认"), ("03", "行政裁决"), ("04", "行政给付"),
    ("05", "行政奖励"), ("06", "行政备案"), ("07", "其他行政权力"), ("08", "公共服务"),
]
TYPE_CODE = {name: code for code, name in ITEM_TYPES}
KIND_NUMBERS: dict[str, int] = {kind: i for i, kind in enumerate(KINDS, 1)}


def basic_code(type_name: str, kind: str, number: int, sub: int = 0) -> str:
    return f"{TYPE_CODE[type_name]}{KIND_NUMBERS[kind]:03d}{number:03d}{sub:04d}"


def implementation_code(basic: str, division_code: str, kind: str) -> str:
    return f"{basic}-{division_code}-{KIND_NUMBERS[kind]:03d}"


# --- processes --------------------------------------------------------------------------------------

def standard(review_days: int) -> list[dict[str, Any]]:
    """受理 → 审查 → 决定 → 制证 (``review_days`` + 3 working days along the path)."""
    return [
        {"key": "accept", "name": "受理", "role": "egov_intake", "limit_days": 1, "after": []},
        {"key": "review", "name": "审查", "role": "egov_reviewer", "limit_days": review_days, "after": ["accept"]},
        {"key": "decide", "name": "决定", "role": "egov_approver", "limit_days": 1, "after": ["review"]},
        {"key": "issue", "name": "制证", "role": "egov_issuer", "limit_days": 1, "after": ["decide"]},
    ]


def parallel(review_days: int, inspect_days: int, inspect_name: str = "现场核查") -> list[dict[str, Any]]:
    """受理 → (材料审查 ∥ 现场核查) → 决定 → 制证: two parallel reviews joined before the decision."""
    return [
        {"key": "accept", "name": "受理", "role": "egov_intake", "limit_days": 1, "after": []},
        {"key": "review", "name": "材料审查", "role": "egov_reviewer", "limit_days": review_days,
         "after": ["accept"]},
        {"key": "inspect", "name": inspect_name, "role": "egov_reviewer", "limit_days": inspect_days,
         "after": ["accept"]},
        {"key": "decide", "name": "决定", "role": "egov_approver", "limit_days": 1, "after": ["review", "inspect"]},
        {"key": "issue", "name": "制证", "role": "egov_issuer", "limit_days": 1, "after": ["decide"]},
    ]


def simple() -> list[dict[str, Any]]:
    """受理 → 审核 → 办结 (3 working days): registrations and public services."""
    return [
        {"key": "accept", "name": "受理", "role": "egov_intake", "limit_days": 1, "after": []},
        {"key": "decide", "name": "审核", "role": "egov_approver", "limit_days": 1, "after": ["accept"]},
        {"key": "issue", "name": "办结", "role": "egov_issuer", "limit_days": 1, "after": ["decide"]},
    ]


# --- form fields ------------------------------------------------------------------------------------

def _f(key: str, label: str, prefill: str = "", type_: str = "text", required: bool = True) -> dict[str, Any]:
    return {"key": key, "label": label, "type": type_, "required": required, "prefill": prefill}


ENTERPRISE_FORM = [
    _f("name", "单位名称", "name"), _f("credit_code", "统一社会信用代码", "credit_code"),
    _f("legal_representative", "法定代表人", "legal_representative"), _f("address", "住所", "address"),
    _f("contact", "联系人"), _f("phone", "联系电话", type_="tel"),
]
NEW_ENTERPRISE_FORM = [
    _f("name", "拟设立企业名称"), _f("entity_type", "企业类型"), _f("legal_representative", "法定代表人"),
    _f("registered_capital", "注册资本（万元）", type_="number"), _f("address", "住所"),
    _f("business_scope", "经营范围", type_="textarea"), _f("phone", "联系电话", type_="tel"),
]
CITIZEN_FORM = [
    _f("name", "姓名", "name"), _f("id_number", "公民身份号码", "id_number"),
    _f("residence_address", "居住地址", "residence_address"), _f("phone", "联系电话", "phone", "tel"),
]


# --- materials: (name, required, form, accepted types, source) -------------------------------------

M = tuple[str, bool, str, str, str]
LICENCE_APP: M = ("申请书", True, "electronic", "pdf", "申请人自备")
BUSINESS_LICENCE: M = ("营业执照", True, "electronic", "pdf,jpg,png", "政府部门核发")
ID_CARD: M = ("申请人身份证件", True, "electronic", "jpg,png,pdf", "政府部门核发")
AUTH_LETTER: M = ("授权委托书及被委托人身份证件（委托办理时）", False, "electronic", "pdf,jpg", "申请人自备")
SITE_PLAN: M = ("经营场所平面布局图", True, "electronic", "pdf,jpg,png", "申请人自备")


def _item(kind: str, type_name: str, number: int, name: str, *, legal_basis: str, conditions: str,
          statutory: int, promised: int, serves: str, depth: int, visits: int, result_name: str,
          result_kind: str, materials: list[M], process: list[dict[str, Any]], form: list[dict[str, Any]],
          fee: str = "不收费", levels: str = "all", credit_rule: str = "none") -> dict[str, Any]:
    return {"kind": kind, "basic_code": basic_code(type_name, kind, number), "type": TYPE_CODE[type_name],
            "name": name, "legal_basis": legal_basis, "conditions": conditions, "statutory_days": statutory,
            "promised_days": promised, "fee": fee, "serves": serves, "online_depth": depth, "max_visits": visits,
            "result_name": result_name, "result_kind": result_kind, "materials": materials, "process": process,
            "form_fields": form, "levels": levels, "credit_rule": credit_rule}


ITEMS: list[dict[str, Any]] = [
    # --- market regulation ---
    _item("market_regulation", "行政许可", 1, "企业设立登记",
          legal_basis="《中华人民共和国市场主体登记管理条例》第三条、第十九条；《中华人民共和国公司法》第二十九条",
          conditions="名称符合规定；有符合规定的住所；股东、法定代表人符合任职资格；申请材料齐全、符合法定形式。",
          statutory=3, promised=3, serves="enterprise", depth=4, visits=0, result_name="营业执照",
          result_kind="licence", process=simple(), form=NEW_ENTERPRISE_FORM, credit_rule="flag",
          materials=[("公司登记（备案）申请书", True, "electronic", "pdf", "申请人自备"),
                     ("公司章程", True, "electronic", "pdf", "申请人自备"),
                     ("股东主体资格证明或自然人身份证件", True, "electronic", "pdf,jpg", "申请人自备"),
                     ("住所使用相关文件", True, "electronic", "pdf,jpg", "申请人自备"), AUTH_LETTER]),
    _item("market_regulation", "行政确认", 1, "统一社会信用代码赋码",
          legal_basis="《国务院关于批转发展改革委等部门法人和其他组织统一社会信用代码制度建设总体方案的通知》"
                      "（国发〔2015〕33号）；GB 32100-2015《法人和其他组织统一社会信用代码编码规则》",
          conditions="依法设立登记的法人和其他组织；原组织机构代码证功能由统一社会信用代码承载。",
          statutory=3, promised=3, serves="enterprise", depth=4, visits=0, result_name="统一社会信用代码",
          result_kind="certificate", process=simple(), form=NEW_ENTERPRISE_FORM,
          materials=[("设立登记申请书（与营业执照同表申请）", True, "electronic", "pdf", "申请人自备")]),
    _item("market_regulation", "行政许可", 2, "食品经营许可",
          legal_basis="《中华人民共和国食品安全法》第三十五条；《食品经营许可和备案管理办法》",
          conditions="具有与经营的食品品种、数量相适应的经营场所；有食品安全管理人员和管理制度；"
                     "设备布局和工艺流程合理。",
          statutory=20, promised=8, serves="enterprise", depth=3, visits=1, result_name="食品经营许可证",
          result_kind="licence", process=parallel(4, 3), form=ENTERPRISE_FORM, credit_rule="block",
          materials=[("食品经营许可申请书", True, "electronic", "pdf", "申请人自备"), BUSINESS_LICENCE, SITE_PLAN,
                     ("食品安全管理制度文本", True, "electronic", "pdf", "申请人自备"), AUTH_LETTER]),
    # --- culture and tourism ---
    _item("culture_tourism", "行政许可", 1, "娱乐场所经营许可",
          legal_basis="《娱乐场所管理条例》第九条；《娱乐场所管理办法》",
          conditions="已取得营业执照；场所符合消防、环保、治安要求；投资人、法定代表人无禁止情形。",
          statutory=20, promised=10, serves="enterprise", depth=3, visits=1, result_name="娱乐经营许可证",
          result_kind="licence", process=parallel(5, 4), form=ENTERPRISE_FORM, credit_rule="block",
          materials=[("娱乐经营许可申请书", True, "electronic", "pdf", "申请人自备"), BUSINESS_LICENCE,
                     ("法定代表人、主要负责人身份证明", True, "electronic", "pdf,jpg", "申请人自备"),
                     ("场所平面示意图及房产证明", True, "electronic", "pdf,jpg", "申请人自备")]),
    _item("culture_tourism", "行政许可", 2, "旅行社设立许可", levels="city",
          legal_basis="《旅行社条例》第六条、第七条；《中华人民共和国旅游法》第二十八条",
          conditions="有固定的经营场所；有必要的营业设施；有符合规定的质量保证金。",
          statutory=20, promised=10, serves="enterprise", depth=4, visits=0, result_name="旅行社业务经营许可证",
          result_kind="licence", process=standard(6), form=ENTERPRISE_FORM,
          materials=[LICENCE_APP, BUSINESS_LICENCE, ("经营场所证明", True, "electronic", "pdf", "申请人自备"),
                     ("营业设施证明", True, "electronic", "pdf", "申请人自备")]),
    # --- health ---
    _item("health", "行政许可", 1, "公共场所卫生许可",
          legal_basis="《公共场所卫生管理条例》第八条；《公共场所卫生管理条例实施细则》第二十二条",
          conditions="场所布局、设施设备符合卫生标准；从业人员取得健康合格证明；有卫生管理制度。",
          statutory=20, promised=5, serves="enterprise", depth=4, visits=0, result_name="公共场所卫生许可证",
          result_kind="licence", process=standard(2), form=ENTERPRISE_FORM,
          materials=[("公共场所卫生许可申请表", True, "electronic", "pdf", "申请人自备"), BUSINESS_LICENCE,
                     ("卫生管理制度及从业人员健康合格证明", True, "electronic", "pdf", "申请人自备"), SITE_PLAN]),
    _item("health", "公共服务", 1, "出生医学证明签发",
          legal_basis="《中华人民共和国母婴保健法》第二十三条；《出生医学证明管理办法》",
          conditions="在本市助产机构出生的新生儿；父母身份信息真实。",
          statutory=5, promised=3, serves="citizen", depth=3, visits=1, result_name="出生医学证明",
          result_kind="certificate", process=simple(), form=[*CITIZEN_FORM, _f("baby_name", "新生儿姓名")],
          materials=[("父母双方身份证件", True, "electronic", "jpg,png,pdf", "政府部门核发"),
                     ("分娩记录（助产机构提供）", True, "electronic", "pdf", "助产机构出具")]),
    # --- public security ---
    _item("public_security", "行政确认", 1, "户口登记（出生登记）",
          legal_basis="《中华人民共和国户口登记条例》第七条",
          conditions="婴儿出生后一个月以内，由户主、亲属、抚养人或者邻居向婴儿常住地户口登记机关申报出生登记。",
          statutory=10, promised=3, serves="citizen", depth=3, visits=1, result_name="居民户口簿（户口登记页）",
          result_kind="certificate", process=simple(), form=[*CITIZEN_FORM, _f("baby_name", "新生儿姓名")],
          materials=[("出生医学证明", True, "electronic", "pdf,jpg", "政府部门核发"),
                     ("父母双方居民户口簿、居民身份证", True, "electronic", "jpg,pdf", "政府部门核发"),
                     ("父母结婚证", False, "electronic", "jpg,pdf", "政府部门核发")]),
    _item("public_security", "行政许可", 1, "居民身份证换领",
          legal_basis="《中华人民共和国居民身份证法》第八条、第十一条",
          conditions="居民身份证有效期满、登记项目变更或者证件严重损坏不能辨认。",
          statutory=60, promised=20, serves="citizen", depth=2, visits=1, fee="工本费20元（鲁价费发〔2004〕55号）",
          result_name="居民身份证", result_kind="certificate", process=standard(15), form=CITIZEN_FORM,
          materials=[("居民户口簿", True, "paper", "jpg,pdf", "政府部门核发"),
                     ("原居民身份证", True, "paper", "jpg,pdf", "政府部门核发")]),
    # --- traffic police ---
    _item("traffic_police", "行政许可", 1, "机动车驾驶证换证",
          legal_basis="《中华人民共和国道路交通安全法》第十九条；《机动车驾驶证申领和使用规定》",
          conditions="驾驶证有效期满前九十日内；身体条件符合规定。",
          statutory=5, promised=3, serves="citizen", depth=4, visits=0, fee="工本费10元",
          result_name="机动车驾驶证", result_kind="licence", process=simple(), form=CITIZEN_FORM,
          materials=[ID_CARD, ("身体条件证明", True, "electronic", "pdf,jpg", "医疗机构出具")]),
    # --- fire rescue ---
    _item("fire_rescue", "行政许可", 1, "公众聚集场所投入使用、营业前消防安全检查",
          legal_basis="《中华人民共和国消防法》第十五条",
          conditions="场所消防设施、疏散通道、安全出口符合消防技术标准；作出消防安全承诺。",
          statutory=10, promised=7, serves="enterprise", depth=3, visits=1, result_name="消防安全检查合格证",
          result_kind="approval", process=parallel(3, 3, "现场检查"), form=ENTERPRISE_FORM,
          materials=[("公众聚集场所投入使用、营业消防安全告知承诺书", True, "electronic", "pdf", "申请人自备"),
                     BUSINESS_LICENCE, ("消防设施检测报告", True, "electronic", "pdf", "中介机构出具")]),
    # --- housing and construction ---
    _item("housing_construction", "行政许可", 1, "建筑工程施工许可",
          legal_basis="《中华人民共和国建筑法》第七条、第八条；《建筑工程施工许可管理办法》",
          conditions="已办理用地批准手续；已取得建设工程规划许可证；施工企业已确定；有保证工程质量和安全的具体措施。",
          statutory=7, promised=3, serves="enterprise", depth=4, visits=0, result_name="建筑工程施工许可证",
          result_kind="licence", process=simple(), form=[*ENTERPRISE_FORM, _f("project", "工程名称")],
          credit_rule="flag",
          materials=[("建筑工程施工许可证申请表", True, "electronic", "pdf", "申请人自备"),
                     ("建设工程规划许可证", True, "electronic", "pdf", "政府部门核发"),
                     ("施工合同", True, "electronic", "pdf", "申请人自备")]),
    _item("housing_construction", "行政许可", 2, "商品房预售许可",
          legal_basis="《中华人民共和国城市房地产管理法》第四十五条；《城市商品房预售管理办法》",
          conditions="已交付全部土地使用权出让金；持有建设工程规划许可证和施工许可证；投入开发建设资金达到总投资的25%以上。",
          statutory=10, promised=5, serves="enterprise", depth=3, visits=1, result_name="商品房预售许可证",
          result_kind="licence", process=parallel(2, 2), form=ENTERPRISE_FORM,
          materials=[LICENCE_APP, BUSINESS_LICENCE, ("工程施工进度证明", True, "electronic", "pdf", "申请人自备")]),
    # --- human resources and social security (also social insurance handling, incl. medical insurance) ---
    _item("human_resources_social_security", "公共服务", 1, "社会保障卡申领",
          legal_basis="《中华人民共和国社会保险法》第五十八条；《社会保障卡管理办法》",
          conditions="已参加社会保险或拟参保人员，含新生儿。",
          statutory=20, promised=10, serves="citizen", depth=4, visits=0, result_name="社会保障卡",
          result_kind="certificate", process=standard(7), form=CITIZEN_FORM,
          materials=[ID_CARD, ("近期免冠照片", True, "electronic", "jpg,png", "申请人自备")]),
    _item("human_resources_social_security", "公共服务", 2, "城乡居民医保参保登记",
          legal_basis="《中华人民共和国社会保险法》第二十五条；《山东省居民基本医疗保险实施办法》",
          conditions="本市户籍或持有居住证的未参加职工医保的城乡居民，含新生儿。",
          statutory=5, promised=3, serves="citizen", depth=4, visits=0, result_name="参保登记凭证",
          result_kind="none", process=simple(), form=CITIZEN_FORM,
          materials=[("居民户口簿或居住证", True, "electronic", "jpg,pdf", "政府部门核发")]),
    _item("human_resources_social_security", "行政给付", 1, "失业保险金申领",
          legal_basis="《中华人民共和国社会保险法》第四十五条；《失业保险条例》第十四条",
          conditions="失业前用人单位和本人已缴纳失业保险费满一年；非因本人意愿中断就业；已进行失业登记并有求职要求。",
          statutory=20, promised=5, serves="citizen", depth=4, visits=0, result_name="失业保险金核定通知",
          result_kind="approval", process=standard(2), form=CITIZEN_FORM,
          materials=[ID_CARD, ("解除或终止劳动关系证明", True, "electronic", "pdf,jpg", "用人单位出具")]),
    # --- civil affairs ---
    _item("civil_affairs", "行政确认", 1, "内地居民婚姻登记",
          legal_basis="《中华人民共和国民法典》第一千零四十九条；《婚姻登记条例》第四条",
          conditions="男女双方完全自愿，达到法定婚龄，无配偶，非直系血亲或三代以内旁系血亲，双方亲自到场。",
          statutory=1, promised=1, serves="citizen", depth=2, visits=1, result_name="结婚证",
          result_kind="certificate",
          process=[{"key": "accept", "name": "受理审查并登记", "role": "egov_intake", "limit_days": 1, "after": []}],
          form=CITIZEN_FORM,
          materials=[("双方居民身份证", True, "paper", "jpg,pdf", "政府部门核发"),
                     ("双方居民户口簿", True, "paper", "jpg,pdf", "政府部门核发"),
                     ("双方近期半身免冠合影照片", True, "paper", "jpg", "申请人自备")]),
    _item("civil_affairs", "行政给付", 1, "最低生活保障审核确认",
          legal_basis="《社会救助暂行办法》第九条至第十三条；《山东省最低生活保障办法》",
          conditions="共同生活的家庭成员人均收入低于当地最低生活保障标准，且财产状况符合规定。",
          statutory=30, promised=20, serves="citizen", depth=3, visits=1, result_name="最低生活保障金领取证",
          result_kind="approval", process=parallel(10, 10, "入户调查"), form=CITIZEN_FORM,
          materials=[("最低生活保障申请书", True, "electronic", "pdf", "申请人自备"),
                     ("家庭经济状况核对授权书", True, "electronic", "pdf", "申请人自备"), ID_CARD]),
    # --- agriculture and rural affairs ---
    _item("agriculture_rural", "行政许可", 1, "农药经营许可",
          legal_basis="《农药管理条例》第二十四条；《农药经营许可管理办法》",
          conditions="有具备农药和病虫害防治专业知识的经营人员；有与经营规模相适应的营业场所和仓储场所；有农药经营管理制度。",
          statutory=20, promised=10, serves="enterprise", depth=3, visits=1, result_name="农药经营许可证",
          result_kind="licence", process=parallel(5, 5), form=ENTERPRISE_FORM,
          materials=[("农药经营许可证申请表", True, "electronic", "pdf", "申请人自备"), BUSINESS_LICENCE,
                     ("经营人员专业证明", True, "electronic", "pdf,jpg", "申请人自备"),
                     ("营业场所和仓储场所证明", True, "electronic", "pdf,jpg", "申请人自备")]),
    _item("agriculture_rural", "行政许可", 2, "种子生产经营许可", levels="city",
          legal_basis="《中华人民共和国种子法》第三十一条；《农作物种子生产经营许可管理办法》",
          conditions="有与生产经营相适应的资金、场所、设施设备和专业技术人员。",
          statutory=20, promised=15, serves="enterprise", depth=3, visits=1, result_name="农作物种子生产经营许可证",
          result_kind="licence", process=standard(12), form=ENTERPRISE_FORM,
          materials=[LICENCE_APP, BUSINESS_LICENCE, ("种子检验设施证明", True, "electronic", "pdf", "申请人自备")]),
    # --- tax ---
    _item("tax", "行政确认", 1, "涉税信息确认（税务登记）",
          legal_basis="《中华人民共和国税收征收管理法》第十五条；《税务登记管理办法》",
          conditions="已领取营业执照的纳税人；“多证合一”后办理涉税信息确认即完成税务登记。",
          statutory=3, promised=3, serves="enterprise", depth=4, visits=0, result_name="涉税信息确认书（税务登记）",
          result_kind="certificate", form=ENTERPRISE_FORM, process=simple(),
          materials=[("营业执照（自动调取）", False, "electronic", "pdf", "政府部门核发")]),
    _item("tax", "公共服务", 1, "发票领用",
          legal_basis="《中华人民共和国发票管理办法》第十五条",
          conditions="已办理税务登记的纳税人；已完成实名办税。",
          statutory=5, promised=1, serves="enterprise", depth=4, visits=0, result_name="发票（数电票额度）",
          result_kind="none", form=ENTERPRISE_FORM,
          process=[{"key": "accept", "name": "核定发放", "role": "egov_intake", "limit_days": 1, "after": []}],
          materials=[("经办人身份证件", True, "electronic", "jpg,pdf", "政府部门核发")]),
    # --- others, one or two each ---
    _item("party_government_office", "公共服务", 1, "政府信息依申请公开",
          legal_basis="《中华人民共和国政府信息公开条例》第二十七条、第三十三条",
          conditions="公民、法人或者其他组织向行政机关申请获取政府信息。",
          statutory=20, promised=15, serves="both", depth=4, visits=0, result_name="政府信息公开申请答复书",
          result_kind="none", process=standard(12), form=[*CITIZEN_FORM,
                                                        _f("description", "所需信息描述", type_="textarea")],
          materials=[("政府信息公开申请表", True, "electronic", "pdf", "申请人自备"), ID_CARD]),
    _item("emergency_medical", "公共服务", 1, "院前急救病历复印", levels="city",
          legal_basis="《院前医疗急救管理办法》第二十八条；《医疗机构病历管理规定》",
          conditions="患者本人或其委托代理人申请复印院前急救病历。",
          statutory=5, promised=3, serves="citizen", depth=3, visits=1, result_name="院前急救病历复印件",
          result_kind="none", process=simple(), form=CITIZEN_FORM, materials=[ID_CARD, AUTH_LETTER]),
    _item("urban_management", "行政许可", 1, "城市建筑垃圾处置核准",
          legal_basis="《国务院对确需保留的行政审批项目设定行政许可的决定》第101项；《城市建筑垃圾管理规定》第七条",
          conditions="有建筑垃圾分类处置方案；运输车辆具备密闭装置和卫星定位；有合法的消纳场所。",
          statutory=20, promised=5, serves="enterprise", depth=4, visits=0, result_name="建筑垃圾处置核准文件",
          result_kind="approval", process=standard(2), form=ENTERPRISE_FORM,
          materials=[LICENCE_APP, ("建筑垃圾处置方案", True, "electronic", "pdf", "申请人自备"),
                     ("运输合同及消纳场所证明", True, "electronic", "pdf", "申请人自备")]),
    _item("urban_management", "行政许可", 2, "设置大型户外广告及在城市建筑物、设施上悬挂、张贴宣传品审批",
          legal_basis="《城市市容和环境卫生管理条例》第十一条",
          conditions="设置位置、规格符合户外广告设置规划；设施结构安全。",
          statutory=20, promised=5, serves="enterprise", depth=3, visits=1, result_name="户外广告设置审批决定书",
          result_kind="approval", process=parallel(2, 2), form=ENTERPRISE_FORM,
          materials=[LICENCE_APP, ("设计效果图", True, "electronic", "pdf,jpg", "申请人自备"),
                     ("结构安全证明", True, "electronic", "pdf", "中介机构出具")]),
    _item("water", "行政许可", 1, "取水许可",
          legal_basis="《中华人民共和国水法》第七条、第四十八条；《取水许可和水资源费征收管理条例》",
          conditions="符合水资源规划和用水总量控制指标；已编制建设项目水资源论证报告。",
          statutory=45, promised=20, serves="enterprise", depth=3, visits=1, result_name="取水许可证",
          result_kind="licence", process=parallel(12, 10, "现场勘查"), form=ENTERPRISE_FORM, credit_rule="flag",
          materials=[("取水许可申请书", True, "electronic", "pdf", "申请人自备"),
                     ("建设项目水资源论证报告", True, "electronic", "pdf", "中介机构出具"), BUSINESS_LICENCE]),
    _item("power", "公共服务", 1, "低压居民用电报装",
          legal_basis="《电力供应与使用条例》第二十条；《供电营业规则》",
          conditions="用电地址具备接电条件；用户提供有效身份证明和产权证明。",
          statutory=5, promised=3, serves="citizen", depth=4, visits=0, result_name="供用电合同",
          result_kind="none", process=simple(), form=CITIZEN_FORM,
          materials=[ID_CARD, ("房屋产权证明或租赁合同", True, "electronic", "pdf,jpg", "申请人自备")]),
    _item("gas", "公共服务", 1, "居民用户燃气开户",
          legal_basis="《城镇燃气管理条例》第十七条；《山东省燃气管理条例》",
          conditions="用气地址已通管道燃气且具备安全用气条件。",
          statutory=5, promised=3, serves="citizen", depth=4, visits=0, result_name="燃气供用气合同",
          result_kind="none", process=simple(), form=CITIZEN_FORM,
          materials=[ID_CARD, ("房屋产权证明", True, "electronic", "pdf,jpg", "申请人自备")]),
    _item("big_data", "公共服务", 1, "政务数据共享申请",
          legal_basis="《政务信息资源共享管理暂行办法》（国发〔2016〕51号）；《山东省电子政务和政务数据管理办法》",
          conditions="政务部门因履行职责需要使用其他部门的政务数据。",
          statutory=10, promised=5, serves="both", depth=4, visits=0, result_name="数据共享授权",
          result_kind="approval", process=standard(2), form=ENTERPRISE_FORM,
          materials=[("数据共享申请表", True, "electronic", "pdf", "申请人自备"),
                     ("数据用途及安全保障说明", True, "electronic", "pdf", "申请人自备")]),
    _item("development_reform", "行政许可", 1, "企业投资项目核准",
          legal_basis="《企业投资项目核准和备案管理条例》第六条；《政府核准的投资项目目录（山东省）》",
          conditions="项目属于核准目录范围；符合国家法律法规、发展规划、产业政策和市场准入标准。",
          statutory=20, promised=10, serves="enterprise", depth=3, visits=1, result_name="项目核准文件",
          result_kind="approval", process=parallel(6, 6, "专家评估"), form=ENTERPRISE_FORM, credit_rule="block",
          materials=[("项目申请报告", True, "electronic", "pdf", "申请人自备"),
                     ("用地（用海）预审意见", True, "electronic", "pdf", "政府部门核发"), BUSINESS_LICENCE]),
    _item("development_reform", "行政备案", 1, "企业投资项目备案",
          legal_basis="《企业投资项目核准和备案管理条例》第十三条",
          conditions="核准目录以外的企业投资项目，通过在线平台如实告知项目信息。",
          statutory=1, promised=1, serves="enterprise", depth=4, visits=0, result_name="项目备案证明",
          result_kind="approval", form=ENTERPRISE_FORM,
          process=[{"key": "accept", "name": "在线备案", "role": "egov_intake", "limit_days": 1, "after": []}],
          materials=[("项目基本情况（在线填报）", True, "electronic", "pdf", "申请人自备")]),
    _item("emergency_management", "行政许可", 1, "危险化学品经营许可",
          legal_basis="《危险化学品安全管理条例》第三十三条、第三十五条；《危险化学品经营许可证管理办法》",
          conditions="有符合国家标准的经营场所和储存设施；从业人员经专业技术培训考核合格；有健全的安全管理制度和事故应急预案。",
          statutory=30, promised=15, serves="enterprise", depth=3, visits=1, result_name="危险化学品经营许可证",
          result_kind="licence", process=parallel(10, 8, "现场核查"), form=ENTERPRISE_FORM, credit_rule="block",
          materials=[LICENCE_APP, BUSINESS_LICENCE, ("安全评价报告", True, "electronic", "pdf", "中介机构出具"),
                     ("事故应急预案", True, "electronic", "pdf", "申请人自备")]),
    _item("ecology_environment", "行政许可", 1, "建设项目环境影响报告表审批",
          legal_basis="《中华人民共和国环境影响评价法》第二十二条；《建设项目环境保护管理条例》第九条",
          conditions="建设项目类型及选址符合环境保护法律法规和相关规划；已编制环境影响报告表并公开。",
          statutory=30, promised=15, serves="enterprise", depth=3, visits=1, result_name="环境影响报告表批复",
          result_kind="approval", process=parallel(10, 8, "技术评估"), form=ENTERPRISE_FORM, credit_rule="flag",
          materials=[("建设项目环境影响报告表", True, "electronic", "pdf", "中介机构出具"),
                     ("报批申请文件", True, "electronic", "pdf", "申请人自备")]),
    _item("natural_resources", "行政许可", 1, "建设工程规划许可",
          legal_basis="《中华人民共和国城乡规划法》第四十条",
          conditions="已取得土地使用权证明；建设工程设计方案符合控制性详细规划和规划条件。",
          statutory=20, promised=10, serves="enterprise", depth=3, visits=1, result_name="建设工程规划许可证",
          result_kind="licence", process=standard(7), form=ENTERPRISE_FORM,
          materials=[LICENCE_APP, ("土地使用权证明", True, "electronic", "pdf", "政府部门核发"),
                     ("建设工程设计方案", True, "electronic", "pdf", "申请人自备")]),
    _item("natural_resources", "行政确认", 1, "不动产登记（首次登记）",
          legal_basis="《中华人民共和国民法典》第二百零九条；《不动产登记暂行条例》第十四条",
          conditions="不动产权属来源合法；申请材料齐全。",
          statutory=30, promised=5, serves="both", depth=3, visits=1, result_name="不动产权证书",
          result_kind="certificate", process=standard(2), form=CITIZEN_FORM,
          materials=[("不动产登记申请书", True, "electronic", "pdf", "申请人自备"), ID_CARD,
                     ("不动产权属来源证明", True, "electronic", "pdf", "申请人自备")]),
    _item("statistics", "公共服务", 1, "统计资料查询",
          legal_basis="《中华人民共和国统计法》第二十三条；《中华人民共和国统计法实施条例》",
          conditions="公民、法人或其他组织查询已公布的统计资料。",
          statutory=15, promised=5, serves="both", depth=4, visits=0, result_name="统计资料",
          result_kind="none", process=simple(), form=CITIZEN_FORM, materials=[ID_CARD]),
    _item("housing_provident_fund", "行政给付", 1, "住房公积金提取（购买自住住房）",
          legal_basis="《住房公积金管理条例》第二十四条",
          conditions="购买、建造、翻建、大修自住住房；提供购房合同和付款凭证。",
          statutory=3, promised=1, serves="citizen", depth=4, visits=0, result_name="住房公积金提取到账",
          result_kind="none", form=CITIZEN_FORM,
          process=[{"key": "accept", "name": "审核支付", "role": "egov_approver", "limit_days": 1, "after": []}],
          materials=[ID_CARD, ("购房合同及付款凭证", True, "electronic", "pdf,jpg", "申请人自备")]),
    _item("administrative_approval", "行政许可", 1, "药品零售企业许可",
          legal_basis="《中华人民共和国药品管理法》第五十一条；《药品经营和使用质量监督管理办法》",
          conditions="有依法经过资格认定的药师；有与所经营药品相适应的营业场所、设备、仓储设施和卫生环境。",
          statutory=30, promised=15, serves="enterprise", depth=3, visits=1, result_name="药品经营许可证",
          result_kind="licence", process=parallel(8, 8), form=ENTERPRISE_FORM, credit_rule="block",
          materials=[LICENCE_APP, BUSINESS_LICENCE, ("执业药师注册证", True, "electronic", "pdf,jpg", "政府部门核发"),
                     SITE_PLAN]),
    _item("hotline_12345", "公共服务", 1, "12345热线诉求办理", levels="city",
          legal_basis="《国务院办公厅关于进一步优化地方政务服务便民热线的指导意见》（国办发〔2020〕53号）",
          conditions="企业和群众反映的咨询、求助、投诉、举报、建议。",
          statutory=15, promised=5, serves="both", depth=4, visits=0, result_name="诉求办理答复",
          result_kind="none", process=standard(2), form=[*CITIZEN_FORM, _f("content", "诉求内容", type_="textarea")],
          materials=[("现场照片", False, "electronic", "jpg,png", "申请人自备")]),
    _item("education_sports", "行政许可", 1, "民办学校（幼儿园）办学许可",
          legal_basis="《中华人民共和国民办教育促进法》第十二条、第十八条",
          conditions="办学条件符合《中华人民共和国教育法》规定；有合格的教师和办学场所。",
          statutory=90, promised=60, serves="enterprise", depth=2, visits=2, result_name="民办学校办学许可证",
          result_kind="licence", process=parallel(40, 30, "实地评估"), form=ENTERPRISE_FORM, credit_rule="flag",
          materials=[LICENCE_APP, ("办学章程", True, "electronic", "pdf", "申请人自备"),
                     ("校舍及设施证明", True, "paper", "pdf", "申请人自备")]),
    _item("education_sports", "公共服务", 1, "义务教育阶段新生入学登记",
          legal_basis="《中华人民共和国义务教育法》第十二条",
          conditions="适龄儿童少年在户籍所在地或居住地学校就近入学。",
          statutory=20, promised=10, serves="citizen", depth=4, visits=0, result_name="入学通知",
          result_kind="none", process=standard(7), form=[*CITIZEN_FORM, _f("child_name", "学生姓名")],
          materials=[("居民户口簿", True, "electronic", "jpg,pdf", "政府部门核发"),
                     ("房产证明或居住证", True, "electronic", "jpg,pdf", "政府部门核发")]),
    _item("transport", "行政许可", 1, "道路货物运输经营许可",
          legal_basis="《中华人民共和国道路运输条例》第二十一条、第二十四条；《道路货物运输及站场管理规定》",
          conditions="有与其经营业务相适应并经检测合格的车辆；有符合规定条件的驾驶人员；有健全的安全生产管理制度。",
          statutory=20, promised=5, serves="enterprise", depth=4, visits=0, result_name="道路运输经营许可证",
          result_kind="licence", process=standard(2), form=ENTERPRISE_FORM,
          materials=[LICENCE_APP, BUSINESS_LICENCE, ("车辆行驶证及检测合格证明", True, "electronic", "pdf,jpg",
                                                    "政府部门核发")]),
    _item("market_regulation", "行政备案", 1, "个体工商户登记",
          legal_basis="《促进个体工商户发展条例》；《中华人民共和国市场主体登记管理条例》",
          conditions="有经营能力的公民；名称及经营场所符合规定。",
          statutory=3, promised=1, serves="citizen", depth=4, visits=0, result_name="营业执照（个体工商户）",
          result_kind="licence", form=[*CITIZEN_FORM, _f("shop_name", "字号名称", required=False)],
          process=[{"key": "accept", "name": "登记", "role": "egov_intake", "limit_days": 1, "after": []}],
          materials=[ID_CARD, ("经营场所证明", True, "electronic", "pdf,jpg", "申请人自备")]),
]

# Bundles (一件事): implemented per division where all member departments exist.
# members: (kind, basic code, prior, optional) — an optional member is chosen by the applicant when their business
# needs it (a prior approval for an entertainment venue, a public place or a food business)
BUNDLES: list[dict[str, Any]] = [
    {"code": "QYKB", "name": "企业开办一件事", "serves": "enterprise",
     "description": "一次申请、一套材料：营业执照、统一社会信用代码（原组织机构代码）和涉税信息确认同时办理，"
                    "证照同发；经营涉及娱乐场所、公共场所、食品经营的，相关许可作为前置审批并联办理。",
     "members": [("market_regulation", basic_code("行政许可", "market_regulation", 1), False, False),
                 ("market_regulation", basic_code("行政确认", "market_regulation", 1), False, False),
                 ("tax", basic_code("行政确认", "tax", 1), False, False),
                 ("culture_tourism", basic_code("行政许可", "culture_tourism", 1), True, True),
                 ("health", basic_code("行政许可", "health", 1), True, True),
                 ("market_regulation", basic_code("行政许可", "market_regulation", 2), True, True)]},
    {"code": "CSYJS", "name": "出生一件事", "serves": "citizen",
     "description": "新生儿出生医学证明、户口登记、城乡居民医保参保登记、社会保障卡申领一次办结。",
     "members": [("health", basic_code("公共服务", "health", 1), True, False),
                 ("public_security", basic_code("行政确认", "public_security", 1), False, False),
                 ("human_resources_social_security", basic_code("公共服务", "human_resources_social_security", 2),
                  False, False),
                 ("human_resources_social_security", basic_code("公共服务", "human_resources_social_security", 1),
                  False, False)]},
]


def bundle_code(code: str, division_code: str) -> str:
    return f"{code}-{division_code}"
