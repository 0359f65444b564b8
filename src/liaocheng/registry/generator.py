"""Synthetic, realistic population and legal-entity files for demos, tests and benchmarks (no Django).

Residents
    Distributed by county (东昌府区 about 1.2 million at full scale, the others 0.55-0.8 million, about 6
    million in all) and, within a county, evenly over its villages/communities, so townships receive people
    in proportion to their village counts. People live in households of 1-6 with a head (户主) and GB/T 4761
    relationships; ages follow the relationships; marital status (GB/T 2261.2) is consistent with age and
    household. ID numbers are valid GB 11643 numbers: the region code is the one in force when the person was
    born (3715xx from 1997, the older 3725xx codes of 聊城地区 before, which python-stdnum checks against the
    birth year), the sequence digit's parity matches the sex and the check digit is right. The residence is a
    random point inside a unit grid of the household's village (8 % live in another village of the county).
    Most people are 汉族, some 回族 and a few of other groups.
Legal entities
    Valid GB 32100 credit codes with the right check character (a few legacy codes with a wrong one), types
    from the code's first two characters, GB/T 4754-2017 industries, capital in 10,000 yuan, addresses in grids.

Files are streamed (constant memory apart from the ID sequence counters, bounded by regions x days) and
deterministic for a seed.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from stdnum.cn import ric

from liaocheng.core.identity import CODE_ALPHABET, credit_code_from

from .codes import INDUSTRY_DIVISIONS

REFERENCE_DATE = dt.date(2026, 1, 1)  # ages are computed at this date (no birth after it)
FULL_SCALE = {  # residents per county at full scale (about 6 million)
    "371502": 1_200_000, "371581": 800_000, "371522": 800_000, "371521": 750_000, "371525": 750_000,
    "371503": 600_000, "371526": 550_000, "371524": 550_000,
}
COUNTY_NAMES = {"371502": "东昌府区", "371503": "茌平区", "371521": "阳谷县", "371522": "莘县", "371524": "东阿县",
                "371525": "冠县", "371526": "高唐县", "371581": "临清市"}
# region codes before 1997 (聊城地区 372500): (code, first birth year, last birth year)
_OLD_CODES = {
    "371502": [("372521", 0, 1982), ("372501", 1983, 1996)],
    "371581": [("372528", 0, 1982), ("372502", 1983, 1996)],
    "371521": [("372522", 0, 1996)], "371522": [("372523", 0, 1996)], "371503": [("372524", 0, 1996)],
    "371524": [("372525", 0, 1996)], "371525": [("372526", 0, 1996)], "371526": [("372527", 0, 1996)],
}

RESIDENT_HEADER = ["公民身份号码", "姓名", "性别", "出生日期", "民族", "户籍地区划代码", "户号", "与户主关系",
                   "居住地址", "经度", "纬度", "婚姻状况", "人口状态", "联系电话"]
ENTITY_HEADER = ["统一社会信用代码", "名称", "单位类型", "法定代表人", "注册资本（万元）", "行业代码", "住所",
                 "经度", "纬度", "登记状态", "登记机关", "成立日期"]

_SURNAME_TEXT = (
    "王张李刘陈杨赵孙马徐朱高郭周胡吴林何宋郑梁韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜"
    "戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文庞樊兰"
    "殷施陶洪翟安颜倪严牛温芦季俞章鲁葛伍韦申尤毕聂丛焦向柳邢路岳齐沿梅莫庄辛管祝左涂谷祁时舒耿牟卜詹关苗"
    "凌费纪靳盛童欧甄项曲成游阳裴席卫查屈鲍位覃霍翁隋植甘景薄单包司柏宁柯阮桂闵解强柴华车冉房边辜吉饶刁瞿"
    "戚丘古米池滕晋苑邬臧畅宫来嵺苟全褚廉简娄盖符奚木穆党燕郎邸冀谈姬屠连郜晏栾郁商蒙计喻揭窦迟宇敖糜鄢冷"
    "卓花仇艾蓝都巩稽井练仲乐虞卞封竺冼原官衣楚佟栗匡宗应台巫鞠僧桑荆谌银扬明沙伏岑习胥保和蔺"
)
SURNAMES = tuple(_SURNAME_TEXT)
_SURNAME_WEIGHTS = [max(60.0 / (i + 1) ** 0.9, 0.2) for i in range(len(SURNAMES))]
MALE_CHARS = "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航弘"  # noqa: E501
FEMALE_CHARS = "秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"  # noqa: E501
ETHNIC_WEIGHTS = (("01", 9920.0), ("03", 60.0), ("11", 8.0), ("02", 4.0), ("08", 3.0), ("10", 2.0), ("06", 1.0),
                  ("05", 1.0), ("15", 1.0))
HOUSEHOLD_SIZES = ((1, 0.15), (2, 0.28), (3, 0.25), (4, 0.17), (5, 0.10), (6, 0.05))
# (age from, age to, weight) of heads of household
HEAD_AGES = ((20, 29, 0.10), (30, 39, 0.18), (40, 49, 0.22), (50, 59, 0.24), (60, 69, 0.16), (70, 90, 0.10))

_BRAND_CHARS = "鑫盛源泰华恒宏达兴隆信诚丰瑞祥德昌顺通宇博嘉润东运水金聚贤新凯晟安永利中宝乾坤开元百川旺顺合众"
_INDUSTRY_WORDS = {
    "01": "农业", "03": "养殖", "05": "农机服务", "13": "粮油加工", "14": "食品", "17": "纺织", "18": "服饰",
    "21": "家具", "22": "纸业", "26": "化工", "29": "塑料制品", "30": "建材", "31": "钢铁", "33": "五金",
    "34": "机械", "35": "专用设备", "36": "汽车配件", "38": "电气", "39": "电子", "44": "热电", "47": "建筑工程",
    "48": "路桥工程", "50": "装饰工程", "51": "商贸", "52": "超市", "54": "运输", "59": "仓储物流", "61": "宾馆",
    "62": "餐饮", "65": "信息技术", "70": "房地产开发", "72": "商务咨询", "74": "检测技术", "80": "家政服务",
    "81": "汽车维修", "82": "理发美容", "83": "培训学校", "84": "诊所", "86": "文化传媒", "88": "文化艺术",
}
# (prefix, weight, industry divisions)
_ENTITY_KINDS = (
    ("91", 55.0, ("13", "14", "17", "18", "21", "22", "26", "29", "30", "31", "33", "34", "35", "36", "38", "39",
                  "44", "47", "48", "50", "51", "52", "54", "59", "61", "65", "70", "72", "74")),
    ("92", 38.0, ("51", "52", "62", "80", "81", "82", "03", "05", "61")),
    ("93", 3.0, ("01", "03", "05")),
    ("12", 2.0, ("83", "84", "88", "86")),
    ("11", 0.7, ("92",)),
    ("51", 0.8, ("95",)),
    ("52", 0.5, ("83", "84", "80")),
)
_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass(frozen=True)
class GeneratedFiles:
    residents: Path
    entities: Path
    resident_count: int
    entity_count: int


@dataclass
class _Village:
    code: str
    name: str
    kind: str
    township: str
    county: str
    grid_idx: np.ndarray  # indices into the grid arrays


class _Places:
    """Villages with their grids (geometries prepared for point sampling)."""

    def __init__(self, profile: Any) -> None:
        names = {d.code: d.name for d in profile.divisions}
        self.county_names = {c: names.get(c, n) for c, n in COUNTY_NAMES.items()}
        self.township_names = {d.code: d.name for d in profile.divisions if d.level == "township"}
        grids = sorted(profile.grids, key=lambda g: g.code)
        self.grid_codes = [g.code for g in grids]
        self.geoms = np.array([g.geometry for g in grids], dtype=object)
        shapely.prepare(self.geoms)
        self.bounds = shapely.bounds(self.geoms)
        by_community: dict[str, list[int]] = {}
        for i, g in enumerate(grids):
            by_community.setdefault(g.community_code, []).append(i)
        self.villages: dict[str, list[_Village]] = {}
        for d in sorted(profile.divisions, key=lambda d: d.code):
            if d.level != "village" or d.valid_to is not None or d.code not in by_community:
                continue
            v = _Village(d.code, d.name, d.kind, d.code[:9], d.code[:6], np.array(by_community[d.code]))
            self.villages.setdefault(d.code[:6], []).append(v)

    def points(self, grid_idx: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One random point inside each given grid (rejection sampling in the grid's bounding box)."""
        n = len(grid_idx)
        lons, lats = np.empty(n), np.empty(n)
        todo = np.arange(n)
        for _ in range(60):
            if len(todo) == 0:
                break
            b = self.bounds[grid_idx[todo]]
            # rounded as written (6 decimals, ~0.1 m), so that the written point is still inside the grid
            x = np.round(b[:, 0] + rng.random(len(todo)) * (b[:, 2] - b[:, 0]), 6)
            y = np.round(b[:, 1] + rng.random(len(todo)) * (b[:, 3] - b[:, 1]), 6)
            ok = shapely.contains_xy(self.geoms[grid_idx[todo]], x, y)
            lons[todo[ok]], lats[todo[ok]] = x[ok], y[ok]
            todo = todo[~ok]
        for i in todo:  # slivers: a point on the surface
            p = shapely.point_on_surface(self.geoms[grid_idx[i]])
            lons[i], lats[i] = round(p.x, 6), round(p.y, 6)
        return lons, lats


