"""Writing validated chunks: upsert by natural key, identity claims, the quarantine.

Used by ``service`` only; it flushes and never commits (the import job commits per chunk).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from cxloop.behaviour import service as behaviour_service
from cxloop.customers import service as customers_service
from cxloop.customers.identity import IDENTITY_KINDS
from cxloop.db.base import utcnow
from cxloop.db.bulk import insert_frame, select_in, update_frame
from cxloop.feedback import service as feedback_service
from cxloop.ingest import mapping
from cxloop.ingest.fields import KindSpec
from cxloop.ingest.models import ImportRun, QuarantinedRow
from cxloop.ingest.schemas import ImportSummary

TABLES: dict[str, Table] = {
    **customers_service.TABLES,
    **behaviour_service.TABLES,
    **feedback_service.TABLES,
}
KEY_CHUNK = 5_000


def store_chunk(
    *, session: Session, spec: KindSpec, records: pd.DataFrame, summary: ImportSummary
) -> list[str]:
    """Upsert one chunk; returns the keys it inserted or updated (unchanged rows excluded), so
    the import can enrich exactly those."""
    if records.empty:
        return []
    if spec.kind == "identities":
        _store_identities(session=session, records=records, summary=summary)
        return []
    key = spec.key
    deduped = records.drop_duplicates(subset=[key], keep="last")
    repeats = records[records.duplicated(subset=[key], keep="last")]
    if len(repeats):
        final_hash = deduped.set_index(key)[mapping.ROW_HASH]
        same = repeats[mapping.ROW_HASH].to_numpy() == final_hash.loc[repeats[key]].to_numpy()
        summary.unchanged += int(same.sum())
        summary.updated += int((~same).sum())
    table = TABLES[spec.table]
    existing = _existing_hashes(session, table, key, deduped[key].tolist())
    stored = deduped[key].map(existing)
    fresh = deduped[stored.isna()]
    changed = deduped[stored.notna() & (stored != deduped[mapping.ROW_HASH])]
    summary.unchanged += int((stored == deduped[mapping.ROW_HASH]).sum())
    if spec.kind == "feedback":
        to_write = pd.concat([fresh, changed])
        summary.linked += feedback_service.link_records(session=session, records=to_write)
        fresh, changed = to_write.iloc[: len(fresh)], to_write.iloc[len(fresh) :]
    now = utcnow()
    columns = [
        c.name for c in table.columns if c.name in fresh.columns or c.name in changed.columns
    ]
    connection = session.connection()
    if len(fresh):
        frame = fresh.reindex(columns=columns).assign(
            loaded_at=now,
            updated_at=now,
            import_run_id=summary.run_id,
            inserted_run_id=summary.run_id,
        )
        insert_frame(connection, table, frame)
        summary.inserted += len(fresh)
    if len(changed):
        frame = changed.reindex(columns=columns).assign(
            updated_at=now, import_run_id=summary.run_id
        )
        update_frame(connection, table, key, frame)
        summary.updated += len(changed)
    if spec.kind in ("customers", "contacts"):
        claims = _claims_from(pd.concat([fresh, changed]), spec.kind)
        summary.identity_conflicts += customers_service.register_identities(
            session=session, claims=claims, source=spec.kind, run_id=summary.run_id
        )
    return [*fresh[key].tolist(), *changed[key].tolist()]


def _existing_hashes(session: Session, table: Table, key: str, keys: list[str]) -> dict[str, str]:
    rows = select_in(session.connection(), table, [key, "row_hash"], key, keys)
    return {k: h for k, h in rows}


def _claims_from(records: pd.DataFrame, kind: str) -> list[customers_service.IdentityClaim]:
    owner_column = "customer_id" if kind == "customers" else "contact_id"
    claims = []
    for identity_kind in IDENTITY_KINDS:
        if identity_kind not in records.columns:
            continue
        pairs = records[[owner_column, identity_kind]].dropna()
        for owner, value in pairs.itertuples(index=False, name=None):
            claims.append(
                customers_service.IdentityClaim(
                    identity_kind,
                    value,
                    customer_id=owner if kind == "customers" else None,
                    contact_id=owner if kind == "contacts" else None,
                )
            )
    return claims


def _store_identities(*, session: Session, records: pd.DataFrame, summary: ImportSummary) -> None:
    claims = []  # values arrive normalised and checked by the mapping
    for row in records.itertuples(index=False):
        kind, value = str(row.kind), str(row.value)
        claims.append(
            customers_service.IdentityClaim(
                kind,
                value,
                customer_id=getattr(row, "customer_id", None),
                contact_id=getattr(row, "contact_id", None),
            )
        )
    before = len(
        customers_service.lookup_identities(
            session=session, pairs=((c.kind, c.value) for c in claims)
        )
    )
    summary.identity_conflicts += customers_service.register_identities(
        session=session, claims=claims, source="identities", run_id=summary.run_id
    )
    summary.inserted += len({(c.kind, c.value) for c in claims}) - before
    summary.unchanged += len(records) - (len({(c.kind, c.value) for c in claims}) - before)


def quarantine(
    *,
    session: Session,
    run: ImportRun,
    spec: KindSpec,
    rejections: list[mapping.Rejection],
    source_name: str,
    sha256: str,
) -> None:
    if not rejections:
        return
    rows = []
    for rejection in rejections:  # the run began by clearing this file's quarantine
        first = rejection.problems[0]
        rows.append(
            {
                "import_run_id": run.id,
                "kind": spec.kind,
                "source_name": source_name[:512],
                "source_sha256": sha256,
                "row_number": rejection.row_number,
                "field": first.field,
                "value": None if first.value is None else str(first.value),
                "reason": first.reason,
                "problems": [
                    {"field": p.field, "value": p.value, "reason": p.reason}
                    for p in rejection.problems
                ],
                "raw": rejection.raw,
                "created_at": utcnow(),
            }
        )
    if rows:
        session.execute(insert(QuarantinedRow), rows)
