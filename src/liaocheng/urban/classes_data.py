"""Shipped component (部件) and event (事件) classes after GB/T 30428.2, loaded by ``load_urban_classes``.

The standards' own texts were not available; codes follow municipal manuals (see the reference notes)
and every row is editable afterwards (deadline, department). Deadlines marked in the reference are the
municipal values seen (暴露垃圾 4 working hours, 积存垃圾渣土 4 working days); the others are local
defaults to be confirmed by the city. ``dept`` is a ``core.departments.KINDS`` key.
"""

from __future__ import annotations

# kind -> [(major code, name)]
MAJORS: dict[str, list[tuple[str, str]]] = {
    "component": [("01", "公用设施"), ("02", "道路交通"), ("03", "市容环境"), ("04", "园林绿化"),
                  ("05", "房屋土地"), ("06", "其他")],
    "event": [("01", "市容环境"), ("02", "宣传广告"), ("03", "施工管理"), ("04", "突发事件"),
              ("05", "街面秩序"), ("06", "其他")],
}

H, D = "hours", "days"
_COVER = ("井盖缺失、破损、移位或松动", "井盖已补齐或修复，平稳牢固")

# kind -> [(minor code, name, dept, deadline value, unit, filing condition, closing condition)]
MINORS: dict[str, list[tuple[str, str, str, int, str, str, str]]] = {
    "component": [
        ("0101", "上水井盖", "water", 4, H, *_COVER),
        ("0102", "污水井盖", "housing_construction", 4, H, *_COVER),
        ("0103", "雨水井盖", "housing_construction", 4, H, *_COVER),
        ("0104", "雨水箅子", "housing_construction", 4, H, "雨水箅子缺失、破损或堵塞", "已补齐、修复或疏通"),
        ("0105", "电力井盖", "power", 4, H, *_COVER),
        ("0106", "路灯井盖", "urban_management", 4, H, *_COVER),
        ("0107", "电信井盖", "urban_management", 4, H, *_COVER),
        ("0113", "消防设施", "fire_rescue", 2, D, "消火栓等消防设施破损、漏水或被占压", "设施已修复，完好可用"),
        ("0114", "不明井盖", "urban_management", 4, H, *_COVER),
        ("0116", "电力设施", "power", 2, D, "电力设施破损、倾斜或存在安全隐患", "设施已修复，隐患消除"),
        ("0117", "电杆", "power", 2, D, "电杆倾斜、破损或存在安全隐患", "电杆已扶正或更换"),
        ("0118", "路灯", "urban_management", 2, D, "路灯不亮、破损或倾斜", "路灯已修复，正常照明"),
        ("0121", "报刊亭", "urban_management", 5, D, "报刊亭破损、脏污或违规经营", "已修复或整改"),
        ("0126", "健身设施", "urban_management", 5, D, "健身设施破损或存在安全隐患", "设施已修复或拆除"),
        ("0201", "停车场", "traffic_police", 5, D, "停车场设施破损或标线不清", "设施已修复"),
        ("0203", "公交站亭", "transport", 3, D, "公交站亭破损或脏污", "站亭已修复、清洁"),
        ("0205", "过街天桥", "housing_construction", 5, D, "天桥破损或存在安全隐患", "天桥已修复"),
        ("0209", "交通标志牌", "traffic_police", 3, D, "标志牌缺失、破损、倾斜或被遮挡", "标志牌已修复、扶正"),
        ("0211", "交通护栏", "traffic_police", 3, D, "护栏缺失、破损或倾倒", "护栏已修复"),
        ("0213", "路名牌", "urban_management", 5, D, "路名牌缺失、破损或错误", "路名牌已修复或更正"),
        ("0214", "交通信号灯", "traffic_police", 4, H, "信号灯不亮、故障或倾斜", "信号灯已恢复正常"),
        ("0301", "公共厕所", "urban_management", 1, D, "公厕脏污、设施损坏或未开放", "公厕清洁、设施完好"),
        ("0305", "垃圾箱", "urban_management", 1, D, "垃圾箱缺失、破损或满溢", "垃圾箱已补齐、修复或清运"),
        ("0307", "广告牌匾", "urban_management", 5, D, "牌匾破损、脱落或存在安全隐患", "牌匾已修复或拆除"),
        ("0401", "古树名木", "natural_resources", 3, D, "古树名木受损、病虫害或保护设施损坏", "已救护或修复保护设施"),
        ("0402", "行道树", "housing_construction", 3, D, "行道树倒伏、枯死、缺失或影响通行", "已扶正、补植或修剪"),
        ("0405", "绿地", "housing_construction", 5, D, "绿地破坏、脏乱或被占用", "绿地已恢复、清理"),
        ("0407", "街头座椅", "urban_management", 5, D, "座椅破损或缺失", "座椅已修复或补齐"),
        ("0501", "宣传栏", "urban_management", 5, D, "宣传栏破损或内容过期", "宣传栏已修复或更新"),
        ("0502", "人防工事", "housing_construction", 5, D, "人防工事出入口破损或被占用", "已修复或清理"),
    ],
    "event": [
        ("0102", "暴露垃圾", "urban_management", 4, H, "道路、绿地等处有暴露垃圾", "垃圾已清理，现场整洁"),
        ("0103", "积存垃圾渣土", "urban_management", 4, D, "积存垃圾或渣土未及时清运", "垃圾渣土已清运"),
        ("0201", "非法张贴小广告", "urban_management", 1, D, "墙面、设施上有非法小广告", "小广告已清除"),
        ("0301", "施工扰民", "housing_construction", 1, D, "夜间或超时施工扰民", "施工已停止或整改"),
        ("0302", "工地扬尘", "housing_construction", 4, H, "工地未覆盖、未洒水，扬尘明显", "扬尘已控制，措施到位"),
        ("0401", "路面塌陷", "housing_construction", 4, H, "路面塌陷、坑洞，影响通行安全", "已设置警示并修复"),
        ("0501", "无照经营游商", "urban_management", 4, H, "无照游商占道经营", "游商已劝离或依法处理"),
        ("0505", "机动车乱停放", "traffic_police", 4, H, "机动车违规停放占用人行道或车道", "车辆已驶离或依法处理"),
        ("0507", "乱堆物堆料", "urban_management", 1, D, "占道乱堆物料", "物料已清理"),
    ],
}
