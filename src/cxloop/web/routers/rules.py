"""Alert rules: every role reads the rules in force and their versions; analysts and admins
(``manage_rules``) save a new version and dry-run rules over past feedback.

Rules are sent as the YAML file itself (``Content-Type: application/yaml`` or ``text/yaml``,
``?note=`` for the version's note) or as JSON ``{"yaml": "…", "note": "…"}``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cxloop.errors import Invalid, Problem
from cxloop.loop import dry_run, rule_store
from cxloop.loop.dry_run import DryRunReport
from cxloop.loop.rule_store import RuleSetRead, RuleSetVersionRead
from cxloop.privacy.models import User
from cxloop.privacy.roles import Permission
from cxloop.web.deps import Reader, SessionDep, SettingsDep, require

router = APIRouter(prefix="/api/v1/rules", tags=["rules"])
RuleManager = Annotated[User, Depends(require(Permission.manage_rules))]
"""Saves and dry-runs alert rules: analysts, admins."""
MAX_TEXT = 1_000_000


class RulesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    yaml: str = Field(max_length=MAX_TEXT, description="The whole rules file (YAML).")
    note: str | None = Field(default=None, max_length=2000, description="Why this version.")


class DryRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    yaml: str | None = Field(
        default=None, max_length=MAX_TEXT, description="Rules to try; default: those in force."
    )
    since: str | None = Field(
        default="30d", max_length=40, description="A length before until (30d, 6m) or a date."
    )
    until: str | None = Field(
        default=None, max_length=40, description="A date (kept whole) or period; default: now."
    )


BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": RulesIn.model_json_schema()},
            "application/yaml": {"schema": {"type": "string"}},
            "text/yaml": {"schema": {"type": "string"}},
        },
    }
}


async def rules_body(
    request: Request,
    note: Annotated[str | None, Query(max_length=2000, description="With a YAML body.")] = None,
) -> RulesIn:
    """The rules of the request: the YAML body itself, or JSON ``{"yaml", "note"}``."""
    raw = await request.body()
    if len(raw) > MAX_TEXT:
        raise Invalid(f"is {len(raw):,} bytes; rules are at most {MAX_TEXT:,}", "body")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("is not UTF-8 text", "body") from None
    kind = request.headers.get("content-type", "").lower()
    if "yaml" in kind or kind.startswith("text/"):
        return RulesIn(yaml=text, note=note)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        reason = "is not JSON {yaml, note}, nor a YAML body (Content-Type: application/yaml)"
        raise Invalid(reason, "body") from None
    try:
        return RulesIn.model_validate(data)
    except ValidationError as exc:
        raise Invalid([_problem(e) for e in exc.errors()]) from None


def _problem(error: Any) -> Problem:
    value = error.get("input")
    shown = value if isinstance(value, str | int | float | bool) and len(str(value)) < 200 else None
    return Problem(".".join(map(str, error["loc"])) or "body", shown, error["msg"])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@router.get("", response_model=RuleSetRead)
def read_rules(session: SessionDep, _user: Reader) -> RuleSetRead:
    """The rules in force with their YAML (``version`` null: none saved, no rule runs)."""
    return rule_store.current_read(session)


@router.put("", response_model=RuleSetRead, openapi_extra=BODY)
def save_rules(
    user: RuleManager, body: Annotated[RulesIn, Depends(rules_body)], session: SessionDep
) -> RuleSetRead:
    """Save the rules as the next version, in force for feedback stored from now on; the text
    of the version in force saves nothing (``changed`` false); 422 lists every problem. The
    caller is checked before the body is read (``user`` first: dependencies run in order)."""
    return rule_store.save_rules(
        session=session, text=body.yaml, actor=user.username, now=_now(), note=body.note
    )


@router.get("/versions", response_model=list[RuleSetVersionRead])
def list_versions(session: SessionDep, _user: Reader) -> list[RuleSetVersionRead]:
    """Every saved version, newest (in force) first."""
    return rule_store.list_versions(session)


@router.get("/versions/{version}", response_model=RuleSetRead)
def read_version(version: int, session: SessionDep, _user: Reader) -> RuleSetRead:
    """One saved version with its YAML and rules."""
    return rule_store.get_version(session, version)


@router.post("/dry-run", response_model=DryRunReport)
def dry_run_rules(
    body: DryRunIn, session: SessionDep, settings: SettingsDep, _user: RuleManager
) -> DryRunReport:
    """What rules (sent, or those in force) would have done to the feedback created in the
    window: cases opened and attached, by rule, severity, priority and for VIPs."""
    return dry_run.dry_run_of(
        session=session, settings=settings, text=body.yaml, since=body.since, until=body.until,
        now=_now(),
    )  # fmt: skip
