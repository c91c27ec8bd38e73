"""A deterministic, realistic demo company for cxloop: one year of B2C and B2B data.

Pure: a seed in, one pandas frame per import kind out (no database, no clock, no global random
state), so the demo, a benchmark and a test all see the same company for the same seed. Patterns an
analyst should find are planted on purpose and described in ``PLANTED``; the tests measure them.
Datetimes are naive China local time (``datetime64[s]``); date-only fields are ISO strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxloop.demo import texts

KINDS = (
    "customers",
    "accounts",
    "contacts",
    "projects",
    "milestones",
    "orders",
    "events",
    "subscriptions",
    "feedback",
)
SPIKE_WEEK = dt.date(2026, 6, 1)
PLANTED: dict[str, str] = {
    "support_churn": "Members who complained that support was slow (a ticket, chat or e-mail "
    "saying so) cancel without renewal about 45 % of the time, after the "
    "complaint; other members about 15 % (default seed: 45 % vs 16 %).",
    "detractor_orders": "After a survey, detractors (NPS 0-6) order at 0.3x their usual rate and "
    "promoters (9-10) at 1.4x, so in the 90 days after answering promoters "
    "place about 5x as many orders (default seed: 2.3 vs 0.47 orders).",
    "nps_touchpoint_segment": "B2C survey NPS averages about 1.8 points lower at the delivery "
    "touchpoint (0.6 lower at the call centre, 0.5 higher in stores), "
    "and VIPs score 1.5 points higher than regular customers (default "
    "seed: delivery 6.2 vs 8.0 elsewhere; NPS +59 for VIP vs +3).",
    "delivery_spike": f"In the week starting {SPIKE_WEEK} complaints about slow delivery run at "
    "about 4x their usual weekly count (extra reviews, weibo posts and tickets; "
    "default seed: 4.6x the median week).",
    "b2b_churn_nps": "Decision makers at accounts whose contract then ended without renewal (a "
    "fifth of accounts, mostly the least healthy) gave NPS about 3-4 points lower "
    "than those at accounts that renewed (default seed: 3.6 vs 7.8).",
}
FEEDBACK_COLUMNS = (
    "feedback_id",
    "channel",
    "source",
    "author",
    "author_email",
    "author_phone",
    "author_member_id",
    "author_handle",
    "customer_id",
    "account_id",
    "contact_id",
    "created_at",
    "title",
    "text",
    "nps",
    "csat",
    "ces",
    "rating",
    "touchpoint",
    "journey_stage",
    "product",
    "language",
)

_HOURS = np.array(
    [2, 1, 0.5, 0.3, 0.3, 0.5, 1.5, 3, 5, 6, 7, 7, 6, 6, 6, 6, 6, 6, 7, 9, 10, 10, 7, 4]
)
_HOUR_CDF = np.cumsum(_HOURS) / _HOURS.sum()
_PREFIXES = (*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, *range(180, 190))
_SEG_NPS = {"vip": 1.5, "regular": 0.0, "new": -0.4}
_TOUCH_NPS = {"delivery": -1.8, "app": 0.0, "website": 0.0, "store": 0.5, "call_center": -0.6}
_TOUCH_P = (0.25, 0.25, 0.15, 0.15, 0.2)
_STAGE = {
    "delivery": "buy",
    "app": "use",
    "website": "buy",
    "store": "buy",
    "call_center": "service",
}
_ORDER_RATE = {"vip": 12.0, "regular": 5.0, "new": 3.0}  # orders a year before any survey
_AFTER_SURVEY = (0.3, 0.9, 1.4)  # order-rate factor after a detractor, passive, promoter answer
_BROWSE_RATE = {"vip": 7.0, "regular": 4.0, "new": 4.0}  # browsing sessions a year
_ROLES = ("decision_maker", "purchaser", "recommender", "influencer", "user", "employee")
_ROLE_P = (0.08, 0.2, 0.15, 0.15, 0.25, 0.17)

Row = dict[str, Any]


@dataclass(frozen=True)
class DemoConfig:
    """Size and period of the demo company; the seed fixes every value."""

    seed: int = 20261122
    n_customers: int = 3000
    n_accounts: int = 40
    start: dt.date = dt.date(2025, 11, 1)
    days: int = 365


def spike_week(config: DemoConfig) -> dt.date:
    """Monday of the planted delivery complaint spike (SPIKE_WEEK when it lies in the period)."""
    end = config.start + dt.timedelta(days=config.days)
    if config.start <= SPIKE_WEEK and SPIKE_WEEK + dt.timedelta(days=7) <= end:
        return SPIKE_WEEK
    mid = config.start + dt.timedelta(days=int(config.days * 0.6))
    return mid + dt.timedelta(days=-mid.weekday() % 7)


def _at(rng: np.random.Generator, origin: np.datetime64, day: Any) -> np.ndarray:
    """Timestamps on the given day offsets, at plausible hours (evenings busiest)."""
    day = np.asarray(day, dtype=np.int64)
    hour = np.minimum(np.searchsorted(_HOUR_CDF, rng.random(day.shape), side="right"), 23)
    secs = hour * 3600 + rng.integers(0, 3600, size=day.shape)
    return origin + day.astype("timedelta64[D]") + secs.astype("timedelta64[s]")


def _pick(
    rng: np.random.Generator, options: Sequence[Any], size: int, p: Sequence[float] | None = None
) -> np.ndarray:
    """``size`` draws from ``options`` with weights ``p`` (cheaper than Generator.choice)."""
    if p is None:
        return np.asarray(options, dtype=object)[rng.integers(len(options), size=size)]
    cum = np.cumsum(p) / np.sum(p)
    idx = np.minimum(np.searchsorted(cum, rng.random(size), side="right"), len(options) - 1)
    return np.asarray(options, dtype=object)[idx]


def _iso(origin: np.datetime64, day: Any) -> str:
    return str((origin + np.timedelta64(int(day), "D")).astype("datetime64[D]"))


def _unique(stem: str, seen: set[str], salt: int, tail: str = "") -> str:
    """``stem + tail``, with digits of ``salt`` inserted before ``tail`` until unseen."""
    while stem + tail in seen:
        stem, salt = f"{stem}{salt % 10}", salt // 10 + 1
    seen.add(stem + tail)
    return stem + tail


def _phone_digits(rng: np.random.Generator, seen: set[str]) -> str:
    while True:
        value = f"{_PREFIXES[int(rng.integers(len(_PREFIXES)))]}{int(rng.integers(10**8)):08d}"
        if value not in seen:
            seen.add(value)
            return value


def _fmt_phone(rng: np.random.Generator, d: str, styles: Sequence[int]) -> str:
    """The many ways people write one Chinese mobile number."""
    spaced = f"{d[:3]} {d[3:7]} {d[7:]}"
    forms = (d, spaced, f"+86 {d}", f"+86 {spaced}", f"{d[:3]}-{d[3:7]}-{d[7:]}", f"+86{d}")
    return forms[styles[int(rng.integers(len(styles)))]]


def _fmt_email(rng: np.random.Generator, email: str) -> str:
    """An address as typed into a form: sometimes shouted, sometimes capitalised."""
    r = rng.random()
    return email.upper() if r < 0.15 else email[0].upper() + email[1:] if r < 0.3 else email


def _customers(rng: np.random.Generator, cfg: DemoConfig, origin: np.datetime64) -> pd.DataFrame:
    """B2C persons plus private columns (``_``) the other tables are drawn from."""
    n = cfg.n_customers
    seg = _pick(rng, ("vip", "regular", "new"), n, (0.12, 0.6, 0.28))
    female, english = rng.random(n) < 0.52, rng.random(n) < 0.08
    sur, giv = rng.integers(1000, size=n), rng.integers(1000, size=n)
    style = rng.integers(3, size=n)
    dom = _pick(rng, texts.EMAIL_DOMAINS, n, texts.EMAIL_DOMAIN_WEIGHTS)
    has_email = rng.random(n) < 0.85
    has_phone = (rng.random(n) < 0.9) | ~has_email
    r_member, r_handle = rng.random(n), rng.random(n)
    member = (seg == "vip") | ((seg == "regular") & (r_member < 0.4)) | (r_member < 0.2)
    seen: set[str] = set()
    cols: dict[str, list[Any]] = {
        k: [] for k in ("name", "_email", "_phone", "member_id", "handle", "phone")
    }
    for i in range(n):
        sz, sp = texts.SURNAMES[sur[i] % len(texts.SURNAMES)]
        if english[i]:
            first = (texts.EN_FEMALE if female[i] else texts.EN_MALE)[giv[i] % 8]
            name, local, nick = f"{first} {sp.title()}", f"{first.lower()}.{sp}", first
        else:
            gz, gp = (texts.GIVEN_FEMALE if female[i] else texts.GIVEN_MALE)[giv[i] % 16]
            name, local, nick = sz + gz, (gp + sp, f"{sp}.{gp}", sp + gp)[style[i]], "小" + sz
        if dom[i] == "qq.com" and style[i] == 0:
            local = str(int(rng.integers(10**7, 4 * 10**9)))
        else:
            local += str(int(rng.integers(1, 2000))) if rng.random() < 0.7 else ""
        cols["name"].append(name)
        cols["_email"].append(_unique(local, seen, i, f"@{dom[i]}") if has_email[i] else None)
        digits = _phone_digits(rng, seen)
        cols["_phone"].append(digits if has_phone[i] else None)
        cols["phone"].append(_fmt_phone(rng, digits, (0, 1, 2)) if has_phone[i] else None)
        member_id = f"QH{int(rng.integers(10**7, 10**8))}"
        cols["member_id"].append(_unique(member_id, seen, i) if member[i] else None)
        word = texts.HANDLE_WORDS[int(rng.integers(len(texts.HANDLE_WORDS)))]
        handle = _unique(f"{nick}{word}{int(rng.integers(100))}", seen, i)
        cols["handle"].append(handle if r_handle[i] < 0.25 else None)
    signup = np.where(
        seg == "new", rng.integers(0, max(cfg.days - 30, 1), n), -rng.integers(30, 2200, n)
    )
    age = rng.integers(18 * 365, 62 * 365, n)
    city = rng.choice(len(texts.CITIES), size=n, p=[c[2] for c in texts.CITIES])
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in range(1, n + 1)],
            "name": cols["name"],
            "email": cols["_email"],
            "phone": cols["phone"],
            "member_id": cols["member_id"],
            "handle": cols["handle"],
            "gender": np.where(female, "女", "男"),
            "birth_date": [_iso(origin, -a) for a in age],
            "city": [texts.CITIES[c][0] for c in city],
            "region": [texts.CITIES[c][1] for c in city],
            "segment": seg.astype(str),
            "signed_up_at": _at(rng, origin, signup),
            "_email": cols["_email"],
            "_phone": cols["_phone"],
            "_signup": signup,
            "_first": np.maximum(signup, 0),
            "_english": english,
        }
    )
    frame["_slow"] = (frame["_first"] < cfg.days - 120) & (rng.random(n) < 0.13)
    return frame


class _Voices:
    """Collects feedback rows and speaks for customers: identity, language, topic, text."""

    def __init__(self, rng: np.random.Generator, cust: pd.DataFrame, origin: np.datetime64):
        self.rng, self.origin = rng, origin
        self.rows: list[Row] = []
        self.c = {k: cust[k].astype(object).where(cust[k].notna(), None).tolist() for k in cust}

    def author(self, i: int, prefer: Sequence[str]) -> Row:
        """An identity of customer ``i`` as the channel would record it, formats varied."""
        c, rng = self.c, self.rng
        for kind in prefer:
            if kind == "email" and c["_email"][i]:
                return {"author_email": _fmt_email(rng, c["_email"][i])}
            if kind == "phone" and c["_phone"][i]:
                return {"author_phone": _fmt_phone(rng, c["_phone"][i], (0, 1, 2, 3, 4, 5))}
            if kind == "member" and c["member_id"][i]:
                return {"author_member_id": c["member_id"][i]}
        return {"customer_id": c["customer_id"][i]}

    def lang(self, english: bool = False) -> str:
        return "en" if self.rng.random() < (0.7 if english else 0.22) else "zh"

    def polarity(self, cls: str, noise: float = 0.08) -> str:
        """Text sentiment agreeing with the score class most of the time."""
        if self.rng.random() < noise:
            return str(_pick(self.rng, ("pos", "neg", "mixed"), 1)[0])
        return cls

    def text(self, lang: str, pol: str, pool: Sequence[str], slow: bool) -> tuple[str, str]:
        return texts.speak(self.rng, lang, pol, pool, slow)

    def add(self, day: int, channel: str, source: str, idp: str | None, **fields: Any) -> Row:
        row = {
            "created_at": _at(self.rng, self.origin, [day])[0],
            "channel": channel,
            "source": source,
            "_id": idp,
            **fields,
        }
        self.rows.append(row)
        return row

    def customer(
        self,
        i: int,
        day: int,
        channel: str,
        source: str,
        idp: str | None,
        pool: Sequence[str],
        pol: str,
        prefer: Sequence[str],
        **fields: Any,
    ) -> Row:
        """A piece of feedback by customer ``i`` about a topic from ``pool``."""
        lang = self.lang(self.c["_english"][i])
        topic, body = self.text(lang, pol, pool, self.c["_slow"][i])
        touch = fields.pop("touchpoint", texts.TOPIC_TOUCHPOINT.get(topic, "app"))
        fields.setdefault("journey_stage", _STAGE[touch])
        if channel in ("ticket", "email", "forum"):
            fields["title"] = texts.title(lang, pol, topic)
        return self.add(
            day,
            channel,
            source,
            idp,
            text=body,
            language=lang,
            touchpoint=touch,
            **self.author(i, prefer),
            **fields,
        )


def _score_class(score: int, low: int, high: int) -> str:
    return "neg" if score <= low else "pos" if score >= high else "mixed"


def _b2c_voices(v: _Voices, cfg: DemoConfig) -> tuple[pd.DataFrame, np.ndarray]:
    """Surveys, support complaints and service contacts; returns surveys and complaint days."""
    rng, c, n, days = v.rng, v.c, cfg.n_customers, cfg.days
    first, slow = np.asarray(c["_first"]), np.asarray(c["_slow"])
    k = int(0.6 * n)
    who = rng.integers(n, size=k)
    day = first[who] + (rng.random(k) * (days - first[who])).astype(int)
    touch = _pick(rng, tuple(_TOUCH_NPS), k, _TOUCH_P)
    lat = (
        8.2
        + np.array([_SEG_NPS[s] for s in np.asarray(c["segment"])[who]])
        + np.array([_TOUCH_NPS[t] for t in touch])
        - 1.5 * slow[who]
        + rng.normal(0, 1.8, k)
    )
    nps = np.clip(np.rint(lat), 0, 10).astype(int)
    csat = np.clip(np.rint(1 + 0.4 * nps + rng.normal(0, 0.6, k)), 1, 5).astype(int)
    ces = np.clip(np.rint(1.5 + 0.5 * nps + rng.normal(0, 0.9, k)), 1, 7).astype(int)
    extra = rng.random((k, 4))
    for j in range(k):
        i, tp = int(who[j]), str(touch[j])
        row = v.customer(
            i,
            int(day[j]),
            "survey",
            "wjx" if extra[j, 0] < 0.7 else "qualtrics",
            "S",
            texts.TOUCHPOINT_TOPICS[tp],
            v.polarity(_score_class(nps[j], 6, 9)),
            ("email", "phone", "member"),
            touchpoint=tp,
            nps=int(nps[j]),
            csat=int(csat[j]) if extra[j, 1] < 0.7 else None,
            ces=int(ces[j]) if extra[j, 2] < 0.5 else None,
        )
        if extra[j, 3] < 0.25:
            row["text"] = row["language"] = None
        if rng.random() < 0.2:
            row["customer_id"] = c["customer_id"][i]
    complaint = np.full(n, -1)
    channels = ("ticket", "chat", "email")
    sources = {"ticket": ("zendesk", "T"), "chat": ("udesk", "CH"), "email": ("mailbox", "M")}
    prefer = {
        "ticket": ("email", "phone"),
        "chat": ("phone", "member", "email"),
        "email": ("email", "phone"),
    }
    for i in map(int, np.flatnonzero(slow)):
        for _ in range(1 + int(rng.random() < 0.4)):
            d = int(first[i] + rng.integers(0, days - 120 - first[i]))
            ch = str(_pick(rng, channels, 1, (0.5, 0.3, 0.2))[0])
            v.customer(
                i,
                d,
                ch,
                *sources[ch],
                ("support_response",),
                "neg",
                prefer[ch],
                journey_stage="service",
                csat=1 if ch == "ticket" and d % 3 == 0 else None,
            )
            complaint[i] = d if complaint[i] < 0 else min(complaint[i], d)
    for _ in range(int(0.4 * n)):
        i = int(rng.integers(n))
        d = int(first[i] + rng.integers(0, days - first[i]))
        ch = str(_pick(rng, channels, 1, (0.5, 0.3, 0.2))[0])
        pol = str(_pick(rng, ("neg", "pos", "mixed"), 1, (0.62, 0.25, 0.13))[0])
        score = {"neg": int(rng.integers(1, 3)), "mixed": 3, "pos": int(rng.integers(4, 6))}[pol]
        csat = score if ch == "ticket" and rng.random() < 0.35 else None
        v.customer(
            i,
            d,
            ch,
            *sources[ch],
            texts.SERVICE_TOPICS,
            pol,
            prefer[ch],
            journey_stage="service",
            csat=csat,
        )
    surveys = pd.DataFrame({"who": who, "day": day, "nps": nps})
    return surveys, complaint


def _orders(
    rng: np.random.Generator,
    cfg: DemoConfig,
    origin: np.datetime64,
    cust: pd.DataFrame,
    surveys: pd.DataFrame,
) -> pd.DataFrame:
    """B2C orders as a Poisson process whose rate changes after each survey answer."""
    n, days = len(cust), cfg.days
    seg, first = cust["segment"].to_numpy(), cust["_first"].to_numpy()
    rate = np.array([_ORDER_RATE[s] for s in seg]) * rng.lognormal(-0.12, 0.5, n) / 365
    cls = np.select([surveys["nps"] <= 6, surveys["nps"] >= 9], [0, 2], 1)
    factor = np.asarray(_AFTER_SURVEY)[cls]
    groups: dict[int, tuple[list[int], list[float]]] = {}
    for w, d, f in sorted(
        zip(surveys["who"].tolist(), surveys["day"].tolist(), factor.tolist(), strict=True)
    ):
        groups.setdefault(w, ([], [1.0]))[0].append(d)
        groups[w][1].append(f)
    who_l, day_l = [], []
    for i in range(n):
        span = days - first[i]
        sdays, fac = (np.asarray(x) for x in groups.get(i, ([], [1.0])))
        top = fac.max()
        d = first[i] + (rng.random(rng.poisson(rate[i] * top * span)) * span).astype(int)
        keep = rng.random(len(d)) < fac[np.searchsorted(sdays, d, side="right")] / top
        day_l.append(d[keep])
        who_l.append(np.full(int(keep.sum()), i))
    who, day = np.concatenate(who_l), np.concatenate(day_l)
    m = len(who)
    prod = rng.choice(len(texts.PRODUCTS), size=m, p=[p[3] for p in texts.PRODUCTS])
    price = np.array([texts.PRODUCTS[p][2] for p in prod])
    qty = np.where(price < 200, rng.integers(1, 4, m), 1 + (rng.random(m) < 0.05))
    disc = np.where(rng.random(m) < 0.3, rng.uniform(0.8, 0.95, m), 1.0)
    status = _pick(rng, ("completed", "refunded", "cancelled"), m, (0.93, 0.04, 0.03))
    status[(day >= days - 4) & (status == "completed")] = "shipped"
    return pd.DataFrame(
        {
            "customer_id": cust["customer_id"].to_numpy()[who],
            "account_id": None,
            "ordered_at": _at(rng, origin, day),
            "amount": np.round(price * qty * disc, 2),
            "currency": "CNY",
            "status": status,
            "channel": _pick(
                rng, ("app", "web", "store", "mini_program"), m, (0.45, 0.25, 0.15, 0.15)
            ),
            "product": [texts.PRODUCTS[p][0] for p in prod],
            "quantity": qty,
            "_who": who,
            "_day": day,
        }
    )


def _public_voices(v: _Voices, cfg: DemoConfig, orders: pd.DataFrame) -> None:
    """Reviews of real orders, social posts (some unlinked) and forum threads."""
    rng, c, n, days = v.rng, v.c, cfg.n_customers, cfg.days
    done = orders[(orders["status"] == "completed") & (orders["_day"] < days - 2)]
    o_who, o_day, o_prod = (done[k].tolist() for k in ("_who", "_day", "product"))
    for j in map(int, rng.choice(len(done), size=min(int(0.6 * n), len(done)), replace=False)):
        i, rating = o_who[j], int(_pick(rng, (1, 2, 3, 4, 5), 1, (0.1, 0.07, 0.1, 0.23, 0.5))[0])
        src = str(_pick(rng, ("tmall", "jd", "app"), 1, (0.45, 0.35, 0.2))[0])
        d = min(days - 1, o_day[j] + int(rng.integers(2, 10)))
        v.customer(
            i,
            d,
            "review",
            src,
            "R",
            texts.REVIEW_TOPICS,
            v.polarity(_score_class(rating, 2, 4)),
            ("member", "email") if src == "app" else ("phone", "member", "email"),
            rating=rating,
            product=o_prod[j],
            author=c["name"][i][0] + "**",
        )
    handles = [i for i in range(n) if c["handle"][i]]
    for _ in range(int(0.2 * n)):
        src = str(_pick(rng, ("weibo", "xiaohongshu", "douyin"), 1, (0.5, 0.3, 0.2))[0])
        pol = str(_pick(rng, ("neg", "pos", "mixed"), 1, (0.45, 0.4, 0.15))[0])
        if handles and rng.random() < 0.35:
            i = handles[int(rng.integers(len(handles)))]
            d = int(c["_first"][i] + rng.integers(0, days - c["_first"][i]))
            v.customer(
                i,
                d,
                "social",
                src,
                "WB" if src == "weibo" else None,
                texts.CONSUMER_TOPICS,
                pol,
                ("handle",),
                author_handle=c["handle"][i],
            )
            v.rows[-1].pop("customer_id", None)
            continue
        lang = v.lang()
        topic, body = v.text(lang, pol, texts.CONSUMER_TOPICS, True)
        who = (
            {"author_handle": f"网友{int(rng.integers(10**4, 10**6))}"}
            if rng.random() < 0.7
            else {"author": str(_pick(rng, ("匿名用户", "路人甲", "A visitor"), 1)[0])}
        )
        v.add(
            int(rng.integers(days)),
            "social",
            src,
            "WB" if src == "weibo" else None,
            text=body,
            language=lang,
            touchpoint=texts.TOPIC_TOUCHPOINT[topic],
            journey_stage="aware",
            **who,
        )
    for _ in range(int(0.08 * n)):
        i = int(rng.integers(n))
        d = int(c["_first"][i] + rng.integers(0, days - c["_first"][i]))
        pol = str(_pick(rng, ("neg", "pos", "mixed"), 1, (0.4, 0.4, 0.2))[0])
        row = v.customer(
            i,
            d,
            "forum",
            "community",
            "F",
            ("app_usability", "quality", "price", "returns"),
            pol,
            ("email",),
            author=c["name"][i] if rng.random() < 0.5 else f"青禾粉{i}",
        )
        if rng.random() < 0.65 or "author_email" not in row:
            row.pop("author_email", None)
            row.pop("customer_id", None)
            row["author"] = f"论坛用户{int(rng.integers(10**5, 10**6))}"


def _at_opt(rng: np.random.Generator, origin: np.datetime64, days: Sequence[int | None]) -> Any:
    missing = np.array([d is None or d != d for d in days], dtype=bool)
    stamps = _at(rng, origin, [0 if m else d for d, m in zip(days, missing, strict=True)])
    stamps[missing] = np.datetime64("NaT")
    return stamps


def _memberships(
    rng: np.random.Generator,
    cfg: DemoConfig,
    origin: np.datetime64,
    cust: pd.DataFrame,
    complaint: np.ndarray,
) -> tuple[list[Row], np.ndarray]:
    """Members' plans; slow-support complainers cancel three times as often, after complaining."""
    days, rows = cfg.days, []
    signup, first, slow = (cust[k].to_numpy() for k in ("_signup", "_first", "_slow"))
    churn_day = np.full(len(cust), -1)
    for i in map(int, np.flatnonzero(cust["member_id"].notna().to_numpy())):
        annual = rng.random() < 0.4
        back = int(rng.integers(0, 365 if annual else 700))
        s = int(first[i] + rng.integers(0, 14)) if first[i] > 0 else max(int(signup[i]), -back)
        plan, amount = ("member_annual", 299.0) if annual else ("member_monthly", 29.0)
        end: int | None = None
        if rng.random() < (0.45 if slow[i] else 0.15):
            lo = max(s, 0, complaint[i]) + 14
            end = lo + int(rng.integers(0, 90 if slow[i] else max(days - lo, 1)))
            end = end if end < days else None
        base = {"customer_id": cust["customer_id"].iat[i], "plan": plan, "amount": amount}
        if end is not None:
            rows.append({**base, "_s": s, "_e": end, "renewed": False, "status": "cancelled"})
            churn_day[i] = end
        elif annual and s + 365 < days:
            rows.append({**base, "_s": s, "_e": s + 365, "renewed": True, "status": "renewed"})
            rows.append({**base, "_s": s + 365, "_e": None, "renewed": None, "status": "active"})
        else:
            renewed = True if not annual and days - s > 30 else None
            rows.append({**base, "_s": s, "_e": None, "renewed": renewed, "status": "active"})
    return rows, churn_day


