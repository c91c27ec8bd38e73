"""One settings object for the whole application (environment prefix ``CXLOOP_``)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import AfterValidator, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TAXONOMY_PACKS = ("hotel", "food_delivery")
LOOP_EVENTS = (
    "created",
    "attached",
    "assigned",
    "warned",
    "escalated",
    "in_progress",
    "waiting_on_customer",
    "resolved",
    "verified",
    "reopened",
    "closed_unverified",
    "closed",
    "sla_paused",
    "sla_resumed",
    "note",
    "contact_logged",
    "root_cause_set",
)
"""Case events a webhook may carry: history kinds, and a status change by the status it reaches."""
"""Opt-in topic packs shipped beside the default taxonomy (``cxloop/text/data/packs/NAME.yaml``)."""


def known_zone(value: str) -> str:
    """The name back when zoneinfo knows it: one check, one sentence, for every zone a setting or
    a business calendar names."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("is not an IANA time zone (e.g. Asia/Shanghai)") from None
    return value


ZoneName = Annotated[str, AfterValidator(known_zone)]


class Settings(BaseSettings):
    """Everything configurable, read once from the environment (or passed in by tests)."""

    model_config = SettingsConfigDict(env_prefix="CXLOOP_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///cxloop.db",
        description="SQLAlchemy URL; SQLite file in the working directory by default.",
    )
    default_region: str = Field(
        default="CN", description="Region used to read phone numbers written without +country."
    )
    timezone: ZoneName = Field(
        default="Asia/Shanghai",
        description="Zone of timestamps that carry no offset; everything is stored in UTC.",
    )
    import_batch_size: int = Field(default=10_000, ge=100, le=200_000)
    import_parallel: bool = Field(
        default=True, description="Read and validate big files in a second process."
    )
    import_parallel_min_bytes: int = Field(default=16 * 1024 * 1024, ge=0)
    date_order: Literal["auto", "day-first", "month-first"] = Field(
        default="auto",
        description="How dates like 11/07/2026 read: auto decides per file from its values "
        "(a file where every such date reads both ways is read month-first, with a warning).",
    )
    enrich_on_import: bool = Field(
        default=True,
        description="Analyse feedback text (sentiment, topics, intent…) in the import that "
        "stores it, committed with its chunk; off: run `cxloop text reenrich` afterwards.",
    )
    text_workers: int = Field(
        default_factory=lambda: usable_cpus(),
        ge=1,
        le=256,
        description="Processes that analyse text during an import (default: one per usable "
        "CPU; 1 = the importing process itself). The pool stays up between chunks.",
    )
    taxonomy_packs: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Opt-in topic packs added to the shipped retail/e-commerce/app taxonomy, "
        "comma-separated: " + ", ".join(TAXONOMY_PACKS) + ".",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    currency: str = Field(
        default="CNY",
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217 code of money amounts (orders, spend, value at stake), shown on "
        "tables (¥ for CNY); the store keeps plain numbers.",
    )

    # --- surveys: links, mail, fatigue -------------------------------------------------------
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where respondents reach this server: survey links start with it.",
    )
    secret_key: str | None = Field(
        default=None,
        min_length=32,
        description="Signs survey links (HMAC); unset: a random key the store makes and keeps.",
    )
    webhook_secret: str | None = Field(
        default=None,
        min_length=16,
        description="Signs survey webhooks (HMAC); the receiver holds the same value. Never the "
        "link key: a receiver that can verify must not be able to forge survey links.",
    )
    smtp_host: str | None = Field(default=None, description="Mail server; unset: no mail.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    smtp_from: str = Field(default="cxloop@localhost", description="From: of every mail.")
    smtp_timeout_s: float = Field(default=10.0, gt=0, le=300)
    notify_max_attempts: int = Field(
        default=5,
        ge=1,
        le=50,
        description="Tries of one notification (mail or webhook) before it is dead-lettered; "
        "waits between tries: 1, 5, 30, then 120 minutes.",
    )
    survey_link_days: int = Field(default=14, ge=1, le=3650, description="Links expire after.")
    survey_cap_contact_days: int = Field(
        default=30,
        ge=0,
        le=3650,
        description="At most one invitation per person in this many "
        "days, across all surveys (0: no cap).",
    )
    survey_cap_account_days: int = Field(
        default=7,
        ge=0,
        le=3650,
        description="At most one distribution reaching an account in "
        "this many days, across all surveys (0: no cap).",
    )
    survey_quiet_hours: str = Field(
        default="21:00-08:00",
        pattern=r"^$|^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$",
        description="No mail in this local window of the recipient's zone (empty: none); "
        "sends wait until it ends.",
    )
    survey_consent: Literal["implied", "explicit"] = Field(
        default="implied",
        description="explicit: send only to people with a recorded consent.",
    )
    background_jobs: bool = Field(
        default=False,
        description="Run survey ticks (triggers, reminders, expiries) and answer ingestion in "
        "the web server's process; `cxloop serve` turns it on.",
    )
    tick_seconds: float = Field(default=60.0, gt=0, le=86_400)

    # --- analytics snapshot ------------------------------------------------------------------
    analytics_snapshot_dir: Path | None = Field(
        default=None,
        description="Folder of the analytics snapshot (DuckDB over Parquet) that dashboards and "
        "metrics read once `cxloop analytics snapshot refresh` has written it; refreshed after "
        "each import and on `cxloop serve`'s clock. Unset: analytics read the store live.",
    )
    analytics_snapshot_seconds: float = Field(
        default=300.0,
        gt=0,
        le=86_400,
        description="How often `cxloop serve` refreshes the analytics snapshot.",
    )

    # --- loop: cases ------------------------------------------------------------------------
    loop_sla_policy: str | None = Field(
        default=None,
        description="YAML file of the cases' SLA policy (calendar, targets by priority p1–p4, "
        "warn_at); unset: the built-in policy on the CN business calendar.",
    )
    loop_routing: str | None = Field(
        default=None,
        description="YAML file of the cases' routing rules (default_team, strategy, rules by "
        "region, topic or condition); unset: the alert rule's team, else the first team by name.",
    )
    loop_root_causes: str | None = Field(
        default=None,
        description="YAML file of the root-cause codes cases are filed under (a list of codes, "
        "or code: label / {en, zh}); unset: the built-in list.",
    )
    loop_webhooks: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="URLs that get every case event named in CXLOOP_LOOP_WEBHOOK_EVENTS as a "
        "signed JSON webhook (CXLOOP_WEBHOOK_SECRET), comma-separated; empty: none.",
    )
    loop_webhook_events: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("created", "escalated", "reopened", "verified"),
        description="Case events sent to CXLOOP_LOOP_WEBHOOKS, comma-separated: "
        + ", ".join(LOOP_EVENTS)
        + ".",
    )
    loop_notify_language: Literal["zh", "en"] = Field(
        default="zh",
        description="Language of case notices (assigned, SLA warning, escalation, reopened) "
        "to people not listed in CXLOOP_LOOP_NOTIFY_LANGUAGES.",
    )
    loop_notify_languages: dict[str, Literal["zh", "en"]] = Field(
        default_factory=dict,
        description='Notice language per team member, as JSON: {"li.na": "en"}.',
    )
    loop_followup_solved_from: int = Field(
        default=7,
        ge=1,
        le=10,
        description="A follow-up answer (0–10) at or above this verifies the case; below "
        "reopens it.",
    )
    loop_followup_days: int = Field(
        default=7,
        ge=1,
        le=365,
        description="Calendar days a resolved case's follow-up waits for an answer before the "
        "case is closed unverified.",
    )

    @field_validator("database_url")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "sqlite+", "postgresql:", "postgresql+")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("analytics_snapshot_dir", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("taxonomy_packs", mode="before")
    @classmethod
    def _known_packs(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",")]
        if not isinstance(value, list | tuple):
            return value
        names = [str(v).strip().lower() for v in value if str(v).strip()]
        unknown = [name for name in names if name not in TAXONOMY_PACKS]
        if unknown:
            raise ValueError(
                f"names an unknown taxonomy pack ({', '.join(map(repr, unknown))}); "
                f"known packs: {', '.join(TAXONOMY_PACKS)} (CXLOOP_TAXONOMY_PACKS)"
            )
        return tuple(dict.fromkeys(names))

    @field_validator("loop_webhooks", "loop_webhook_events", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",")]
        if not isinstance(value, list | tuple):
            return value
        return tuple(dict.fromkeys(str(v).strip() for v in value if str(v).strip()))

    @field_validator("loop_webhooks")
    @classmethod
    def _http_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [url for url in value if not _http_url(url)]
        if bad:
            shown = ", ".join(_shown_url(url) for url in bad)
            raise ValueError(f"names a URL that is not http(s)://host/…: {shown}")
        return value

    @field_validator("loop_webhook_events")
    @classmethod
    def _known_events(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [event for event in value if event not in LOOP_EVENTS]
        if unknown:
            raise ValueError(
                f"names an unknown case event ({', '.join(map(repr, unknown))}); "
                f"events: {', '.join(LOOP_EVENTS)}"
            )
        return value

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError("is not a two-letter region code such as CN, HK, US or GB")
        return value.upper()


def _http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- reading it checks it
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _shown_url(url: str) -> str:
    """Scheme and host only: a webhook URL's path often carries a token."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "…"
    return f"{parts.scheme}://{parts.hostname}/…" if parts.scheme and parts.hostname else url[:12]


def usable_cpus() -> int:
    """CPUs this process may run on: a container's or ``taskset``'s share, not the host's."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, built once per process."""
    return Settings()
