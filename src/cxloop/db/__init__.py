"""The SQL store: declarative base, engine/session factories, shipped migrations."""
