"""A deterministic, realistic demo company for cxloop: one year of B2C and B2B data.

Pure: a seed in, one pandas frame per import kind out (no database, no clock, no global random
state), so the demo, a benchmark and a test all see the same company for the same seed. Patterns an
analyst should find are planted on purpose and described in ``PLANTED``; the tests measure them.
Datetimes are naive China local time (``datetime64[s]``); date-only fields are ISO strings.

This module draws the B2C customers, orders, memberships and events and assembles the frames;
``b2c_feedback`` writes the B2C feedback, ``b2b`` the accounts side, ``voices`` and ``draws``
hold what those share.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxloop.demo import texts
from cxloop.demo.b2b import b2b_tables
from cxloop.demo.b2c_feedback import (
    plant_delivery_spike,
    public_voices,
    survey_and_service_voices,
)
from cxloop.demo.draws import Row, at, at_opt, fmt_phone, iso, phone_digits, pick, unique
from cxloop.demo.voices import Voices
from cxloop.ingest.fields import KINDS as IMPORT_KINDS

KINDS = tuple(kind for kind in IMPORT_KINDS if kind != "identities")  # one frame per kind
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

_ORDER_RATE = {"vip": 12.0, "regular": 5.0, "new": 3.0}  # orders a year before any survey
AFTER_SURVEY = (0.3, 0.9, 1.4)
"""Planted ``detractor_orders``: order-rate factor after a detractor, passive, promoter answer."""
SUPPORT_CHURN = (0.45, 0.15)
"""Planted ``support_churn``: chance a member cancels without renewal if they suffered slow
support (and said so), and otherwise."""
_AFTER_SURVEY = AFTER_SURVEY
_BROWSE_RATE = {"vip": 7.0, "regular": 4.0, "new": 4.0}  # browsing sessions a year


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


def _customers(rng: np.random.Generator, cfg: DemoConfig, origin: np.datetime64) -> pd.DataFrame:
    """B2C persons plus private columns (``_``) the other tables are drawn from."""
    n = cfg.n_customers
    seg = pick(rng, ("vip", "regular", "new"), n, (0.12, 0.6, 0.28))
    female, english = rng.random(n) < 0.52, rng.random(n) < 0.08
    sur, giv = rng.integers(1000, size=n), rng.integers(1000, size=n)
    style = rng.integers(3, size=n)
    dom = pick(rng, texts.EMAIL_DOMAINS, n, texts.EMAIL_DOMAIN_WEIGHTS)
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
        cols["_email"].append(unique(local, seen, i, f"@{dom[i]}") if has_email[i] else None)
        digits = phone_digits(rng, seen)
        cols["_phone"].append(digits if has_phone[i] else None)
        cols["phone"].append(fmt_phone(rng, digits, (0, 1, 2)) if has_phone[i] else None)
        member_id = f"QH{int(rng.integers(10**7, 10**8))}"
        cols["member_id"].append(unique(member_id, seen, i) if member[i] else None)
        word = texts.HANDLE_WORDS[int(rng.integers(len(texts.HANDLE_WORDS)))]
        handle = unique(f"{nick}{word}{int(rng.integers(100))}", seen, i)
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
            "birth_date": [iso(origin, -a) for a in age],
            "city": [texts.CITIES[c][0] for c in city],
            "region": [texts.CITIES[c][1] for c in city],
            "segment": seg.astype(str),
            "signed_up_at": at(rng, origin, signup),
            "_email": cols["_email"],
            "_phone": cols["_phone"],
            "_signup": signup,
            "_first": np.maximum(signup, 0),
            "_english": english,
        }
    )
    frame["_slow"] = (frame["_first"] < cfg.days - 120) & (rng.random(n) < 0.13)
    return frame


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
    status = pick(rng, ("completed", "refunded", "cancelled"), m, (0.93, 0.04, 0.03))
    status[(day >= days - 4) & (status == "completed")] = "shipped"
    return pd.DataFrame(
        {
            "customer_id": cust["customer_id"].to_numpy()[who],
            "account_id": None,
            "ordered_at": at(rng, origin, day),
            "amount": np.round(price * qty * disc, 2),
            "currency": "CNY",
            "status": status,
            "channel": pick(
                rng, ("app", "web", "store", "mini_program"), m, (0.45, 0.25, 0.15, 0.15)
            ),
            "product": [texts.PRODUCTS[p][0] for p in prod],
            "quantity": qty,
            "_who": who,
            "_day": day,
        }
    )


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
        if rng.random() < SUPPORT_CHURN[0 if slow[i] else 1]:
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
            at(rng, origin, b_day),
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
    browse = pick(
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


def _finish(kind: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Drops private columns and orders the rest as ``cxloop.ingest.fields`` declares them."""
    names = [f.name for f in IMPORT_KINDS[kind].fields]
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
    voices = Voices(rngs[1], cust, origin)
    surveys, complaint = survey_and_service_voices(voices, config.n_customers, config.days)
    b2c_orders = _orders(rngs[2], config, origin, cust, surveys)
    voices.rng = rngs[3]
    public_voices(voices, config.n_customers, config.days, b2c_orders)
    member_rows, churn_day = _memberships(rngs[4], config, origin, cust, complaint)
    events = _events(rngs[5], config, origin, cust, b2c_orders, churn_day)
    voices.rng = rngs[6]
    b2b = b2b_tables(rngs[6], origin, voices, config.n_accounts, config.days)
    plant_delivery_spike(voices, (spike_week(config) - config.start).days, config.days)

    orders = pd.concat([b2c_orders, b2b.pop("orders")], ignore_index=True)
    orders = orders.sort_values("ordered_at", kind="stable", ignore_index=True)
    orders["order_id"] = [f"O{i:08d}" for i in range(1, len(orders) + 1)]
    members = pd.DataFrame(member_rows)
    members["subscription_id"] = [f"SUB{i:06d}" for i in range(1, len(members) + 1)]
    subs = pd.concat([members, b2b.pop("subscriptions")], ignore_index=True)
    subs["started_at"] = at(rngs[4], origin, subs["_s"])
    subs["ended_at"] = at_opt(rngs[4], origin, subs["_e"].tolist())
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
