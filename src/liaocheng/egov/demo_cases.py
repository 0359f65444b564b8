"""A year of demo service-hall applications (办件), so the supervision and indicator pages show real figures.

``ensure_demo_applications(n)`` generates ``n`` applications over the 365 days before ``now`` from a pool of
demo applicant accounts (real-name citizens and enterprises, named after the registry's residents and legal
entities when the registry holds some) and plays each one through the rules of the workflow, in working
days (``core.calendar``):

- when: submitted mostly in working hours of working days, few on weekends and statutory holidays;
- what: spread over the divisions (city departments and the counties' by population) and the published
  items, market regulation, public security, traffic police, social security, tax, housing provident fund
  and real-estate registration far more often than rare licences; about 4 % are one-stop bundles (企业开办,
  出生一件事) with one case per member, optional members chosen now and then (``Application.chosen_items``);
- how: accepted within 0–2 working days of receipt, each step of the item's process (parallel branches and
  joins, issue steps released as ``workflow.issue_released`` says, a bundle's main results issued together)
  finished within its limit or, per department, sometimes beyond; some corrections (补正: the clock stops,
  deadlines move by the working days paused), a few refusals and rejections with a reason (a bundle's other
  cases then stop, 已终止), a few withdrawals; the last weeks' cases are still open. The rows are the
  workflow's: ``CaseStep``, the ``CaseEvent`` timeline, ``CorrectionRequest``, ``Certificate`` for results other
  than ``none`` (number, verification code, holder, validity; the PDF is rendered on first need by
  ``certificates.ensure_pdf``);
- supervision: the ``SupervisionCard`` rows the ten-minute sweep (``tasks.supervision_sweep``) would have
  written, created at the first sweep at or after the moment its rule (``supervision``: ``warn_at``, the
  finish-by date, ``acceptance_days``) holds and resolved at the first sweep after the cause ended, so a real
  ``supervision.sweep(now)`` right after the load writes and resolves nothing;
- a few hundred disclosure requests (依申请公开, 20 working days, some extended once by 20) with their cards,
  when there are none.

A case whose process has no issue step (e.g. 个体工商户登记, 内地居民婚姻登记) is finished (``issued``, with its
certificate) when its last step is done, and a result of kind ``none`` is issued without a certificate.
Deterministic for a seed and ``now``. Rows are written in batches with one ``executemany`` per table (the
ORM's per-object work would take most of the time), everything in one transaction with one audit record.
Demo applications are numbered ``DM<date><serial>``; a second call adds nothing.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import heapq
import itertools
import math
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from stdnum.cn import ric

from liaocheng.core import audit, crypto
from liaocheng.core.calendar import WorkingCalendar, get_calendar
from liaocheng.core.crypto import blind_index
from liaocheng.core.departments import COUNTIES, department_code
from liaocheng.core.errors import InvalidInput
from liaocheng.core.models import Department, User, UserKind
from liaocheng.core.permissions import CITY_CODE

from . import certificates, supervision, workflow
from .models import (
    Application,
    ApplicationStatus,
    Bundle,
    BundleItem,
    CardKind,
    Case,
    CaseEvent,
    CaseStatus,
    CaseStep,
    Certificate,
    CorrectionRequest,
    CreditRule,
    DisclosureRequest,
    DisclosureRequestStatus,
    ItemStatus,
    ServiceItem,
    StepStatus,
    SupervisionCard,
)

DEMO_PREFIX = "DM"
ACTOR = "demo"
SYSTEM = workflow.SYSTEM
TICK = 600  # seconds between two supervision sweeps (tasks.supervision_sweep: every ten minutes)
BATCH = 1000  # applications per bulk write
BUNDLE_SHARE = 0.04
WITHDRAW_RATE = 0.03
REFUSE_RATE = 0.03
REJECT_RATE = 0.04
CORRECTION_RATE = 0.07
BUNDLE_REJECT_RATE = 0.05  # a bundle's prior approval rejected (its other cases stop)

# relative yearly volume of an item (by name; others 1)
ITEM_WEIGHTS: dict[str, float] = {
    "企业设立登记": 40, "统一社会信用代码赋码": 4, "食品经营许可": 15, "个体工商户登记": 45,
    "娱乐场所经营许可": 1, "旅行社设立许可": 0.5, "公共场所卫生许可": 5, "出生医学证明签发": 6,
    "户口登记（出生登记）": 8, "居民身份证换领": 40, "机动车驾驶证换证": 35,
    "公众聚集场所投入使用、营业前消防安全检查": 2, "建筑工程施工许可": 4, "商品房预售许可": 1.5,
    "社会保障卡申领": 35, "城乡居民医保参保登记": 30, "失业保险金申领": 10, "内地居民婚姻登记": 12,
    "最低生活保障审核确认": 4, "农药经营许可": 1, "种子生产经营许可": 0.5, "涉税信息确认（税务登记）": 30,
    "发票领用": 40, "政府信息依申请公开": 1, "院前急救病历复印": 1, "城市建筑垃圾处置核准": 2,
    "设置大型户外广告及在城市建筑物、设施上悬挂、张贴宣传品审批": 2, "取水许可": 0.5, "低压居民用电报装": 10,
    "居民用户燃气开户": 8, "政务数据共享申请": 0.5, "企业投资项目核准": 1, "企业投资项目备案": 4,
    "危险化学品经营许可": 1, "建设项目环境影响报告表审批": 2, "建设工程规划许可": 2,
    "不动产登记（首次登记）": 20, "统计资料查询": 1, "住房公积金提取（购买自住住房）": 30, "药品零售企业许可": 2,
    "12345热线诉求办理": 5, "民办学校（幼儿园）办学许可": 0.3, "义务教育阶段新生入学登记": 15,
    "道路货物运输经营许可": 3,
}
# residents (10 000, 2020 census, rounded) as the weight of a county; the city departments' share
COUNTY_WEIGHTS = {"371502": 120, "371503": 50, "371521": 73, "371522": 92, "371524": 37, "371525": 76,
                  "371526": 46, "371581": 72}
CITY_SHARE = 0.15
BUNDLE_WEIGHTS = {"QYKB": 0.6, "CSYJS": 0.4}
# how often the applicant chooses an optional member (by member item name)
OPTIONAL_RATES = {"食品经营许可": 0.3, "公共场所卫生许可": 0.12, "娱乐场所经营许可": 0.03}
# validity of a certificate in years (by item name); licences not named: 5 years
VALID_YEARS = {"企业设立登记": None, "个体工商户登记": None, "统一社会信用代码赋码": None, "居民身份证换领": 10,
               "机动车驾驶证换证": 10, "民办学校（幼儿园）办学许可": 3, "娱乐场所经营许可": 2}

REFUSE_REASONS = [
    "申请事项不属于本机关职权范围，已告知申请人向有权机关申请。",
    "申请人不具备申请资格，申请材料显示的主体信息与登记信息不一致。",
    "申请材料经一次性告知补正后仍不符合法定形式。",
    "同一事项已有在办申请，不得重复申请。",
]
REJECT_REASONS = [
    "经现场核查，经营场所布局不符合相关技术规范要求，不予许可。",
    "申请人提交的专业技术人员资格证明不符合规定条件，不予许可。",
    "经审查，申请事项不符合相关规划和产业政策要求，不予许可。",
    "经审查，申请人不符合法定条件，不予许可。",
]
CORRECTION_ITEMS = [
    "申请书缺少法定代表人签字，请补充签字后重新上传。",
    "身份证件照片不清晰，请重新上传清晰的正反面照片。",
    "经营场所证明材料与申请地址不一致，请补充租赁合同或产权证明。",
    "请补充提交经办人授权委托书。",
    "平面布局图未标注功能分区，请补正后上传。",
]
WITHDRAW_NOTES = ["申请人主动撤回", "信息填写有误，撤回后重新申请", "经营计划调整，暂不办理"]
ROLE_LABELS = {"egov_intake": "窗口受理", "egov_reviewer": "审查", "egov_approver": "审批", "egov_issuer": "制证"}

# disclosure requests (依申请公开)
DISCLOSURE_SHARE = 0.025  # requests per application
DISCLOSURE_DEPARTMENT_WEIGHTS = {"party_government_office": 5, "natural_resources": 3, "housing_construction": 3,
                                 "public_security": 1.5, "ecology_environment": 1.5, "development_reform": 1.5,
                                 "human_resources_social_security": 1.5, "education_sports": 1.5}
DISCLOSURE_TOPICS = ["城区老旧小区改造项目的资金使用情况", "某地块国有土地使用权出让合同", "集体土地征收补偿安置方案",
                     "建设项目环境影响评价批复文件", "农村道路建设项目招标结果", "城市集中供热价格核定依据",
                     "最低生活保障对象的审批标准", "中小学学区划分方案", "某小区规划设计变更审批材料",
                     "行政事业性收费项目及标准", "重点项目建设计划", "防汛应急物资储备情况"]
DISCLOSURE_PURPOSES = ["自身生产、生活需要", "了解本人房屋征收补偿依据", "企业经营决策参考", "学术研究"]
# answers in the national annual-report template's terms: (kind, sub-reason, weight), shares close to those in
# published municipal reports (many 无法提供/本机关不掌握, few 不予公开)
ANSWER_KINDS = [
    ("disclosed", "", 40), ("partly", "", 8),
    ("refused", "third_party", 2), ("refused", "process_info", 1.5), ("refused", "internal_affairs", 1),
    ("refused", "inquiry", 0.8), ("refused", "enforcement_file", 0.5), ("refused", "law_forbidden", 0.3),
    ("refused", "state_secret", 0.2), ("refused", "security_stability", 0.2),
    ("unable", "not_held", 24), ("unable", "needs_creation", 5), ("unable", "unclear", 2),
    ("not_processed", "petition", 3), ("not_processed", "repeated", 2.5), ("not_processed", "excessive", 1),
    ("not_processed", "confirmation", 1), ("not_processed", "publication", 0.5),
    ("other", "no_correction", 3.5), ("other", "other", 2.5), ("other", "no_fee", 0.2),
]
ANSWER_TEXTS = {
    "disclosed": "经审查，您申请的信息属于可以公开的政府信息，现予以公开，详见附件。",
    "partly": "经审查，您申请的信息中涉及第三方个人信息的部分不予公开，其余部分予以公开。",
    "refused": "经审查，您申请的信息依据《中华人民共和国政府信息公开条例》第十四条至第十六条的规定不予公开。",
    "refused.third_party": "经审查，您申请的信息涉及第三方商业秘密，第三方不同意公开，依据《条例》第十五条不予公开。",
    "refused.process_info": "经审查，您申请的信息属于过程稿等过程性信息，依据《条例》第十六条第二款可以不予公开。",
    "refused.internal_affairs": "经审查，您申请的信息属于内部事务信息，依据《条例》第十六条第一款可以不予公开。",
    "refused.inquiry": "经审查，您申请的信息属于行政查询事项，请按照有关法律法规规定的程序办理查询。",
    "refused.enforcement_file": "经审查，您申请的信息属于行政执法案卷信息，依据《条例》第十六条第二款可以不予公开。",
    "unable.not_held": "经检索，本机关未制作或获取您申请的信息，依据《条例》第三十六条第（四）项告知如上。",
    "unable.needs_creation": "您申请的信息需要本机关对现有政府信息进行加工、分析，依据《条例》第三十八条不予提供。",
    "unable.unclear": "经补正，您的申请内容仍不明确，本机关无法确定您所需的政府信息。",
    "not_processed.petition": "您的申请实为信访、投诉、举报事项，请通过信访渠道反映，本机关不予处理。",
    "not_processed.repeated": "您已就同一内容提出过申请并已获答复，依据《条例》第三十六条第（六）项不再重复处理。",
    "not_processed.excessive": "您在短期内无正当理由大量、反复提出申请，本机关依据《条例》第三十五条不予处理。",
    "not_processed.confirmation": "您要求本机关确认或重新出具已获取的信息，依据《条例》第三十九条不予处理。",
    "not_processed.publication": "您申请的信息已由公开出版物刊载，请自行查阅，本机关不予处理。",
    "other.no_correction": "本机关已于此前通知您补正申请，您无正当理由逾期未补正，本机关不再处理您的申请。",
    "other.other": "您已主动撤回申请，本机关终止处理。",
    "other.no_fee": "您逾期未按收费通知要求缴纳信息处理费，本机关不再处理您的申请。",
}
# enterprise accounts choose their column of the template (法人或其他组织); weights
REQUESTER_CATEGORY_WEIGHTS = [("business", 78), ("legal_service", 10), ("other", 5), ("research", 4),
                              ("public_interest", 3)]

# fallback names when the registry is empty
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = "伟刚勇毅俊峰强军平东文辉力明永健秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红玲芳燕彩春兰凤洁梅琳素云"
BRANDS = "鑫盛源泰华恒宏达兴隆信诚丰瑞祥德昌顺通宇博嘉润金聚贤新凯晟安永利中宝"
TRADES = ["商贸", "食品", "建材", "物流", "科技", "农业发展", "餐饮管理", "机械制造", "纺织", "医药"]

Progress = Callable[[str, int, int], None]


def demo_applications_exist() -> bool:
    return Application.objects.filter(number__startswith=DEMO_PREFIX).exists()


def demo_requests_exist() -> bool:
    return DisclosureRequest.objects.exists()


# --- time ---------------------------------------------------------------------------------------------

class _Clock:
    """Working-day arithmetic with memoised results, and the sweep's ten-minute ticks up to ``now``."""

    def __init__(self, cal: WorkingCalendar, now: dt.datetime) -> None:
        self.cal, self.tz, self.now = cal, cal.tz, now
        self.now_ts = now.timestamp()
        self.period = supervision.period_days()
        self.acceptance = supervision.acceptance_days()
        self._add: dict[tuple[dt.date, int], dt.date] = {}
        self._between: dict[tuple[dt.date, dt.date], int] = {}
        self._warn: dict[dt.datetime, dt.datetime] = {}
        self._finish: dict[dt.datetime, dt.datetime] = {}
        self.periods = [(a.hour * 60 + a.minute, b.hour * 60 + b.minute) for a, b in cal.periods]

    def is_workday(self, day: dt.date) -> bool:
        return self.cal.is_workday(day)

    def add(self, day: dt.date, days: int) -> dt.date:
        key = (day, days)
        if key not in self._add:
            self._add[key] = self.cal.add_working_days(day, days)
        return self._add[key]

    def local(self, when: dt.datetime) -> dt.datetime:
        return when.astimezone(self.tz)

    def deadline(self, start: dt.datetime, days: int) -> dt.datetime:
        """``cal.deadline_after_days``: close of the ``days``-th working day after ``start``."""
        return self.cal.end_of_working_day(self.add(self.local(start).date(), days))

    def extend(self, when: dt.datetime | None, days: int) -> dt.datetime | None:
        """``workflow._extend``: the same clock time ``days`` working days later."""
        if when is None or days <= 0:
            return when
        local = self.local(when)
        return dt.datetime.combine(self.add(local.date(), days), local.timetz())

    def between(self, start: dt.date, end: dt.date) -> int:
        key = (start, end)
        if key not in self._between:
            self._between[key] = self.cal.working_days_between(start, end)
        return self._between[key]

    def warn_at(self, due: dt.datetime) -> dt.datetime:
        if due not in self._warn:
            self._warn[due] = supervision.warn_at(self.cal, due)
        return self._warn[due]

    def finish_by(self, due: dt.datetime) -> dt.datetime:
        if due not in self._finish:
            self._finish[due] = self.cal.deadline_after_days(due, self.period)
        return self._finish[due]

    def at_minute(self, day: dt.date, minute: float) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), self.tz) + dt.timedelta(minutes=minute)

    def working_moment(self, rng: random.Random, day: dt.date, after: dt.datetime | None = None
                       ) -> dt.datetime | None:
        """A random moment in the working periods of ``day`` (later than ``after``), or None if none is left."""
        lo = 0.0
        if after is not None:
            local = self.local(after)
            if local.date() > day:
                return None
            if local.date() == day:
                lo = local.hour * 60 + local.minute + local.second / 60 + 1
        spans = [(max(a, lo), b) for a, b in self.periods if b > lo + 1]
        total = sum(b - a for a, b in spans)
        if total <= 0:
            return None
        x = rng.random() * total
        for a, b in spans:
            if x <= b - a:
                return self.at_minute(day, a + x)
            x -= b - a
        a, b = spans[-1]
        return self.at_minute(day, b - 0.5)

    def after_working_days(self, rng: random.Random, start: dt.datetime, days: int) -> dt.datetime:
        """A working moment ``days`` working days after ``start`` (0: later the same working day if time is left,
        else the next working day)."""
        local = self.local(start)
        if days <= 0:
            if self.is_workday(local.date()):
                moment = self.working_moment(rng, local.date(), after=local)
                if moment is not None:
                    return moment
            days = 1
        day = self.add(local.date(), days)
        moment = self.working_moment(rng, day)
        assert moment is not None
        return moment

    # --- the sweep's ticks ---------------------------------------------------------------------------
    def tick(self, when: dt.datetime | None, strict: bool = False) -> float | None:
        """The first sweep (timestamp) at or after ``when`` (strictly after with ``strict``): every ten minutes,
        and one at ``now``; None if there is none up to ``now``."""
        if when is None:
            return None
        ts = when.timestamp()
        t = (math.floor(ts / TICK) + 1) * TICK if strict else math.ceil(ts / TICK) * TICK
        if t < self.now_ts:
            return float(t)
        if ts < self.now_ts or (not strict and ts == self.now_ts):
            return self.now_ts
        return None

    def dt(self, ts: float) -> dt.datetime:
        return self.now if ts == self.now_ts else dt.datetime.fromtimestamp(ts, self.tz)


