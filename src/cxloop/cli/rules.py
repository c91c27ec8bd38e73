"""``cxloop rules check|set|show|versions|dry-run``: the loop's alert rules, saved as versions.

A file is checked whole (every problem printed, exit 1); ``set`` stores it as the next version,
in force for feedback stored from then on; ``dry-run`` shows what rules would have done to the
past before anyone is paged. The CLI runs as the local admin (recorded as ``cli``).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Protocol
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from cxloop.cli.context import console, errors, existing_store, open_store, unit_of_work
from cxloop.cli.notify import ListFormat
from cxloop.errors import Invalid, NotFound

if TYPE_CHECKING:
    from cxloop.loop.dry_run import DryRunReport

HELP = "Alert rules: check, save as versions, show, and dry-run over past feedback."
rules_app = typer.Typer(help=HELP, no_args_is_help=True)
LOCAL = "cli"
File = Annotated[Path, typer.Argument(help="YAML: a list of rules (see examples/loop/rules.yaml).")]


class ShowFormat(enum.StrEnum):
    yaml = "yaml"
    json = "json"


class ReportFormat(enum.StrEnum):
    text = "text"
    json = "json"


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "is not a readable UTF-8 file" if file.is_file() else "is not a file"
        raise Invalid(f"{reason} ({type(exc).__name__})", "FILE", str(file)) from None


def _refused(file: Path | str, exc: Invalid) -> typer.Exit:
    """Every problem of a rules file on stderr; the exit (code 1) to raise."""
    count = len(exc.problems)
    errors.print(f"{file}: {count} problem{'s' * (count != 1)}", highlight=False)
    for p in exc.problems:
        shown = "" if p.value is None or p.value == "" else f" {p.value!r}"
        errors.print(
            f"error: {p.field or 'file'}:{shown} — {p.reason}", highlight=False, soft_wrap=True
        )
    return typer.Exit(1)


class _Rule(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def enabled(self) -> bool: ...


def _count(rules: Sequence[_Rule], kind: str = "rule") -> str:
    on = sum(1 for r in rules if r.enabled)
    return f"{len(rules)} {kind}{'s' * (len(rules) != 1)} ({on} on)"


def _ids(rules: Sequence[_Rule]) -> str:
    return ", ".join(r.id if r.enabled else f"{r.id} (off)" for r in rules) or "none"


def _both(rules: Sequence[_Rule], metric_alerts: Sequence[_Rule], *, ids: bool) -> str:
    """The feedback rules' count (and ids), then the ``metric_alerts`` rules' when there are
    any: ``6 rules (5 on), 3 metric-alert rules (3 on)``."""
    said = _count(rules) + (f": {_ids(rules)}" if ids else "")
    if metric_alerts:
        said += "; " if ids else ", "
        said += _count(metric_alerts, "metric-alert rule")
        said += f": {_ids(metric_alerts)}" if ids else ""
    return said


def _zone() -> ZoneInfo:
    from cxloop.config import get_settings

    return ZoneInfo(get_settings().timezone)


def _when(moment: dt.datetime | None) -> str:
    """A stored (naive UTC) time in the store's zone, to the minute."""
    if moment is None:
        return "–"
    return moment.replace(tzinfo=dt.UTC).astimezone(_zone()).strftime("%Y-%m-%d %H:%M")


@rules_app.command("check")
def check_command(file: File) -> None:
    """Check a rules file: every problem at once (exit 1); nothing is stored. Teams are
    checked against the store when there is one."""
    from cxloop.cli.context import require_store
    from cxloop.loop import rule_store

    text = _read(file)
    try:
        require_store()
    except NotFound:
        store = None
    else:
        store = existing_store()
    try:
        if store is None:
            rule_set = rule_store.check_rules(session=None, text=text)
        else:
            with unit_of_work(store) as session:
                rule_set = rule_store.check_rules(session=session, text=text)
    except Invalid as exc:
        raise _refused(file, exc) from None
    teams = "teams checked against the store" if store else "teams not checked (no store)"
    console.print(
        f"{file}: valid — {_both(rule_set.rules, rule_set.metric_alerts, ids=True)}; {teams}",
        highlight=False,
        soft_wrap=True,
    )


