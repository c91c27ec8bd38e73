"""Shapes that leave the feedback domain: what an enrichment run or a taxonomy change did."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class EnrichSummary(BaseModel):
    """One enrichment run: every candidate row is either analysed or refreshed."""

    model_config = ConfigDict(frozen=True)

    candidates: int = Field(0, description="Feedback rows whose features were missing or stale.")
    analysed: int = Field(0, description="Texts run through the text engine.")
    refreshed: int = Field(
        0,
        description="Rows whose stored features still hold (same text, no changed taxonomy term "
        "in it): only their version marks were updated.",
    )
    topics: int = Field(0, description="Topic rows written for the analysed texts.")
    seconds: float = 0.0


class TaxonomyApplyResult(BaseModel):
    """What applying a taxonomy did to the store."""

    model_config = ConfigDict(frozen=True)

    version: str = Field(description="sha256 of the taxonomy now active.")
    previous_version: str
    changed: bool = Field(description="False when this taxonomy was already the active one.")
    changed_terms: int = Field(description="Terms added, removed or moved to another topic.")
    enrichment: EnrichSummary


class TopicCandidate(BaseModel):
    """A cluster of stored feedback that no taxonomy topic covers (examples masked)."""

    model_config = ConfigDict(frozen=True)

    size: int
    keywords: list[str]
    examples: list[str]
