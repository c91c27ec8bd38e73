"""Property test of the whole API with schemathesis: whatever a client sends — valid or not —
the answer is never a server error (status >= 500).

Requests go through Starlette's ``TestClient`` with ``raise_server_exceptions=False``, so an
unhandled exception in the app comes back as the 500 response it would be in production and
fails the check, with the request that caused it, instead of escaping from the transport."""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from cxloop.config import Settings
from cxloop.ingest.fields import KINDS
from cxloop.web.app import create_app
from tests.web.support import Api

# The document does not depend on the database; requests go to the module's seeded app.
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"mode": "all", "with-security-parameters": False},
        "phases": {"stateful": {"enabled": False}},
    }
)
SCHEMA = schemathesis.openapi.from_dict(
    create_app(Settings(database_url="sqlite://")).openapi(), config=CONFIG
)
BASE_URL = "http://testserver"
FUZZ = settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _send(api: Api, case: schemathesis.Case, role: str) -> Any:
    """Send ``case`` with ``role``'s token through the in-process client."""
    request = case.as_transport_kwargs(base_url=BASE_URL, headers=api.auth(role))
    method, url = request.pop("method"), request.pop("url")
    data = request.pop("data", None)
    if isinstance(data, str):
        data = data.encode()
    kwargs: dict[str, Any] = {
        "headers": request.pop("headers", None),
        "params": request.pop("params", None),
        "cookies": request.pop("cookies", None) or None,
    }
    if "json" in request:
        kwargs["json"] = request.pop("json")
    if isinstance(data, bytes):
        kwargs["content"] = data
    elif data is not None:
        kwargs["data"] = data
    if "files" in request:
        kwargs["files"] = request.pop("files")
    assert not set(request) - {"auth"}, f"request options not sent: {sorted(request)}"
    if kwargs["cookies"]:
        api.client.cookies.clear()
    response = api.client.request(method, url, **kwargs)
    api.client.cookies.clear()
    return response


def _check(api: Api, case: schemathesis.Case, role: str) -> None:
    response = _send(api, case, role)
    try:  # schemathesis re-reads the request body: an upload's (multipart) is a stream
        response.request.read()
    except (AttributeError, TypeError):  # generated non-file "files": the status check below
        pass
    else:
        case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500, (case.as_curl_command(), response.text)


@FUZZ
@SCHEMA.parametrize()
def test_no_server_errors_as_admin(case: schemathesis.Case, shared_api: Api) -> None:
    _check(shared_api, case, "admin")


@FUZZ
@SCHEMA.parametrize()
def test_no_server_errors_as_viewer(case: schemathesis.Case, shared_api: Api) -> None:
    _check(shared_api, case, "viewer")


# Schemathesis only knows that a row is "an object", so it almost never sends one that reaches
# the validators. This property sends rows made of each kind's real field names and aliases,
# with values of every JSON type, and also checks the summary adds up.

FIELD_NAMES = {
    kind: sorted({f.name for f in spec.fields} | {a for f in spec.fields for a in f.aliases})
    for kind, spec in KINDS.items()
}
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "li.na@example.com",
            "not an email",
            "+8613800138000",
            "13800138000",
            "2024-02-30",
            "2024-03-01T10:00:00+08:00",
            "1970-01-01",
            "9999-12-31T23:59:59",
            "survey",
            "评论",
            "renewed",
            "1e400",
            "NaN",
            "-0",
            "\x00",
            "\ud800",
        ]
    ),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=2),
    st.dictionaries(st.text(max_size=3), SCALARS, max_size=2),
)


@st.composite
def batches(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    kind = draw(st.sampled_from(sorted(KINDS)))
    names = st.one_of(st.sampled_from(FIELD_NAMES[kind]), st.text(max_size=8))
    rows = draw(st.lists(st.dictionaries(names, VALUES, max_size=6), min_size=1, max_size=4))
    defaults = draw(
        st.dictionaries(st.sampled_from(FIELD_NAMES[kind]), st.text(max_size=10), max_size=2)
    )
    return kind, {"rows": rows, "defaults": defaults}


@FUZZ
@given(batch=batches())
def test_imported_batches_never_fail_the_server(
    shared_api: Api, batch: tuple[str, dict[str, Any]]
) -> None:
    kind, body = batch
    response = shared_api.client.post(
        f"/api/v1/{kind}",
        content=json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass"),
        headers={**shared_api.auth("analyst"), "Content-Type": "application/json"},
    )
    assert response.status_code < 500, (kind, body, response.text)
    if response.status_code == 200:
        summary = response.json()
        assert summary["read"] == len(body["rows"])
        stored = summary["inserted"] + summary["updated"] + summary["unchanged"]
        assert stored + summary["quarantined"] == summary["read"], summary
        for rejected in summary["rejected"]:
            assert 1 <= rejected["row"] <= len(body["rows"])
            assert all(p["reason"] for p in rejected["problems"])
    else:
        assert response.status_code == 422, response.text
        assert response.json()["detail"]
