"""The demo district's fixed facts: places, dishes, set meals and the subsidy policy.

Modelled on Karamay (克拉玛依), Xinjiang: one central kitchen feeding community canteens and
meal points across its districts; names and numbers are illustrative, not real records.
"""

from __future__ import annotations

DISTRICT_CENTRE = (45.5799, 84.8892)  # latitude, longitude of central Karamay
DEFAULT_TZ = "Asia/Shanghai"
LOCAL_TZ = "Asia/Urumqi"  # a few meal points keep Xinjiang time

KITCHEN = {
    "code": "CK",
    "name": "克拉玛依市中央厨房",
    "address": "克拉玛依区友谊路 88 号",
    "offset_km": (0.0, -1.2),
}

STREETS = [
    ("KL", "昆仑路", (0.8, 0.4)),
    ("SL", "胜利路", (-0.6, 1.1)),
    ("YH", "银河路", (1.5, -0.9)),
    ("TS", "天山路", (-1.4, -0.7)),
    ("YB", "迎宾路", (2.2, 1.6)),
    ("WW", "五五新镇", (-2.6, 2.2)),
    ("KT", "客运路", (0.2, -2.4)),
    ("BJ", "白碱滩", (6.5, 8.0)),
    ("DS", "独山子", (-4.0, -5.5)),
    ("WE", "乌尔禾", (9.0, -3.5)),
]

CANTEEN_SLOTS = {
    "lunch": {"serve": ("11:30", "13:00"), "cutoff": ("09:00", 0), "capacity": 220},
    "dinner": {"serve": ("17:30", "18:30"), "cutoff": ("15:00", 0), "capacity": 120},
}
MEAL_POINT_SLOTS = {
    "lunch": {"serve": ("11:30", "12:30"), "cutoff": ("17:00", 1), "capacity": 90},
}
MEAL_POINTS_PER_CANTEEN = (2, 2, 2, 2, 2, 1, 1, 1, 1, 1)
URUMQI_TIME_STREETS = {"WE"}
MEAL_POINT_RADIUS_KM = 1.6
SENIOR_RADIUS_KM = 1.2
LAST_MILE_RADIUS_M = 800

# Dishes: code -> (name, English name, kind, diet tags, allergens).
DISHES = {
    "hongshaorou": ("红烧肉", "Braised pork belly", "meat", [], ["soy"]),
    "tudou_niurou": ("土豆烧牛肉", "Beef stewed with potato", "meat", ["halal"], []),
    "qingdun_yangrou": ("清炖羊肉", "Clear-stewed mutton", "meat", ["halal", "low_salt"], []),
    "gongbao_jiding": ("宫保鸡丁", "Kung Pao chicken", "meat", ["halal"], ["peanut"]),
    "qingzheng_yu": ("清蒸鱼", "Steamed fish", "meat", ["halal", "low_salt"], ["fish"]),
    "dapanji": ("大盘鸡", "Big-plate chicken", "meat", ["halal"], []),
    "fanqie_chaodan": ("番茄炒蛋", "Tomato and egg", "meat", ["halal", "low_sugar"], ["egg"]),
    "suanla_baicai": ("醋溜白菜", "Vinegar cabbage", "vegetable", ["halal", "low_sugar"], []),
    "qingchao_youmai": ("清炒油麦菜", "Stir-fried lettuce", "vegetable", ["halal", "low_salt"], []),
    "tudousi": ("炒土豆丝", "Shredded potato", "vegetable", ["halal"], []),
    "xianggu_qingcai": ("香菇青菜", "Greens with shiitake", "vegetable", ["halal", "low_salt"], []),
    "xihulu": ("西葫芦炒蛋", "Courgette and egg", "vegetable", ["halal"], ["egg"]),
    "liangban_huanggua": ("拌黄瓜", "Smashed cucumber", "vegetable", ["halal", "low_sugar"], []),
    "mifan": ("米饭", "Steamed rice", "staple", ["halal", "low_salt"], []),
    "mantou": ("馒头", "Steamed bun", "staple", ["halal", "low_salt"], ["wheat"]),
    "zalianmi": ("杂粮饭", "Mixed-grain rice", "staple", ["halal", "low_sugar", "low_salt"], []),
    "zicai_tang": ("紫菜蛋花汤", "Seaweed and egg soup", "soup", ["halal"], ["egg"]),
    "donggua_tang": ("冬瓜汤", "Winter-melon soup", "soup", ["halal", "low_salt"], []),
    "xiaomi_zhou": ("小米粥", "Millet porridge", "soup", ["halal", "low_salt"], []),
}

