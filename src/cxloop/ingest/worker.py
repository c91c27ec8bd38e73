"""``python -m cxloop.ingest.worker``: the process that reads ahead for a big import."""

from cxloop.ingest.pipeline import serve

serve()
