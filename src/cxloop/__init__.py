"""cxloop: customer experience and voice of customer — what customers say × what they do.

Public Python API (re-exports only, loaded on first use so that light processes such as the
import worker don't pay for the database stack)::

    from cxloop import connect, import_file
    store = connect("sqlite:///cxloop.db")
    summary = import_file(store, "feedback", "answers.csv")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Store", "__version__", "connect", "import_file", "import_records"]

if TYPE_CHECKING:
    from cxloop.api import Store, connect, import_file, import_records


def __getattr__(name: str) -> Any:
    if name in ("Store", "connect", "import_file", "import_records"):
        from cxloop import api

        return getattr(api, name)
    raise AttributeError(f"module 'cxloop' has no attribute {name!r}")
