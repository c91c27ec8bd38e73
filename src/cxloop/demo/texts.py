"""Vocabulary of the demo company: names, places, products and feedback phrases.

Kept apart from the generator so the numbers (who, when, how many) read separately from the words.
Every negative delivery-speed or support-speed phrase carries one of ``MARKERS`` so that the planted
relationships can be measured from the text alone, as an analyst (or a test) would.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SURNAMES: tuple[tuple[str, str], ...] = (
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("林", "lin"),
    ("罗", "luo"),
    ("高", "gao"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
)
GIVEN_FEMALE: tuple[tuple[str, str], ...] = (
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("艳", "yan"),
    ("娟", "juan"),
    ("霞", "xia"),
    ("秀英", "xiuying"),
    ("婷", "ting"),
    ("欣怡", "xinyi"),
    ("梓萱", "zixuan"),
    ("雨桐", "yutong"),
    ("佳怡", "jiayi"),
    ("晓燕", "xiaoyan"),
    ("慧", "hui"),
)
GIVEN_MALE: tuple[tuple[str, str], ...] = (
    ("伟", "wei"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("杰", "jie"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("浩然", "haoran"),
    ("宇", "yu"),
    ("子轩", "zixuan"),
    ("博文", "bowen"),
    ("建国", "jianguo"),
    ("志强", "zhiqiang"),
)
EN_FEMALE = ("Emily", "Grace", "Sophia", "Olivia", "Chloe", "Hannah", "Vivian", "Cindy")
EN_MALE = ("David", "Michael", "Kevin", "Jason", "Eric", "Daniel", "Tony", "Leo")
EMAIL_DOMAINS = (
    "163.com",
    "qq.com",
    "126.com",
    "gmail.com",
    "outlook.com",
    "sina.com",
    "foxmail.com",
    "hotmail.com",
)
EMAIL_DOMAIN_WEIGHTS = (0.24, 0.22, 0.1, 0.1, 0.1, 0.08, 0.08, 0.08)
HANDLE_WORDS = (
    "爱生活",
    "的小屋",
    "不吃香菜",
    "在路上",
    "同学",
    "酱",
    "小可爱",
    "说",
    "233",
    "_life",
)
CITIES: tuple[tuple[str, str, float], ...] = (
    ("上海", "上海", 0.14),
    ("北京", "北京", 0.13),
    ("广州", "广东", 0.09),
    ("深圳", "广东", 0.1),
    ("杭州", "浙江", 0.08),
    ("成都", "四川", 0.07),
    ("武汉", "湖北", 0.06),
    ("南京", "江苏", 0.06),
    ("苏州", "江苏", 0.05),
    ("西安", "陕西", 0.04),
    ("重庆", "重庆", 0.05),
    ("天津", "天津", 0.03),
    ("长沙", "湖南", 0.04),
    ("郑州", "河南", 0.03),
    ("青岛", "山东", 0.03),
)

PRODUCTS: tuple[tuple[str, str, float, float], ...] = (  # name, url slug, price CNY, weight
    ("青禾空气净化器 AirPure 3", "airpure-3", 1999.0, 0.08),
    ("青禾扫地机器人 RoboClean S8", "roboclean-s8", 2999.0, 0.06),
    ("青禾加湿器 Mist 2", "mist-2", 399.0, 0.12),
    ("青禾咖啡机 BrewMate", "brewmate", 1299.0, 0.06),
    ("青禾电动牙刷 Sonic 5", "sonic-5", 299.0, 0.12),
    ("青禾智能台灯 Lumi", "lumi", 249.0, 0.1),
    ("净化器滤网 FilterPro", "filterpro", 159.0, 0.26),
    ("牙刷刷头（4支装）", "brush-heads", 89.0, 0.2),
)
B2B_PRODUCTS: tuple[tuple[str, float], ...] = (
    ("企业空气净化方案（台）", 1800.0),
    ("智能会议室套件", 26000.0),
    ("办公设备年度维保", 48000.0),
    ("企业滤网年度供应", 12000.0),
)
APP_FEATURES = (
    "remote_control",
    "schedule",
    "filter_status",
    "air_quality_report",
    "firmware_update",
)
SEARCH_TERMS = ("滤网", "净化器", "加湿器", "牙刷", "coffee", "优惠券")

COMPANY_WORDS: tuple[tuple[str, str], ...] = (
    ("恒信", "hengxin"),
    ("华瑞", "huarui"),
    ("中联", "zhonglian"),
    ("博远", "boyuan"),
    ("凯达", "kaida"),
    ("鼎盛", "dingsheng"),
    ("天成", "tiancheng"),
    ("宏图", "hongtu"),
    ("星河", "xinghe"),
    ("瑞丰", "ruifeng"),
    ("汇通", "huitong"),
    ("嘉禾", "jiahe"),
    ("远航", "yuanhang"),
    ("金石", "jinshi"),
    ("永泰", "yongtai"),
    ("新元", "xinyuan"),
    ("智谷", "zhigu"),
    ("云帆", "yunfan"),
    ("海纳", "haina"),
    ("启明", "qiming"),
)
INDUSTRIES: tuple[tuple[str, str, str], ...] = (  # name suffix, industry, domain word
    ("科技", "互联网科技", "tech"),
    ("物流", "物流", "logistics"),
    ("医疗", "医疗健康", "health"),
    ("教育", "教育", "edu"),
    ("制造", "制造", "mfg"),
    ("商贸", "零售", "trade"),
    ("金融服务", "金融", "fin"),
    ("置业", "房地产", "realty"),
)
ACCOUNT_MANAGERS = ("李娜", "陈磊", "王芳", "张伟", "刘洋", "周婷")
TITLES: dict[str, tuple[str, ...]] = {
    "decision_maker": ("总经理", "CEO", "副总裁", "CIO"),
    "purchaser": ("采购经理", "采购专员"),
    "recommender": ("IT经理", "行政经理"),
    "influencer": ("财务总监", "部门主管"),
    "user": ("行政专员", "办公室主任", "前台主管"),
    "employee": ("工程师", "员工"),
}
PROJECT_KINDS = (
    "智能办公部署一期",
    "会议室改造项目",
    "空气质量监测项目",
    "二期扩容",
    "新办公区交付",
)
MILESTONES: dict[int, tuple[str, ...]] = {
    3: ("签约 Signing", "上线 Go-live", "验收 Acceptance"),
    4: ("签约 Signing", "启动 Kick-off", "上线 Go-live", "验收 Acceptance"),
    5: ("签约 Signing", "启动 Kick-off", "部署 Deployment", "上线 Go-live", "验收 Acceptance"),
}

# (topic, language, polarity) -> clause fragments without final punctuation.
PHRASES: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("delivery_speed", "zh", "pos"): (
        "物流很快，第二天就到了",
        "送货很快，比预期还早",
        "快递速度没得说",
        "发货及时，物流一点也不慢",
        "下单当天就发货了",
    ),
    ("delivery_speed", "zh", "neg"): (
        "物流太慢了，等了整整一个星期",
        "快递太慢，说好的次日达变成了五天",
        "送货太慢，催了好几次",
        "物流太慢，包裹一直卡在中转站",
        "发货太慢，三天了还没出库",
    ),
    ("delivery_speed", "en", "pos"): (
        "fast delivery, it arrived the next day",
        "shipping was quick",
        "the package came earlier than promised",
        "delivery was not late at all",
    ),
    ("delivery_speed", "en", "neg"): (
        "delivery was late by almost a week",
        "late delivery again, the courier kept postponing",
        "shipping was slow and tracking never updated",
        "the package arrived late with no explanation",
    ),
    ("support_response", "zh", "pos"): (
        "客服回复很及时",
        "客服响应很快，十分钟就解决了",
        "客服回复一点都不慢，问题当天就处理了",
        "在线客服秒回",
    ),
    ("support_response", "zh", "neg"): (
        "客服回复太慢，问题拖了好几天",
        "客服迟迟不回复，打电话也没人接",
        "客服三天才回复一次",
        "客服响应太慢，工单一直没人处理",
    ),
    ("support_response", "en", "pos"): (
        "support replied within minutes",
        "the support team was quick to respond",
        "support was not slow at all, they fixed it the same day",
    ),
    ("support_response", "en", "neg"): (
        "support took days to reply",
        "support was slow to respond and kept asking the same things",
        "no reply from support for three days",
        "I waited days for support to get back to me",
    ),
    ("staff_attitude", "zh", "pos"): (
        "门店店员很热情",
        "工作人员态度很好，讲解很耐心",
        "安装师傅很专业也很有礼貌",
    ),
    ("staff_attitude", "zh", "neg"): (
        "店员态度很差，爱答不理",
        "安装师傅态度恶劣",
        "工作人员很不耐烦",
    ),
    ("staff_attitude", "en", "pos"): (
        "the staff were friendly and patient",
        "the installer was professional and polite",
    ),
    ("staff_attitude", "en", "neg"): (
        "the staff were rude and dismissive",
        "the installer was impatient and unfriendly",
    ),
    ("price", "zh", "pos"): ("价格很实惠", "性价比很高", "活动价很划算"),
    ("price", "zh", "neg"): ("价格太贵了", "性价比不高", "刚买就降价，很不爽"),
    ("price", "en", "pos"): (
        "great value for money",
        "the price is fair",
        "the discount made it a bargain",
    ),
    ("price", "en", "neg"): (
        "it is overpriced",
        "it is not worth the price",
        "the price dropped right after I bought it",
    ),
    ("quality", "zh", "pos"): (
        "质量很好，做工扎实",
        "用了三个月没有任何问题",
        "效果很明显，空气清新多了",
    ),
    ("quality", "zh", "neg"): (
        "质量很差，用了两周就坏了",
        "做工粗糙，有明显的划痕",
        "噪音太大，晚上根本没法用",
    ),
    ("quality", "en", "pos"): (
        "the build quality is excellent",
        "it works perfectly after three months",
        "it really works, the air feels fresher",
    ),
    ("quality", "en", "neg"): (
        "poor quality, it broke after two weeks",
        "the finish is rough and scratched",
        "it is far too noisy at night",
    ),
    ("packaging", "zh", "pos"): ("包装很严实", "包装精美，送人很合适"),
    ("packaging", "zh", "neg"): ("包装破损，盒子都压扁了", "包装太简陋，配件散落在箱子里"),
    ("packaging", "en", "pos"): ("the packaging was sturdy", "nice packaging, perfect as a gift"),
    ("packaging", "en", "neg"): (
        "the box arrived crushed",
        "flimsy packaging, parts were loose in the box",
    ),
    ("returns", "zh", "pos"): ("退换货很顺利", "退款到账很快", "七天无理由退货很方便"),
    ("returns", "zh", "neg"): ("退款一直不到账", "退货流程太麻烦了", "申请换货被拒绝，理由很牵强"),
    ("returns", "en", "pos"): ("the return was painless", "the refund came through quickly"),
    ("returns", "en", "neg"): (
        "I am still waiting for my refund",
        "the return process is a nightmare",
        "my exchange request was rejected for no reason",
    ),
    ("payment", "zh", "pos"): ("支付很方便，微信支付宝都能用", "分期付款很方便"),
    ("payment", "zh", "neg"): ("付款总是失败", "优惠券用不了，结算时报错", "被重复扣款了"),
    ("payment", "en", "pos"): ("checkout was smooth", "paying with WeChat Pay was easy"),
    ("payment", "en", "neg"): (
        "payment kept failing at checkout",
        "I was charged twice",
        "the coupon would not apply at checkout",
    ),
    ("app_usability", "zh", "pos"): (
        "App很好用，界面清晰",
        "远程控制很方便",
        "App操作简单，老人也会用",
    ),
    ("app_usability", "zh", "neg"): (
        "App老是闪退",
        "App太难用了，找个设置要点半天",
        "设备经常连不上App",
    ),
    ("app_usability", "en", "pos"): (
        "the app is easy to use",
        "remote control from the app is handy",
        "the app interface is clean",
    ),
    ("app_usability", "en", "neg"): (
        "the app keeps crashing",
        "the app is confusing, settings are buried",
        "the device keeps disconnecting from the app",
    ),
    ("implementation", "zh", "pos"): (
        "实施团队很专业，按计划上线",
        "项目经理沟通很顺畅",
        "培训很到位，员工很快就上手了",
    ),
    ("implementation", "zh", "neg"): (
        "上线比计划晚了一个月",
        "实施过程反复返工",
        "项目经理经常换人，沟通成本很高",
    ),
    ("implementation", "en", "pos"): (
        "the rollout went to plan",
        "the project manager kept us well informed",
        "the training got our staff up to speed quickly",
    ),
    ("implementation", "en", "neg"): (
        "go-live slipped by a month",
        "the implementation needed constant rework",
        "the project manager kept changing",
    ),
}
# Where a topic is usually experienced, and what a touchpoint's answers are usually about.
TOPIC_TOUCHPOINT = {
    "delivery_speed": "delivery",
    "packaging": "delivery",
    "app_usability": "app",
    "payment": "website",
    "returns": "website",
    "price": "website",
    "quality": "app",
    "staff_attitude": "store",
    "support_response": "call_center",
}
CONSUMER_TOPICS = tuple(TOPIC_TOUCHPOINT)
TOUCHPOINT_TOPICS: dict[str, tuple[str, ...]] = {
    "delivery": ("delivery_speed", "delivery_speed", "packaging"),
    "app": ("app_usability", "app_usability", "payment", "quality"),
    "website": ("price", "returns", "payment"),
    "store": ("staff_attitude", "staff_attitude", "quality", "price"),
    "call_center": ("support_response", "support_response", "returns", "staff_attitude"),
}
SERVICE_TOPICS = (
    "returns",
    "returns",
    "payment",
    "delivery_speed",
    "quality",
    "app_usability",
    "packaging",
    "support_response",
)
REVIEW_TOPICS = (
    "quality",
    "quality",
    "quality",
    "delivery_speed",
    "delivery_speed",
    "price",
    "price",
    "packaging",
    "app_usability",
)
B2B_TOPICS = (
    "implementation",
    "implementation",
    "support_response",
    "quality",
    "price",
    "app_usability",
    "staff_attitude",
)
TOPIC_NAMES: dict[str, tuple[str, str]] = {
    "delivery_speed": ("物流", "delivery"),
    "support_response": ("客服响应", "support"),
    "staff_attitude": ("服务态度", "staff"),
    "price": ("价格", "pricing"),
    "quality": ("产品质量", "product quality"),
    "packaging": ("包装", "packaging"),
    "returns": ("退换货", "my return"),
    "payment": ("支付", "payment"),
    "app_usability": ("App使用", "the app"),
    "implementation": ("项目实施", "the rollout"),
}
# Substrings that identify a complaint in any language; each negative phrase carries one.
MARKERS: dict[str, tuple[str, ...]] = {
    "delivery_slow": (
        "物流太慢",
        "快递太慢",
        "送货太慢",
        "发货太慢",
        "delivery was late",
        "late delivery",
        "shipping was slow",
        "arrived late",
    ),
    "support_slow": (
        "客服回复太慢",
        "客服迟迟不回复",
        "客服三天才回复",
        "客服响应太慢",
        "support took days",
        "slow to respond",
        "no reply from support",
        "waited days for support",
    ),
}
_OPEN = {
    ("zh", "pos"): ("很满意！", "第二次买了，", "推荐！", "五星好评！"),
    ("zh", "neg"): ("非常失望。", "差评！", "体验很糟糕。", "说实话有点失望，"),
    ("en", "pos"): ("Really happy! ", "Second purchase. ", "Highly recommend. "),
    ("en", "neg"): ("Very disappointed. ", "Not happy. ", "Terrible experience. "),
}
_CLOSE = {
    ("zh", "pos"): ("会继续回购。", "已经推荐给朋友了。", "👍", "😊", "点赞！"),
    ("zh", "neg"): ("不会再买了。", "希望尽快改进。", "😡", "😞", "太失望了。"),
    ("zh", "mixed"): ("还可以吧。", "总体中规中矩。", "🤔"),
    ("en", "pos"): (" Will buy again.", " Recommended to friends.", " 👍", " 🙂"),
    ("en", "neg"): (" Won't buy again.", " Please fix this.", " 😡", " 👎"),
    ("en", "mixed"): (" Okay overall.", " It's fine I guess.", " 🤔"),
}


def mentions(text: object, marker: str) -> bool:
    """Whether ``text`` carries one of the ``MARKERS[marker]`` phrases (case-insensitive)."""
    if not isinstance(text, str):
        return False
    low = text.lower()
    return any(m in low for m in MARKERS[marker])


def _one(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[int(rng.integers(len(options)))]


def compose(
    rng: np.random.Generator,
    lang: str,
    polarity: str,
    main: str,
    other: str | None = None,
    contrast: bool = False,
) -> str:
    """One feedback text: ``main`` carries ``polarity``; ``other`` joins it or, with ``contrast``,
    opposes it (虽然…但是…). ``mixed`` means main positive, other negative."""
    pol = "pos" if polarity == "mixed" else polarity
    anti = "neg" if pol == "pos" else "pos"
    head = _one(rng, PHRASES[(main, lang, pol)])
    cap = head[0].upper() + head[1:]
    if polarity == "mixed" and other:
        tail = _one(rng, PHRASES[(other, lang, "neg")])
        body = f"{head}，不过{tail}。" if lang == "zh" else f"{cap}, but {tail}."
    elif other and contrast:
        side = _one(rng, PHRASES[(other, lang, anti)])
        body = f"虽然{side}，但是{head}。" if lang == "zh" else f"Although {side}, {head}."
    elif other:
        extra = _one(rng, PHRASES[(other, lang, pol)])
        body = f"{head}，{extra}。" if lang == "zh" else f"{cap} and {extra}."
    else:
        body = f"{head}。" if lang == "zh" else f"{cap}."
    if polarity != "mixed" and rng.random() < 0.3:
        body = _one(rng, _OPEN[(lang, pol)]) + body
    if rng.random() < 0.35:
        body += _one(rng, _CLOSE[(lang, polarity)])
    return body


def title(lang: str, polarity: str, topic: str) -> str:
    """A ticket, e-mail or forum subject line for ``topic``."""
    zh, en = TOPIC_NAMES[topic]
    if polarity == "pos":
        return f"表扬：{zh}很好" if lang == "zh" else f"Thanks for the great {en}"
    return f"关于{zh}的问题" if lang == "zh" else f"Problem with {en}"


def speak(
    rng: np.random.Generator, lang: str, polarity: str, pool: Sequence[str], slow: bool
) -> tuple[str, str]:
    """(topic, text) on a topic from ``pool``. Only those who suffered slow support (``slow``)
    complain about it, even in passing, so the complaint marks them out."""
    main = _one(rng, pool)
    if main == "support_response" and polarity != "pos" and not slow:
        main = "staff_attitude"
    other, contrast = None, False
    if polarity == "mixed" or rng.random() < 0.45:
        other = _one(rng, CONSUMER_TOPICS)
        contrast = polarity != "mixed" and rng.random() < 0.35
        other_neg = (polarity == "pos") if contrast else (polarity != "pos")
        if other == main or (other == "support_response" and other_neg and not slow):
            other = "quality" if main == "price" else "price"
    return main, compose(rng, lang, polarity, main, other, contrast)
