"""Jobs: plain functions registered by name, run by `cxloop surveys tick` and inside `serve`."""
