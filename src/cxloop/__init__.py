"""cxloop: customer experience and voice of customer — what customers say × what they do.

Public Python API (re-exports only)::

    from cxloop import connect, import_file
    store = connect("sqlite:///cxloop.db")
    summary = import_file(store, "feedback", "answers.csv")
"""

from __future__ import annotations

__version__ = "0.1.0"

from cxloop.api import Store, connect, import_file, import_records

__all__ = ["Store", "__version__", "connect", "import_file", "import_records"]
