"""The state database (SQLModel): runs, audit events and control modes.

SQLite by default; the same models run on PostgreSQL. The audit sink writes each event under a
deterministic id (run, position, node), so a record node that runs twice writes nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlmodel import Field, Session, SQLModel, col, create_engine, select

from agent.state import MODES, AuditEvent, Mode


def _now() -> datetime:
    return datetime.now(UTC)


class RunRecord(SQLModel, table=True):
    __tablename__ = "runs"
    run_id: str = Field(primary_key=True)
    ticket_id: str = Field(index=True)
    status: str
    decision: str | None = None
    result_json: str = "{}"
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)


class AuditRecord(SQLModel, table=True):
    __tablename__ = "audit_events"
    id: str = Field(primary_key=True)
    """`{run_id}:{position:04d}:{node}`: the same event written twice lands on the same row."""
    run_id: str = Field(index=True)
    ticket_id: str = Field(index=True)
    position: int
    node: str
    kind: str
    data_json: str
    created_at: datetime = Field(default_factory=_now)


class ControlRecord(SQLModel, table=True):
    __tablename__ = "control_modes"
    scope: str = Field(primary_key=True)
    mode: str
    changed_by: str
    reason: str = ""
    changed_at: datetime = Field(default_factory=_now)


def make_engine(url: str) -> Engine:
    """An engine for the URL, creating the SQLite file's folder and the tables if needed."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
    if url.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets readers (review list, audit show) run beside the writer; NORMAL survives a killed
            # process without an fsync per commit.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
    SQLModel.metadata.create_all(engine)
    return engine


class SqlAudit:
    """AuditSink on the state database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def write(self, run_id: str, ticket_id: str, events: Sequence[AuditEvent]) -> None:
        with Session(self.engine) as session:
            for position, ev in enumerate(events):
                row_id = f"{run_id}:{position:04d}:{ev.node}"
                if session.get(AuditRecord, row_id) is None:
                    session.add(AuditRecord(
                        id=row_id, run_id=run_id, ticket_id=ticket_id, position=position, node=ev.node,
                        kind=ev.kind, data_json=json.dumps(ev.data, default=str, sort_keys=True),
                    ))
            session.commit()

    def trail(self, ticket_id: str) -> list[dict[str, Any]]:
        """A ticket's audit events in order."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(AuditRecord).where(AuditRecord.ticket_id == ticket_id)
                .order_by(col(AuditRecord.created_at), col(AuditRecord.run_id), col(AuditRecord.position))
            ).all()
            return [{"id": r.id, "node": r.node, "kind": r.kind, "data": json.loads(r.data_json),
                     "at": r.created_at.isoformat()} for r in rows]


class SqlControl:
    """Control modes on the state database, read fresh for every ticket."""

    def __init__(self, engine: Engine, default: Mode = "auto") -> None:
        self.engine = engine
        self.default = default

    def mode(self, scope: str = "global") -> Mode:
        with Session(self.engine) as session:
            row = session.get(ControlRecord, scope)
            if row is None or row.mode not in MODES:
                return self.default
            return row.mode

    def set_mode(self, mode: Mode, scope: str = "global", changed_by: str = "cli", reason: str = "") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode '{mode}' (one of {', '.join(MODES)})")
        with Session(self.engine) as session:
            row = session.get(ControlRecord, scope)
            if row is None:
                row = ControlRecord(scope=scope, mode=mode, changed_by=changed_by, reason=reason)
            else:
                row.mode, row.changed_by, row.reason, row.changed_at = mode, changed_by, reason, _now()
            session.add(row)
            session.commit()


class SqlRuns:
    """The latest known outcome of each run (for `review list` and reads by ticket)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, result: dict[str, Any]) -> None:
        with Session(self.engine) as session:
            row = session.get(RunRecord, result["run_id"]) or RunRecord(
                run_id=result["run_id"], ticket_id=result["ticket_id"], status=result["status"]
            )
            row.status, row.decision = result["status"], result["decision"]
            row.result_json, row.updated_at = json.dumps(result), _now()
            session.add(row)
            session.commit()

    def get(self, run_id: str) -> dict[str, Any] | None:
        with Session(self.engine) as session:
            row = session.get(RunRecord, run_id)
            return json.loads(row.result_json) if row else None

    def awaiting_review(self) -> list[dict[str, Any]]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(RunRecord).where(RunRecord.status == "awaiting_review")
                .order_by(col(RunRecord.created_at))
            ).all()
            return [json.loads(r.result_json) for r in rows]
