"""What each import kind accepts: fields, types, ranges, synonyms and header aliases.

One declaration serves the file importer, the API batch schemas and the documentation, so the
rules cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from cxloop.customers.roles import ROLE_MAX_LENGTH
from cxloop.customers.roles import ROLES as ROLES  # re-exported: read from here since 0.1
from cxloop.feedback.channels import CHANNEL_MAX_LENGTH
from cxloop.ingest.headers import TEXT_HEADERS

DateOrder = Literal["auto", "day-first", "month-first"]
"""How ``11/07/2026`` reads: decided per file from its values, or forced."""
FieldType = Literal[
    "str", "int", "float", "datetime", "date", "bool", "enum", "email", "phone", "channel", "role"
]

TRUE_WORDS = frozenset({"1", "true", "t", "yes", "y", "是", "对", "已续费", "renewed"})
FALSE_WORDS = frozenset({"0", "false", "f", "no", "n", "否", "未续费", "not renewed"})


@dataclass(frozen=True)
class FieldSpec:
    """One cxloop field: its type, whether required, its bounds and the headers that mean it."""

    name: str
    type: FieldType = "str"
    required: bool = False
    min: float | None = None
    max: float | None = None
    choices: dict[str, str] | None = None
    aliases: tuple[str, ...] = ()
    max_length: int = 256
    identity: str | None = None
    description: str = ""


@dataclass(frozen=True)
class KindSpec:
    """An import kind: its table, natural key and fields."""

    kind: str
    table: str
    key: str
    fields: tuple[FieldSpec, ...]
    key_from_hash: bool = False
    key_scope: str | None = None
    one_of: tuple[tuple[str, ...], ...] = ()
    description: str = ""
    by_name: dict[str, FieldSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})


def _id(name: str, *aliases: str, required: bool = True) -> FieldSpec:
    return FieldSpec(name, "str", required=required, max_length=128, aliases=aliases)


CUSTOMER_ID_ALIASES = (
    "用户id",
    "客户id",
    "客户编号",
    "用户编号",
    "uid",
    "user_id",
    "userid",
    "cust_id",
)
ACCOUNT_ID_ALIASES = ("企业id", "公司id", "客户公司id", "company_id", "org_id")
CONTACT_ID_ALIASES = ("联系人id", "联系人编号")
MILESTONE_ID_ALIASES = ("里程碑id", "里程碑编号")
SEGMENT_ALIASES = ("分群", "客户分层", "客户等级", "会员等级")

KINDS: dict[str, KindSpec] = {}


def _register(spec: KindSpec) -> None:
    KINDS[spec.kind] = spec


_register(
    KindSpec(
        kind="customers",
        table="customers",
        key="customer_id",
        description="B2C persons.",
        fields=(
            _id("customer_id", *CUSTOMER_ID_ALIASES, "id", "customerid", "customer"),
            FieldSpec("name", aliases=("姓名", "客户姓名", "full_name")),
            FieldSpec(
                "email",
                "email",
                aliases=("邮箱", "电子邮件", "e-mail", "email_address"),
                max_length=320,
                identity="email",
            ),
            FieldSpec(
                "phone",
                "phone",
                aliases=("手机", "手机号", "电话", "mobile", "phone_number"),
                identity="phone",
            ),
            FieldSpec(
                "member_id",
                aliases=("会员号", "会员id", "会员卡号", "membership_id"),
                max_length=128,
                identity="member_id",
            ),
            FieldSpec("handle", aliases=("昵称", "账号", "social_handle"), identity="handle"),
            FieldSpec("gender", aliases=("性别", "sex"), max_length=16),
            FieldSpec("birth_date", "date", aliases=("生日", "出生日期", "birthday", "dob")),
            FieldSpec("city", aliases=("城市",), max_length=128),
            FieldSpec("region", aliases=("地区", "省份", "province", "state"), max_length=128),
            FieldSpec(
                "segment", aliases=(*SEGMENT_ALIASES, "tier", "customer_segment"), max_length=64
            ),
            FieldSpec(
                "signed_up_at",
                "datetime",
                aliases=("注册时间", "signup_at", "signup_date", "created_at", "registered_at"),
            ),
        ),
    )
)
_register(
    KindSpec(
        kind="accounts",
        table="accounts",
        key="account_id",
        description="B2B companies.",
        fields=(
            _id("account_id", *ACCOUNT_ID_ALIASES, "id", "accountid", "account"),
            FieldSpec(
                "name", required=True, aliases=("企业名称", "公司名称", "company", "account_name")
            ),
            FieldSpec("industry", aliases=("行业",), max_length=128),
            FieldSpec("region", aliases=("地区", "省份"), max_length=128),
            FieldSpec("segment", aliases=SEGMENT_ALIASES, max_length=64),
            FieldSpec("tier", aliases=("等级", "级别"), max_length=32),
            FieldSpec("owner", aliases=("客户经理", "account_manager", "负责人"), max_length=128),
            FieldSpec("annual_value", "float", min=0, aliases=("年合同额", "arr", "acv")),
            FieldSpec("opened_at", "datetime", aliases=("签约时间", "created_at", "since")),
        ),
    )
)
_register(
    KindSpec(
        kind="contacts",
        table="contacts",
        key="contact_id",
        description="Persons at accounts, each with a role.",
        fields=(
            _id("contact_id", *CONTACT_ID_ALIASES, "id", "contactid"),
            _id("account_id", *ACCOUNT_ID_ALIASES, "accountid", "account"),
            FieldSpec("name", aliases=("姓名", "联系人")),
            FieldSpec(
                "email", "email", aliases=("邮箱", "e-mail"), max_length=320, identity="email"
            ),
            FieldSpec(
                "phone", "phone", aliases=("手机", "手机号", "电话", "mobile"), identity="phone"
            ),
            FieldSpec(
                "role",
                "role",
                required=True,
                max_length=ROLE_MAX_LENGTH,
                aliases=("角色", "contact_role", "联系人角色"),
                description="Open: known spellings map to one role (decision_maker, purchaser…), "
                "others are kept as written.",
            ),
            FieldSpec("title", aliases=("职位", "job_title"), max_length=128),
        ),
    )
)
_register(
    KindSpec(
        kind="projects",
        table="projects",
        key="project_id",
        description="B2B delivery projects.",
        fields=(
            _id("project_id", "项目id", "项目编号", "id"),
            _id("account_id", *ACCOUNT_ID_ALIASES, "accountid", "account"),
            FieldSpec("name", required=True, aliases=("项目名称", "project_name")),
            FieldSpec("status", aliases=("状态",), max_length=32),
            FieldSpec("start_date", "date", aliases=("开始日期", "start")),
            FieldSpec("end_date", "date", aliases=("结束日期", "end")),
        ),
    )
)
_register(
    KindSpec(
        kind="milestones",
        table="milestones",
        key="milestone_id",
        description="Milestones of B2B projects (surveys go out at them).",
        fields=(
            _id("milestone_id", *MILESTONE_ID_ALIASES, "id"),
            _id("project_id", "项目id", "项目编号"),
            FieldSpec("name", required=True, aliases=("里程碑", "里程碑名称", "milestone")),
            FieldSpec("due_date", "date", aliases=("计划日期", "due")),
            FieldSpec("completed_at", "datetime", aliases=("完成时间", "done_at")),
            FieldSpec("status", aliases=("状态",), max_length=32),
        ),
    )
)
_register(
    KindSpec(
        kind="identities",
        table="identities",
        key="value",
        description="Extra handles, emails, phones or member ids of a customer or contact.",
        fields=(
            _id("customer_id", *CUSTOMER_ID_ALIASES, required=False),
            _id("contact_id", *CONTACT_ID_ALIASES, required=False),
            FieldSpec(
                "kind",
                "enum",
                required=True,
                choices={
                    "email": "email",
                    "phone": "phone",
                    "member_id": "member_id",
                    "handle": "handle",
                },
                aliases=("type", "identity_type"),
            ),
            FieldSpec("value", required=True, max_length=320, aliases=("identity", "identifier")),
        ),
        one_of=(("customer_id", "contact_id"),),
    )
)
_register(
    KindSpec(
        kind="orders",
        table="orders",
        key="order_id",
        description="Purchases.",
        fields=(
            _id("order_id", "订单号", "订单id", "订单编号", "id", "invoice", "invoice_no"),
            _id("customer_id", *CUSTOMER_ID_ALIASES, "customerid", required=False),
            _id("account_id", *ACCOUNT_ID_ALIASES, required=False),
            FieldSpec(
                "ordered_at",
                "datetime",
                required=True,
                aliases=(
                    "下单时间",
                    "订单时间",
                    "order_date",
                    "date",
                    "invoice_date",
                    "created_at",
                ),
            ),
            FieldSpec(
                "amount",
                "float",
                required=True,
                min=-1e12,
                max=1e12,
                aliases=("金额", "订单金额", "实付金额", "total", "revenue", "price", "sales"),
            ),
            FieldSpec("currency", aliases=("币种",), max_length=8),
            FieldSpec("status", aliases=("订单状态", "状态"), max_length=32),
            FieldSpec("channel", aliases=("渠道", "销售渠道"), max_length=64),
            FieldSpec("product", aliases=("商品", "产品", "sku", "item")),
            FieldSpec("quantity", "int", min=0, max=1e9, aliases=("数量", "qty")),
        ),
        one_of=(("customer_id", "account_id"),),
    )
)
_register(
    KindSpec(
        kind="events",
        table="events",
        key="event_id",
        key_from_hash=True,
        description="Behaviour: page views, feature use, logins… (no id: keyed by content).",
        fields=(
            _id("event_id", "事件id", "id", required=False),
            _id("customer_id", *CUSTOMER_ID_ALIASES, "customerid"),
            FieldSpec(
                "event_type",
                required=True,
                max_length=64,
                aliases=("事件", "事件类型", "event", "event_name", "type", "action"),
            ),
            FieldSpec(
                "occurred_at",
                "datetime",
                required=True,
                aliases=("时间", "发生时间", "event_time", "timestamp", "time", "ts"),
            ),
            FieldSpec("session_id", aliases=("会话id", "session"), max_length=128),
            FieldSpec("page", aliases=("页面", "url", "page_url"), max_length=512),
            FieldSpec("product", aliases=("商品", "产品", "product_id", "sku")),
        ),
    )
)
_register(
    KindSpec(
        kind="subscriptions",
        table="subscriptions",
        key="subscription_id",
        description="Plans held over a period; churn is an end without renewal.",
        fields=(
            _id("subscription_id", "订阅id", "合同号", "contract_id", "id"),
            _id("customer_id", *CUSTOMER_ID_ALIASES, "customerid", required=False),
            _id("account_id", *ACCOUNT_ID_ALIASES, required=False),
            FieldSpec("plan", required=True, max_length=64, aliases=("套餐", "版本", "plan_name")),
            FieldSpec(
                "started_at", "datetime", required=True, aliases=("开始时间", "start", "start_date")
            ),
            FieldSpec(
                "ended_at", "datetime", aliases=("结束时间", "end", "end_date", "cancelled_at")
            ),
            FieldSpec("renewed", "bool", aliases=("是否续费", "renewal", "is_renewed")),
            FieldSpec("amount", "float", min=0, max=1e12, aliases=("金额", "mrr", "price")),
            FieldSpec("status", aliases=("状态",), max_length=32),
        ),
        one_of=(("customer_id", "account_id"),),
    )
)
_register(
    KindSpec(
        kind="feedback",
        table="feedback",
        key="feedback_id",
        key_from_hash=True,
        key_scope="source",
        description="Every piece of voice: survey answer, review, post, ticket, chat, email.",
        fields=(
            FieldSpec(
                "feedback_id",
                max_length=160,
                aliases=(
                    "反馈id",
                    "评论id",
                    "工单号",
                    "id",
                    "response_id",
                    "responseid",
                    "review_id",
                    "ticket_id",
                    "respondent_id",
                ),
            ),
            FieldSpec(
                "channel",
                "channel",
                required=True,
                max_length=CHANNEL_MAX_LENGTH,
                aliases=("渠道", "来源渠道", "反馈渠道", "source_channel"),
                description="Open: known spellings map to one value (see feedback/channels.py), "
                "others are kept as written.",
            ),
            FieldSpec("source", aliases=("来源", "平台", "platform"), max_length=64),
            FieldSpec(
                "author", aliases=("作者", "用户名", "username", "nickname", "昵称"), max_length=256
            ),
            FieldSpec(
                "author_email",
                "email",
                aliases=("邮箱", "email", "e-mail", "recipientemail"),
                max_length=320,
                identity="email",
            ),
            FieldSpec(
                "author_phone",
                "phone",
                aliases=("手机", "手机号", "phone", "mobile"),
                identity="phone",
            ),
            FieldSpec(
                "author_member_id",
                aliases=("会员号", "会员id", "member_id"),
                max_length=128,
                identity="member_id",
            ),
            FieldSpec("author_handle", aliases=("账号", "handle"), identity="handle"),
            _id(
                "customer_id",
                *CUSTOMER_ID_ALIASES,
                "customerid",
                "externalreference",
                required=False,
            ),
            _id("account_id", *ACCOUNT_ID_ALIASES, required=False),
            _id("contact_id", *CONTACT_ID_ALIASES, required=False),
            FieldSpec(
                "created_at",
                "datetime",
                required=True,
                aliases=(
                    "时间",
                    "日期",
                    "反馈日期",
                    "提交答卷时间",
                    "提交时间",
                    "创建时间",
                    "评论时间",
                    "date",
                    "timestamp",
                    "recordeddate",
                    "enddate",
                    "submitted_at",
                    "time",
                ),
            ),
            FieldSpec("title", aliases=("标题", "subject"), max_length=512),
            FieldSpec(
                "text",
                aliases=TEXT_HEADERS,
                max_length=100_000,
            ),
            FieldSpec(
                "nps",
                "int",
                min=0,
                max=10,
                aliases=(
                    "推荐度",
                    "推荐意愿",
                    "推荐指数",
                    "推荐可能性",
                    "净推荐值",
                    "nps_score",
                    "likelihood_to_recommend",
                    "ltr",
                ),
            ),
            FieldSpec(
                "csat",
                "int",
                min=1,
                max=5,
                aliases=("满意度", "满意程度", "满意度评分", "csat_score", "satisfaction"),
            ),
            FieldSpec(
                "ces", "int", min=1, max=7, aliases=("费力度", "费力程度", "ces_score", "effort")
            ),
            # 评分, 打分, rating, score…: scale unknown, decided per file (ingest/profile.py)
            FieldSpec("rating", "float", min=0, max=10, aliases=("星级", "星数", "stars")),
            FieldSpec("touchpoint", aliases=("触点",), max_length=64),
            FieldSpec("journey_stage", aliases=("旅程阶段", "阶段", "stage"), max_length=64),
            FieldSpec("product", aliases=("商品", "产品", "sku")),
            FieldSpec("language", aliases=("语言", "lang"), max_length=8),
        ),
    )
)


def get_kind(kind: str) -> KindSpec:
    """The spec for an import kind, or a clear error naming the kinds there are."""
    from cxloop.errors import Invalid

    try:
        return KINDS[kind]
    except KeyError:
        raise Invalid(
            f"is not an import kind; use one of {', '.join(KINDS)}", "kind", kind
        ) from None
