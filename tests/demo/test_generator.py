"""The demo company: deterministic, shaped like the import kinds, and carrying its planted stories.

The planted relationships are measured from the frames the way an analyst would (identity matched
by normalised e-mail/phone/member id/handle, complaints found in the text), not from generator
internals, so a generator that stops planting them fails here.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxloop.customers.roles import CANONICAL_ROLES
from cxloop.demo import texts
from cxloop.demo.generator import (
    KINDS,
    PLANTED,
    SPIKE_WEEK,
    DemoConfig,
    generate_company,
    spike_week,
    write_files,
)
from cxloop.ingest.fields import KINDS as SPECS

Tables = dict[str, pd.DataFrame]
SMALL = DemoConfig(seed=7, n_customers=400, n_accounts=8)


@pytest.fixture(scope="module")
def tables() -> Tables:
    return generate_company()


def _phone_key(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    digits = re.sub(r"\D", "", value)
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


def _linked_customer(tables: Tables) -> pd.Series:
    """customer_id of each feedback row, resolved through normalised identities."""
    cust, fb = tables["customers"], tables["feedback"]
    found = fb["customer_id"].astype(object).where(fb["customer_id"].notna(), None)
    rules = (
        ("author_email", "email", lambda v: v.strip().lower() if isinstance(v, str) else None),
        ("author_phone", "phone", _phone_key),
        ("author_member_id", "member_id", lambda v: v if isinstance(v, str) else None),
        ("author_handle", "handle", lambda v: v if isinstance(v, str) else None),
    )
    for fb_col, cust_col, norm in rules:
        lookup = {
            norm(k): c for k, c in zip(cust[cust_col], cust["customer_id"], strict=True) if norm(k)
        }
        keys = fb[fb_col].map(norm)
        found = found.where(found.notna(), keys.map(lambda k, lookup=lookup: lookup.get(k)))
    return found


def _b2c_surveys(tables: Tables) -> pd.DataFrame:
    fb = tables["feedback"].assign(cid=_linked_customer(tables))
    return fb[(fb["channel"] == "survey") & fb["account_id"].isna() & fb["cid"].notna()]


def _nps_score(scores: pd.Series) -> float:
    return 100.0 * ((scores >= 9).mean() - (scores <= 6).mean())


# --- shape -------------------------------------------------------------------------------------


def test_same_seed_same_frames_and_another_seed_differs() -> None:
    first, second = generate_company(SMALL), generate_company(SMALL)
    assert list(first) == list(KINDS)
    for kind in KINDS:
        pd.testing.assert_frame_equal(first[kind], second[kind])
    other = generate_company(DemoConfig(seed=8, n_customers=400, n_accounts=8))
    assert not first["feedback"]["text"].equals(other["feedback"]["text"])


def test_columns_are_fields_and_required_fields_filled(tables: Tables) -> None:
    for kind, frame in tables.items():
        spec = SPECS[kind]
        assert set(frame.columns) <= set(spec.by_name), kind
        assert frame[spec.key].notna().all() or spec.key_from_hash, kind
        for name, field in spec.by_name.items():
            if field.required:
                assert name in frame.columns and frame[name].notna().all(), (kind, name)
                if frame[name].dtype == object or pd.api.types.is_string_dtype(frame[name]):
                    assert (frame[name].astype(str).str.strip() != "").all(), (kind, name)
        for group in spec.one_of:
            present = frame[list(group)].notna().sum(axis=1)
            assert (present == 1).all(), (kind, group)
    for kind in (
        "customers",
        "accounts",
        "contacts",
        "projects",
        "milestones",
        "orders",
        "events",
        "subscriptions",
    ):
        key = SPECS[kind].key
        assert tables[kind][key].is_unique, kind
    fb = tables["feedback"]
    assert fb.dropna(subset=["feedback_id"]).duplicated(["source", "feedback_id"]).sum() == 0


def test_sizes_match_a_quick_demo(tables: Tables) -> None:
    assert len(tables["customers"]) == 3000 and len(tables["accounts"]) == 40
    assert 30_000 <= len(tables["events"]) <= 60_000
    assert 5_000 <= len(tables["feedback"]) <= 8_000
    sizes = tables["contacts"].groupby("account_id").size()
    assert sizes.between(3, 8).all() and len(sizes) == 40
    per_project = tables["milestones"].groupby("project_id").size()
    assert per_project.between(3, 5).all()
    assert tables["projects"].groupby("account_id").size().between(1, 3).all()


def test_values_are_realistic(tables: Tables) -> None:
    phonenumbers = pytest.importorskip("phonenumbers")
    fb = tables["feedback"]
    assert fb["nps"].dropna().between(0, 10).all()
    assert fb["csat"].dropna().between(1, 5).all()
    assert fb["ces"].dropna().between(1, 7).all()
    assert fb["rating"].dropna().between(1, 5).all()
    assert fb.loc[fb["channel"] == "review", "rating"].notna().all()
    assert fb.loc[fb["channel"] == "survey", "nps"].notna().all()
    assert set(fb["channel"]) == {"survey", "review", "social", "forum", "ticket", "chat", "email"}
    assert 0.18 <= (fb["language"] == "en").mean() <= 0.32
    assert set(fb["journey_stage"]) == {"aware", "buy", "use", "service", "renew"}
    contacts = tables["contacts"]
    assert set(contacts["role"]) <= set(CANONICAL_ROLES)  # roles are open; the demo's are known
    for role in ("decision_maker", "user"):
        assert contacts.groupby("account_id")["role"].apply(lambda r, x=role: (r == x).any()).all()
    orders = tables["orders"]
    assert (orders["amount"] > 0).all() and (orders["currency"] == "CNY").all()
    start = pd.Timestamp(DemoConfig().start)
    assert orders["ordered_at"].between(start, start + pd.Timedelta(days=365)).all()
    phones = pd.concat([tables["customers"]["phone"], contacts["phone"], fb["author_phone"]])
    for phone in phones.dropna():
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone, "CN")), phone
    emails = pd.concat([tables["customers"]["email"], fb["author_email"]]).dropna()
    assert emails.str.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]+").all()
    subs = tables["subscriptions"]
    ended = subs["ended_at"].notna()
    assert (subs.loc[ended, "ended_at"] > subs.loc[ended, "started_at"]).all()
    assert subs.loc[~ended, "renewed"].ne(False).all()


def test_most_b2c_feedback_links_and_some_voice_stays_unlinked(tables: Tables) -> None:
    fb = tables["feedback"]
    linked = _linked_customer(tables).notna()
    b2c = fb["account_id"].isna()
    assert linked[b2c & fb["channel"].isin(["survey", "review", "ticket", "chat"])].mean() > 0.95
    social = fb["channel"] == "social"
    assert 0.2 < linked[social].mean() < 0.6
    assert fb.loc[social, "feedback_id"].isna().any()
    assert fb["author_email"].dropna().str.contains("[A-Z]").any()
    assert fb["author_phone"].dropna().str.startswith("+86").any()
    surveys = fb[fb["account_id"].notna()]
    assert (surveys["channel"] == "survey").all() and surveys["contact_id"].notna().all()


def test_text_sentiment_mostly_agrees_with_scores(tables: Tables) -> None:
    fb = tables["feedback"].dropna(subset=["text"])
    pos = {p.lower() for (_, _, pol), ps in texts.PHRASES.items() if pol == "pos" for p in ps}
    neg = {p.lower() for (_, _, pol), ps in texts.PHRASES.items() if pol == "neg" for p in ps}

    def ends_negative(text: str) -> bool:
        low = text.lower()
        return max((low.rfind(p), p in neg) for p in pos | neg if p in low)[1]

    low = fb[(fb["nps"] <= 4) | (fb["rating"] <= 2)]["text"].map(ends_negative)
    high = fb[(fb["nps"] >= 9) | (fb["rating"] >= 5)]["text"].map(ends_negative)
    assert low.mean() > 0.8 and high.mean() < 0.2
    assert fb["text"].str.contains("虽然").any() and fb["text"].str.contains("Although").any()


def test_marker_phrases_are_unambiguous() -> None:
    for (topic, _lang, pol), phrases in texts.PHRASES.items():
        for phrase in phrases:
            for marker, topic_of in (
                ("delivery_slow", "delivery_speed"),
                ("support_slow", "support_response"),
            ):
                expected = topic == topic_of and pol == "neg"
                assert texts.mentions(phrase, marker) == expected, phrase


# --- planted relationships ---------------------------------------------------------------------


def test_planted_relationships_are_documented() -> None:
    assert set(PLANTED) == {
        "support_churn",
        "detractor_orders",
        "nps_touchpoint_segment",
        "delivery_spike",
        "b2b_churn_nps",
    }
    assert all(len(text) > 40 for text in PLANTED.values())


def support_churn(tables: Tables) -> tuple[float, float]:
    fb = tables["feedback"]
    complained = set(
        _linked_customer(tables)[
            fb["text"].map(lambda t: texts.mentions(t, "support_slow"))
        ].dropna()
    )
    subs = tables["subscriptions"].dropna(subset=["customer_id"])
    churned = subs["ended_at"].notna() & subs["renewed"].eq(False)
    per_customer = churned.groupby(subs["customer_id"]).any()
    mask = per_customer.index.isin(list(complained))
    return float(per_customer[mask].mean()), float(per_customer[~mask].mean())


def test_slow_support_complainers_churn_more(tables: Tables) -> None:
    complainers, others = support_churn(tables)
    assert complainers >= 0.35 and others <= 0.2 and complainers >= 2.2 * others


def test_slow_support_complaints_come_before_the_cancellation(tables: Tables) -> None:
    fb = tables["feedback"].assign(cid=_linked_customer(tables))
    said = fb[fb["text"].map(lambda t: texts.mentions(t, "support_slow"))]
    first_said = said.groupby("cid")["created_at"].min()
    subs = tables["subscriptions"]
    gone = subs[subs["renewed"].eq(False) & subs["customer_id"].isin(first_said.index)]
    assert len(gone) > 20
    assert (gone["ended_at"].to_numpy() > gone["customer_id"].map(first_said).to_numpy()).all()


def detractor_orders(tables: Tables) -> tuple[float, float]:
    surveys = _b2c_surveys(tables)
    last = pd.Timestamp(DemoConfig().start) + pd.Timedelta(days=365 - 90)
    surveys = surveys[surveys["created_at"] <= last]
    orders = tables["orders"].dropna(subset=["customer_id"])
    by_customer = {c: g["ordered_at"].to_numpy() for c, g in orders.groupby("customer_id")}
    counts = []
    for cid, at in zip(surveys["cid"], surveys["created_at"], strict=True):
        times = by_customer.get(cid, np.array([], dtype="datetime64[s]"))
        until = (at + pd.Timedelta(days=90)).to_datetime64()
        later = (times > at.to_datetime64()) & (times <= until)
        counts.append(int(later.sum()))
    n = pd.Series(counts, index=surveys.index)
    return float(n[surveys["nps"] >= 9].mean()), float(n[surveys["nps"] <= 6].mean())


def test_detractors_order_less_after_their_survey(tables: Tables) -> None:
    promoters, detractors = detractor_orders(tables)
    assert promoters >= 2.5 * detractors and promoters - detractors >= 1.0


def nps_gaps(tables: Tables) -> tuple[float, float]:
    surveys = _b2c_surveys(tables)
    by_touch = surveys.groupby("touchpoint")["nps"].mean()
    segment = surveys["cid"].map(tables["customers"].set_index("customer_id")["segment"])
    vip, regular = (_nps_score(surveys.loc[segment == s, "nps"]) for s in ("vip", "regular"))
    return float(by_touch.drop("delivery").mean() - by_touch["delivery"]), vip - regular


def test_nps_lower_at_delivery_and_higher_for_vip(tables: Tables) -> None:
    surveys = _b2c_surveys(tables)
    by_touch = surveys.groupby("touchpoint")["nps"].mean()
    assert by_touch.idxmin() == "delivery" and by_touch.idxmax() == "store"
    delivery_gap, vip_gap = nps_gaps(tables)
    assert delivery_gap >= 1.2 and vip_gap >= 30


def delivery_spike(tables: Tables, config: DemoConfig = DemoConfig()) -> float:
    fb = tables["feedback"]
    hits = fb.loc[fb["text"].map(lambda t: texts.mentions(t, "delivery_slow")), "created_at"]
    monday = pd.Timestamp(spike_week(config))
    weeks = ((hits - monday).dt.days // 7).value_counts()
    first_week = -((monday - pd.Timestamp(config.start)).days // 7)
    full = range(first_week, (config.days - (monday - pd.Timestamp(config.start)).days) // 7)
    usual = weeks.reindex([w for w in full if w != 0], fill_value=0).median()
    return float(weeks.get(0, 0) / usual)


def test_delivery_complaints_spike_in_one_week(tables: Tables) -> None:
    assert spike_week(DemoConfig()) == SPIKE_WEEK == dt.date(2026, 6, 1)
    assert 3.0 <= delivery_spike(tables) <= 6.0
    fb = tables["feedback"]
    weekly = fb.groupby(fb["created_at"].dt.to_period("W-SUN")).size()
    assert weekly.idxmax().start_time == pd.Timestamp(SPIKE_WEEK) or weekly.max() < 200


def b2b_churn_nps(tables: Tables) -> tuple[float, float]:
    subs = tables["subscriptions"].dropna(subset=["account_id"])
    churned = set(subs.loc[subs["ended_at"].notna() & subs["renewed"].eq(False), "account_id"])
    roles = tables["contacts"].set_index("contact_id")["role"]
    fb = tables["feedback"].dropna(subset=["contact_id"])
    deciders = fb[fb["contact_id"].map(roles) == "decision_maker"]
    gone = deciders["account_id"].isin(list(churned))
    return float(deciders.loc[gone, "nps"].mean()), float(deciders.loc[~gone, "nps"].mean())


def test_b2b_decision_makers_at_churned_accounts_scored_lower(tables: Tables) -> None:
    churned, renewed = b2b_churn_nps(tables)
    assert renewed - churned >= 2.0


def test_b2b_surveys_precede_the_churn(tables: Tables) -> None:
    subs = tables["subscriptions"].dropna(subset=["account_id"])
    ends = subs[subs["renewed"].eq(False)].set_index("account_id")["ended_at"]
    fb = tables["feedback"]
    late = fb["account_id"].map(ends).notna() & (fb["created_at"] >= fb["account_id"].map(ends))
    assert not late.any()


# --- files -------------------------------------------------------------------------------------


def test_write_files_in_the_formats_exports_come_in(tmp_path: Path) -> None:
    small = generate_company(SMALL)
    paths = write_files(small, tmp_path / "demo")
    assert set(paths) == set(KINDS)
    assert paths["customers"].read_bytes().startswith(b"\xef\xbb\xbf")
    orders = pd.read_csv(paths["orders"], encoding="gb18030", dtype=str, keep_default_na=False)
    assert len(orders) == len(small["orders"])
    assert orders["ordered_at"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()
    assert (orders["customer_id"] == "").any()
    with pytest.raises(UnicodeDecodeError):
        paths["orders"].read_text(encoding="utf-8")
    events = pd.read_json(paths["events"], lines=True, dtype=False)
    assert len(events) == len(small["events"]) and isinstance(events["occurred_at"][0], str)
    accounts = pd.read_excel(paths["accounts"], dtype=str, engine="openpyxl")
    assert list(accounts.columns) == list(small["accounts"].columns)
    feedback = pd.read_csv(paths["feedback"], encoding="utf-8", dtype=str, keep_default_na=False)
    assert len(feedback) == len(small["feedback"])
    assert (feedback["nps"] == "").any() and not feedback["nps"].str.contains(r"\.").any()
    subs = pd.read_csv(paths["subscriptions"], dtype=str, keep_default_na=False)
    assert set(subs["renewed"]) <= {"True", "False", ""}