def _area_code(county: str, year: int) -> str:
    if year >= 1997:
        if county == "371503":
            return "371503" if year >= 2019 else "371523"
        return county
    for code, lo, hi in _OLD_CODES[county]:
        if lo <= year <= hi:
            return code
    return _OLD_CODES[county][-1][0]


class _IdFactory:
    """Unique, valid ID numbers: per (region, birth date, sex) a counter gives the sequence number."""

    def __init__(self) -> None:
        self.used: dict[tuple[str, int, int], int] = {}

    def make(self, county: str, birth: dt.date, male: bool) -> tuple[str, dt.date]:
        while True:
            area = _area_code(county, birth.year)
            key = (area, birth.toordinal(), int(male))
            n = self.used.get(key, 0)
            if n < 499:
                self.used[key] = n + 1
                seq = 2 * n + (1 if male else 2)
                body = f"{area}{birth:%Y%m%d}{seq:03d}"
                return body + ric.calc_check_digit(body + "0"), birth
            birth -= dt.timedelta(days=1)


class _Names:
    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        self._cum = list(np.cumsum(_SURNAME_WEIGHTS))

    def surname(self) -> str:
        return self.rnd.choices(SURNAMES, cum_weights=self._cum)[0]

    def given(self, male: bool) -> str:
        chars = MALE_CHARS if male else FEMALE_CHARS
        if self.rnd.random() < 0.3:
            return self.rnd.choice(chars)
        return self.rnd.choice(chars) + self.rnd.choice(chars)

    def full(self, male: bool) -> str:
        return self.surname() + self.given(male)