def _max_tick(*ticks: float | None) -> float | None:
    if any(t is None for t in ticks):
        return None
    return max(t for t in ticks if t is not None)


# --- the applicant pool ---------------------------------------------------------------------------------

@dataclass
class _Applicant:
    user: User
    kind: str
    name: str  # the applicant name on applications (person or organisation)
    county: str
    id_number: str = ""
    credit_code: str = ""
    phone: str = ""
    address: str = ""
    legal_representative: str = ""
    sealed: tuple[str, str] | None = None  # (ID number, phone) as stored (SM4), computed once

    def stored(self) -> tuple[str, str]:
        """The application's encrypted columns, as ``EncryptedTextField`` writes them (once per applicant)."""
        if self.sealed is None:
            id_number = self.id_number if self.kind == UserKind.CITIZEN else ""
            self.sealed = (crypto.encrypt(id_number) if id_number else "",
                           crypto.encrypt(self.phone) if self.phone else "")
        return self.sealed


def _id_number(rng: random.Random, county: str, used: set[str]) -> str:
    while True:
        birth = dt.date(1955, 1, 1) + dt.timedelta(days=rng.randrange(365 * 50))
        body = f"{county}{birth:%Y%m%d}{rng.randrange(1, 1000):03d}"
        value = body + ric.calc_check_digit(body + "0")
        if value not in used:
            used.add(value)
            return value