# Nutrition per portion: code -> (energy kcal, protein g, fat g, carbohydrate g, sodium mg),
# typical values for a canteen portion (China Food Composition Tables, rounded).
NUTRITION = {
    "hongshaorou": (330, 12.0, 28.0, 8.0, 620),
    "tudou_niurou": (260, 18.0, 12.0, 18.0, 540),
    "qingdun_yangrou": (230, 20.0, 15.0, 3.0, 380),
    "gongbao_jiding": (280, 20.0, 17.0, 12.0, 650),
    "qingzheng_yu": (160, 22.0, 6.0, 2.0, 360),
    "dapanji": (300, 21.0, 16.0, 17.0, 700),
    "fanqie_chaodan": (180, 10.0, 12.0, 8.0, 420),
    "suanla_baicai": (70, 2.0, 4.0, 7.0, 380),
    "qingchao_youmai": (60, 2.0, 4.0, 4.0, 260),
    "tudousi": (150, 3.0, 7.0, 20.0, 400),
    "xianggu_qingcai": (80, 3.0, 4.0, 8.0, 280),
    "xihulu": (140, 8.0, 10.0, 6.0, 380),
    "liangban_huanggua": (50, 1.0, 3.0, 5.0, 320),
    "mifan": (230, 4.5, 0.5, 51.0, 5),
    "mantou": (220, 7.0, 1.0, 45.0, 160),
    "zalianmi": (220, 5.5, 1.2, 46.0, 5),
    "zicai_tang": (50, 3.5, 2.5, 3.0, 420),
    "donggua_tang": (30, 1.0, 1.0, 4.0, 300),
    "xiaomi_zhou": (90, 2.5, 0.8, 18.0, 5),
}

# Two set meals a day (A and B); B is always 清真. (meat, vegetable, staple, soup), price fen.
SET_MEALS_BY_WEEKDAY = [
    (
        ("hongshaorou", "qingchao_youmai", "mifan", "zicai_tang", 1300),
        ("tudou_niurou", "suanla_baicai", "mantou", "donggua_tang", 1200),
    ),
    (
        ("gongbao_jiding", "tudousi", "mifan", "donggua_tang", 1200),
        ("qingzheng_yu", "xianggu_qingcai", "zalianmi", "xiaomi_zhou", 1400),
    ),
    (
        ("hongshaorou", "xihulu", "mantou", "xiaomi_zhou", 1300),
        ("dapanji", "liangban_huanggua", "mifan", "donggua_tang", 1300),
    ),
    (
        ("fanqie_chaodan", "xianggu_qingcai", "mifan", "donggua_tang", 1100),
        ("qingdun_yangrou", "tudousi", "mantou", "zicai_tang", 1500),
    ),
    (
        ("gongbao_jiding", "suanla_baicai", "zalianmi", "zicai_tang", 1200),
        ("qingzheng_yu", "qingchao_youmai", "mifan", "xiaomi_zhou", 1400),
    ),
    (
        ("hongshaorou", "tudousi", "mifan", "donggua_tang", 1300),
        ("tudou_niurou", "xihulu", "mantou", "xiaomi_zhou", 1200),
    ),
    (
        ("fanqie_chaodan", "qingchao_youmai", "mantou", "xiaomi_zhou", 1000),
        ("dapanji", "suanla_baicai", "mifan", "zicai_tang", 1300),
    ),
]
TEXTURE_AND_DIET_VARIANTS = ["low_salt", "low_sugar", "soft", "minced", "puree", "allergen_free"]

