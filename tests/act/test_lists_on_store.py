"""Target lists that cannot silently match nothing, on real SQLite stores built by import:
unknown values refused with close matches (service, CLI, API), topics by zh/en name, members
with the feedback that qualified them, and lists on churn risk naming the model they rest on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from cxloop.act import service as act_service
from cxloop.act.schemas import TargetListCreate, TargetQuery, TopicMention
from cxloop.api import Store, connect
from cxloop.config import Settings
from cxloop.errors import Invalid
from cxloop.feedback import enrichment
from cxloop.insights import service as insights_service
from tests.act.test_service import AS_OF, _load
from tests.cli.support import run_cxloop
from tests.insights.churn_company import AS_OF as CHURN_AS_OF
from tests.insights.churn_company import load_company
from tests.web.support import build_api


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Store]:
    store = connect(settings=Settings(database_url=f"sqlite:///{tmp_path / 'cli.db'}"))
    _load(store, tmp_path / "files")
    yield store
    store.close()


@pytest.fixture(scope="module")
def weak_scores(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A coin-toss churn company whose weak model was stored with --accept-weak-model."""
    folder = tmp_path_factory.mktemp("weak-scores")
    settings = Settings(database_url=f"sqlite:///{folder / 'cli.db'}")
    store = connect(settings=settings)
    try:
        load_company(store, folder / "files", predictable=False)
        with store.sessions.begin() as session:
            insights_service.score_churn(
                session=session, settings=settings, as_of=CHURN_AS_OF, accept_weak_model=True
            )
    finally:
        store.close()
    return settings


def test_unknown_values_are_refused_with_close_matches_not_an_empty_list(small: Store) -> None:
    query = TargetQuery(
        segments=["VIP"], mentioned=[TopicMention(topic="servce")], regions=["north"]
    )
    with pytest.raises(Invalid) as caught:
        act_service.preview(settings=small.settings, query=query, as_of=AS_OF)
    problems = {p.field: p.reason for p in caught.value.problems}
    assert problems["query.segments[0]"] == "is not a stored segment; close matches: vip"
    assert "close matches: service" in problems["query.mentioned[0].topic"]
    assert "query.regions[0]" not in problems  # north is stored
    with small.sessions.begin() as session, pytest.raises(Invalid, match="close matches: vip"):
        act_service.create(
            session=session,
            list_in=TargetListCreate(name="typo", query=TargetQuery(segments=["VIP"])),
            settings=small.settings,
        )
    with small.sessions() as session:
        assert act_service.list_all(session=session) == []


def test_a_topic_named_in_chinese_is_saved_as_its_path(small: Store) -> None:
    with small.sessions.begin() as session:
        name_zh = act_service.preview(
            settings=small.settings,
            query=TargetQuery(mentioned=[TopicMention(topic="service")]),
            as_of=AS_OF,
            session=session,
        )
        zh = enrichment.active_taxonomy(session=session).name("service", "zh")
        by_name = TargetQuery(mentioned=[TopicMention(topic=zh, sentiment="negative")])
        preview = act_service.preview(
            settings=small.settings, query=by_name, as_of=AS_OF, session=session
        )
        saved = act_service.create(
            session=session,
            list_in=TargetListCreate(name="客服 投诉", query=by_name),
            settings=small.settings,
        )
    assert name_zh.matched >= preview.matched == 1
    assert any(f"topic {zh!r} read as service" in c for c in preview.caveats)
    assert saved.query.mentioned is not None and saved.query.mentioned[0].topic == "service"


def test_members_keep_the_feedback_that_qualified_them_in_preview_store_and_export(
    small: Store, tmp_path: Path
) -> None:
    query = TargetQuery(mentioned=[TopicMention(topic="service", sentiment="negative")])
    with small.sessions.begin() as session:
        preview = act_service.preview(settings=small.settings, query=query, as_of=AS_OF)
        act_service.create(session=session, list_in=TargetListCreate(name="slow", query=query))
        act_service.refresh(session=session, settings=small.settings, name="slow", as_of=AS_OF)
        members = act_service.members(session=session, name="slow")
        act_service.export(session=session, name="slow", path=tmp_path / "m.csv")
        act_service.export(session=session, name="slow", path=tmp_path / "m.xlsx")
    [sample] = preview.sample
    assert sample["customer_id"] == "c1" and sample["feedback_ids"] == [
        ":f1"
    ]  # the stored key (source:id)
    assert sample["topics"] and all(t.startswith("service") for t in sample["topics"])
    assert members.set_index("customer_id").loc["c1", "feedback_ids"] == [":f1"]
    exported = pd.read_csv(tmp_path / "m.csv")
    assert exported.loc[0, "feedback_ids"] == ":f1"
    assert exported.loc[0, "topics"].startswith("service")
    about = pd.read_excel(tmp_path / "m.xlsx", sheet_name="about", engine="openpyxl")
    assert dict(zip(about["field"], about["value"], strict=True))["members"] in (1, "1")


