"""Retention: checkpoints of finished runs are only needed while a run can still resume.

Each checkpointed run keeps ~6 KB per step; runs that are done or handed to humans are pruned after
N days (their decision and audit trail stay in the state database).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from service.checkpoints import sqlite_checkpointer
from service.store import RunRecord, as_utc, utcnow

FINAL = ("done", "left_for_humans")


def prune_checkpoints(checkpoint_path: Path, db: Engine, older_than_days: float = 30.0) -> dict[str, Any]:
    """Delete the checkpoints of runs finished more than `older_than_days` ago."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    with Session(db) as session:
        runs = session.exec(select(RunRecord).where(col(RunRecord.status).in_(FINAL))).all()
    old = [r.run_id for r in runs if as_utc(r.updated_at) < cutoff]
    saver = sqlite_checkpointer(checkpoint_path)
    for run_id in old:
        saver.delete_thread(run_id)
    saver.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"pruned_runs": len(old), "cutoff": cutoff.isoformat()}
