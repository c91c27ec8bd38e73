"""A download or report is rendered with its reader's masking: the topic explorer's example
verbatims show a phone number to an agent (read_pii), never to a viewer — in the XLSX and in
the scheduled report's PDF alike."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook

from cxloop import api
from cxloop.reports import service as reports_service
from tests.reports.conftest import NOW
from tests.reports.pdf_text import pdf_text
from tests.web.overview_support import settings_for

PHONE = "13800138000"


def test_viewer_files_hide_what_an_agent_may_read(tmp_path: Path) -> None:
    store = api.connect(settings=settings_for(tmp_path / "pii.db"))
    try:
        api.import_records(store, "feedback", [
            {"feedback_id": f"f{i}", "channel": "app", "created_at": f"2026-11-0{i + 1} 10:00",
             "text": f"配送太慢了，快递员态度差，请打电话{PHONE}联系我", "nps": 2}
            for i in range(6)
        ])  # fmt: skip
        seen = {}
        with store.sessions() as session:
            for role in ("viewer", "agent"):
                xlsx = reports_service.export(
                    session=session, settings=store.settings, view="topics", fmt="xlsx",
                    query="", role=role, now=NOW,
                )  # fmt: skip
                book = load_workbook(io.BytesIO(xlsx.content))
                cells = " ".join(str(c.value) for s in book for r in s.iter_rows() for c in r)
                pdf = reports_service.render(
                    session=session, settings=store.settings, query="", role=role, lang="zh",
                    sections=["topics"], fmt="pdf", now=NOW,
                )  # fmt: skip
                seen[role] = (PHONE in cells, PHONE in pdf_text(pdf.content).replace("\n", ""))
    finally:
        store.close()
    assert seen == {"viewer": (False, False), "agent": (True, True)}
