"""National code tables used by the base databases, with lookups by code or by name.

- GB/T 2261.1-2003 性别代码 (sex)
- GB/T 2261.2-2003 婚姻状况代码 (marital status)
- GB/T 3304-1991 中国各民族名称的罗马字母拼写法和代码 (ethnic groups: the 56 plus 97/98)
- GB/T 4761-2008 家庭关系代码 (relationship to the head of household)
- GB/T 4754-2017 国民经济行业分类 (industries: the 20 sections A–T and the 97 divisions)

Pure Python, no Django: the generator, the importer and the benchmarks all use it.
"""

from __future__ import annotations

import re

SEX: dict[str, str] = {"0": "未知的性别", "1": "男", "2": "女", "9": "未说明的性别"}
_SEX_ALIASES = {"男性": "1", "女性": "2", "m": "1", "male": "1", "f": "2", "female": "2", "男": "1", "女": "2"}

MARITAL_STATUS: dict[str, str] = {
    "10": "未婚", "20": "已婚", "21": "初婚", "22": "再婚", "23": "复婚", "30": "丧偶", "40": "离婚",
    "90": "未说明的婚姻状况",
}
_MARITAL_ALIASES = {"single": "10", "married": "20", "widowed": "30", "divorced": "40", "unknown": "90",
                    "未说明": "90"}

ETHNIC_GROUPS: dict[str, str] = {
    "01": "汉族", "02": "蒙古族", "03": "回族", "04": "藏族", "05": "维吾尔族", "06": "苗族", "07": "彝族",
    "08": "壮族", "09": "布依族", "10": "朝鲜族", "11": "满族", "12": "侗族", "13": "瑶族", "14": "白族",
    "15": "土家族", "16": "哈尼族", "17": "哈萨克族", "18": "傣族", "19": "黎族", "20": "傈僳族", "21": "佤族",
    "22": "畲族", "23": "高山族", "24": "拉祜族", "25": "水族", "26": "东乡族", "27": "纳西族", "28": "景颇族",
    "29": "柯尔克孜族", "30": "土族", "31": "达斡尔族", "32": "仫佬族", "33": "羌族", "34": "布朗族",
    "35": "撒拉族", "36": "毛南族", "37": "仡佬族", "38": "锡伯族", "39": "阿昌族", "40": "普米族",
    "41": "塔吉克族", "42": "怒族", "43": "乌孜别克族", "44": "俄罗斯族", "45": "鄂温克族", "46": "德昂族",
    "47": "保安族", "48": "裕固族", "49": "京族", "50": "塔塔尔族", "51": "独龙族", "52": "鄂伦春族",
    "53": "赫哲族", "54": "门巴族", "55": "珞巴族", "56": "基诺族", "97": "其他", "98": "外国血统中国籍人士",
}

RELATIONSHIPS: dict[str, str] = {
    "01": "本人", "02": "户主", "10": "配偶", "11": "夫", "12": "妻",
    "20": "子", "21": "独生子", "22": "长子", "23": "次子", "24": "三子", "25": "四子", "26": "五子",
    "27": "养子或继子", "28": "女婿", "29": "其他儿子",
    "30": "女", "31": "独生女", "32": "长女", "33": "次女", "34": "三女", "35": "四女", "36": "五女",
    "37": "养女或继女", "38": "儿媳", "39": "其他女儿",
    "40": "孙子、孙女或外孙子、外孙女", "41": "孙子", "42": "孙女", "43": "外孙子", "44": "外孙女",
    "45": "孙媳妇或外孙媳妇", "46": "孙女婿或外孙女婿", "47": "曾孙子或外曾孙子", "48": "曾孙女或外曾孙女",
    "49": "其他孙子、孙女或外孙子、外孙女",
    "50": "父母", "51": "父亲", "52": "母亲", "53": "公公", "54": "婆婆", "55": "岳父", "56": "岳母",
    "57": "继父或养父", "58": "继母或养母", "59": "其他父母关系",
    "60": "祖父母或外祖父母", "61": "祖父", "62": "祖母", "63": "外祖父", "64": "外祖母",
    "65": "配偶的祖父母或外祖父母", "66": "曾祖父", "67": "曾祖母", "68": "配偶的曾祖父母或外曾祖父母",
    "69": "其他祖父母或外祖父母关系",
    "70": "兄弟姐妹", "71": "兄", "72": "嫂", "73": "弟", "74": "弟媳", "75": "姐姐", "76": "姐夫", "77": "妹妹",
    "78": "妹夫", "79": "其他兄弟姐妹",
    "80": "其他", "81": "伯父", "82": "伯母", "83": "叔父", "84": "婶母", "85": "舅父", "86": "舅母", "87": "姨父",
    "88": "姨母", "89": "姑父", "90": "姑母", "91": "堂兄弟、堂姐妹", "92": "表兄弟、表姐妹", "93": "侄子",
    "94": "侄女", "95": "外甥", "96": "外甥女", "97": "其他亲属", "99": "非亲属",
}
HEAD_OF_HOUSEHOLD = "02"

