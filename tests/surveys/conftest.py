"""A company to survey, for the end-to-end tests: customers and a B2B account imported through
ingest like a user's files, with the data real exports have (Chinese names, upper-case and
missing e-mails, a language and a time zone attribute on some, people outside the audience).

``b2c_company``: 55 customers in segment ``gold`` — 50 reachable by e-mail (one of them English,
one with a London time zone), 2 without an e-mail, 1 who opted out of e-mail, 1 invited by
another survey 5 days ago (over the 30-day cap), 1 whose address bounced before — and 3 customers
in ``silver`` who must never be mailed.
``b2b_company``: an account whose owner is an e-mail address, a project, a milestone due within
48 hours, contacts in the issue's three roles (decision maker ×2, project lead, end user; half
of the roles in Chinese as a CRM exports them) and a contact of another account.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from cxloop import api
from cxloop.config import Settings
from tests.smtp import SmtpServer

SEED = 20_261_206
LINK = re.compile(r"https?://[^\s\"'<>]+?/s/([A-Za-z0-9_\-.~]+)")
"""A personal survey link in a mail's text; group 1 is the token."""
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟")
PINYIN = "abcdefghijklmnopqrstuvwxyz"
SEGMENT = "gold"
SURVEY_YAML = """\
id: e2e-delivery
title: {zh: 配送体验调查, en: Delivery survey}
layout: one_per_page
default_language: zh
touchpoint: delivery
journey_stage: fulfilment
thanks: {zh: 感谢您的反馈，祝您生活愉快！, en: Thank you for your feedback!}
questions:
  - {id: nps, type: nps, required: true,
     text: {zh: 您向朋友推荐我们的可能性有多大？, en: How likely are you to recommend us?}}
  - {id: why, type: text, show_if: "nps <= 6",
     text: {zh: 我们哪里做得不好？, en: What went wrong?}}
  - id: channel
    type: single
    text: {zh: 您通过哪个渠道下单？, en: Where did you order?}
    options:
      - {id: app, text: {zh: 手机应用, en: App}}
      - {id: web, text: {zh: 网站, en: Website}}
      - {id: other, text: {zh: 其他, en: Other}, other: true}
reminders: {after_hours: 72, max: 2}
"""
B2B_SURVEY_YAML = """\
id: e2e-milestone
title: {zh: 里程碑满意度, en: Milestone satisfaction}
layout: all_on_one
required_roles: [decision maker, project lead, end user]   # as the issue spells them
questions:
  - id: nps
    type: nps
    required: true
    text:
      zh: "{milestone.name}之后，您向同行推荐我们的可能性有多大？"
      en: "After {milestone.name}, how likely are you to recommend us?"
  - {id: comment, type: text, text: {zh: 还有什么想告诉我们的？, en: Anything else?}}
reminders: {after_hours: 24, max: 2}
"""


def send_time(today: dt.datetime | None = None) -> dt.datetime:
    """The latest 09:00 UTC not in the future: 17:00 in Shanghai and 09:00 in London in winter,
    outside both quiet windows, and recent enough that links made then are still valid."""
    now = today or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    moment = now.replace(hour=9, minute=0, second=0, microsecond=0)
    return moment if moment <= now else moment - dt.timedelta(days=1)


@dataclass
class Person:
    customer_id: str
    name: str
    email: str | None
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def address(self) -> str | None:
        return self.email.lower() if self.email else None


@dataclass
class B2CCompany:
    store: api.Store
    settings: Settings
    database: Path
    now: dt.datetime
    reachable: list[Person]
    """The 50 people a send to segment gold mails."""
    no_email: list[Person]
    opted_out: Person
    capped: Person
    bounced: Person
    outside: list[Person]
    """Customers in another segment."""
    english: Person
    survey_yaml: Path

    @property
    def everyone(self) -> list[Person]:
        skipped = [*self.no_email, self.opted_out, self.capped, self.bounced]
        return [*self.reachable, *skipped, *self.outside]