def _person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


def _pool(rng: random.Random, citizens: int, enterprises: int) -> list[_Applicant]:
    """Create the demo applicant accounts (unusable passwords: they exist for the history, nobody logs in)."""
    from liaocheng.core.demo import DEMO_ACCOUNTS
    from liaocheng.registry.generator import credit_code as make_credit_code
    from liaocheng.registry.models import LegalEntity, Person

    taken_ids = set(User.objects.exclude(id_number_bidx="").values_list("id_number_bidx", flat=True))
    taken_ids |= {blind_index("id_number", a.id_number) for a in DEMO_ACCOUNTS if a.id_number}
    taken_codes = set(User.objects.exclude(credit_code="").values_list("credit_code", flat=True))
    taken_codes |= {a.credit_code for a in DEMO_ACCOUNTS if a.credit_code}
    counties = [c for c, _ in COUNTIES]
    county_w = [COUNTY_WEIGHTS.get(c, 1) for c in counties]
    adult = dt.date.today() - dt.timedelta(days=365 * 20)
    people = list(Person.objects.filter(status="resident", birth_date__lte=adult).order_by("pk")
                  .values_list("name", "id_number", "id_number_bidx", "hukou_division", "residence_address")
                  [:citizens * 3])
    rng.shuffle(people)
    entities = list(LegalEntity.objects.filter(status="active", entity_type="enterprise").order_by("pk")
                    .values_list("name", "credit_code", "legal_representative", "address", "county_code")
                    [:enterprises * 3])
    rng.shuffle(entities)
    pool: list[_Applicant] = []
    used_ids: set[str] = set()
    offset = User.objects.filter(username__startswith="demo_applicant_").count()
    for i in range(citizens):
        row = None
        while people:
            candidate = people.pop()
            if candidate[2] not in taken_ids and candidate[1]:
                row = candidate
                break
        if row is not None:
            name, id_number, bidx, hukou, address = row
            county = str(hukou)[:6]
        else:
            county = rng.choices(counties, county_w)[0]
            name, id_number = _person_name(rng), _id_number(rng, county, used_ids)
            bidx, address = blind_index("id_number", id_number), ""
        if bidx in taken_ids:
            continue
        taken_ids.add(bidx)
        phone = _phone(rng)
        user = User(username=f"demo_applicant_c{offset + i + 1:05d}", kind=UserKind.CITIZEN, real_name=name,
                    id_number=id_number, id_number_bidx=bidx, phone=phone, phone_bidx=blind_index("phone", phone),
                    password=make_password(None))
        pool.append(_Applicant(user, UserKind.CITIZEN, name, county if county in COUNTY_WEIGHTS else CITY_CODE,
                               id_number=id_number, phone=phone, address=address or f"{county}某街道"))
    for i in range(enterprises):
        row = None
        while entities:
            candidate = entities.pop()
            if candidate[1] not in taken_codes:
                row = candidate
                break
        if row is not None:
            name, code, legal, address, county = row
            county = county or CITY_CODE
        else:
            county = rng.choices(counties, county_w)[0]
            code = make_credit_code("91", county, rng)
            name = f"聊城{rng.choice(BRANDS)}{rng.choice(BRANDS)}{rng.choice(TRADES)}有限公司"
            legal, address = _person_name(rng), ""
        if code in taken_codes:
            continue
        taken_codes.add(code)
        phone = _phone(rng)
        user = User(username=f"demo_applicant_e{offset + i + 1:05d}", kind=UserKind.ENTERPRISE, real_name=legal or name,
                    organisation_name=name, credit_code=code, phone=phone, phone_bidx=blind_index("phone", phone),
                    password=make_password(None))
        pool.append(_Applicant(user, UserKind.ENTERPRISE, name, county if county in COUNTY_WEIGHTS else CITY_CODE,
                               credit_code=code, phone=phone, address=address or "聊城市", legal_representative=legal))
    User.objects.bulk_create([a.user for a in pool], batch_size=500)
    if any(a.user.pk is None for a in pool):  # backends without RETURNING
        ids = dict(User.objects.filter(username__in=[a.user.username for a in pool]).values_list("username", "pk"))
        for a in pool:
            a.user.pk = ids[a.user.username]
    return pool


def _officers() -> dict[str, User]:
    """One window officer per division (who asks for corrections and accepts); no roles, no password."""
    out: dict[str, User] = {}
    for division in [CITY_CODE, *(c for c, _ in COUNTIES)]:
        dept = Department.objects.filter(code=department_code(division, "administrative_approval")).first()
        username = f"demo_window_{division}"
        user = User.objects.filter(username=username).first()
        if user is None:
            place = "聊城市" if division == CITY_CODE else dict(COUNTIES)[division]
            user = User.objects.create(username=username, kind=UserKind.STAFF, real_name=f"{place}政务服务中心窗口人员",
                                       department=dept, is_active=False, password=make_password(None))
        out[division] = user
    return out


# --- the simulation of one application ----------------------------------------------------------------

@dataclass
class _ItemInfo:
    item: ServiceItem
    dept: Department
    steps: list[dict[str, Any]]
    has_issue: bool
    late: float  # the department's chance of a late step
    slow_acceptance: float


@dataclass(slots=True)
class _AppRow:
    """An ``Application`` row before it is written (plain attributes: cheaper than a model instance)."""

    number: str
    applicant: _Applicant
    item: ServiceItem | None
    bundle: Bundle | None
    division_code: str
    form_data: dict[str, str]
    chosen_items: list[str]
    created_at: dt.datetime
    submitted_at: dt.datetime
    status: str = ApplicationStatus.SUBMITTED
    finished_at: dt.datetime | None = None
    pk: int | None = None

    @property
    def applicant_name(self) -> str:
        return self.applicant.name

    @property
    def credit_code(self) -> str:
        return self.applicant.credit_code

    @property
    def id_number(self) -> str:
        return self.applicant.id_number


@dataclass(slots=True)
class _CaseRow:
    """A ``Case`` row before it is written."""

    number: str
    application: _AppRow
    item: ServiceItem
    department: Department
    division_code: str
    received_at: dt.datetime
    status: str = CaseStatus.WAITING
    accepted_at: dt.datetime | None = None
    promised_due_at: dt.datetime | None = None
    statutory_due_at: dt.datetime | None = None
    paused_days: int = 0
    decided_at: dt.datetime | None = None
    issued_at: dt.datetime | None = None
    reason: str = ""
    credit_result: dict[str, Any] = field(default_factory=dict)
    pk: int | None = None


@dataclass(slots=True)
class _CorrectionRow:
    case: _CaseRow
    requested_at: dt.datetime
    requested_by: User
    items: str
    answered_at: dt.datetime | None = None


@dataclass(slots=True)
class _CertRow:
    number: str
    case: _CaseRow
    kind: str
    title: str
    holder_name: str
    holder_code: str
    data: dict[str, Any]
    verification_code: str
    issued_at: dt.datetime
    valid_until: dt.date | None


@dataclass(slots=True)
class _StepRow:
    """A ``CaseStep`` row before it is written (plain attributes: cheaper than a model instance)."""

    key: str
    name: str
    role: str
    limit_days: int
    after: list[str]
    status: str = StepStatus.PENDING
    started_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    actor: User | None = None
    opinion: str = ""
    outcome: str = ""


@dataclass
class _SimStep:
    row: _StepRow
    after: set[str]
    issue: bool
    decision: bool
    review: bool


@dataclass
class _SimCase:
    row: _CaseRow
    info: _ItemInfo
    prior: bool
    steps: dict[str, _SimStep]
    fate: str = "issue"  # issue / refuse / reject
    correction: bool = False
    open_correction: _CorrectionRow | None = None
    answer_at: dt.datetime | None = None
    # supervision: (time, status, issued, promised due, {active step: due})
    history: list[tuple[dt.datetime, str, bool, dt.datetime | None, dict[str, dt.datetime]]] = field(
        default_factory=list)
    step_left: dict[str, dt.datetime] = field(default_factory=dict)  # when a step stopped being active
    certificate: _CertRow | None = None