def _events(
    rng: np.random.Generator,
    cfg: DemoConfig,
    origin: np.datetime64,
    cust: pd.DataFrame,
    orders: pd.DataFrame,
    churn_day: np.ndarray,
) -> pd.DataFrame:
    """Browsing sessions (fewer after churn) plus the clicks leading up to a share of orders."""
    n = len(cust)
    first = cust["_first"].to_numpy()
    last = np.where(churn_day >= 0, churn_day, cfg.days)
    lam = np.array([_BROWSE_RATE[s] for s in cust["segment"]]) * (last - first) / 365
    b_who = np.repeat(np.arange(n), rng.poisson(np.maximum(lam, 0)))
    b_day = first[b_who] + (rng.random(len(b_who)) * (last - first)[b_who]).astype(int)
    buy = orders[rng.random(len(orders)) < 0.3]
    nb, np_ = len(b_who), len(buy)
    slug = {p[0]: k for k, p in enumerate(texts.PRODUCTS)}
    weights = [p[3] for p in texts.PRODUCTS]
    s_len = np.concatenate((1 + np.minimum(rng.poisson(1.8, nb), 7), 3 + (rng.random(np_) < 0.3)))
    gap = rng.integers(15, 180, nb + np_).astype("timedelta64[s]")
    s_start = np.concatenate(
        (
            _at(rng, origin, b_day),
            buy["ordered_at"].to_numpy(dtype="datetime64[s]") - (s_len[nb:] - 1) * gap[nb:],
        )
    )
    s_buy = np.arange(nb + np_) >= nb
    s_prod = np.concatenate(
        (rng.choice(len(weights), nb, p=weights), [slug[p] for p in buy["product"]])
    )
    s_sid = [f"{x:012x}" for x in rng.integers(0, 2**48, nb + np_)]
    sess = np.repeat(np.arange(nb + np_), s_len)
    pos = np.arange(len(sess)) - np.repeat(np.cumsum(s_len) - s_len, s_len)
    back = np.minimum(s_len[sess] - 1 - pos, 3)
    browse = _pick(
        rng,
        ("page_view", "search", "feature_use", "add_to_cart"),
        len(sess),
        (0.45, 0.2, 0.25, 0.1),
    )
    opening = np.where(rng.random(len(sess)) < 0.4, "login", "home")
    kind = np.where(
        s_buy[sess],
        np.array(["checkout", "add_to_cart", "page_view", "login"])[back],
        np.where(pos == 0, opening, browse),
    )
    prod = np.where(s_buy[sess], s_prod[sess], rng.choice(len(weights), len(sess), p=weights))
    extra = rng.integers(0, 1000, len(sess))
    pages, products = [], []
    for k, p, x in zip(kind, prod, extra, strict=True):
        name, slug_ = texts.PRODUCTS[p][0], texts.PRODUCTS[p][1]
        page = {
            "page_view": f"/products/{slug_}",
            "add_to_cart": "/cart",
            "checkout": "/checkout",
            "login": "/login",
            "home": "/",
            "search": f"/search?q={texts.SEARCH_TERMS[x % len(texts.SEARCH_TERMS)]}",
            "feature_use": f"/app/{texts.APP_FEATURES[x % len(texts.APP_FEATURES)]}",
        }[k]
        pages.append(page)
        products.append(name if k in ("page_view", "add_to_cart", "checkout") else None)
    frame = pd.DataFrame(
        {
            "customer_id": cust["customer_id"].to_numpy()[np.concatenate((b_who, buy["_who"]))][
                sess
            ],
            "event_type": np.where(kind == "home", "page_view", kind),
            "occurred_at": s_start[sess] + pos * gap[sess],
            "session_id": np.asarray(s_sid, dtype=object)[sess],
            "page": pages,
            "product": products,
        }
    )
    frame = frame.sort_values("occurred_at", kind="stable", ignore_index=True)
    frame.insert(0, "event_id", [f"E{i:08d}" for i in range(1, len(frame) + 1)])
    return frame