def _birth(rnd: random.Random, age: int) -> dt.date:
    return REFERENCE_DATE - dt.timedelta(days=int(age * 365.25) + rnd.randrange(1, 365))


def _phone(rnd: random.Random) -> str:
    return f"1{rnd.choice('3456789')}{rnd.randrange(0, 10**9):09d}"


def _marital(rnd: random.Random, age: int, has_spouse: bool) -> str:
    if has_spouse:
        return "20" if rnd.random() < 0.9 else "22"
    if age < 22:
        return "10"
    if age >= 65:
        return rnd.choices(("30", "40", "10"), (0.75, 0.1, 0.15))[0]
    if age >= 35:
        return rnd.choices(("40", "10", "30"), (0.5, 0.35, 0.15))[0]
    return "10" if rnd.random() < 0.85 else "40"


def _household(rnd: random.Random, size: int) -> list[tuple[str, int, bool, bool]]:
    """Members as (relationship code, age, male, has spouse in household); the head first."""
    (lo, hi, _), = rnd.choices(HEAD_AGES, [w for *_, w in HEAD_AGES])
    if size >= 3:
        lo, hi = max(lo, 26), min(hi, 75)
        lo = min(lo, hi)
    head_age = rnd.randint(lo, hi)
    head_male = rnd.random() < 0.82
    with_spouse = size >= 3 or (size == 2 and rnd.random() < 0.7)
    members = [("02", head_age, head_male, with_spouse)]
    if with_spouse:
        spouse_age = max(18, head_age + rnd.randint(-4, 4))
        members.append(("10", spouse_age, not head_male, True))
    young = min(m[1] for m in members)
    parents_to_add = 0
    if size >= 5 and head_age <= 60:
        parents_to_add = min(2, size - len(members) - 1)
    children = size - len(members) - parents_to_add
    for _ in range(children):
        male = rnd.random() < 0.52
        age = max(0, young - rnd.randint(21, 34)) if young >= 21 else 0
        members.append(("20" if male else "30", age, male, False))
    for i in range(parents_to_add):
        male = i == 0
        age = min(98, head_age + rnd.randint(22, 32))
        members.append(("51" if male else "52", age, male, parents_to_add == 2))
    return members


def _address(places: _Places, v: _Village, rnd: random.Random) -> str:
    county = places.county_names[v.county]
    township = places.township_names.get(v.township, "")
    if v.kind == "居委会":
        base = v.name.removesuffix("居委会").removesuffix("居民委员会")
        building, unit = rnd.randint(1, 40), rnd.randint(1, 6)
        room = rnd.randint(1, 18) * 100 + rnd.randint(1, 4)
        return f"{county}{township}{base}{building}号楼{unit}单元{room}室"
    base = v.name.removesuffix("村民委员会").removesuffix("村委会")
    if not base.endswith(("村", "庄", "屯", "寨", "集", "营", "店", "楼", "园")):
        base += "村"
    return f"{county}{township}{base}{rnd.randint(1, 300)}号"