class _Sim:
    """Plays one application through the workflow's rules up to ``now`` (an event queue of scheduled actions)."""

    def __init__(self, gen: _Generator, app: _AppRow, cases: list[_SimCase], officer: User,
                 withdraw_at: dt.datetime | None) -> None:
        self.gen, self.app, self.cases, self.officer = gen, app, cases, officer
        self.rng, self.clock = gen.rng, gen.clock
        self.queue: list[tuple[dt.datetime, int, str, Any]] = []
        self.seq = itertools.count()
        # CaseEvent rows: (case, at, actor, actor_label, action, note, data)
        self.events: list[tuple[_CaseRow | None, dt.datetime, User | None, str, str, str, dict[str, Any]]] = []
        self.corrections: list[_CorrectionRow] = []
        self.together = app.bundle is not None and gen.bundle_together.get(app.bundle.pk, True)
        self.withdraw_at = withdraw_at

    # --- plumbing ---
    def schedule(self, at: dt.datetime, action: str, arg: Any = None) -> None:
        heapq.heappush(self.queue, (at, next(self.seq), action, arg))

    def event(self, case: _SimCase | None, action: str, at: dt.datetime, *, actor: str = SYSTEM, note: str = "",
              data: dict[str, Any] | None = None) -> None:
        user = self.app.applicant.user if actor == "applicant" else None
        label = user.username if user is not None else actor
        self.events.append((case.row if case else None, at, user, label[:150], action, note, data or {}))

    def staff(self, case: _SimCase, role: str) -> str:
        return f"{case.info.dept.name}（{ROLE_LABELS.get(role, role)}）"

    def snapshot(self, case: _SimCase, at: dt.datetime) -> None:
        row = case.row
        active = {k: s.row.due_at for k, s in case.steps.items() if s.row.status == StepStatus.ACTIVE
                  and s.row.due_at is not None}
        case.history.append((at, row.status, row.issued_at is not None, row.promised_due_at, active))

    def set_step(self, case: _SimCase, step: _SimStep, status: str, at: dt.datetime) -> None:
        if step.row.status == StepStatus.ACTIVE and status != StepStatus.ACTIVE:
            case.step_left[step.row.key] = at
        step.row.status = status

    # --- run ---
    def run(self) -> None:
        r = self.app.submitted_at
        assert r is not None
        for case in self.cases:
            self.event(case, "received", r, actor="applicant", data={"item": case.info.item.code})
            self.snapshot(case, r)
        self.event(None, "submitted", r, actor="applicant", data={"cases": [c.row.number for c in self.cases]})
        for case in self.cases:
            k = self.gen.acceptance_days(case.info)
            at = self.clock.after_working_days(self.rng, r, k)
            self.schedule(at, "refuse" if case.fate == "refuse" else "accept", case)
        if self.withdraw_at is not None:
            self.schedule(self.withdraw_at, "withdraw")
        while self.queue:
            at, _seq, action, arg = heapq.heappop(self.queue)
            if at > self.clock.now:
                break
            getattr(self, f"_{action}")(at, arg)

    # --- application status (workflow.sync_application) ---
    def finished(self, case: _SimCase) -> bool:
        row = case.row
        if row.status == CaseStatus.ISSUED:
            return True
        return row.status == CaseStatus.APPROVED and all(
            s.row.status in (StepStatus.DONE, StepStatus.SKIPPED) for s in case.steps.values())

    def sync(self, at: dt.datetime) -> None:
        app = self.app
        if app.status in (ApplicationStatus.DRAFT, ApplicationStatus.WITHDRAWN):
            return
        new = workflow.derived_status({c.row.status for c in self.cases},
                                      lambda: all(self.finished(c) for c in self.cases),
                                      any(c.row.accepted_at for c in self.cases))
        if new != app.status:
            old, app.status = app.status, new
            if new in (ApplicationStatus.ISSUED, ApplicationStatus.REJECTED, ApplicationStatus.REFUSED):
                app.finished_at = at
            self.event(None, "application_status", at, data={"from": old, "to": new})

    # --- acceptance ---
    def _accept(self, at: dt.datetime, case: _SimCase) -> None:
        row = case.row
        if row.status != CaseStatus.WAITING:
            return
        # workflow.case_days: a bundle makes one promise for all its cases (the longest of its items')
        items = [c.info.item for c in self.cases] if self.app.bundle is not None else [case.info.item]
        row.status, row.accepted_at = CaseStatus.IN_REVIEW, at
        row.promised_due_at = self.clock.deadline(at, max(i.promised_days for i in items))
        row.statutory_due_at = self.clock.deadline(at, max(i.statutory_days for i in items))
        for step in case.steps.values():
            if step.row.role == workflow.INTAKE_ROLE and not step.after and step.row.status == StepStatus.PENDING:
                step.row.status, step.row.started_at, step.row.finished_at = StepStatus.DONE, at, at
                step.row.due_at, step.row.actor, step.row.outcome = at, self.officer, "approve"
        self.event(case, "accepted", at, actor=self.staff(case, workflow.INTAKE_ROLE),
                   data={"promised_due_at": row.promised_due_at.isoformat(),
                         "statutory_due_at": row.statutory_due_at.isoformat()})
        if self.advance(case, at):
            self.release_siblings(case, at)
        self.sync(at)
        self.snapshot(case, at)

    def _refuse(self, at: dt.datetime, case: _SimCase) -> None:
        row = case.row
        if row.status not in (CaseStatus.WAITING, CaseStatus.CORRECTION) or row.accepted_at is not None:
            return
        row.status, row.reason, row.decided_at = CaseStatus.REFUSED, self.rng.choice(REFUSE_REASONS), at
        for step in case.steps.values():
            if step.row.status in (StepStatus.PENDING, StepStatus.ACTIVE):
                self.set_step(case, step, StepStatus.SKIPPED, at)
        self.event(case, "refused", at, actor=self.staff(case, workflow.INTAKE_ROLE), note=row.reason)
        self.stop_siblings(case, at)
        self.sync(at)
        self.snapshot(case, at)

    # --- steps (workflow._advance, complete_step, _issue) ---
    def released(self, case: _SimCase) -> bool:
        if self.app.bundle is None or case.prior:
            return True
        siblings = [c for c in self.cases if c is not case]
        done = (CaseStatus.APPROVED, CaseStatus.ISSUED)
        if any(c.row.status not in done for c in siblings if c.prior):
            return False
        if self.together:
            return case.row.status in done and all(c.row.status in done for c in siblings)
        return True

    def advance(self, case: _SimCase, at: dt.datetime) -> bool:
        """Activate the ready steps; approve when only issue steps remain (and finish a case without any)."""
        row = case.row
        approved = False
        done = {k for k, s in case.steps.items() if s.row.status in (StepStatus.DONE, StepStatus.SKIPPED)}
        ready = [s for s in case.steps.values() if s.row.status == StepStatus.PENDING and s.after <= done]
        open_non_issue = [s for s in case.steps.values() if not s.issue and s.row.status in (
            StepStatus.PENDING, StepStatus.ACTIVE)]
        if not open_non_issue and row.status == CaseStatus.IN_REVIEW:
            row.status, row.decided_at = CaseStatus.APPROVED, row.decided_at or at
            approved = True
            self.event(case, "approved", at, data={"case": row.number})
        for step in ready:
            if step.issue and not self.released(case):
                continue
            self.activate(case, step, at)
        if approved and not any(s.issue for s in case.steps.values()):
            # no issue step: the result is given with the last step (see the module docstring)
            self.issue(case, None, at)
        return approved

    def activate(self, case: _SimCase, step: _SimStep, at: dt.datetime) -> None:
        row = step.row
        row.status, row.started_at = StepStatus.ACTIVE, at
        row.due_at = self.clock.deadline(at, row.limit_days)
        self.event(case, "step_started", at, data={"step": row.key, "due_at": row.due_at.isoformat()})
        days = self.gen.step_days(case.info, row.limit_days)
        finish = self.clock.after_working_days(self.rng, at, days)
        self.schedule(finish, "complete", (case, row.key))
        if case.correction and case.open_correction is None and not case.row.paused_days and (step.review or (
                step.decision and not any(s.review for s in case.steps.values()))):
            case.correction = False
            ask = self.clock.after_working_days(self.rng, at, self.rng.randint(0, max(0, min(days, 2))))
            if ask < finish:
                self.schedule(ask, "request_correction", case)

    def _complete(self, at: dt.datetime, arg: tuple[_SimCase, str]) -> None:
        case, key = arg
        step = case.steps[key]
        row = case.row
        if row.status == CaseStatus.CORRECTION and case.answer_at is not None:
            later = self.clock.after_working_days(self.rng, case.answer_at, self.rng.randint(0, 2))
            self.schedule(max(later, case.answer_at + dt.timedelta(minutes=5)), "complete", arg)
            return
        if step.row.status != StepStatus.ACTIVE or row.status not in (CaseStatus.IN_REVIEW, CaseStatus.APPROVED):
            return
        if step.issue:
            self.issue(case, step, at)
            self.sync(at)
            return
        reject = step.decision and case.fate == "reject"
        opinion = self.rng.choice(REJECT_REASONS) if reject else ""
        step.row.finished_at, step.row.outcome, step.row.opinion = at, "reject" if reject else "approve", opinion
        self.set_step(case, step, StepStatus.DONE, at)
        self.event(case, "step_done", at, actor=self.staff(case, step.row.role), note=opinion,
                   data={"step": key, "outcome": step.row.outcome})
        if reject:
            row.status, row.reason, row.decided_at = CaseStatus.REJECTED, opinion, at
            for other in case.steps.values():
                if other.row.status in (StepStatus.PENDING, StepStatus.ACTIVE):
                    self.set_step(case, other, StepStatus.SKIPPED, at)
            self.event(case, "rejected", at, actor=self.staff(case, step.row.role), note=opinion)
            self.snapshot(case, at)
            self.stop_siblings(case, at)
        else:
            if self.advance(case, at):
                self.release_siblings(case, at)
            self.snapshot(case, at)
        self.sync(at)

    def stop_siblings(self, case: _SimCase, at: dt.datetime) -> None:
        """``workflow._stop_siblings``: a bundle's case refused or rejected stops its other open cases."""
        if self.app.bundle is None:
            return
        outcome = "不予受理" if case.row.status == CaseStatus.REFUSED else "不予许可"
        note = f"联办事项“{case.info.item.name}”{outcome}，本件终止"
        for other in self.cases:
            if other is case or other.row.status not in workflow.OPEN_CASE:
                continue
            other.row.status, other.row.decided_at, other.row.reason = CaseStatus.STOPPED, at, note
            for step in other.steps.values():
                if step.row.status in (StepStatus.PENDING, StepStatus.ACTIVE):
                    self.set_step(other, step, StepStatus.SKIPPED, at)
            if other.open_correction is not None:
                other.open_correction.answered_at, other.open_correction = at, None
            self.event(other, "stopped", at, actor=self.staff(case, workflow.INTAKE_ROLE), note=note,
                       data={"because": case.row.number})
            self.snapshot(other, at)

    def release_siblings(self, case: _SimCase, at: dt.datetime) -> None:
        """``workflow._release_siblings``: start the bundle's issue steps that became free (also after an
        acceptance that approved a case at once)."""
        if self.app.bundle is None:
            return
        for sibling in self.cases:
            if sibling is not case and sibling.row.status == CaseStatus.APPROVED:
                self.advance(sibling, at)
                self.snapshot(sibling, at)

    def issue(self, case: _SimCase, step: _SimStep | None, at: dt.datetime) -> None:
        batch: list[tuple[_SimCase, _SimStep | None]] = [(case, step)]
        if step is not None and self.together and not case.prior:
            for other in self.cases:
                if other is case or other.prior:
                    continue
                for other_step in other.steps.values():
                    if other_step.issue and other_step.row.status == StepStatus.ACTIVE:
                        batch.append((other, other_step))
        numbers = []
        for c, s in batch:
            if s is not None:
                s.row.finished_at, s.row.outcome = at, "approve"
                self.set_step(c, s, StepStatus.DONE, at)
            c.row.issued_at, c.row.status = at, CaseStatus.ISSUED
            cert = self.gen.certificate(c, self.app, at)
            c.certificate = cert
            numbers.append(c.row.number)
            role = s.row.role if s is not None else workflow.ISSUER_ROLE
            self.event(c, "issued", at, actor=self.staff(c, role),
                       data={"step": s.row.key if s is not None else "", "certificate": cert.number if cert else ""})
            self.snapshot(c, at)
        if len(batch) > 1:
            self.event(None, "issued_together", at, data={"cases": numbers})

    # --- corrections ---
    def _request_correction(self, at: dt.datetime, case: _SimCase) -> None:
        row = case.row
        if row.status not in (CaseStatus.WAITING, CaseStatus.IN_REVIEW):
            return
        items = self.rng.choice(CORRECTION_ITEMS)
        correction = _CorrectionRow(case=row, requested_at=at, requested_by=self.officer, items=items)
        self.corrections.append(correction)
        case.open_correction = correction
        row.status = CaseStatus.CORRECTION
        case.answer_at = self.clock.after_working_days(self.rng, at, self.rng.choice((1, 1, 2, 2, 3, 4, 6)))
        self.schedule(case.answer_at, "answer_correction", case)
        self.event(case, "correction_requested", at, actor=self.staff(case, workflow.INTAKE_ROLE), note=items)
        self.sync(at)
        self.snapshot(case, at)

    def _answer_correction(self, at: dt.datetime, case: _SimCase) -> None:
        row, correction = case.row, case.open_correction
        if row.status != CaseStatus.CORRECTION or correction is None:
            return
        paused = self.clock.between(self.clock.local(correction.requested_at).date(), self.clock.local(at).date())
        correction.answered_at = at
        case.open_correction = None
        row.paused_days += paused
        row.promised_due_at = self.clock.extend(row.promised_due_at, paused)
        row.statutory_due_at = self.clock.extend(row.statutory_due_at, paused)
        row.status = CaseStatus.IN_REVIEW if row.accepted_at else CaseStatus.WAITING
        for step in case.steps.values():
            if step.row.status == StepStatus.ACTIVE:
                step.row.due_at = self.clock.extend(step.row.due_at, paused)
        self.event(case, "correction_answered", at, actor="applicant", data={"paused_days": paused})
        self.sync(at)
        self.snapshot(case, at)

    # --- withdrawal ---
    def _withdraw(self, at: dt.datetime, _arg: Any) -> None:
        app = self.app
        if app.status not in (ApplicationStatus.SUBMITTED, ApplicationStatus.CORRECTION,
                              ApplicationStatus.IN_PROGRESS):
            return
        if any(c.row.status == CaseStatus.ISSUED for c in self.cases):
            return
        note = self.rng.choice(WITHDRAW_NOTES)
        for case in self.cases:
            case.row.status = CaseStatus.WITHDRAWN
            for step in case.steps.values():
                if step.row.status in (StepStatus.PENDING, StepStatus.ACTIVE):
                    self.set_step(case, step, StepStatus.SKIPPED, at)
            self.event(case, "withdrawn", at, actor="applicant", note=note)
            self.snapshot(case, at)
        app.status, app.finished_at = ApplicationStatus.WITHDRAWN, at


