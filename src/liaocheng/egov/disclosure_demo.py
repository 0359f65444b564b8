"""Demo government documents (政府信息) for the disclosure pages and the search benchmark.

``ensure_demo_documents(n)`` tops the document table up to ``n`` documents of the city's and counties'
departments: titles such as "聊城市人民政府办公室关于印发聊城市城乡供水一体化实施方案的通知", document
numbers such as 聊政办发〔2025〕12号, bodies of several paragraphs built from a phrase bank over many topics,
categories, a few classified and "不予公开" records. Deterministic for a seed, written in bulk with their
search index rows (``egov.search.index_many``), one transaction and one audit record per batch.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from typing import Any

from django.db import transaction
from django.utils import timezone

from liaocheng.core import audit
from liaocheng.core.departments import COUNTIES
from liaocheng.core.models import Department

from . import search
from .models import DisclosureType, Document

BATCH = 5000
FIRST_DAY = dt.date(2020, 1, 1)
LAST_DAY = dt.date(2025, 12, 31)

# topic -> (category, subjects used in titles, terms used inside sentences)
TOPICS: dict[str, tuple[str, list[str], list[str]]] = {
    "water": ("城乡建设", ["城乡供水一体化实施方案", "农村饮水安全巩固提升工程", "城市节约用水管理办法"],
              ["供水管网", "水质检测", "饮水安全", "节水器具", "水厂改造", "二次供水", "水源地保护"]),
    "heat": ("城乡建设", ["冬季清洁取暖工作方案", "城市集中供热管理办法", "老旧小区改造三年行动计划"],
             ["集中供热", "清洁取暖", "热源厂", "供热管网", "老旧小区", "加装电梯", "雨污分流"]),
    "traffic": ("交通运输", ["城区交通秩序综合整治方案", "公共交通优先发展实施意见", "农村公路管理养护办法"],
                ["公交线路", "停车泊位", "交通信号", "农村公路", "客运站", "危险货物运输", "城乡公交"]),
    "agri": ("农业农村", ["蔬菜产业高质量发展意见", "高标准农田建设规划", "农村人居环境整治提升方案"],
             ["蔬菜大棚", "高标准农田", "种粮大户", "农业社会化服务", "冷链物流", "农村厕所", "秸秆综合利用"]),
    "health": ("卫生健康", ["基层医疗卫生服务能力提升方案", "突发公共卫生事件应急预案", "家庭医生签约服务实施办法"],
               ["家庭医生", "基层医疗", "医保报销", "疫苗接种", "健康档案", "院前急救", "分级诊疗"]),
    "edu": ("教育", ["义务教育学校布局规划", "学前教育普及普惠实施方案", "中小学课后服务工作意见"],
            ["课后服务", "校舍安全", "学前教育", "教师队伍", "营养改善", "校车安全", "学位供给"]),
    "env": ("生态环境", ["大气污染防治攻坚行动方案", "河湖长制工作考核办法", "土壤污染防治工作方案"],
            ["扬尘治理", "挥发性有机物", "河长制", "黑臭水体", "排污许可", "空气质量", "危险废物"]),
    "market": ("市场监管", ["食品安全城市创建实施方案", "优化营商环境若干措施", "特种设备安全监管办法"],
               ["食品安全", "营业执照", "市场主体", "双随机", "特种设备", "价格监测", "知识产权"]),
    "social": ("民政社保", ["城乡居民基本养老保险实施办法", "困难群众救助保障工作意见", "养老服务体系建设规划"],
               ["养老保险", "低保标准", "特困供养", "养老机构", "残疾人补贴", "就业援助", "社保卡"]),
    "finance": ("财政金融审计", ["预算绩效管理实施意见", "政府债务风险防控办法", "财政专项资金管理办法"],
                ["预算绩效", "专项资金", "政府采购", "债务风险", "国库集中支付", "审计整改", "普惠金融"]),
    "economy": ("国民经济管理", ["国民经济和社会发展计划", "重点项目建设推进方案", "招商引资优惠政策"],
                ["重点项目", "固定资产投资", "招商引资", "产业园区", "统计监测", "新旧动能转换", "专精特新"]),
    "culture": ("文化旅游", ["全域旅游发展规划", "运河文化保护传承利用实施方案", "公共文化服务体系建设意见"],
                ["大运河", "东昌湖", "景区管理", "非物质文化遗产", "公共图书馆", "文物保护", "旅游厕所"]),
    "safety": ("应急管理", ["安全生产专项整治三年行动方案", "防汛抗旱应急预案", "森林防火工作方案"],
               ["安全生产", "隐患排查", "防汛物资", "应急演练", "危化品", "消防通道", "值班值守"]),
    "police": ("公安司法", ["扫黑除恶常态化工作方案", "法治政府建设实施意见", "人民调解工作办法"],
               ["治安防控", "人民调解", "法律援助", "行政复议", "社区矫正", "电信诈骗", "网格化管理"]),
    "tech": ("科技信息", ["数字政府建设实施方案", "政务数据共享管理办法", "科技创新券管理办法"],
             ["政务数据", "一网通办", "电子证照", "数据共享", "高新技术企业", "创新平台", "信息安全"]),
    "general": ("综合政务", ["政府工作规则", "政务公开工作要点", "督查检查考核工作办法"],
                ["政务公开", "督查考核", "议事规则", "公文办理", "信息报送", "机关作风", "重点工作"]),
}
KIND_ABBR = {"party_government_office": "政办", "development_reform": "发改", "health": "卫健", "education": "教",
             "public_security": "公", "civil_affairs": "民", "agriculture_rural": "农", "market_regulation": "市监",
             "ecology_environment": "环", "housing_construction": "建", "water": "水", "culture_tourism": "文旅",
             "emergency_management": "应急", "human_resources_social_security": "人社", "big_data": "数"}
OPENERS = ["为深入贯彻落实", "为进一步做好", "根据", "按照", "为切实加强"]
BASES = ["党中央、国务院决策部署", "省委、省政府工作要求", "市委、市政府工作安排", "有关法律法规规定"]
VERBS = ["加快推进", "全面加强", "扎实做好", "持续深化", "统筹推进", "着力提升", "规范", "完善"]
GOALS = ["群众满意度明显提高", "工作机制更加健全", "服务能力显著增强", "各项指标达到省定标准",
         "长效管理机制基本形成", "重点任务全面完成"]
UNITS = ["各县（市、区）人民政府", "市政府各部门", "各有关单位", "各乡镇（街道）", "市属各企业"]
CLOSERS = ["本通知自印发之日起施行。", "请结合实际，认真贯彻执行。", "执行中遇到的问题，请及时报告。",
           "各单位要明确责任分工，确保各项措施落到实处。"]
KINDS_OF_DOC = [("关于印发{s}的通知", 5), ("关于进一步加强{t}工作的意见", 2), ("关于做好{t}工作的通知", 3),
                ("关于{t}有关问题的批复", 1), ("关于公布{y}年{t}情况的公告", 1)]


def _sentence(rng: random.Random, terms: list[str]) -> str:
    a, b = rng.sample(terms, 2)
    pattern = rng.randrange(6)
    if pattern == 0:
        return (f"{rng.choice(OPENERS)}{rng.choice(BASES)}，{rng.choice(VERBS)}{a}工作，"
                f"到{rng.randint(2025, 2030)}年{rng.choice(GOALS)}。")
    if pattern == 1:
        return f"{rng.choice(UNITS)}要把{a}和{b}纳入年度重点工作，{rng.choice(VERBS)}组织领导和督促检查。"
    if pattern == 2:
        return f"全市共安排{a}资金{rng.randint(100, 9000)}万元，完成{b}项目{rng.randint(3, 300)}个。"
    if pattern == 3:
        return f"建立{a}联席会议制度，定期研究解决{b}中的突出问题，{rng.choice(GOALS)}。"
    if pattern == 4:
        return f"对{a}实行清单化管理，逐项明确责任单位和完成时限，{rng.choice(VERBS)}{b}。"
    return f"加大{a}宣传力度，畅通群众反映渠道，及时回应社会关切，{rng.choice(VERBS)}{b}服务。"


def make_document(rng: random.Random, dept: Department, county: str, serial: int, year: int,
                  issued_on: dt.date) -> Document:
    topic = rng.choice(list(TOPICS))
    category, subjects, terms = TOPICS[topic]
    terms = terms + rng.choice(list(TOPICS.values()))[2][:3]  # a few words from another topic
    place = "聊城市" if dept.level == "city" else county
    pattern = rng.choices([p for p, _ in KINDS_OF_DOC], [w for _, w in KINDS_OF_DOC])[0]
    title = dept.name + pattern.format(s=place + rng.choice(subjects), t=rng.choice(terms), y=year - 1)
    paragraphs = [f"{rng.choice(UNITS)}：" if rng.random() < 0.7 else ""]
    for _ in range(rng.randint(3, 5)):
        paragraphs.append("".join(_sentence(rng, terms) for _ in range(rng.randint(2, 4))))
    paragraphs.append(rng.choice(CLOSERS))
    signature = f"{dept.name}\n{issued_on.year}年{issued_on.month}月{issued_on.day}日"
    body = "\n\n".join([*(p for p in paragraphs if p), signature])
    prefix = "聊" if dept.level == "city" else county[0]
    abbr = KIND_ABBR.get(dept.kind, "政")
    doc_number = f"{prefix}{abbr}发〔{year}〕{rng.randint(1, 120)}号" if rng.random() < 0.85 else ""
    r = rng.random()
    classified = r < 0.02
    disclosure = (DisclosureType.NOT_PUBLIC if r < 0.05 else DisclosureType.ON_REQUEST if r < 0.10
                  else DisclosureType.PROACTIVE)
    published = None
    if not classified and disclosure != DisclosureType.NOT_PUBLIC:
        day = issued_on + dt.timedelta(days=rng.randint(1, 15))
        published = dt.datetime.combine(day, dt.time(9 + rng.randrange(8), rng.randrange(60)),
                                        timezone.get_current_timezone())
    return Document(title=title, doc_number=doc_number, index_number=f"{dept.code}/{year:04d}-{serial:05d}",
                    department=dept, division_code=dept.division_code[:6], issued_on=issued_on, category=category,
                    disclosure_type=disclosure, classified=classified, body=body, published_at=published)


def generate(count: int, *, seed: int = 11, serial_start: dict[str, int] | None = None) -> Iterator[Document]:
    """``count`` unsaved documents (deterministic for ``seed`` and the department table)."""
    rng = random.Random(seed)
    depts = list(Department.objects.filter(active=True).order_by("code"))
    county_name = dict(COUNTIES)
    weights = [6 if d.kind == "party_government_office" else 3 if d.level == "city" else 1 for d in depts]
    serials = dict(serial_start or {})
    span = (LAST_DAY - FIRST_DAY).days
    for _ in range(count):
        dept = rng.choices(depts, weights)[0]
        issued_on = FIRST_DAY + dt.timedelta(days=rng.randrange(span + 1))
        key = f"{dept.code}/{issued_on.year:04d}-"
        serials[key] = serials.get(key, 0) + 1
        yield make_document(rng, dept, county_name.get(dept.division_code[:6], "聊城市"), serials[key],
                            issued_on.year, issued_on)


def _serial_start() -> dict[str, int]:
    start: dict[str, int] = {}
    for number in Document.objects.values_list("index_number", flat=True).iterator():
        prefix, _, serial = number.rpartition("-")
        if serial.isdigit():
            start[prefix + "-"] = max(start.get(prefix + "-", 0), int(serial))
    return start


def ensure_demo_documents(count: int = 5000, *, seed: int = 11,
                          progress: Callable[[int], Any] | None = None) -> int:
    """Top the document table up to ``count`` documents; returns the number created (idempotent)."""
    missing = count - Document.objects.count()
    if missing <= 0:
        return 0
    made = 0
    batch: list[Document] = []

    def flush() -> None:
        nonlocal made
        with transaction.atomic():
            created = Document.objects.bulk_create(batch, batch_size=1000)
            if any(d.pk is None for d in created):  # backends without RETURNING: read the ids back
                by_number = dict(Document.objects.filter(index_number__in=[d.index_number for d in created])
                                 .values_list("index_number", "pk"))
                for d in created:
                    d.pk = by_number[d.index_number]
            search.index_many(created)
            audit.record(actor="system", action="egov.document.demo_import", object_type="egov.Document",
                         object_id=f"{created[0].pk}-{created[-1].pk}", after={"count": len(created)})
        made += len(batch)
        batch.clear()
        if progress:
            progress(made)

    for doc in generate(missing, seed=seed + Document.objects.count(), serial_start=_serial_start()):
        batch.append(doc)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return made