INDUSTRY_SECTIONS: dict[str, str] = {
    "A": "农、林、牧、渔业", "B": "采矿业", "C": "制造业", "D": "电力、热力、燃气及水生产和供应业", "E": "建筑业",
    "F": "批发和零售业", "G": "交通运输、仓储和邮政业", "H": "住宿和餐饮业", "I": "信息传输、软件和信息技术服务业",
    "J": "金融业", "K": "房地产业", "L": "租赁和商务服务业", "M": "科学研究和技术服务业",
    "N": "水利、环境和公共设施管理业", "O": "居民服务、修理和其他服务业", "P": "教育", "Q": "卫生和社会工作",
    "R": "文化、体育和娱乐业", "S": "公共管理、社会保障和社会组织", "T": "国际组织",
}

# section -> (first division, last division)
_SECTION_RANGES: dict[str, tuple[int, int]] = {
    "A": (1, 5), "B": (6, 12), "C": (13, 43), "D": (44, 46), "E": (47, 50), "F": (51, 52), "G": (53, 60),
    "H": (61, 62), "I": (63, 65), "J": (66, 69), "K": (70, 70), "L": (71, 72), "M": (73, 75), "N": (76, 79),
    "O": (80, 82), "P": (83, 83), "Q": (84, 85), "R": (86, 90), "S": (91, 96), "T": (97, 97),
}

INDUSTRY_DIVISIONS: dict[str, str] = {
    "01": "农业", "02": "林业", "03": "畜牧业", "04": "渔业", "05": "农、林、牧、渔专业及辅助性活动",
    "06": "煤炭开采和洗选业", "07": "石油和天然气开采业", "08": "黑色金属矿采选业", "09": "有色金属矿采选业",
    "10": "非金属矿采选业", "11": "开采专业及辅助性活动", "12": "其他采矿业",
    "13": "农副食品加工业", "14": "食品制造业", "15": "酒、饮料和精制茶制造业", "16": "烟草制品业", "17": "纺织业",
    "18": "纺织服装、服饰业", "19": "皮革、毛皮、羽毛及其制品和制鞋业", "20": "木材加工和木、竹、藤、棕、草制品业",
    "21": "家具制造业", "22": "造纸和纸制品业", "23": "印刷和记录媒介复制业", "24": "文教、工美、体育和娱乐用品制造业",
    "25": "石油、煤炭及其他燃料加工业", "26": "化学原料和化学制品制造业", "27": "医药制造业", "28": "化学纤维制造业",
    "29": "橡胶和塑料制品业", "30": "非金属矿物制品业", "31": "黑色金属冶炼和压延加工业",
    "32": "有色金属冶炼和压延加工业", "33": "金属制品业", "34": "通用设备制造业", "35": "专用设备制造业",
    "36": "汽车制造业", "37": "铁路、船舶、航空航天和其他运输设备制造业", "38": "电气机械和器材制造业",
    "39": "计算机、通信和其他电子设备制造业", "40": "仪器仪表制造业", "41": "其他制造业", "42": "废弃资源综合利用业",
    "43": "金属制品、机械和设备修理业",
    "44": "电力、热力生产和供应业", "45": "燃气生产和供应业", "46": "水的生产和供应业",
    "47": "房屋建筑业", "48": "土木工程建筑业", "49": "建筑安装业", "50": "建筑装饰、装修和其他建筑业",
    "51": "批发业", "52": "零售业",
    "53": "铁路运输业", "54": "道路运输业", "55": "水上运输业", "56": "航空运输业", "57": "管道运输业",
    "58": "多式联运和运输代理业", "59": "装卸搬运和仓储业", "60": "邮政业",
    "61": "住宿业", "62": "餐饮业",
    "63": "电信、广播电视和卫星传输服务", "64": "互联网和相关服务", "65": "软件和信息技术服务业",
    "66": "货币金融服务", "67": "资本市场服务", "68": "保险业", "69": "其他金融业",
    "70": "房地产业",
    "71": "租赁业", "72": "商务服务业",
    "73": "研究和试验发展", "74": "专业技术服务业", "75": "科技推广和应用服务业",
    "76": "水利管理业", "77": "生态保护和环境治理业", "78": "公共设施管理业", "79": "土地管理业",
    "80": "居民服务业", "81": "机动车、电子产品和日用产品修理业", "82": "其他服务业",
    "83": "教育",
    "84": "卫生", "85": "社会工作",
    "86": "新闻和出版业", "87": "广播、电视、电影和录音制作业", "88": "文化艺术业", "89": "体育", "90": "娱乐业",
    "91": "中国共产党机关", "92": "国家机构", "93": "人民政协、民主党派", "94": "社会保障",
    "95": "群众团体、社会团体和其他成员组织", "96": "基层群众自治组织及其他组织",
    "97": "国际组织",
}