# --- supervision cards as the sweep would have written them -------------------------------------------

OPEN_STATUSES = (CaseStatus.WAITING, CaseStatus.CORRECTION, CaseStatus.IN_REVIEW)
CLOCK_STATUSES = (CaseStatus.WAITING, CaseStatus.IN_REVIEW)


def _open(status: str, issued: bool) -> bool:
    return status in OPEN_STATUSES or (status == CaseStatus.APPROVED and not issued)


def _clock_on(status: str, issued: bool) -> bool:
    return status in CLOCK_STATUSES or (status == CaseStatus.APPROVED and not issued)


def _case_cards(clock: _Clock, case: _SimCase) -> list[SupervisionCard]:
    """The cards of one case: for each rule of ``supervision.sweep`` the first tick at which it holds, and the
    first tick after its cause ended (the resolve rules)."""
    row = case.row
    hist = case.history
    segments = [(clock.tick(h[0]), (hist[i + 1][0] if i + 1 < len(hist) else None), h) for i, h in enumerate(hist)]
    ended = next((h[0] for h in hist if not _open(h[1], h[2])), None)
    ended_tick = clock.tick(ended)
    left_waiting = next((h[0] for h in hist if h[1] != CaseStatus.WAITING), None)
    cards: list[SupervisionCard] = []

    def card(kind: str, created: float, *, resolved: float | None, deadline: dt.datetime | None = None,
             step_key: str = "", note: str) -> None:
        cards.append(SupervisionCard(case_id=row.pk, kind=kind, step_key=step_key, department_id=row.department.pk,
                                     division_code=row.division_code, created_at=clock.dt(created),
                                     deadline_at=deadline, note=note,
                                     resolved_at=clock.dt(resolved) if resolved is not None else None))

    def first(lower: Callable[[tuple[Any, ...]], float | None], upper: Callable[[tuple[Any, ...], float], bool]
              ) -> tuple[float, tuple[Any, ...]] | None:
        for start, end, h in segments:
            if start is None:
                return None
            t = lower(h)
            if t is None:
                continue
            t = max(t, start)
            if (end is None or t < end.timestamp()) and upper(h, t):
                return t, h
        return None

    # warning: from warn_at(due) while due > t
    found = first(lambda h: clock.tick(clock.warn_at(h[3])) if _clock_on(h[1], h[2]) and h[3] else None,
                  lambda h, t: h[3].timestamp() > t)
    if found:
        card(CardKind.WARNING, found[0], resolved=ended_tick, deadline=found[1][3], note="距承诺办结期限不足一个工作日")
    # yellow: due < t; red: still on the clock after the yellow card's finish-by date
    found = first(lambda h: clock.tick(h[3], strict=True) if _clock_on(h[1], h[2]) and h[3] else None,
                  lambda h, t: True)
    if found:
        yellow_at, finish_by = found[0], clock.finish_by(found[1][3])
        card(CardKind.YELLOW, yellow_at, resolved=ended_tick, deadline=finish_by, note="超过承诺办结期限，限期办结")
        found = first(lambda h: _max_tick(clock.tick(finish_by, strict=True), yellow_at)
                      if _clock_on(h[1], h[2]) else None, lambda h, t: True)
        if found:
            card(CardKind.RED, found[0], resolved=ended_tick, note="黄牌限期届满仍未办结，责令整改并追责")
    # step over its own limit while the case itself is not overdue
    for key, step in case.steps.items():
        if step.row.due_at is None or step.row.started_at is None:
            continue

        def step_lower(h: tuple[Any, ...], key: str = key) -> float | None:
            return clock.tick(h[4][key], strict=True) if _clock_on(h[1], h[2]) and key in h[4] else None

        found = first(step_lower, lambda h, t: h[3] is None or h[3].timestamp() >= t)
        if found:
            left = case.step_left.get(key)
            stop = min(x for x in (left, ended) if x is not None) if (left or ended) else None
            card(CardKind.STEP_OVERDUE, found[0], resolved=clock.tick(stop), deadline=found[1][4][key], step_key=key,
                 note=f"环节“{step.row.name}”超过环节时限")
    # acceptance delayed: still waiting after the close of the acceptance day(s) after receipt
    threshold = clock.deadline(row.received_at, clock.acceptance)
    found = first(lambda h: clock.tick(threshold, strict=True) if h[1] == CaseStatus.WAITING else None,
                  lambda h, t: True)
    if found:
        card(CardKind.ACCEPTANCE_DELAYED, found[0], resolved=clock.tick(left_waiting),
             note=f"收件后{clock.acceptance}个工作日内未受理")
    return cards