def _allocation(total: int, weights: dict[str, float]) -> dict[str, int]:
    s = sum(weights.values())
    raw = {k: total * w / s for k, w in weights.items()}
    out = {k: math.floor(x) for k, x in raw.items()}
    rest = total - sum(out.values())
    for k in sorted(raw, key=lambda k: raw[k] - out[k], reverse=True)[:rest]:
        out[k] += 1
    return out


def _open(path: Path, encoding: str) -> Any:
    return path.open("w", encoding=encoding, newline="", errors="strict")


def generate_residents(profile: Any, path: Path, n: int, *, seed: int = 1, encoding: str = "utf-8",
                       progress: Callable[[str, int, int], None] | None = None, places: _Places | None = None) -> int:
    places = places or _Places(profile)
    rnd = random.Random(seed)
    nrng = np.random.default_rng(seed)
    names = _Names(rnd)
    ids = _IdFactory()
    per_county = _allocation(n, {c: float(v) for c, v in FULL_SCALE.items()})
    ethnic_codes = [c for c, _ in ETHNIC_WEIGHTS]
    ethnic_cum = list(np.cumsum([w for _, w in ETHNIC_WEIGHTS]))
    sizes = [s for s, _ in HOUSEHOLD_SIZES]
    size_cum = list(np.cumsum([w for _, w in HOUSEHOLD_SIZES]))
    written = 0
    stage = "生成人口 / generating residents"
    with _open(path, encoding) as fh:
        w = csv.writer(fh)
        w.writerow(RESIDENT_HEADER)
        for county in sorted(per_county):
            villages = places.villages[county]
            quota = _allocation(per_county[county], {v.code: 1.0 for v in villages})
            for v in villages:
                want = quota[v.code]
                if want == 0:
                    continue
                households: list[list[tuple[str, int, bool, bool]]] = []
                count = 0
                while count < want:
                    size = min(rnd.choices(sizes, cum_weights=size_cum)[0], want - count)
                    households.append(_household(rnd, size))
                    count += size
                # residence grid of each household: its own village, or (8 %) another village of the county
                grid_idx = np.empty(len(households), dtype=np.int64)
                home_village: list[_Village] = []
                for i in range(len(households)):
                    rv = v if rnd.random() >= 0.08 else villages[rnd.randrange(len(villages))]
                    home_village.append(rv)
                    grid_idx[i] = rv.grid_idx[rnd.randrange(len(rv.grid_idx))]
                lons, lats = places.points(grid_idx, nrng)
                for h, members in enumerate(households):
                    number = f"{v.code}{h + 1:05d}"
                    address = _address(places, home_village[h], rnd)
                    surname = names.surname()
                    ethnic = rnd.choices(ethnic_codes, cum_weights=ethnic_cum)[0]
                    lon, lat = f"{lons[h]:.6f}", f"{lats[h]:.6f}"
                    for rel, age, male, spouse in members:
                        birth = _birth(rnd, age)
                        number_id, birth = ids.make(county, birth, male)
                        if rel in ("02", "20", "30") and (rel != "02" or male):
                            name = surname + names.given(male)
                        else:
                            name = names.full(male)
                        phone = _phone(rnd) if 16 <= age <= 85 and rnd.random() < 0.9 else ""
                        w.writerow((number_id, name, "1" if male else "2", birth.isoformat(), ethnic, v.code, number,
                                    rel, address, lon, lat, _marital(rnd, age, spouse), "在册", phone))
                    written += len(members)
                if progress:
                    progress(stage, written, n)
    return written


def credit_code(prefix: str, region: str, rnd: random.Random, *, bad_check: bool = False) -> str:
    code = credit_code_from(prefix, region, "MA" + "".join(rnd.choice(CODE_ALPHABET) for _ in range(6)))
    if bad_check:
        check = code[-1]
        return code[:-1] + _ORG_ALPHABET[(_ORG_ALPHABET.index(check) + 1 + rnd.randrange(30)) % 31]
    return code


