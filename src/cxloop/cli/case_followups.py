"""``cxloop cases followups``: the follow-ups of resolved cases (sent, answered, closed unverified,
not sent and why), and ``--run`` to do now what the job ``loop.followups`` does on its clock."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Annotated

import typer
from rich.table import Table

from cxloop.cli.context import console, existing_store, unit_of_work
from cxloop.cli.notify import ListFormat

LABELS = {
    "sent": "sent {n}",
    "not_sent": "not sent {n} (nobody to reach: see the reason)",
    "waiting_quiet_hours": "{n} wait for the end of the quiet hours",
    "no_mail_server": "{n} wait for a mail server (set CXLOOP_SMTP_HOST)",
    "failed": "{n} not taken by the mail server (the survey tick retries)",
    "taken": "{n} sent by another run",
    "survey_archived": "{n} not asked: survey case-followup is archived",
    "verified": "verified {n}",
    "reopened": "reopened {n}",
    "late": "{n} late answers recorded",
    "unreadable": "{n} answers without a score",
    "closed_unverified": "closed unverified {n}",
    "withdrawn": "withdrawn {n} (the case moved on by hand)",
}


def _when(moment: dt.datetime | None, zone: str) -> str:
    from zoneinfo import ZoneInfo

    if moment is None:
        return "–"
    return moment.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def followups_command(
    case_id: Annotated[int | None, typer.Option("--case", help="Only this case's.")] = None,
    outcome: Annotated[
        str | None,
        typer.Option(help="pending, verified, reopened, closed_unverified, not_sent or withdrawn."),
    ] = None,
    run: Annotated[
        bool,
        typer.Option(
            "--run",
            help="First send the due follow-ups, record answers and close expired ones "
            "(what the job loop.followups does).",
        ),
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    output: Annotated[
        ListFormat, typer.Option("--format", help="table or json.")
    ] = ListFormat.table,
) -> None:
    """Follow-ups of resolved cases: sent, answered (verified or reopened), closed unverified or
    not sent, and why."""
    from cxloop.errors import Invalid
    from cxloop.loop import followup

    if outcome is not None and outcome not in followup.OUTCOMES:
        shown = ", ".join(followup.OUTCOMES)
        raise Invalid(f"is not a follow-up outcome ({shown})", "--outcome", outcome)
    store = existing_store()
    counts: dict[str, int] = {}
    if run:
        with unit_of_work(store) as session:
            counts = followup.run(
                session=session, settings=store.settings, now=dt.datetime.now(dt.UTC)
            )
    with unit_of_work(store) as session:
        rows = followup.list_followups(
            session=session, case_id=case_id, outcome=outcome, limit=limit
        )
    if output is ListFormat.json:
        from pydantic import TypeAdapter

        shape = TypeAdapter(list[followup.FollowupRead])
        sys.stdout.write(shape.dump_json(rows, indent=2).decode("utf-8") + "\n")
        return
    if run:
        done = [LABELS.get(k, k + " {n}").format(n=n) for k, n in counts.items() if n]
        console.print(f"follow-ups: {' · '.join(done) or 'nothing to do'}", highlight=False)
    if not rows:
        console.print("no follow-ups", highlight=False)
        return
    zone = store.settings.timezone
    table = Table(title="follow-ups")
    for column in ("case", "round", "outcome", "case now", "sent", "due", "answered", "score",
                   "reason"):  # fmt: skip
        table.add_column(column, overflow="fold", justify="right" if column == "case" else "left")
    for r in rows:
        table.add_row(
            str(r.case_id), str(r.round), r.outcome, r.case_status, _when(r.sent_at, zone),
            _when(r.due_at, zone), _when(r.answered_at, zone),
            "–" if r.score is None else f"{r.score:g}", r.reason or "–",
        )  # fmt: skip
    console.print(table)