def _request_cards(clock: _Clock, req: DisclosureRequest,
                   history: list[tuple[dt.datetime, dt.datetime | None]]) -> list[SupervisionCard]:
    """Warning, yellow and red cards of a disclosure request; ``history``: (from, due) while open, then
    (answered_at, None)."""
    segments = [(clock.tick(h[0]), (history[i + 1][0] if i + 1 < len(history) else None), h[1])
                for i, h in enumerate(history)]
    answered = req.answered_at
    resolved = clock.tick(answered)
    cards: list[SupervisionCard] = []

    def first(lower: Callable[[dt.datetime], float | None], upper: Callable[[dt.datetime, float], bool]
              ) -> tuple[float, dt.datetime] | None:
        for start, end, due in segments:
            if start is None:
                return None
            if due is None:
                continue
            t = lower(due)
            if t is None:
                continue
            t = max(t, start)
            if (end is None or t < end.timestamp()) and upper(due, t):
                return t, due
        return None

    def card(kind: str, created: float, deadline: dt.datetime | None, note: str) -> None:
        cards.append(SupervisionCard(disclosure_request=req, kind=kind, department_id=req.department_id,
                                     division_code=req.division_code, created_at=clock.dt(created),
                                     deadline_at=deadline, note=note,
                                     resolved_at=clock.dt(resolved) if resolved is not None else None))

    found = first(lambda due: clock.tick(clock.warn_at(due)), lambda due, t: due.timestamp() > t)
    if found:
        card(CardKind.WARNING, found[0], found[1], "距依申请公开答复期限不足一个工作日")
    found = first(lambda due: clock.tick(due, strict=True), lambda due, t: True)
    if found:
        yellow_at, finish_by = found[0], clock.finish_by(found[1])
        card(CardKind.YELLOW, yellow_at, finish_by, "超过依申请公开答复期限，限期办结")
        found = first(lambda due: _max_tick(clock.tick(finish_by, strict=True), yellow_at), lambda due, t: True)
        if found:
            card(CardKind.RED, found[0], None, "黄牌限期届满仍未办结，责令整改并追责")
    return cards


# --- the generator ------------------------------------------------------------------------------------

def _profile(code: str) -> tuple[float, float]:
    """(chance of a late step, chance of accepting on the second working day), stable per department: most
    departments keep their limits, some slip now and then, a few often."""
    h = (zlib.crc32(code.encode()) % 1000) / 1000
    if h < 0.04:
        return 0.16, 0.12
    if h < 0.18:
        return 0.06, 0.05
    return 0.012, 0.02