def _b2b(
    rng: np.random.Generator, cfg: DemoConfig, origin: np.datetime64, v: _Voices
) -> dict[str, pd.DataFrame]:
    """Accounts, their contacts, projects, milestones, contracts, orders and survey answers."""
    n, days = cfg.n_accounts, cfg.days
    combos = [(w, k) for k in range(len(texts.INDUSTRIES)) for w in range(len(texts.COMPANY_WORDS))]
    perm = rng.permutation(len(combos))
    city = rng.choice(len(texts.CITIES), size=n, p=[c[2] for c in texts.CITIES])
    tier = _pick(rng, ("strategic", "key", "standard"), n, (0.2, 0.35, 0.45))
    bands = {"strategic": (6e5, 2e6), "key": (2e5, 6e5), "standard": (5e4, 2e5)}
    value = np.array([round(rng.uniform(*bands[t]), -3) for t in tier])
    anniv = rng.integers(min(120, days // 2), days, n)  # the contract renews (or not) on this day
    health = rng.normal(0, 1, n)
    churn = np.zeros(n, dtype=bool)  # about a fifth of accounts, mostly the least healthy
    churn[np.argsort(health + rng.normal(0, 0.5, n))[: max(1, round(0.2 * n))]] = True
    seen: set[str] = set()
    acc, con, proj, mile, subs, orders = [], [], [], [], [], []  # type: ignore[var-annotated]
    for a in range(n):
        aid, rep = f"A{a + 1:04d}", a // len(combos)
        w, k = combos[perm[a % len(combos)]]
        (wz, wp), (sfx, industry, dw) = texts.COMPANY_WORDS[w], texts.INDUSTRIES[k]
        domain = f"{wp}-{dw}{rep or ''}.com"
        acc.append(
            {
                "account_id": aid,
                "name": f"{texts.CITIES[city[a]][0]}{wz}{sfx}有限公司"
                + (f"（{rep + 1}）" if rep else ""),
                "industry": industry,
                "region": texts.CITIES[city[a]][1],
                "segment": {"strategic": "enterprise", "key": "mid_market"}.get(tier[a], "smb"),
                "tier": tier[a],
                "owner": texts.ACCOUNT_MANAGERS[a % 6],
                "annual_value": value[a],
                "_opened": anniv[a] - 365 * int(rng.integers(1, 5)),
            }
        )
        people = []
        roles = ["decision_maker", "user", *_pick(rng, _ROLES, int(rng.integers(1, 7)), _ROLE_P)]
        for role in roles:
            sz, sp = texts.SURNAMES[int(rng.integers(len(texts.SURNAMES)))]
            gz, gp = (texts.GIVEN_FEMALE, texts.GIVEN_MALE)[int(rng.integers(2))][
                int(rng.integers(16))
            ]
            person = {
                "contact_id": f"K{len(con) + 1:05d}",
                "account_id": aid,
                "name": sz + gz,
                "email": _unique(f"{gp}.{sp}", seen, len(con), f"@{domain}"),
                "phone": _fmt_phone(rng, _phone_digits(rng, seen), (0, 1, 4)),
                "role": role,
                "title": str(_pick(rng, texts.TITLES[role], 1)[0]),
            }
            con.append(person)
            people.append(person)

        def survey(p: Row, d: int, touch: str, stage: str, a: int = a) -> None:
            sour = 1.2 if churn[a] and p["role"] == "decision_maker" else 0.0
            nps = int(np.clip(np.rint(7.6 + 1.5 * health[a] - sour + rng.normal(0, 1.3)), 0, 10))
            lang = "en" if rng.random() < 0.15 else "zh"
            _, body = v.text(lang, v.polarity(_score_class(nps, 6, 9)), texts.B2B_TOPICS, True)
            v.add(
                d,
                "survey",
                "wjx",
                "S",
                account_id=p["account_id"],
                contact_id=p["contact_id"],
                author=p["name"],
                author_email=p["email"],
                nps=nps,
                language=lang,
                csat=int(np.clip(round(nps / 2), 1, 5)) if rng.random() < 0.6 else None,
                text=body if rng.random() < 0.8 else None,
                touchpoint=touch,
                journey_stage=stage,
            )

        stop = anniv[a] if churn[a] else days
        for _ in range(int(rng.integers(1, 4))):
            pid, s = f"P{len(proj) + 1:04d}", int(rng.integers(-150, max(days - 60, -149)))
            names = texts.MILESTONES[int(rng.integers(3, 6))]
            gaps = rng.integers(15, 60, len(names))
            gaps[0] = 0
            due = s + np.cumsum(gaps)
            done = (
                due
                + rng.integers(-3, 8, len(names))
                + (health[a] < -0.5) * rng.integers(0, 25, len(names))
            )
            states = []
            for name, du, dn in zip(names, due, done, strict=True):
                state = (
                    "done"
                    if dn < stop
                    else "cancelled"
                    if churn[a]
                    else "delayed"
                    if du < days
                    else "planned"
                )
                states.append(state)
                mile.append(
                    {
                        "milestone_id": f"MS{len(mile) + 1:05d}",
                        "project_id": pid,
                        "name": name,
                        "due_date": _iso(origin, du),
                        "_done": int(dn) if state == "done" else None,
                        "status": state,
                    }
                )
                if state == "done" and dn >= 0 and dn + 7 < stop:
                    for q in rng.choice(len(people), int(rng.integers(1, 3)), replace=False):
                        survey(
                            people[int(q)],
                            int(dn + rng.integers(1, 8)),
                            "implementation",
                            "buy" if name.startswith("签约") else "use",
                        )
            status = (
                "cancelled"
                if "cancelled" in states
                else "completed"
                if all(x == "done" for x in states)
                else "in_progress"
                if "done" in states
                else "planned"
            )
            kind = texts.PROJECT_KINDS[int(rng.integers(len(texts.PROJECT_KINDS)))]
            proj.append(
                {
                    "project_id": pid,
                    "account_id": aid,
                    "name": wz + kind,
                    "status": status,
                    "start_date": _iso(origin, s),
                    "end_date": _iso(origin, due[-1]),
                }
            )
        for p in people:
            if p["role"] in ("decision_maker", "purchaser"):
                day = max(0, int(anniv[a] - rng.integers(20, 90)))
                survey(p, day, "account_management", "renew")
        plan = {"strategic": "enterprise_premium", "key": "enterprise_pro"}.get(
            tier[a], "enterprise_standard"
        )
        base = {"account_id": aid, "plan": plan, "amount": value[a]}
        s0 = int(anniv[a] - 365)
        subs.append(
            {
                **base,
                "subscription_id": f"CT{a + 1:04d}-1",
                "_s": s0,
                "_e": int(anniv[a]),
                "renewed": not churn[a],
                "status": "churned" if churn[a] else "renewed",
            }
        )
        if not churn[a]:
            subs.append(
                {
                    **base,
                    "subscription_id": f"CT{a + 1:04d}-2",
                    "_s": int(anniv[a]),
                    "_e": None,
                    "renewed": None,
                    "status": "active",
                    "amount": round(value[a] * rng.uniform(1.0, 1.15), -3),
                }
            )
        for _ in range(1 + int(rng.poisson(4))):
            product, price = texts.B2B_PRODUCTS[int(rng.integers(len(texts.B2B_PRODUCTS)))]
            qty = int(rng.integers(1, 40)) if price < 5000 else int(rng.integers(1, 3))
            orders.append(
                {
                    "account_id": aid,
                    "_d": int(rng.integers(0, stop)),
                    "product": product,
                    "quantity": qty,
                    "amount": price * qty,
                    "currency": "CNY",
                    "status": "completed",
                    "channel": "direct_sales",
                }
            )
    accounts = pd.DataFrame(acc)
    accounts["opened_at"] = _at(rng, origin, accounts.pop("_opened"))
    milestones = pd.DataFrame(mile)
    milestones["completed_at"] = _at_opt(rng, origin, milestones.pop("_done").tolist())
    b2b_orders = pd.DataFrame(orders)
    b2b_orders["ordered_at"] = _at(rng, origin, b2b_orders.pop("_d"))
    return {
        "accounts": accounts,
        "contacts": pd.DataFrame(con),
        "projects": pd.DataFrame(proj),
        "milestones": milestones,
        "orders": b2b_orders,
        "subscriptions": pd.DataFrame(subs),
    }


def _spike(v: _Voices, cfg: DemoConfig) -> int:
    """Plants the week of delivery complaints: about 3x the usual weekly count on top of it."""
    rng, c = v.rng, v.c
    day0 = (spike_week(cfg) - cfg.start).days
    fb = pd.DataFrame(v.rows)
    day = ((fb["created_at"] - pd.Timestamp(v.origin)).dt.days.to_numpy() - day0) // 7
    neg = fb["text"].map(lambda t: texts.mentions(t, "delivery_slow")).to_numpy(dtype=bool)
    weeks = [w for w in range(-(day0 // 7), (cfg.days - day0) // 7) if w != 0]
    usual = pd.Series(day[neg]).value_counts().reindex(weeks, fill_value=0).median()
    extra = max(8, round(3 * float(usual)))
    first = np.asarray(c["_first"])
    for _ in range(extra):
        d = day0 + int(rng.integers(7))
        ch = str(_pick(rng, ("review", "social", "ticket"), 1, (0.5, 0.3, 0.2))[0])
        i = int(rng.choice(np.flatnonzero(first <= d)))
        if ch == "social":
            lang = v.lang()
            _, body = v.text(lang, "neg", ("delivery_speed",), False)
            v.add(
                d,
                "social",
                "weibo",
                "WB",
                text=body,
                language=lang,
                touchpoint="delivery",
                journey_stage="buy",
                author_handle=f"网友{int(rng.integers(10**4, 10**6))}",
            )
        elif ch == "review":
            v.customer(
                i,
                d,
                "review",
                "tmall",
                "R",
                ("delivery_speed",),
                "neg",
                ("phone", "member", "email"),
                rating=int(rng.integers(1, 3)),
                author=c["name"][i][0] + "**",
                product=texts.PRODUCTS[int(rng.integers(len(texts.PRODUCTS)))][0],
            )
        else:
            v.customer(
                i,
                d,
                "ticket",
                "zendesk",
                "T",
                ("delivery_speed",),
                "neg",
                ("email", "phone"),
                journey_stage="service",
            )
    return extra


def _finish(kind: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Drops private columns and orders the rest as ``cxloop.ingest.fields`` declares them."""
    from cxloop.ingest.fields import KINDS as SPECS

    names = [f.name for f in SPECS[kind].fields]
    public = [c for c in frame.columns if not c.startswith("_")]
    unknown = sorted(set(public) - set(names))
    if unknown:
        raise ValueError(f"{kind}: columns {unknown} are not fields of the import kind")
    return frame[[n for n in names if n in public]].reset_index(drop=True)


def generate_company(config: DemoConfig = DemoConfig()) -> dict[str, pd.DataFrame]:
    """One frame per import kind for a year of a consumer-appliance brand with B2B accounts.

    Same config, same frames: every draw comes from ``numpy.random.default_rng(config.seed)``.
    """
    rngs = np.random.default_rng(config.seed).spawn(7)
    origin = np.datetime64(config.start, "s")
    cust = _customers(rngs[0], config, origin)
    voices = _Voices(rngs[1], cust, origin)
    surveys, complaint = _b2c_voices(voices, config)
    b2c_orders = _orders(rngs[2], config, origin, cust, surveys)
    voices.rng = rngs[3]
    _public_voices(voices, config, b2c_orders)
    member_rows, churn_day = _memberships(rngs[4], config, origin, cust, complaint)
    events = _events(rngs[5], config, origin, cust, b2c_orders, churn_day)
    voices.rng = rngs[6]
    b2b = _b2b(rngs[6], config, origin, voices)
    _spike(voices, config)

    orders = pd.concat([b2c_orders, b2b.pop("orders")], ignore_index=True)
    orders = orders.sort_values("ordered_at", kind="stable", ignore_index=True)
    orders["order_id"] = [f"O{i:08d}" for i in range(1, len(orders) + 1)]
    members = pd.DataFrame(member_rows)
    members["subscription_id"] = [f"SUB{i:06d}" for i in range(1, len(members) + 1)]
    subs = pd.concat([members, b2b.pop("subscriptions")], ignore_index=True)
    subs["started_at"] = _at(rngs[4], origin, subs["_s"])
    subs["ended_at"] = _at_opt(rngs[4], origin, subs["_e"].tolist())
    subs["renewed"] = subs["renewed"].astype("boolean")
    fb = pd.DataFrame(voices.rows).sort_values("created_at", kind="stable", ignore_index=True)
    number = fb.groupby("_id").cumcount().fillna(0).astype(int) + 1
    fb["feedback_id"] = (fb["_id"] + "-" + number.map("{:06d}".format)).where(fb["_id"].notna())
    fb = fb.reindex(columns=[*FEEDBACK_COLUMNS, "_id"])
    for col in ("nps", "csat", "ces", "rating"):
        fb[col] = fb[col].astype("Int64")
    tables = {
        "customers": cust,
        **b2b,
        "orders": orders,
        "events": events,
        "subscriptions": subs,
        "feedback": fb,
    }
    return {kind: _finish(kind, tables[kind]) for kind in KINDS}


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Datetimes as "2026-03-01 14:05:00", missing values as None (written empty)."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d %H:%M:%S")
    return out.astype(object).where(out.notna(), None)


_FILES = {
    "feedback": ("feedback.csv", "utf-8"),
    "customers": ("customers.csv", "utf-8-sig"),
    "orders": ("orders.csv", "gb18030"),
    "events": ("events.jsonl", "utf-8"),
    "accounts": ("accounts.xlsx", ""),
}


def write_files(tables: dict[str, pd.DataFrame], folder: Path) -> dict[str, Path]:
    """Writes each kind the way real exports arrive (BOM, GB18030, JSON Lines, XLSX)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for kind, frame in tables.items():
        name, encoding = _FILES.get(kind, (f"{kind}.csv", "utf-8"))
        path, text = folder / name, _as_text(frame)
        if name.endswith(".xlsx"):
            text.to_excel(path, index=False)
        elif name.endswith(".jsonl"):
            text.to_json(path, orient="records", lines=True, force_ascii=False)
        else:
            text.to_csv(path, index=False, encoding=encoding)
        paths[kind] = path
    return paths