FUNDING_SOURCES = [
    ("civil_affairs", "区民政局助餐补贴", "District civil-affairs meal subsidy"),
    ("street_office", "街道办补贴", "Street-office subsidy"),
    ("operator", "运营方让利", "Operator discount"),
]
# (source, min_age, max_age, category, amount fen): the largest matching tier per source applies.
SUBSIDY_TIERS = [
    ("civil_affairs", 60, 69, None, 300),
    ("civil_affairs", 70, 79, None, 400),
    ("civil_affairs", 80, 89, None, 500),
    ("civil_affairs", 90, None, None, 600),
    ("civil_affairs", 60, None, "minimum_income", 600),
    ("civil_affairs", 60, None, "disabled", 600),
    ("civil_affairs", 60, None, "extreme_poverty", 1000),
    ("street_office", 60, None, "advanced_age", 100),
    ("street_office", 60, None, "lives_alone", 100),
    ("operator", 60, None, None, 100),
]

# Shares of the senior population (independent draws).
AGE_BANDS = [((60, 69), 0.40), ((70, 79), 0.35), ((80, 89), 0.20), ((90, 99), 0.05)]
CATEGORY_SHARES = {
    "extreme_poverty": 0.02,
    "minimum_income": 0.06,
    "disabled": 0.03,
    "semi_disabled": 0.06,
    "lives_alone": 0.12,
    "empty_nest": 0.25,
}
DIET_SHARES = {"low_salt": 0.30, "low_sugar": 0.15, "halal": 0.15, "allergy": 0.03}
IDDSI_SHARES = {6: 0.05, 5: 0.02, 4: 0.01}
ALLERGENS = ["peanut", "fish", "egg", "wheat", "soy"]
PHONE_SHARE = 0.70
DELIVERY_SHARE = 0.12
DELIVERY_SHARE_FRAIL = 0.6
DOOR_NOTES = ["门禁 1234#", "请大声敲门", "放门口鞋柜上", "先打电话", "狗不咬人"]

SURNAMES = list(
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段漕钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = list("秀英桂兰玉梅凤珍淑华建国军明志伟德福文海成林春荣秋菊芳丽云霞永强俊峰金宝")
UYGHUR_KAZAKH_NAMES = [
    "阿不都热合曼",
    "买买提",
    "艾力",
    "吐尔逊",
    "努尔兰",
    "古丽娜尔",
    "阿依古丽",
    "帕提古丽",
    "热依汗",
    "哈力克",
    "叶尔兰",
    "玛依拉",
    "阿合买提",
    "巴哈尔古丽",
]
RELATIONS = ["儿子", "女儿", "儿媳", "女婿", "侄子", "邻居"]

# Insulated vans of the Iveco Daily / JMC Transit class: 60 hot and 15 cold boxes of 12
# portions. A canteen's drop with its meal point's walking list is 20-45 boxes, so a van
# takes a canteen and its homes on one trip; with 40-box vans some drops fitted no van.
VANS = [(f"VAN-{n:02d}", 60, 15) for n in range(1, 25)]

DEMO_PASSWORDS = {
    "admin": "warmmeal-admin",
    "kitchen": "warmmeal-kitchen",
    "driver": "warmmeal-driver",
    "staff": "warmmeal-staff",
    "family": "warmmeal-family",
    "senior_pin": "123456",
    "viewer": "warmmeal-civil",
}
BOOKING_SHARE_PER_DAY = 0.55

# Past days (`warmmeal seed demo --history-days N`): what happened to the bookings.
HISTORY_CANCELLED_SHARE = 0.03
HISTORY_FAILED_DELIVERY_SHARE = 0.03
HISTORY_NO_SHOW_SHARE = 0.04
HISTORY_UNSCANNED_SHARE = 0.02
HISTORY_RATING_SHARE = 0.2
HISTORY_RATING_WEIGHTS = ((5, 48), (4, 36), (3, 13), (2, 2), (1, 1))
HISTORY_COMMENTS = {
    5: ["", "很好吃", "饭菜热乎，分量足", "味道不错，谢谢师傅"],
    4: ["", "挺好的", "菜有点咸", "米饭稍硬"],
    3: ["", "一般", "菜凉了一点", "口味偏重"],
    2: ["送得太晚，菜凉了", "太咸了", "肉太硬，咬不动"],
    1: ["饭菜是凉的", "等了很久没送到", "不合口味"],
}
HISTORY_BATCH = 2000
