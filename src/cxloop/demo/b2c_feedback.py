"""B2C feedback: surveys and service contacts, public reviews and posts, the complaint spike.

Plants the feedback side of ``generator.PLANTED``: NPS by touchpoint and segment, slow-support
complaints, and the week of slow-delivery complaints.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxloop.demo import texts
from cxloop.demo.draws import pick
from cxloop.demo.voices import Voices, score_class

_SEG_NPS = {"vip": 1.5, "regular": 0.0, "new": -0.4}
_TOUCH_NPS = {"delivery": -1.8, "app": 0.0, "website": 0.0, "store": 0.5, "call_center": -0.6}
_TOUCH_P = (0.25, 0.25, 0.15, 0.15, 0.2)


def survey_and_service_voices(
    v: Voices, n_customers: int, days: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """Surveys, support complaints and service contacts; returns surveys and complaint days."""
    rng, c, n = v.rng, v.c, n_customers
    first, slow = np.asarray(c["_first"]), np.asarray(c["_slow"])
    k = int(0.6 * n)
    who = rng.integers(n, size=k)
    day = first[who] + (rng.random(k) * (days - first[who])).astype(int)
    touch = pick(rng, tuple(_TOUCH_NPS), k, _TOUCH_P)
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
            v.polarity(score_class(nps[j], 6, 9)),
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
            ch = str(pick(rng, channels, 1, (0.5, 0.3, 0.2))[0])
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
        ch = str(pick(rng, channels, 1, (0.5, 0.3, 0.2))[0])
        pol = str(pick(rng, ("neg", "pos", "mixed"), 1, (0.62, 0.25, 0.13))[0])
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


def public_voices(v: Voices, n_customers: int, days: int, orders: pd.DataFrame) -> None:
    """Reviews of real orders, social posts (some unlinked) and forum threads."""
    rng, c, n = v.rng, v.c, n_customers
    done = orders[(orders["status"] == "completed") & (orders["_day"] < days - 2)]
    o_who, o_day, o_prod = (done[k].tolist() for k in ("_who", "_day", "product"))
    for j in map(int, rng.choice(len(done), size=min(int(0.6 * n), len(done)), replace=False)):
        i, rating = o_who[j], int(pick(rng, (1, 2, 3, 4, 5), 1, (0.1, 0.07, 0.1, 0.23, 0.5))[0])
        src = str(pick(rng, ("tmall", "jd", "app"), 1, (0.45, 0.35, 0.2))[0])
        d = min(days - 1, o_day[j] + int(rng.integers(2, 10)))
        v.customer(
            i,
            d,
            "review",
            src,
            "R",
            texts.REVIEW_TOPICS,
            v.polarity(score_class(rating, 2, 4)),
            ("member", "email") if src == "app" else ("phone", "member", "email"),
            rating=rating,
            product=o_prod[j],
            author=c["name"][i][0] + "**",
        )
    handles = [i for i in range(n) if c["handle"][i]]
    for _ in range(int(0.2 * n)):
        src = str(pick(rng, ("weibo", "xiaohongshu", "douyin"), 1, (0.5, 0.3, 0.2))[0])
        pol = str(pick(rng, ("neg", "pos", "mixed"), 1, (0.45, 0.4, 0.15))[0])
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
            else {"author": str(pick(rng, ("匿名用户", "路人甲", "A visitor"), 1)[0])}
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
        pol = str(pick(rng, ("neg", "pos", "mixed"), 1, (0.4, 0.4, 0.2))[0])
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


def plant_delivery_spike(v: Voices, day0: int, days: int) -> int:
    """Plants the week of delivery complaints starting on day ``day0``: about 3x the usual weekly
    count on top of it; returns how many it added."""
    rng, c = v.rng, v.c
    fb = pd.DataFrame(v.rows)
    day = ((fb["created_at"] - pd.Timestamp(v.origin)).dt.days.to_numpy() - day0) // 7
    neg = fb["text"].map(lambda t: texts.mentions(t, "delivery_slow")).to_numpy(dtype=bool)
    weeks = [w for w in range(-(day0 // 7), (days - day0) // 7) if w != 0]
    usual = pd.Series(day[neg]).value_counts().reindex(weeks, fill_value=0).median()
    extra = max(8, round(3 * float(usual)))
    first = np.asarray(c["_first"])
    for _ in range(extra):
        d = day0 + int(rng.integers(7))
        ch = str(pick(rng, ("review", "social", "ticket"), 1, (0.5, 0.3, 0.2))[0])
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