class _Generator:
    def __init__(self, rng: random.Random, clock: _Clock, pool: list[_Applicant], officers: dict[str, User]
                 ) -> None:
        self.rng, self.clock, self.officers = rng, clock, officers
        self.by_kind: dict[str, dict[str, list[_Applicant]]] = {}
        for a in pool:
            self.by_kind.setdefault(a.kind, {}).setdefault(a.county, []).append(a)
        self.all_of_kind = {k: [a for v in d.values() for a in v] for k, d in self.by_kind.items()}
        items = list(ServiceItem.objects.filter(status=ItemStatus.PUBLISHED).select_related("department"))
        self.infos: dict[int, _ItemInfo] = {}
        by_basic: dict[str, list[_ItemInfo]] = {}
        for item in items:
            try:
                steps = workflow.validate_process(item.process)
            except InvalidInput:  # an item with a broken process gets no demo cases
                continue
            late, slow = _profile(item.department.code)
            info = _ItemInfo(item, item.department, steps, any(s["role"] == workflow.ISSUER_ROLE for s in steps),
                             late, slow)
            self.infos[item.pk] = info
            by_basic.setdefault(item.basic_code, []).append(info)
        self.basics = sorted(by_basic)
        self.basic_weights = [ITEM_WEIGHTS.get(by_basic[b][0].item.name, 1.0) for b in self.basics]
        self.by_basic = by_basic
        self.bundles: dict[str, list[tuple[Bundle, list[BundleItem]]]] = {}
        self.bundle_together: dict[int, bool] = {}
        for bundle in Bundle.objects.filter(status=ItemStatus.PUBLISHED).prefetch_related("members"):
            members = [m for m in bundle.members.all() if m.item_id in self.infos]
            if members and len(members) == len(bundle.members.all()):
                self.bundles.setdefault(bundle.code.split("-")[0], []).append((bundle, members))
                self.bundle_together[bundle.pk] = bundle.issue_together
        self.cert_serials: dict[str, int] = {}

    # --- choices ---
    def division_weight(self, division: str) -> float:
        if division == CITY_CODE:
            return CITY_SHARE * sum(COUNTY_WEIGHTS.values())
        return COUNTY_WEIGHTS.get(division, 10) * (1 - CITY_SHARE)

    def pick_item(self) -> _ItemInfo:
        basic = self.rng.choices(self.basics, self.basic_weights)[0]
        options = self.by_basic[basic]
        return self.rng.choices(options, [self.division_weight(i.item.division_code) for i in options])[0]

    def pick_bundle(self) -> tuple[Bundle, list[BundleItem]] | None:
        codes = [c for c in self.bundles if c in BUNDLE_WEIGHTS] or list(self.bundles)
        if not codes:
            return None
        code = self.rng.choices(codes, [BUNDLE_WEIGHTS.get(c, 0.2) for c in codes])[0]
        options = self.bundles[code]
        return self.rng.choices(options, [self.division_weight(self.infos[m[0].item_id].item.division_code)
                                          for _, m in options])[0]

    def pick_applicant(self, serves: str, division: str) -> _Applicant | None:
        kind = serves if serves in (UserKind.CITIZEN, UserKind.ENTERPRISE) else (
            UserKind.CITIZEN if self.rng.random() < 0.6 else UserKind.ENTERPRISE)
        local = self.by_kind.get(kind, {}).get(division)
        if local and self.rng.random() < 0.85:
            return self.rng.choice(local)
        everyone = self.all_of_kind.get(kind)
        return self.rng.choice(everyone) if everyone else None

    def acceptance_days(self, info: _ItemInfo) -> int:
        x = self.rng.random()
        return 2 if x < info.slow_acceptance else 1 if x < 0.4 else 0

    def step_days(self, info: _ItemInfo, limit: int) -> int:
        if self.rng.random() < info.late:
            return limit + self.rng.choices((1, 2, 3, 4, 5, 7), (55, 22, 10, 6, 4, 3))[0]
        return min(limit, int((limit + 1) * self.rng.random() ** 1.8))

    # --- rows ---
    def form(self, items: list[ServiceItem], who: _Applicant) -> dict[str, str]:
        base = {"name": who.name, "applicant_name": who.name, "credit_code": who.credit_code,
                "legal_representative": who.legal_representative, "address": who.address,
                "residence_address": who.address}
        rng = self.rng
        made = {"contact": _person_name(rng), "entity_type": "有限责任公司（自然人投资或控股）",
                "registered_capital": str(rng.choice((10, 30, 50, 100, 200, 500, 1000))),
                "business_scope": f"{rng.choice(TRADES)}；货物进出口；技术服务", "baby_name": _person_name(rng),
                "child_name": _person_name(rng), "project": f"{who.name}厂房建设项目",
                "shop_name": f"{who.name[:1]}记{rng.choice(('便利店', '小吃部', '五金店', '理发店'))}",
                "description": f"申请公开{rng.choice(DISCLOSURE_TOPICS)}", "content": "小区门前道路破损，请求维修。"}
        out: dict[str, str] = {}
        for item in items:
            for f in item.form_fields or []:
                key = str(f.get("key") or "")
                if not key or key in out or key in ("id_number", "phone"):  # no personal numbers in the form
                    continue
                prefill = str(f.get("prefill") or "")
                value = base.get(prefill) if prefill else None
                value = value or base.get(key) or made.get(key) or ""
                if value:
                    out[key] = value
        return out

    def certificate(self, case: _SimCase, app: _AppRow, at: dt.datetime) -> _CertRow | None:
        item = case.info.item
        if item.result_kind == "none":
            return None
        row = case.row
        year = self.clock.local(at).year
        prefix = f"{row.division_code}-{item.basic_code}-{year}-"
        serial = self.cert_serials.get(prefix, 0) + 1
        self.cert_serials[prefix] = serial
        person = not app.credit_code
        years = VALID_YEARS.get(item.name, 5 if item.result_kind == "licence" else None)
        day = self.clock.local(at).date()
        valid_until = None
        if years:
            valid_until = (day.replace(day=28) if day.month == 2 and day.day == 29 else day).replace(
                year=day.year + years) - dt.timedelta(days=1)
        data: dict[str, Any] = {
            "holder_kind": "person" if person else "enterprise", "item_code": item.code, "item_name": item.name,
            "case_number": row.number, "application_number": app.number or "", "department": case.info.dept.name,
            "division_code": row.division_code, "fields": certificates._key_fields(cast(Case, row)),
        }
        return _CertRow(number=f"{prefix}{serial:05d}", case=row, kind=item.result_kind,
                        title=(item.result_name or item.name)[:120], holder_name=app.applicant_name,
                        holder_code=certificates.mask_id(app.id_number) if person else app.credit_code,
                        data=data, verification_code=certificates.new_verification_code(), issued_at=at,
                        valid_until=valid_until)

    def application(self, number: str, received: dt.datetime) -> _Sim | None:
        rng = self.rng
        bundle_pick = self.pick_bundle() if rng.random() < BUNDLE_SHARE else None
        chosen: list[str] = []
        if bundle_pick is not None:
            bundle, members = bundle_pick
            parts = []
            for m in members:
                info = self.infos[m.item_id]
                if m.optional:
                    if rng.random() >= OPTIONAL_RATES.get(info.item.name, 0.1):
                        continue
                    chosen.append(info.item.code)
                parts.append((info, m.prior))
            division, serves = parts[0][0].item.division_code, bundle.serves
        else:
            bundle = None
            info = self.pick_item()
            parts = [(info, False)]
            division, serves = info.item.division_code, info.item.serves
        who = self.pick_applicant(serves, division)
        if who is None:
            return None
        app = _AppRow(number=number, applicant=who, item=None if bundle else parts[0][0].item, bundle=bundle,
                      division_code=division, form_data=self.form([p[0].item for p in parts], who),
                      chosen_items=chosen, created_at=received - dt.timedelta(minutes=rng.randint(3, 120)),
                      submitted_at=received)
        cases: list[_SimCase] = []
        fate_roll = rng.random()
        for i, (info, prior) in enumerate(parts, 1):
            item = info.item
            row = _CaseRow(number=f"{number}-{i:02d}", application=app, item=item, department=info.dept,
                           division_code=item.division_code, received_at=received)
            if item.credit_rule != CreditRule.NONE:
                row.credit_result = {"listed": False, "lists": [], "detail": "", "rule": str(item.credit_rule),
                                     "decision": "allow", "blocked": False, "flagged": False}
            steps = {}
            for s in info.steps:
                step_row = _StepRow(key=str(s["key"]), name=str(s.get("name") or s["key"])[:60],
                                    role=str(s["role"]), limit_days=int(s.get("limit_days") or 0),
                                    after=list(s.get("after") or []))
                steps[step_row.key] = _SimStep(step_row, set(step_row.after), step_row.role == workflow.ISSUER_ROLE,
                                               workflow.step_perm(step_row.role) == workflow.DECISION_PERM,
                                               step_row.role == "egov_reviewer")
            case = _SimCase(row, info, prior, steps)
            if bundle is None:
                if fate_roll < REFUSE_RATE:
                    case.fate = "refuse"
                elif fate_roll < REFUSE_RATE + REJECT_RATE and any(s.decision for s in steps.values()):
                    case.fate = "reject"
            elif prior and fate_roll < BUNDLE_REJECT_RATE and any(s.decision for s in steps.values()):
                case.fate, fate_roll = "reject", 1.0  # a prior approval refused: the bundle's other cases stop
            case.correction = rng.random() < CORRECTION_RATE
            cases.append(case)
        withdraw_at = None
        if rng.random() < WITHDRAW_RATE:
            withdraw_at = self.clock.after_working_days(rng, received, rng.choice((0, 1, 1, 2, 3, 5)))
        return _Sim(self, app, cases, self.officers.get(division) or next(iter(self.officers.values())), withdraw_at)


def _receipt_times(rng: random.Random, clock: _Clock, n: int, start: dt.date, days: int) -> list[dt.datetime]:
    """``n`` submission moments over ``days`` days from ``start``: working days weigh 1, days off 0.08; mostly
    in working hours."""
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    weights = [1.0 if clock.is_workday(d) else 0.08 for d in dates]
    cum = list(itertools.accumulate(weights))
    out: list[dt.datetime] = []
    now = clock.now
    for _ in range(n):
        day = dates[bisect.bisect_left(cum, rng.random() * cum[-1])]
        at: dt.datetime | None = None
        for _attempt in range(5):
            if clock.is_workday(day) and rng.random() < 0.85:
                at = clock.working_moment(rng, day)
            else:
                at = clock.at_minute(day, rng.uniform(7 * 60, 22 * 60))
            if at is not None and at < now:
                break
            day = day - dt.timedelta(days=1)
        assert at is not None
        out.append(at.replace(microsecond=0))
    out.sort()
    return out


def _load_calendar(now: dt.datetime) -> WorkingCalendar:
    """The platform calendar with every day of the window decided once (chinese-calendar per call is slow);
    the administrator's overrides still win."""
    cal = get_calendar()
    today = now.astimezone(cal.tz).date()
    days = (today + dt.timedelta(days=i) for i in range(-400, 500))
    return dataclasses.replace(cal, overrides={day: cal.is_workday(day) for day in days} | cal.overrides)


# --- disclosure requests ------------------------------------------------------------------------------

def _disclosure_requests(rng: random.Random, clock: _Clock, gen: _Generator, count: int, start: dt.date
                         ) -> tuple[list[DisclosureRequest], list[tuple[DisclosureRequest, list[Any]]]]:
    from . import disclosure

    depts = list(Department.objects.filter(active=True).order_by("code"))
    weights = [DISCLOSURE_DEPARTMENT_WEIGHTS.get(d.kind, 0.5) * gen.division_weight(d.division_code[:6])
               for d in depts]
    times = _receipt_times(rng, clock, count, start, 365)
    requests, histories = [], []
    for serial, received in enumerate(times, 1):
        dept = rng.choices(depts, weights)[0]
        citizen = rng.random() < 0.8
        who = gen.pick_applicant("citizen" if citizen else "enterprise", dept.division_code[:6])
        if who is None:
            continue
        category = "natural_person" if citizen else rng.choices(
            [c for c, _ in REQUESTER_CATEGORY_WEIGHTS], [w for _, w in REQUESTER_CATEGORY_WEIGHTS])[0]
        due = clock.deadline(received, disclosure.ANSWER_DAYS)
        req = DisclosureRequest(number=f"YSQ{clock.local(received):%Y%m%d}{DEMO_PREFIX}{serial:06d}",
                                requester=who.user, department=dept, division_code=dept.division_code[:6],
                                description=f"申请公开{rng.choice(DISCLOSURE_TOPICS)}",
                                purpose=rng.choice(DISCLOSURE_PURPOSES), received_at=received, due_at=due,
                                requester_category=category)
        history: list[tuple[dt.datetime, dt.datetime | None]] = [(received, due)]
        extended = rng.random() < 0.15
        if extended:
            at = clock.after_working_days(rng, received, rng.randint(12, 18))
            if at <= clock.now:
                req.extended_at, req.extension_reason = at, "需要向第三方征求意见，延长答复期限"
                req.due_at = clock.deadline(due, disclosure.EXTENSION_DAYS)
                req.status = DisclosureRequestStatus.EXTENDED
                history.append((at, req.due_at))
        limit = 40 if req.extended_at else 20
        late = rng.random() < 0.04
        days = limit + rng.randint(1, 5) if late else rng.randint(3 if not req.extended_at else 21, limit)
        answered = clock.after_working_days(rng, received, days)
        if req.extended_at and answered <= req.extended_at:
            answered = clock.after_working_days(rng, req.extended_at, 1)
        if answered <= clock.now:
            kind, reason, _w = rng.choices(ANSWER_KINDS, [w for _, _, w in ANSWER_KINDS])[0]
            text = ANSWER_TEXTS.get(f"{kind}.{reason}") or ANSWER_TEXTS[kind]
            req.answered_at, req.answer_kind, req.answer_reason, req.answer = answered, kind, reason, text
            req.status = DisclosureRequestStatus.ANSWERED
            history.append((answered, None))
        requests.append(req)
        histories.append((req, history))
    return requests, histories