def chinese_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _email(rng: random.Random, number: int) -> str:
    local = "".join(rng.choice(PINYIN) for _ in range(rng.randint(3, 8)))
    address = f"{local}.{number:03d}@example.com"
    return address.upper() if number % 11 == 0 else address  # exports shout sometimes


def _people(rng: random.Random) -> dict[str, Any]:
    reachable: list[Person] = []
    for number in range(1, 51):
        reachable.append(Person(f"c-{number:03d}", chinese_name(rng), _email(rng, number)))
    english = reachable[6]
    english.name, english.attributes = "Emily Carter", {"language": "en"}
    reachable[12].attributes = {"timezone": "Europe/London", "语言": "中文"}
    reachable[20].attributes = {"timezone": "Asia/Shanghai"}
    return {
        "reachable": reachable,
        "english": english,
        "no_email": [
            Person("c-051", chinese_name(rng), None),
            Person("c-052", chinese_name(rng), "  "),  # a blank cell, not an address
        ],
        "opted_out": Person("c-053", chinese_name(rng), "Tui.Ding@Example.com"),
        "capped": Person("c-054", chinese_name(rng), "recently.asked@example.com"),
        "bounced": Person("c-055", chinese_name(rng), "gone.away@example.com"),
        "outside": [
            Person(f"s-{n}", chinese_name(rng), f"silver.{n}@example.com") for n in (1, 2, 3)
        ],
    }


