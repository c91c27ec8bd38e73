"""Domain errors → HTTP, once: every error body names the field, the value and the reason."""

from __future__ import annotations

import math
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cxloop.errors import (
    Conflict,
    CxloopError,
    Forbidden,
    Invalid,
    NotFound,
    Unauthenticated,
    UnreadableFile,
)

STATUS = {
    Invalid: 422,
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    Unauthenticated: 401,
    UnreadableFile: 400,
}


def status_of(exc: CxloopError, default: int = 422) -> int:
    """The HTTP status of a domain error (the pages answer with the API's status)."""
    return next((code for kind, code in STATUS.items() if isinstance(exc, kind)), default)


SECRET_FIELDS = frozenset({"password", "token"})
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _printable(value: Any) -> Any:
    """``value`` as JSON can carry it, so that echoing a bad value back never turns the error
    response itself into a 500: lone surrogates (valid in a JSON escape, ``"\\ud800"``, not
    UTF-8) become U+FFFD; non-finite floats (``1e400``, ``NaN`` parse as inf/nan) and any other
    value JSON has no form for are rendered as text (``"inf"``, ``"nan"``)."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, list | tuple):
        return [_printable(v) for v in value]
    if isinstance(value, dict):
        return {str(_printable(k)): _printable(v) for k, v in value.items()}
    try:
        encoded = jsonable_encoder(value)
    except (TypeError, ValueError):
        return _printable(str(value))
    if isinstance(encoded, str | int | float | bool | list | dict):  # a model, a date, a set…
        return _printable(encoded)
    return _printable(str(value))


def _body(problems: list[dict[str, Any]]) -> dict[str, Any]:
    return {"detail": _printable(problems)}


def _problems(exc: CxloopError) -> list[dict[str, Any]]:
    if isinstance(exc, Invalid):
        return [p.as_dict() for p in exc.problems]
    return [{"field": None, "value": None, "reason": str(exc)}]


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CxloopError)
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(_body(_problems(exc)), status_code=status, headers=headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part != "body"]
        value = error.get("input")
        if location and location[-1] in SECRET_FIELDS:
            value = None  # a rejected password is still somebody's password: never echo it
        problems.append(
            {
                "field": ".".join(location) or "body",
                "value": value if isinstance(value, str | int | float | bool) else None,
                "reason": error.get("msg", "is invalid"),
            }
        )
    return JSONResponse(_body(problems), status_code=422)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(
        _body([{"field": None, "value": None, "reason": exc.detail}]),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def _integrity_error(_: Request, exc: Exception) -> JSONResponse:
    reason = "another request changed the same rows at the same time; send it again"
    return JSONResponse(_body([{"field": None, "value": None, "reason": reason}]), status_code=409)


async def _overflow_error(_: Request, exc: Exception) -> JSONResponse:
    """A number past what the store holds (a path id of 25 digits: SQLite refuses it with
    OverflowError) names the problem instead of a 500."""
    reason = "a number in the request is too large to store or look up (at most 2^63 - 1)"
    return JSONResponse(_body([{"field": None, "value": None, "reason": reason}]), status_code=422)


def install(app: FastAPI) -> None:
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(OverflowError, _overflow_error)
    app.add_exception_handler(CxloopError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