# --- the loader ---------------------------------------------------------------------------------------

def ensure_demo_applications(n: int, *, progress: Progress | None = None, now: dt.datetime | None = None,
                             seed: int = 13) -> int:
    """Generate ``n`` demo applications over the 365 days before ``now`` (default: the current time), with their
    cases, steps, timelines, corrections, certificates and supervision cards, and a few hundred disclosure
    requests when there are none. Idempotent: nothing when demo applications exist (or no item is published).
    Returns the number of applications written."""
    if n <= 0 or demo_applications_exist() or not ServiceItem.objects.filter(status=ItemStatus.PUBLISHED).exists():
        return 0
    now = now or timezone.now()
    cal = _load_calendar(now)
    clock = _Clock(cal, now)
    rng = random.Random(seed)
    today = clock.local(now).date()
    start = today - dt.timedelta(days=364)
    stage = "政务服务办件 / service hall cases"
    totals = {"applications": 0, "cases": 0, "steps": 0, "events": 0, "corrections": 0, "certificates": 0,
              "cards": 0, "disclosure_requests": 0, "applicants": 0}

    def report(done: int) -> None:
        if progress is not None:
            progress(stage, done, n)

    with transaction.atomic():
        pool = _pool(rng, citizens=max(40, min(3000, n // 15)), enterprises=max(20, min(1500, n // 30)))
        totals["applicants"] = len(pool)
        gen = _Generator(rng, clock, pool, _officers())
        if not gen.infos:
            transaction.set_rollback(True)
            return 0
        times = _receipt_times(rng, clock, n, start, 365)
        width = max(5, len(str(n)))
        report(0)
        for first in range(0, len(times), BATCH):
            sims = []
            for serial, received in enumerate(times[first:first + BATCH], first + 1):
                sim = gen.application(f"{DEMO_PREFIX}{clock.local(received):%Y%m%d}{serial:0{width}d}", received)
                if sim is None:
                    continue
                sim.run()
                sims.append(sim)
            _write(clock, gen, sims, totals)
            report(min(first + BATCH, len(times)))
        if not demo_requests_exist():
            count = max(20, min(600, int(n * DISCLOSURE_SHARE)))
            requests, histories = _disclosure_requests(rng, clock, gen, count, start)
            DisclosureRequest.objects.bulk_create(requests, batch_size=1000)
            cards = [c for req, history in histories for c in _request_cards(clock, req, history)]
            SupervisionCard.objects.bulk_create(cards, batch_size=2000)
            totals["disclosure_requests"], totals["cards"] = len(requests), totals["cards"] + len(cards)
        audit.record(actor=ACTOR, action="egov.demo_applications", object_type="egov.Application",
                     object_id=f"{DEMO_PREFIX}*", after={**totals, "now": now.isoformat(), "seed": seed},
                     division_code=CITY_CODE)
    return totals["applications"]


def _insert(model: type[Any], names: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (values in the order of the field ``names``) with one ``executemany`` per chunk: the ORM's
    per-object work would be most of the load's time. Values are adapted as the ORM adapts them (aware
    datetimes, dates, JSON); foreign keys are given as ids, encrypted columns already encrypted."""
    if not rows:
        return
    ops = connection.ops
    fields = [model._meta.get_field(name) for name in names]
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    # names from the model's metadata, values as parameters
    sql = (f"INSERT INTO {ops.quote_name(model._meta.db_table)} ({columns}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    kinds = [f.get_internal_type() for f in fields]
    stamps: dict[Any, Any] = {}

    def stamp(value: Any) -> Any:
        if value is None:
            return None
        if value not in stamps:
            stamps[value] = ops.adapt_datetimefield_value(value)
        return stamps[value]

    def day(value: Any) -> Any:
        return ops.adapt_datefield_value(value)

    def jsonb(value: Any) -> Any:
        return ops.adapt_json_value(value, None)

    convert = {"DateTimeField": stamp, "DateField": day, "JSONField": jsonb}
    adapt = [(i, convert[kind]) for i, kind in enumerate(kinds) if kind in convert]
    prepared = []
    for row in rows:
        values = list(row)
        for i, fn in adapt:
            values[i] = fn(values[i])
        prepared.append(values)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # COPY: the client binds no parameters, the server parses once
            copy_sql = f"COPY {ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for values in prepared:
                    copy.write_row(values)
            return
        for start in range(0, len(prepared), 5000):
            cursor.executemany(sql, prepared[start:start + 5000])


def _ids(model: type[Any], first: str, last: str) -> dict[str, int]:
    return dict(model.objects.filter(number__gte=first, number__lte=last).values_list("number", "pk"))


def _write(clock: _Clock, gen: _Generator, sims: list[_Sim], totals: dict[str, int]) -> None:
    """Write one batch: applications and cases first (their ids read back by number range), then the rest."""
    if not sims:
        return
    apps = [s.app for s in sims]
    _insert(Application, ["number", "applicant", "item", "bundle", "applicant_name", "id_number", "credit_code",
                          "phone", "division_code", "form_data", "chosen_items", "status", "created_at",
                          "submitted_at", "finished_at"],
            [(a.number, a.applicant.user.pk, a.item.pk if a.item else None, a.bundle.pk if a.bundle else None,
              a.applicant.name, *a.applicant.stored()[:1], "" if a.applicant.kind == UserKind.CITIZEN
              else a.applicant.credit_code, a.applicant.stored()[1], a.division_code, a.form_data, a.chosen_items,
              a.status, a.created_at, a.submitted_at, a.finished_at) for a in apps])
    ids = _ids(Application, apps[0].number, apps[-1].number)
    for a in apps:
        a.pk = ids[a.number]
    cases = [c for s in sims for c in s.cases]
    _insert(Case, ["number", "application", "item", "department", "division_code", "status", "received_at",
                   "accepted_at", "promised_due_at", "statutory_due_at", "paused_days", "decided_at", "issued_at",
                   "reason", "credit_result"],
            [(r.number, r.application.pk, r.item.pk, r.department.pk, r.division_code, r.status, r.received_at,
              r.accepted_at, r.promised_due_at, r.statutory_due_at, r.paused_days, r.decided_at, r.issued_at,
              r.reason, r.credit_result) for r in (c.row for c in cases)])
    ids = _ids(Case, cases[0].row.number, cases[-1].row.number)
    for c in cases:
        c.row.pk = ids[c.row.number]
    steps = [(c.row.pk, st.key, st.name, st.role, st.limit_days, st.after, st.status, st.started_at, st.due_at,
              st.finished_at, st.actor.pk if st.actor else None, st.opinion, st.outcome)
             for c in cases for st in (x.row for x in c.steps.values())]
    _insert(CaseStep, ["case", "key", "name", "role", "limit_days", "after", "status", "started_at", "due_at",
                       "finished_at", "actor", "opinion", "outcome"], steps)
    events = [(s.app.pk, case.pk if case else None, at, actor.pk if actor else None, label, action, note, data)
              for s in sims for case, at, actor, label, action, note, data in s.events]
    _insert(CaseEvent, ["application", "case", "at", "actor", "actor_label", "action", "note", "data"], events)
    corrections = [(x.case.pk, x.requested_at, x.requested_by.pk, x.items, x.answered_at)
                   for s in sims for x in s.corrections]
    _insert(CorrectionRequest, ["case", "requested_at", "requested_by", "items", "answered_at"], corrections)
    certs = [(x.number, x.case.pk, x.kind, x.title, x.holder_name, x.holder_code, x.data, "", "",
              x.verification_code, x.issued_at, x.valid_until)
             for x in (c.certificate for c in cases) if x is not None]
    _insert(Certificate, ["number", "case", "kind", "title", "holder_name", "holder_code", "data", "pdf",
                          "pdf_sha256", "verification_code", "issued_at", "valid_until"], certs)
    cards = [card for c in cases for card in _case_cards(clock, c)]
    SupervisionCard.objects.bulk_create(cards, batch_size=2000)
    for key, rows in (("applications", apps), ("cases", cases), ("steps", steps), ("events", events),
                      ("corrections", corrections), ("certificates", certs), ("cards", cards)):
        totals[key] += len(rows)
