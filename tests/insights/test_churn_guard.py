"""The churn guard on real stores: a model whose cross-validated ROC-AUC interval reaches 0.6 is
refused (nothing stored, a sentence with the AUC and its interval, exit 2), stored only with an
explicit override that is recorded; a predictable company passes without one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cxloop.api import Store, connect
from cxloop.config import Settings
from cxloop.errors import Invalid
from cxloop.insights import service as insights_service
from cxloop.insights.models import ChurnModelRun, ChurnScore
from tests.cli.support import run_cxloop
from tests.insights.churn_company import AS_OF, load_company
from tests.web.support import build_api


@pytest.fixture(scope="module")
def random_churn(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A store where who cancels is a coin toss: CV ROC-AUC ≈ 0.5."""
    folder = tmp_path_factory.mktemp("random-churn")
    settings = Settings(database_url=f"sqlite:///{folder / 'cli.db'}")
    store = connect(settings=settings)
    try:
        load_company(store, folder / "files", predictable=False)
    finally:
        store.close()
    return settings


def _stored(store: Store) -> tuple[int, int]:
    with store.sessions() as session:
        scores = session.scalar(select(func.count()).select_from(ChurnScore)) or 0
        runs = session.scalar(select(func.count()).select_from(ChurnModelRun)) or 0
    return scores, runs


def test_a_coin_toss_model_is_refused_then_stored_only_with_a_recorded_override(
    random_churn: Settings,
) -> None:
    store = connect(settings=random_churn)
    try:
        with pytest.raises(Invalid) as refused, store.sessions.begin() as session:
            insights_service.score_churn(session=session, settings=random_churn, as_of=AS_OF)
        [problem] = refused.value.problems
        assert problem.field == "churn model" and "too weak to act on" in problem.reason
        assert "ROC-AUC 0." in problem.value and "–" in problem.value  # AUC and interval
        assert "--accept-weak-model" in problem.reason
        assert _stored(store) == (0, 0)  # nothing stored, not even the run

        with store.sessions.begin() as session:
            run = insights_service.score_churn(
                session=session, settings=random_churn, as_of=AS_OF, accept_weak_model=True
            )
        assert run.accepted_weak_model and run.cv_roc_auc is not None
        assert run.cv_auc_low is not None and run.cv_auc_high is not None
        assert run.cv_auc_low <= 0.6 and run.cv_auc_low < run.cv_roc_auc < run.cv_auc_high
        assert 0.3 < run.cv_roc_auc < 0.7
        scores, runs = _stored(store)
        assert scores == run.scored > 200 and runs == 1
        with insights_service.open_backend(random_churn) as backend:
            latest = insights_service.latest_churn_model(backend)
        assert latest is not None and latest.accepted_weak
        assert latest.model_version == run.model_version
        assert latest.cv_roc_auc == pytest.approx(run.cv_roc_auc)
        assert latest.cv_auc_low == pytest.approx(run.cv_auc_low)
        assert latest.trained_on == run.trained_on and latest.horizon_days == 90
        assert "--accept-weak-model" in latest.describe()
        risks = insights_service.churn_risks(settings=random_churn, top=3)
        assert risks.details["accepted_weak_model"] is True
        assert any("stored below the bar" in c for c in risks.caveats)
    finally:
        store.close()


def test_an_unevaluated_model_needs_the_override_too(random_churn: Settings) -> None:
    store = connect(settings=random_churn)
    try:
        with pytest.raises(Invalid, match="not cross-validated"), store.sessions() as session:
            insights_service.score_churn(
                session=session, settings=random_churn, as_of=AS_OF, evaluate=False
            )
    finally:
        store.close()


def test_cli_refuses_with_exit_2_and_a_sentence_then_accepts_on_request(
    random_churn: Settings, tmp_path: Path
) -> None:
    env = {"CXLOOP_DATABASE_URL": random_churn.database_url}
    as_of = ("--as-of", AS_OF.isoformat())
    refused = run_cxloop(tmp_path, "insights", "churn", *as_of, env=env)
    assert refused.returncode == 2, refused.stdout
    assert "Traceback" not in refused.stderr
    assert "churn model: 'cross-validated ROC-AUC 0." in refused.stderr
    assert "95 % interval 0." in refused.stderr and "is too weak to act on" in refused.stderr
    accepted = run_cxloop(
        tmp_path, "insights", "churn", *as_of, "--accept-weak-model", "--format", "json", env=env
    )
    assert accepted.returncode == 0, accepted.stderr
    body = json.loads(accepted.stdout)
    assert body["details"]["accepted_weak_model"] is True
    assert all(len(f"{r['probability']}") > 6 for r in body["rows"])  # full precision in json
    table = run_cxloop(tmp_path, "insights", "churn", *as_of, "--accept-weak-model", env=env)
    assert "(95 % interval" in table.stdout
    probabilities = [
        line.split("│")[2].strip() for line in table.stdout.splitlines() if "│ m0" in line
    ]
    assert probabilities and all(len(p.split(".")[1]) == 4 for p in probabilities)


def test_a_predictable_company_is_scored_without_an_override(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'good.db'}")
    store = connect(settings=settings)
    try:
        load_company(store, tmp_path / "files", predictable=True)
        with store.sessions.begin() as session:
            run = insights_service.score_churn(session=session, settings=settings, as_of=AS_OF)
        assert run.cv_auc_low is not None and run.cv_auc_low > 0.6
        assert not run.accepted_weak_model
        with insights_service.open_backend(settings) as backend:
            latest = insights_service.latest_churn_model(backend)
        assert latest is not None and not latest.accepted_weak
    finally:
        store.close()


def test_api_refuses_a_weak_model_with_422_and_accepts_the_override(tmp_path: Path) -> None:
    app = build_api(tmp_path / "api.db", seed=False)
    load_company(app.store, tmp_path / "files", predictable=False)
    refused = app.client.post("/api/v1/insights/churn", headers=app.auth("analyst"))
    assert refused.status_code == 422 and "too weak to act on" in refused.text
    accepted = app.client.post(
        "/api/v1/insights/churn?accept_weak_model=true", headers=app.auth("analyst")
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["accepted_weak_model"] is True
