"""What a reader of a PDF report sees: its text (pypdf), whitespace made single spaces; and
the line each overview tile must print."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from cxloop.reports.document import DECIMALS, number


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"[ \t]+", " ", text)


def tile_line(tile: object) -> str:
    """``NPS 2026-09 2.7 -6.6 – 12.0 257``: label, period, score, interval, n."""
    d = DECIMALS.get(tile.metric, 1)  # type: ignore[attr-defined]
    t = tile
    return (
        f"{t.label} {t.period} {number(t.score, d)} {number(t.ci_low, d)} – "  # type: ignore[attr-defined]
        f"{number(t.ci_high, d)} {t.n}"  # type: ignore[attr-defined]
    )
