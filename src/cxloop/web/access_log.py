"""Survey links are credentials: the token in ``/s/…``, ``/s/a/…``, ``/u/…`` and
``/api/v1/respond/…`` opens (or unsubscribes) one person's survey, so no log line may hold it.

:class:`TokenMask` rewrites those path segments to their first characters and ``…[masked]``
(``/s/AXMA…[masked]``: enough to tell two requests apart, never enough to use). ``install``
puts it on uvicorn's loggers (``create_app`` calls it, so every server of the app masks);
``log_config`` is uvicorn's logging setup with the mask on its handlers too, which also covers
what cxloop's own loggers write under ``cxloop serve``.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

MASK = "…[masked]"
KEEP = 4
"""Characters of a token kept (a version/purpose prefix, not the signature), when it is long
enough that the rest still hides it."""
_TOKEN = re.compile(r"(/(?:s/a|s|u|api/v1/respond)/)([A-Za-z0-9_\-.~%=]+)")
LOGGERS = ("uvicorn.access", "uvicorn.error")


def mask(text: str) -> str:
    """``text`` with every survey-link token cut to its prefix and ``…[masked]``; idempotent."""

    def cut(match: re.Match[str]) -> str:
        if match.string.startswith(MASK, match.end()):  # already masked
            return match.group(0)
        token = match.group(2)
        kept = token[:KEEP] if len(token) > 2 * KEEP else ""
        return f"{match.group(1)}{kept}{MASK}"

    return _TOKEN.sub(cut, text)


class TokenMask(logging.Filter):
    """Masks link tokens in a record's message and arguments (uvicorn's access line passes the
    path as an argument); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: mask(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def install(names: tuple[str, ...] = LOGGERS) -> None:
    """Put one :class:`TokenMask` on each named logger (again is a no-op). Logger filters
    survive uvicorn's ``dictConfig``, which replaces handlers but not filters."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, TokenMask) for f in logger.filters):
            logger.addFilter(TokenMask())


def log_config() -> dict[str, Any]:
    """uvicorn's default logging setup with :class:`TokenMask` on both of its handlers, and
    cxloop's loggers (INFO) written through the default one, for ``uvicorn.run(log_config=…)``."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["token_mask"] = {"()": f"{__name__}.TokenMask"}
    for handler in config["handlers"].values():
        handler["filters"] = [*handler.get("filters", []), "token_mask"]
    config["loggers"]["cxloop"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
