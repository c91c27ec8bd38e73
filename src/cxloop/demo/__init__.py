"""The demo company: a deterministic year of B2C and B2B data with planted patterns."""

from cxloop.demo.generator import PLANTED, DemoConfig, generate_company, write_files

__all__ = ["PLANTED", "DemoConfig", "generate_company", "write_files"]
