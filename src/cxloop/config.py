"""One settings object for the whole application (environment prefix ``CXLOOP_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable, read once from the environment (or passed in by tests)."""

    model_config = SettingsConfigDict(env_prefix="CXLOOP_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///cxloop.db",
        description="SQLAlchemy URL; SQLite file in the working directory by default.",
    )
    default_region: str = Field(
        default="CN", description="Region used to read phone numbers written without +country."
    )
    timezone: str = Field(
        default="Asia/Shanghai",
        description="Zone of timestamps that carry no offset; everything is stored in UTC.",
    )
    import_batch_size: int = Field(default=10_000, ge=100, le=200_000)
    import_parallel: bool = Field(
        default=True, description="Read and validate big files in a second process."
    )
    import_parallel_min_bytes: int = Field(default=16 * 1024 * 1024, ge=0)
    host: str = "127.0.0.1"
    port: int = 8000


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, built once per process."""
    return Settings()
