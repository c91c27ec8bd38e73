"""The B2B side of the demo company: accounts, contacts, projects, milestones, contracts, orders.

Plants ``b2b_churn_nps`` of ``generator.PLANTED``: decision makers at accounts that then churn
answer surveys less kindly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxloop.demo import texts
from cxloop.demo.draws import Row, at, at_opt, fmt_phone, iso, phone_digits, pick, unique
from cxloop.demo.voices import Voices, score_class

_ROLES = ("decision_maker", "purchaser", "recommender", "influencer", "user", "employee")
_ROLE_P = (0.08, 0.2, 0.15, 0.15, 0.25, 0.17)


def b2b_tables(
    rng: np.random.Generator, origin: np.datetime64, v: Voices, n_accounts: int, days: int
) -> dict[str, pd.DataFrame]:
    """Accounts, their contacts, projects, milestones, contracts, orders and survey answers."""
    n = n_accounts
    combos = [(w, k) for k in range(len(texts.INDUSTRIES)) for w in range(len(texts.COMPANY_WORDS))]
    perm = rng.permutation(len(combos))
    city = rng.choice(len(texts.CITIES), size=n, p=[c[2] for c in texts.CITIES])
    tier = pick(rng, ("strategic", "key", "standard"), n, (0.2, 0.35, 0.45))
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
        roles = ["decision_maker", "user", *pick(rng, _ROLES, int(rng.integers(1, 7)), _ROLE_P)]
        for role in roles:
            sz, sp = texts.SURNAMES[int(rng.integers(len(texts.SURNAMES)))]
            gz, gp = (texts.GIVEN_FEMALE, texts.GIVEN_MALE)[int(rng.integers(2))][
                int(rng.integers(16))
            ]
            person = {
                "contact_id": f"K{len(con) + 1:05d}",
                "account_id": aid,
                "name": sz + gz,
                "email": unique(f"{gp}.{sp}", seen, len(con), f"@{domain}"),
                "phone": fmt_phone(rng, phone_digits(rng, seen), (0, 1, 4)),
                "role": role,
                "title": str(pick(rng, texts.TITLES[role], 1)[0]),
            }
            con.append(person)
            people.append(person)

        def survey(p: Row, d: int, touch: str, stage: str, a: int = a) -> None:
            sour = 1.2 if churn[a] and p["role"] == "decision_maker" else 0.0
            nps = int(np.clip(np.rint(7.6 + 1.5 * health[a] - sour + rng.normal(0, 1.3)), 0, 10))
            lang = "en" if rng.random() < 0.15 else "zh"
            _, body = v.text(lang, v.polarity(score_class(nps, 6, 9)), texts.B2B_TOPICS, True)
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
                        "due_date": iso(origin, du),
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
                    "start_date": iso(origin, s),
                    "end_date": iso(origin, due[-1]),
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
    accounts["opened_at"] = at(rng, origin, accounts.pop("_opened"))
    milestones = pd.DataFrame(mile)
    milestones["completed_at"] = at_opt(rng, origin, milestones.pop("_done").tolist())
    b2b_orders = pd.DataFrame(orders)
    b2b_orders["ordered_at"] = at(rng, origin, b2b_orders.pop("_d"))
    return {
        "accounts": accounts,
        "contacts": pd.DataFrame(con),
        "projects": pd.DataFrame(proj),
        "milestones": milestones,
        "orders": b2b_orders,
        "subscriptions": pd.DataFrame(subs),
    }