def _customer_rows(people: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    gold = [*people["reachable"], *people["no_email"]]
    gold += [people["opted_out"], people["capped"], people["bounced"]]
    for person in gold + people["outside"]:
        row: dict[str, Any] = {
            "customer_id": person.customer_id,
            "name": person.name,
            "email": person.email,
            "segment": "silver" if person in people["outside"] else SEGMENT,
            "city": "上海",
        }
        row.update(person.attributes)
        rows.append(row)
    return rows


def make_store(tmp_path: Path, **extra: Any) -> tuple[api.Store, Settings, Path]:
    database = tmp_path / "cxloop.db"
    settings = Settings(
        database_url=f"sqlite:///{database}",
        secret_key="e2e-secret-" + "k" * 32,
        import_batch_size=1000,
        **extra,
    )
    return api.connect(settings=settings), settings, database


@pytest.fixture
def b2c_company(tmp_path: Path) -> Iterator[B2CCompany]:
    """The store with the gold segment imported; preferences and caps are set by the test's
    own calls (they go through services that may be built later than this fixture)."""
    rng = random.Random(SEED)
    people = _people(rng)
    store, settings, database = make_store(tmp_path)
    summary = api.import_records(store, "customers", _customer_rows(people))
    assert summary.inserted == 58, summary
    survey_yaml = tmp_path / "e2e-delivery.yaml"
    survey_yaml.write_text(SURVEY_YAML, encoding="utf-8")
    yield B2CCompany(
        store=store,
        settings=settings,
        database=database,
        now=send_time(),
        reachable=people["reachable"],
        no_email=people["no_email"],
        opted_out=people["opted_out"],
        capped=people["capped"],
        bounced=people["bounced"],
        outside=people["outside"],
        english=people["english"],
        survey_yaml=survey_yaml,
    )
    store.close()


@dataclass
class Contact:
    contact_id: str
    name: str
    email: str
    role: str


@dataclass
class B2BCompany:
    store: api.Store
    settings: Settings
    database: Path
    now: dt.datetime
    account_id: str
    owner: str
    milestone_id: str
    milestone_name: str
    contacts: list[Contact]
    other_account_contact: Contact
    survey_yaml: Path

    def role(self, role: str) -> list[Contact]:
        return [c for c in self.contacts if c.role == role]


@pytest.fixture
def b2b_company(tmp_path: Path) -> Iterator[B2BCompany]:
    """One account (owner 'zhao.owner@example.com'), its project and a milestone due tomorrow,
    contacts: two decision makers, a project lead and an end user; one of another account."""
    store, settings, database = make_store(tmp_path)
    now = send_time()
    due = (now + dt.timedelta(days=1)).date()
    accounts = [
        {
            "account_id": "A-100",
            "name": "华东精密制造有限公司",
            "owner": "Zhao.Owner@example.com",
            "segment": "enterprise",
        },
        {"account_id": "A-200", "name": "Northwind Ltd", "owner": "李经理", "segment": "smb"},
    ]
    contacts = [
        Contact("K-1", "陈总", "chen.ceo@hd-precision.cn", "decision_maker"),
        Contact("K-2", "周副总", "zhou.vp@hd-precision.cn", "decision_maker"),
        Contact("K-3", "刘项目", "liu.pm@hd-precision.cn", "project_lead"),
        Contact("K-4", "Wu Lei", "wu.lei@hd-precision.cn", "user"),
    ]
    other = Contact("K-9", "Tom Baker", "tom@northwind.example", "decision_maker")
    # Chinese role names, as a CRM export gives them, for half of the rows
    chinese_roles = {"decision_maker": "决策者", "project_lead": "项目经理", "user": "最终用户"}
    contact_rows = [
        {
            "contact_id": c.contact_id,
            "account_id": "A-100",
            "name": c.name,
            "email": c.email,
            "role": chinese_roles[c.role] if i % 2 else c.role,
        }
        for i, c in enumerate(contacts)
    ]
    contact_rows.append(
        {
            "contact_id": "K-9",
            "account_id": "A-200",
            "name": other.name,
            "email": other.email,
            "role": "decision maker",
            "language": "en",
        }
    )
    for kind, rows in (
        ("accounts", accounts),
        ("contacts", contact_rows),
        ("projects", [{"project_id": "P-1", "account_id": "A-100", "name": "MES 二期"}]),
        (
            "milestones",
            [
                {
                    "milestone_id": "M-1",
                    "project_id": "P-1",
                    "name": "上线验收",
                    "due_date": str(due),
                }
            ],
        ),
    ):
        summary = api.import_records(store, kind, rows)
        assert summary.inserted == len(rows), (kind, summary)
    survey_yaml = tmp_path / "e2e-milestone.yaml"
    survey_yaml.write_text(B2B_SURVEY_YAML, encoding="utf-8")
    yield B2BCompany(
        store=store,
        settings=settings,
        database=database,
        now=now,
        account_id="A-100",
        owner="zhao.owner@example.com",
        milestone_id="M-1",
        milestone_name="上线验收",
        contacts=contacts,
        other_account_contact=other,
        survey_yaml=survey_yaml,
    )
    store.close()


# --- helpers the end-to-end tests share ------------------------------------------------------


def with_mail(settings: Settings, smtp: SmtpServer) -> Settings:
    """The store's settings, sending to the test's SMTP server."""
    return settings.model_copy(
        update={
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "smtp_security": "none",
            "smtp_from": "surveys@cxloop.test",
            "smtp_timeout_s": 5.0,
        }
    )


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, f"no text/plain part in {message['Subject']!r}"
    return str(part.get_content())


def recipients(smtp: SmtpServer) -> list[str]:
    return sorted(a.lower() for r in smtp.envelopes for a in r.rcpt_tos)


def links_by_address(smtp: SmtpServer, *, besides: str = "") -> dict[str, str]:
    """Each recipient's survey link path (``/s/<token>``) from the mail's plain-text part."""
    found = {}
    for received in smtp.envelopes:
        (address,) = received.rcpt_tos
        if address.lower() == besides:
            continue
        match = LINK.search(text_of(received.message))
        assert match, f"no survey link in the mail to {address}"
        found[address.lower()] = f"/s/{match.group(1)}"
    return found