def section_of_division(division: str) -> str:
    number = int(division)
    for section, (lo, hi) in _SECTION_RANGES.items():
        if lo <= number <= hi:
            return section
    raise KeyError(division)


def _by_name(table: dict[str, str]) -> dict[str, str]:
    return {name: code for code, name in table.items()}


_ETHNIC_BY_NAME = _by_name(ETHNIC_GROUPS)
_ETHNIC_BY_NAME.update({name[:-1]: code for code, name in ETHNIC_GROUPS.items() if name.endswith("族")})
_RELATIONSHIP_BY_NAME = _by_name(RELATIONSHIPS)
_MARITAL_BY_NAME = _by_name(MARITAL_STATUS)
_SEX_BY_NAME = _by_name(SEX)


def _lookup(value: str, table: dict[str, str], by_name: dict[str, str], aliases: dict[str, str] | None = None,
            width: int = 2) -> str | None:
    v = value.strip()
    if not v:
        return None
    if v.isdigit() and len(v) < width:
        v = v.zfill(width)
    if v in table:
        return v
    if v in by_name:
        return by_name[v]
    if aliases:
        return aliases.get(v.lower()) or aliases.get(v)
    return None


def sex_code(value: str) -> str | None:
    """'1'/'男'/'male' -> '1'; None when not a GB/T 2261.1 code or name."""
    return _lookup(value, SEX, _SEX_BY_NAME, _SEX_ALIASES, width=1)


def marital_code(value: str) -> str | None:
    return _lookup(value, MARITAL_STATUS, _MARITAL_BY_NAME, _MARITAL_ALIASES)


def ethnic_code(value: str) -> str | None:
    return _lookup(value, ETHNIC_GROUPS, _ETHNIC_BY_NAME)


def relationship_code(value: str) -> str | None:
    return _lookup(value, RELATIONSHIPS, _RELATIONSHIP_BY_NAME)


_INDUSTRY = re.compile(r"^([A-T])?(\d{2,4})?$")


def industry_code(value: str) -> str | None:
    """Normalise a GB/T 4754-2017 code to section letter + digits ("C1310", "C13", "C"); None when invalid.

    Accepted forms: a section letter ("C"), a division with or without its section ("13", "C13") and finer
    groups/classes whose first two digits are a valid division ("131", "C1310"). A letter that does not match
    the division's section is invalid.
    """
    v = value.strip().upper().replace(" ", "")
    m = _INDUSTRY.match(v)
    if not m or not v:
        return None
    section, digits = m.group(1), m.group(2)
    if digits is None:
        return section
    division = digits[:2]
    if division not in INDUSTRY_DIVISIONS:
        return None
    real = section_of_division(division)
    if section and section != real:
        return None
    return real + digits


def industry_label(code: str) -> str:
    if not code:
        return ""
    section = code[0]
    if len(code) == 1:
        return INDUSTRY_SECTIONS.get(section, "")
    return INDUSTRY_DIVISIONS.get(code[1:3], "")