def generate_entities(profile: Any, path: Path, n: int, *, seed: int = 1, encoding: str = "utf-8",
                      progress: Callable[[str, int, int], None] | None = None, places: _Places | None = None) -> int:
    places = places or _Places(profile)
    rnd = random.Random(seed + 7919)
    nrng = np.random.default_rng(seed + 7919)
    names = _Names(rnd)
    per_county = _allocation(n, {c: float(v) for c, v in FULL_SCALE.items()})
    kinds = [k for k, _, _ in _ENTITY_KINDS]
    kind_cum = list(np.cumsum([wt for _, wt, _ in _ENTITY_KINDS]))
    industries = {k: ind for k, _, ind in _ENTITY_KINDS}
    used: set[str] = set()
    written = 0
    stage = "生成法人单位 / generating legal entities"
    with _open(path, encoding) as fh:
        w = csv.writer(fh)
        w.writerow(ENTITY_HEADER)
        for county in sorted(per_county):
            villages = places.villages[county]
            weights = np.array([3.0 if v.kind == "居委会" else 1.0 for v in villages])
            count = per_county[county]
            chosen = nrng.choice(len(villages), size=count, p=weights / weights.sum())
            grid_idx = np.array([villages[i].grid_idx[rnd.randrange(len(villages[i].grid_idx))] for i in chosen],
                                dtype=np.int64)
            lons, lats = places.points(grid_idx, nrng) if count else (np.empty(0), np.empty(0))
            cname = places.county_names[county]
            for j, vi in enumerate(chosen):
                v = villages[int(vi)]
                prefix = rnd.choices(kinds, cum_weights=kind_cum)[0]
                code = credit_code(prefix, county, rnd, bad_check=rnd.random() < 0.003)
                while code in used:
                    code = credit_code(prefix, county, rnd)
                used.add(code)
                division = rnd.choice(industries[prefix])
                word = _INDUSTRY_WORDS.get(division, INDUSTRY_DIVISIONS[division][:4])
                brand = rnd.choice(_BRAND_CHARS) + rnd.choice(_BRAND_CHARS)
                rep = names.full(rnd.random() < 0.75)
                if prefix == "91":
                    name = f"聊城{brand}{word}有限公司" if rnd.random() < 0.6 else f"{cname}{brand}{word}有限公司"
                    capital = f"{min(50000.0, math.exp(rnd.gauss(5.3, 1.4))):.2f}"
                    authority = f"{cname}市场监督管理局"
                elif prefix == "92":
                    name = f"{cname}{rep[0]}记{word}店"
                    capital = f"{rnd.choice((1, 2, 3, 5, 10, 20, 30, 50))}"
                    authority = f"{cname}市场监督管理局"
                elif prefix == "93":
                    name = f"{cname}{brand}{word}专业合作社"
                    capital = f"{rnd.choice((50, 100, 200, 300, 500))}"
                    authority = f"{cname}市场监督管理局"
                elif prefix == "12":
                    name = f"{cname}{places.township_names.get(v.township, '')}{word.removesuffix('学校')}中心"
                    capital = f"{rnd.choice((10, 20, 50, 100))}"
                    authority = f"{cname}机构编制委员会办公室"
                elif prefix == "11":
                    organ = rnd.choice(("人民政府", "党委办公室", "财政所"))
                    name = f"{cname}{places.township_names.get(v.township, '')}{organ}"
                    capital = ""
                    authority = f"{cname}机构编制委员会办公室"
                else:
                    name = f"{cname}{brand}{rnd.choice(('协会', '商会', '志愿者协会', '养老服务中心'))}"
                    capital = f"{rnd.choice((3, 5, 10))}"
                    authority = f"{cname}民政局"
                status = rnd.choices(("存续", "吊销", "注销"), (0.92, 0.03, 0.05))[0]
                age_days = int(rnd.random() ** 1.8 * 35 * 365) + 1
                established = REFERENCE_DATE - dt.timedelta(days=age_days)
                w.writerow((code, name, "", rep, capital, division, f"{_address(places, v, rnd)}",
                            f"{lons[j]:.6f}", f"{lats[j]:.6f}", status, authority, established.isoformat()))
                written += 1
                if progress and written % 5000 == 0:
                    progress(stage, written, n)
    if progress:
        progress(stage, written, n)
    return written


def generate(profile: Any, out_dir: Path, *, residents: int, entities: int, seed: int = 1, encoding: str = "utf-8",
             progress: Callable[[str, int, int], None] | None = None) -> GeneratedFiles:
    """Write ``residents.csv`` and ``entities.csv`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    places = _Places(profile)
    rpath, epath = out_dir / "residents.csv", out_dir / "entities.csv"
    nr = generate_residents(profile, rpath, residents, seed=seed, encoding=encoding, progress=progress, places=places)
    ne = generate_entities(profile, epath, entities, seed=seed, encoding=encoding, progress=progress, places=places)
    return GeneratedFiles(rpath, epath, nr, ne)
