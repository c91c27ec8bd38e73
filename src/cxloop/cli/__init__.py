"""Command-line entry point: ``cxloop <domain> <verb>``."""
