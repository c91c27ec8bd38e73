"""How list members leave cxloop: CSV and Excel files, and a JSON POST to a webhook.

Only ids and non-personal facts leave (``EXPORT_COLUMNS``); list-valued columns (the feedback
ids and topics that qualified a member) are joined with ``;`` in CSV and Excel.
"""

from __future__ import annotations

import csv
import datetime as dt
import http.client
import io
import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pandas as pd

from cxloop.errors import Invalid

EXPORT_COLUMNS = (
    "customer_id",
    "segment",
    "region",
    "value",
    "churn_risk",
    "last_nps",
    "churn_model",
    "churn_model_auc",
    "feedback_ids",
    "topics",
)
"""What an export or a push carries: ids and non-personal facts, never names or contacts;
``feedback_ids`` and ``topics`` are what qualified the member (topic conditions), and
``churn_model``/``churn_model_auc`` the model their churn risk comes from."""
LIST_COLUMNS = ("feedback_ids", "topics")
WEBHOOK_TIMEOUT_S = 10.0


def flat(frame: pd.DataFrame) -> pd.DataFrame:
    """List columns joined with ``;`` (for CSV and Excel cells)."""
    out = frame.copy()
    for column in LIST_COLUMNS:
        if column in out:
            out[column] = [";".join(map(str, v)) if isinstance(v, list) else v for v in out[column]]
    return out


def to_csv(frame: pd.DataFrame) -> str:
    out = io.StringIO()
    flat(frame).to_csv(out, index=False, quoting=csv.QUOTE_MINIMAL)
    return out.getvalue()


def write_xlsx(
    frame: pd.DataFrame, path: Path, *, sheet: str, about: list[tuple[str, str]]
) -> None:
    """Members on one sheet (named after the list, 31 characters at most), ``about`` on
    another."""
    with pd.ExcelWriter(path) as writer:
        flat(frame).to_excel(writer, index=False, sheet_name=sheet[:31])
        pd.DataFrame(about, columns=["field", "value"]).to_excel(
            writer, index=False, sheet_name="about"
        )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a GET without the members: treat it as a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def push(
    url: str,
    name: str,
    as_of: dt.datetime,
    records: list[dict[str, Any]],
    churn_models: list[dict[str, Any]],
) -> None:
    """POST the members as JSON, with the churn models their risks rest on; anything but a
    2xx answer (a redirect included) is an error naming the URL. Only ids and non-personal
    facts are sent (``EXPORT_COLUMNS``)."""
    body = json.dumps(
        {
            "list": name,
            "as_of": as_of.isoformat(),
            "count": len(records),
            "churn_models": churn_models,
            "members": records,
        }
    ).encode()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=WEBHOOK_TIMEOUT_S) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError) as exc:
        raise Invalid(f"could not be reached: {exc!r}", "webhook_url", redact_url(url)) from None
    if not 200 <= status < 300:
        raise Invalid(f"answered HTTP {status}", "webhook_url", redact_url(url))


def redact_url(url: str) -> str:
    """Scheme and host only: webhook paths and queries often carry a secret token."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}/…" if parts.scheme else "…"