@rules_app.command("set")
def set_command(
    file: File,
    note: Annotated[str | None, typer.Option("--note", help="Why this version (kept).")] = None,
) -> None:
    """Save a rules file as the next version, in force for feedback stored from now on (the
    past is never looked at again: see dry-run). The same text again saves nothing."""
    from cxloop.loop import rule_store

    text = _read(file)
    store = open_store()
    try:
        with unit_of_work(store) as session:
            saved = rule_store.save_rules(
                session=session, text=text, actor=LOCAL, now=dt.datetime.now(dt.UTC), note=note
            )
    except Invalid as exc:
        raise _refused(file, exc) from None
    on = _both(saved.rules, saved.metric_alerts, ids=False)
    stored = "feedback and metric alerts" if saved.metric_alerts else "feedback"
    if saved.changed:
        line = (
            f"rules version {saved.version} saved: {on}, in force for {stored} stored from "
            f"{_when(saved.applies_from)}"
        )
    else:
        line = (
            f"unchanged: the same text as version {saved.version} ({on}, in force since "
            f"{_when(saved.applies_from)}); nothing saved"
        )
    console.print(line, highlight=False, soft_wrap=True)


@rules_app.command("show")
def show_command(
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="A saved version; default: in force.")
    ] = None,
    output: Annotated[ShowFormat, typer.Option("--format", help="yaml or json.")] = ShowFormat.yaml,
) -> None:
    """The rules in force (or a saved version): the YAML as saved, or JSON with each rule."""
    from cxloop.loop import rule_store

    store = existing_store()
    with unit_of_work(store) as session:
        if version is None:
            found = rule_store.current_read(session)
        else:
            found = rule_store.get_version(session, version)
    if output is ShowFormat.json:
        sys.stdout.write(json.dumps(found.model_dump(mode="json"), ensure_ascii=False, indent=2))
        sys.stdout.write("\n")
    elif found.version is None:
        console.print("no rules saved yet: `cxloop rules set FILE` saves some")
    else:
        sys.stdout.write(found.yaml)


@rules_app.command("versions")
def versions_command(
    output: Annotated[
        ListFormat, typer.Option("--format", help="table or json.")
    ] = ListFormat.table,
) -> None:
    """Every saved version, newest (in force) first: when, by whom, from when it applies."""
    from cxloop.loop import rule_store

    store = existing_store()
    with unit_of_work(store) as session:
        found = rule_store.list_versions(session)
    if output is ListFormat.json:
        rows = [v.model_dump(mode="json") for v in found]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    if not found:
        console.print("no rules saved yet: `cxloop rules set FILE` saves some")
        return
    table = Table(title="alert rule versions")
    for column in ("version", "rules", "in force", "saved", "by", "note"):
        table.add_column(column, justify="right" if column in ("version", "rules") else "left")
    for v in found:
        table.add_row(
            str(v.version),
            str(v.rule_count),
            "yes" if v.current else "",
            _when(v.created_at),
            v.created_by,
            v.note or "",
        )
    console.print(table)


@rules_app.command("dry-run")
def dry_run_command(
    file: Annotated[
        Path | None, typer.Argument(help="A rules file; default: the rules in force.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="A length before --until (30d, 12w, 6m) or a date; 30d."),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="A date (kept whole) or period; default: now.")
    ] = None,
    output: Annotated[
        ReportFormat, typer.Option("--format", help="text or json.")
    ] = ReportFormat.text,
) -> None:
    """What rules would have done to past feedback (created in the window): cases opened,
    feedback attached, by rule, severity and priority, and for VIPs. Nothing is written."""
    from cxloop.loop import dry_run, rule_store

    text = _read(file) if file is not None else None
    if text is not None:
        try:
            rule_store.check_rules(session=None, text=text)
        except Invalid as exc:
            raise _refused(str(file), exc) from None
    store = existing_store()
    with unit_of_work(store) as session:
        report = dry_run.dry_run_of(
            session=session, settings=store.settings, text=text, since=since, until=until,
            now=dt.datetime.now(dt.UTC), source=str(file),
        )  # fmt: skip
    if output is ReportFormat.json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
        return
    _print_report(report)


def _print_report(report: DryRunReport) -> None:
    headline = f"rules {report.rules_from}: {report.headline()}"
    console.print(headline, highlight=False, soft_wrap=True)
    table = Table(title="by rule")
    for column in ("rule", "name", "severity", "matches", "would open", "attach", "VIPs"):
        numeric = column in ("matches", "would open", "attach", "VIPs")
        table.add_column(column, justify="right" if numeric else "left")
    table.add_column("examples")
    for r in report.rules:
        table.add_row(
            r.rule_id if r.enabled else f"{r.rule_id} (off)",
            r.name,
            r.severity,
            str(r.matches),
            str(r.opened),
            str(r.attached),
            str(r.vip_opened),
            ", ".join(r.examples[:2]) + (" …" if len(r.examples) > 2 else ""),
        )
    console.print(table)
    severity = ", ".join(f"{k} {v}" for k, v in report.by_severity.items())
    level = ", ".join(f"{k} {v}" for k, v in report.by_priority.items())
    line = f"cases by severity: {severity}; by priority: {level}"
    console.print(line, highlight=False, soft_wrap=True)
    console.print(f"VIP: {report.vip_rule}", highlight=False, soft_wrap=True)
