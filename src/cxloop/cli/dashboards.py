"""``cxloop dashboards warm``: fit the dashboards' slow views ahead and store them, so the
first visit after an import reads a stored result instead of waiting for the fits."""

from __future__ import annotations

import enum
import json
import sys
from typing import Annotated

import typer

from cxloop.cli.context import console, existing_store


class Format(enum.StrEnum):
    text = "text"
    json = "json"


class ScoreChoice(enum.StrEnum):
    nps = "nps"
    csat = "csat"
    ces = "ces"
    rating = "rating"


class OutcomeChoice(enum.StrEnum):
    churn = "churn"
    repurchase = "repurchase"
    orders = "orders"
    spend = "spend"


dashboards_app = typer.Typer(
    help="Dashboards: fit the slow views ahead (stored results).", no_args_is_help=True
)


@dashboards_app.command("warm")
def warm_command(
    score: Annotated[
        list[ScoreChoice] | None,
        typer.Option("--score", help="Quadrant of this score (repeat; default nps)."),
    ] = None,
    outcome: Annotated[
        list[OutcomeChoice] | None,
        typer.Option("--outcome", help="Say × do of this outcome (repeat; default churn)."),
    ] = None,
    output: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.text,
) -> None:
    """Fit the drivers page's default view and store it, unless stored for the current data.

    The default view: no filters, the page's thresholds and 200 resamples; `--score` and
    `--outcome` add others. `cxloop serve` does this on its own after each data change.
    """
    from cxloop.dashboards import drivers

    store = existing_store()
    scores = tuple(s.value for s in score or [ScoreChoice.nps])
    outcomes = tuple(o.value for o in outcome or [OutcomeChoice.churn])
    try:
        with store.sessions.begin() as session:
            done = drivers.warm(
                session=session,
                settings=store.settings,
                scores=scores,  # type: ignore[arg-type]
                outcomes=outcomes,  # type: ignore[arg-type]
            )
    finally:
        store.close()
    if output is Format.json:
        rows = [{"section": name, **c.model_dump(mode="json")} for name, c in done]
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return
    if not done:
        console.print("no feedback stored yet: nothing to fit", highlight=False)
        return
    for name, c in done:
        when = f"{c.computed_at:%Y-%m-%d %H:%M:%S} UTC"
        state = "stored already" if c.stored else "fitted and stored"
        console.print(f"{name}: {state} ({when}, took {c.seconds:.1f} s)", highlight=False)