def test_lists_on_churn_risk_name_the_model_and_its_auc(
    weak_scores: Settings, tmp_path: Path
) -> None:
    query = TargetQuery(min_churn_risk=0.2)
    store = connect(settings=weak_scores)
    try:
        with store.sessions.begin() as session:
            preview = act_service.preview(
                settings=weak_scores, query=query, as_of=CHURN_AS_OF, session=session
            )
            act_service.create(
                session=session,
                list_in=TargetListCreate(name="at-risk", query=query),
                settings=weak_scores,
            )
            refreshed = act_service.refresh(
                session=session, settings=weak_scores, name="at-risk", as_of=CHURN_AS_OF
            )
            act_service.export(session=session, name="at-risk", path=tmp_path / "r.xlsx")
            act_service.export(session=session, name="at-risk", path=tmp_path / "r.csv")
        with insights_service.open_backend(weak_scores) as backend:
            model = insights_service.latest_churn_model(backend)
    finally:
        store.close()
    assert model is not None and model.accepted_weak
    for basis in (preview.churn_models, refreshed.churn_models):
        [only] = basis
        assert only.model_version == model.model_version and only.accepted_weak
        assert only.cv_roc_auc == pytest.approx(model.cv_roc_auc)
        assert only.cv_auc_low == pytest.approx(model.cv_auc_low)
    auc = f"ROC-AUC {model.cv_roc_auc:.2f}"
    assert any(
        c.startswith("this list filters on churn risk") and auc in c for c in preview.caveats
    )
    about = pd.read_excel(tmp_path / "r.xlsx", sheet_name="about", engine="openpyxl")
    line = dict(zip(about["field"], about["value"], strict=True))["churn model"]
    assert model.model_version in line and auc in line and "--accept-weak-model" in line
    rows = pd.read_csv(tmp_path / "r.csv")
    assert set(rows["churn_model"]) == {model.model_version}
    assert rows["churn_model_auc"].round(6).eq(round(model.cv_roc_auc or 0, 6)).all()
    assert rows["churn_risk"].is_monotonic_decreasing


def test_cli_says_which_model_a_list_rests_on_and_ranks_with_four_decimals(
    weak_scores: Settings, tmp_path: Path
) -> None:
    env = {"CXLOOP_DATABASE_URL": weak_scores.database_url}
    definition = tmp_path / "risk.yaml"
    definition.write_text("name: risky\nquery: {min_churn_risk: 0.2}\n", encoding="utf-8")
    as_of = ("--as-of", CHURN_AS_OF.isoformat())
    shown = run_cxloop(tmp_path, "targets", "preview", str(definition), *as_of, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "this list filters on churn risk from model" in shown.stdout
    assert "--accept-weak-model" in shown.stdout
    risks = [line.split("│")[5].strip() for line in shown.stdout.splitlines() if "│ m0" in line]
    assert risks and all(len(r.split(".")[1]) == 4 for r in risks)
    typo = tmp_path / "typo.yaml"
    typo.write_text("name: typo\nquery: {segments: [vip]}\n", encoding="utf-8")
    refused = run_cxloop(tmp_path, "targets", "create", str(typo), env=env)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "query.segments[0]" in refused.stderr and "close matches: VIP" in refused.stderr
    bad_name = tmp_path / "bad-name.yaml"
    bad_name.write_text("name: a/b\nquery: {}\n", encoding="utf-8")
    refused = run_cxloop(tmp_path, "targets", "create", str(bad_name), env=env)
    assert refused.returncode == 2 and "name" in refused.stderr and "URLs" in refused.stderr


def test_api_refuses_unknown_values_and_returns_evidence_and_churn_basis(tmp_path: Path) -> None:
    app = build_api(tmp_path / "api.db", seed=False)
    _load(app.store, tmp_path / "files")
    typo = {"name": "typo", "query": {"segments": ["VIP"]}}
    refused = app.client.post("/api/v1/targets", json=typo, headers=app.auth("analyst"))
    assert refused.status_code == 422 and "close matches: vip" in refused.text
    query = {"mentioned": [{"topic": "service", "sentiment": "negative"}]}
    preview = app.client.post("/api/v1/targets/preview", json=query, headers=app.auth("viewer"))
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["churn_models"] == [] and body["sample"][0]["feedback_ids"] == [":f1"]
    created = app.client.post(
        "/api/v1/targets", json={"name": "slow", "query": query}, headers=app.auth("analyst")
    )
    assert created.status_code == 201, created.text
    refreshed = app.client.post("/api/v1/targets/slow/refresh", headers=app.auth("analyst"))
    assert refreshed.status_code == 200 and refreshed.json()["churn_models"] == []
    members = app.client.get("/api/v1/targets/slow/members", headers=app.auth("viewer"))
    assert json.loads(members.text)[0]["feedback_ids"] == [":f1"]
    csv = app.client.get("/api/v1/targets/slow/members?format=csv", headers=app.auth("viewer"))
    assert ",:f1," in csv.text


def test_refresh_of_a_stored_list_whose_value_vanished_fails_loudly(small: Store) -> None:
    with small.sessions.begin() as session:
        act_service.create(
            session=session,
            list_in=TargetListCreate(name="vips", query=TargetQuery(segments=["vip"])),
            settings=small.settings,
        )
    with small.sessions() as session:
        session.execute(text("UPDATE customers SET segment = 'VIP' WHERE segment = 'vip'"))
        session.commit()
    with small.sessions() as session, pytest.raises(Invalid, match="close matches: VIP"):
        act_service.refresh(session=session, settings=small.settings, name="vips", as_of=AS_OF)
