"""Target lists on a real store: save, preview, refresh, export, push to a real HTTP server,
refresh on schedule, and the API with its role checks."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cxloop.act import service as act_service
from cxloop.act.schemas import TargetListCreate, TargetQuery, TopicMention
from cxloop.api import Store, connect
from cxloop.config import Settings
from cxloop.errors import Conflict, Invalid, NotFound
from cxloop.ingest import service as ingest_service
from tests.cli.support import run_cxloop
from tests.web.support import build_api

AS_OF = dt.datetime(2026, 6, 30, 12, 0)
FILES: dict[str, str] = {
    "customers": "customer_id,segment,region,signed_up_at\n"
    "c1,vip,north,2024-01-01\nc2,regular,south,2024-02-01\n"
    "c3,regular,north,2025-03-01\nc4,new,north,2026-06-01\n",
    "orders": "order_id,customer_id,ordered_at,amount,status\n"
    "o1,c1,2026-06-20T10:00:00Z,900,completed\n"
    "o2,c2,2026-02-01T10:00:00Z,500,completed\n"
    "o3,c3,2026-03-01T10:00:00Z,300,completed\n"
    "o4,c3,2026-03-02T10:00:00Z,700,refunded\n"
    "o5,c4,2026-06-25T10:00:00Z,50,completed\n",
    "subscriptions": "subscription_id,customer_id,plan,started_at,ended_at,renewed,status\n"
    "s1,c1,member,2025-01-01,,,active\n"
    "s2,c2,member,2025-01-01,2026-05-01,false,cancelled\n"
    "s3,c3,member,2025-06-01,,,active\n",
    "feedback": "feedback_id,channel,customer_id,created_at,text,nps\n"
    "f1,ticket,c1,2026-06-01T09:00:00Z,客服回复太慢了，等了三天都没人理,3\n"
    "f2,survey,c3,2026-01-10T09:00:00Z,客服态度很差,8\n"
    "f3,survey,c4,2026-06-26T09:00:00Z,送货很快，很满意,10\n",
}
SLOW_SUPPORT = TargetQuery(
    value_top_share=0.5,
    churned=False,
    mentioned=[TopicMention(topic="service", sentiment="negative", within_days=90)],
)


def _load(store: Store, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for kind, text in FILES.items():
        path = folder / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        with store.sessions() as session:
            summary = ingest_service.import_file(
                session=session, settings=store.settings, kind=kind, path=path
            )
        assert summary.quarantined == 0, (kind, summary)


@pytest.fixture
def loaded(store: Store, tmp_path: Path) -> Store:
    _load(store, tmp_path / "files")
    return store


def test_preview_counts_each_condition_on_the_store(loaded: Store) -> None:
    preview = act_service.preview(settings=loaded.settings, query=SLOW_SUPPORT, as_of=AS_OF)
    assert [(s.condition, s.remaining) for s in preview.steps] == [
        ("all customers", 4),
        ("not churned", 3),  # c2 cancelled without renewal
        ("value in the top 50%", 1),  # c1 900 and c2 500 are the top half; c2 is gone
        ("mentioned service (negative) in the last 90 days", 1),  # c3's was in January
    ]
    assert [r["customer_id"] for r in preview.sample] == ["c1"]
    assert preview.sample[0]["value"] == 900.0
    assert preview.as_of == AS_OF


def test_as_of_defaults_to_the_latest_activity(loaded: Store) -> None:
    preview = act_service.preview(settings=loaded.settings, query=TargetQuery())
    assert preview.as_of == dt.datetime(2026, 6, 26, 9, 0)  # f3, the latest row
    assert preview.matched == 4


def test_refresh_stores_members_and_reports_changes(loaded: Store, tmp_path: Path) -> None:
    with loaded.sessions.begin() as session:
        act_service.create(
            session=session, list_in=TargetListCreate(name="slow-support", query=SLOW_SUPPORT)
        )
    with loaded.sessions.begin() as session:
        first = act_service.refresh(
            session=session, settings=loaded.settings, name="slow-support", as_of=AS_OF
        )
    assert (first.members, first.added, first.removed, first.pushed) == (1, 1, 0, False)
    with loaded.sessions.begin() as session:
        later = act_service.refresh(
            session=session,
            settings=loaded.settings,
            name="slow-support",
            as_of=AS_OF + dt.timedelta(days=100),  # the 1 June complaint is over 90 days old
        )
        assert (later.members, later.added, later.removed) == (0, 0, 1)
        assert act_service.get(session=session, name="slow-support").member_count == 0
    with loaded.sessions.begin() as session:
        act_service.refresh(
            session=session, settings=loaded.settings, name="slow-support", as_of=AS_OF
        )
        members = act_service.members(session=session, name="slow-support")
        assert members["customer_id"].tolist() == ["c1"]
        assert act_service.export(session=session, name="slow-support", path=tmp_path / "l.csv")
        act_service.export(session=session, name="slow-support", path=tmp_path / "l.xlsx")
        with pytest.raises(Invalid, match=r"\.csv or \.xlsx"):
            act_service.export(session=session, name="slow-support", path=tmp_path / "l.txt")
    assert pd.read_csv(tmp_path / "l.csv")["customer_id"].tolist() == ["c1"]
    excel = pd.read_excel(tmp_path / "l.xlsx", engine="openpyxl")
    assert excel["customer_id"].tolist() == ["c1"]
    assert "name" not in excel.columns and "email" not in excel.columns  # no PII leaves


def test_names_are_unique_and_unknown_lists_are_not_found(loaded: Store) -> None:
    with loaded.sessions.begin() as session:
        act_service.create(session=session, list_in=TargetListCreate(name="x", query=TargetQuery()))
        with pytest.raises(Conflict):
            act_service.create(
                session=session, list_in=TargetListCreate(name="x", query=TargetQuery())
            )
        with pytest.raises(NotFound):
            act_service.refresh(session=session, settings=loaded.settings, name="nope")
        act_service.remove(session=session, name="x")
        assert act_service.list_all(session=session) == []


def test_a_bad_definition_names_every_problem() -> None:
    with pytest.raises(Invalid) as caught:
        act_service.parse_definition(
            {
                "name": "",
                "query": {"value_top_share": 2, "mentioned": [{"topic": "service", "x": 1}]},
                "webhook_url": "not a url",
            }
        )
    fields = {p.field for p in caught.value.problems}
    assert {"name", "query.value_top_share", "query.mentioned.0.x", "webhook_url"} <= fields
    with pytest.raises(Invalid, match="mapping"):
        act_service.parse_definition(["a list"])


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"received": [], "status": 200})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", handler
    server.shutdown()
    server.server_close()


def test_refresh_pushes_members_to_the_webhook_and_keeps_them_when_it_fails(
    loaded: Store, webhook: tuple[str, type[_Receiver]]
) -> None:
    url, receiver = webhook
    list_in = TargetListCreate.model_validate(
        {"name": "pushed", "query": SLOW_SUPPORT.model_dump(), "webhook_url": url}
    )
    with loaded.sessions.begin() as session:
        act_service.create(session=session, list_in=list_in)
    with loaded.sessions.begin() as session:
        result = act_service.refresh(
            session=session, settings=loaded.settings, name="pushed", as_of=AS_OF
        )
    assert result.pushed and result.push_error is None
    (body,) = receiver.received
    assert body["list"] == "pushed" and body["count"] == 1
    assert body["members"][0]["customer_id"] == "c1"
    receiver.status = 500
    with loaded.sessions.begin() as session:
        failed = act_service.refresh(
            session=session, settings=loaded.settings, name="pushed", as_of=AS_OF
        )
    assert not failed.pushed and "HTTP 500" in (failed.push_error or "")
    with loaded.sessions.begin() as session:
        assert act_service.members(session=session, name="pushed")["customer_id"].tolist() == ["c1"]


def test_a_redirecting_webhook_is_a_failed_push_not_a_silent_get(loaded: Store) -> None:
    """urllib would follow a 302 with a GET and no body: nothing delivered, yet 'pushed'."""

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.end_headers()

        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook?token=s3cret"
        list_in = TargetListCreate.model_validate(
            {"name": "moved", "query": {}, "webhook_url": url}
        )
        with loaded.sessions.begin() as session:
            act_service.create(session=session, list_in=list_in)
        with loaded.sessions.begin() as session:
            result = act_service.refresh(session=session, settings=loaded.settings, name="moved")
    finally:
        server.shutdown()
        server.server_close()
    assert not result.pushed and "HTTP 302" in (result.push_error or "")
    assert "s3cret" not in (result.push_error or "")  # the URL's secret stays out of messages
    assert result.members == 4  # the refresh itself is kept


def test_one_broken_list_does_not_stop_the_scheduled_refresh_of_others(loaded: Store) -> None:
    from cxloop.act.models import TargetList

    with loaded.sessions.begin() as session:
        act_service.create(
            session=session,
            list_in=TargetListCreate(name="good", query=TargetQuery(), refresh_hours=1),
        )
        # stored by an older version, no longer valid: a churn risk above 1
        session.add(TargetList(name="stale", definition={"min_churn_risk": 5}, refresh_hours=1))
    with loaded.sessions.begin() as session:
        results = {
            r.name: r for r in act_service.refresh_due(session=session, settings=loaded.settings)
        }
    assert results["good"].members == 4 and results["good"].error is None
    assert results["stale"].error and "min_churn_risk" in results["stale"].error
    with loaded.sessions() as session:
        assert act_service.get(session=session, name="good").member_count == 4


def test_refresh_due_follows_each_lists_schedule(loaded: Store) -> None:
    with loaded.sessions.begin() as session:
        for name, hours in (("daily", 24), ("weekly", 168), ("manual", None)):
            act_service.create(
                session=session,
                list_in=TargetListCreate(name=name, query=TargetQuery(), refresh_hours=hours),
            )
    with loaded.sessions.begin() as session:
        first = act_service.refresh_due(session=session, settings=loaded.settings)
    assert sorted(r.name for r in first) == ["daily", "weekly"]  # never refreshed: both due
    with loaded.sessions.begin() as session:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        later = act_service.refresh_due(
            session=session, settings=loaded.settings, now=now + dt.timedelta(hours=25)
        )
    assert [r.name for r in later] == ["daily"]


def test_cli_creates_previews_refreshes_and_exports(tmp_path: Path) -> None:
    store = connect(settings=Settings(database_url=f"sqlite:///{tmp_path / 'cli.db'}"))
    _load(store, tmp_path / "files")
    store.close()
    definition = tmp_path / "list.yaml"
    definition.write_text(
        "name: slow-support\nquery:\n  churned: false\n  mentioned:\n"
        "    - {topic: service, sentiment: negative, within_days: 90}\n",
        encoding="utf-8",
    )
    preview = run_cxloop(tmp_path, "targets", "preview", str(definition), "--as-of", "2026-06-30")
    assert preview.returncode == 0, preview.stderr
    assert "1 of 4 customers" in preview.stdout and "c1" in preview.stdout
    assert run_cxloop(tmp_path, "targets", "create", str(definition)).returncode == 0
    refreshed = run_cxloop(tmp_path, "targets", "refresh", "slow-support", "--as-of", "2026-06-30")
    assert "1 members" in refreshed.stdout, refreshed.stderr
    out = tmp_path / "members.csv"
    assert run_cxloop(tmp_path, "targets", "export", "slow-support", str(out)).returncode == 0
    assert pd.read_csv(out)["customer_id"].tolist() == ["c1"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nquery: {min_churn_risk: 3}\n", encoding="utf-8")
    refused = run_cxloop(tmp_path, "targets", "create", str(bad))
    assert refused.returncode == 2
    assert "query.min_churn_risk" in refused.stderr and "3" in refused.stderr


def test_api_roles_preview_create_refresh_and_members(tmp_path: Path) -> None:
    app = build_api(tmp_path / "api.db", seed=False)
    _load(app.store, tmp_path / "files")
    body = {"name": "slow", "query": SLOW_SUPPORT.model_dump(exclude_none=True)}
    assert (
        app.client.post("/api/v1/targets", json=body, headers=app.auth("viewer")).status_code == 403
    )
    created = app.client.post("/api/v1/targets", json=body, headers=app.auth("analyst"))
    assert created.status_code == 201, created.text
    assert created.json()["created_by"] == "analyst"
    preview = app.client.post(
        "/api/v1/targets/preview", json=body["query"], headers=app.auth("viewer")
    )
    assert preview.status_code == 200 and preview.json()["customers"] == 4
    refreshed = app.client.post("/api/v1/targets/slow/refresh", headers=app.auth("admin"))
    assert refreshed.status_code == 200, refreshed.text
    members = app.client.get("/api/v1/targets/slow/members", headers=app.auth("viewer"))
    assert refreshed.json()["members"] == 1
    assert [m["customer_id"] for m in members.json()] == ["c1"]
    csv = app.client.get("/api/v1/targets/slow/members?format=csv", headers=app.auth("viewer"))
    assert csv.text.startswith("customer_id,segment,region,value,churn_risk,last_nps")
    bad = app.client.post(
        "/api/v1/targets",
        json={"name": "b", "query": {"churned": "maybe"}},
        headers=app.auth("admin"),
    )
    assert bad.status_code == 422 and "churned" in bad.text
    missing = app.client.get("/api/v1/targets/nope", headers=app.auth("viewer"))
    assert missing.status_code == 404
    hooked = {**body, "name": "hooked", "webhook_url": "https://crm.example.com/h/t0ken?k=1"}
    assert app.client.post("/api/v1/targets", json=hooked, headers=app.auth("admin")).is_success
    seen = {
        role: app.client.get("/api/v1/targets/hooked", headers=app.auth(role)).json()
        for role in ("viewer", "analyst")
    }
    assert seen["viewer"]["webhook_url"] == "https://crm.example.com/…"  # the token is hidden
    assert seen["analyst"]["webhook_url"] == "https://crm.example.com/h/t0ken?k=1"
