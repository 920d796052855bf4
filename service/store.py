"""The state database (SQLModel): every table of the agent's durable state, and the engine that holds them.

SQLite by default, the same models on PostgreSQL. Tables:
    tickets           one row per ticket the agent saw (no text: that is PII, see ticket_texts)
    runs              each run's latest outcome (the decision JSON)
    audit_events      the tamper-evident trail (hash chain, see service.audit)
    audit_anchors     periodic copies of the chain head, so a deleted tail is found too
    outbox            helpdesk writes waiting for delivery, delivered, or dead-lettered
    approvals         pending and answered review requests (digest, expiry, single use)
    control_modes     the live mode of each scope; control_changes, who changed what and why
    breakers          categories demoted by the circuit breaker, until a person resets them
    ticket_texts      the PII store: raw ticket text, with its own retention, outside the chain
    api_keys          the service's API keys (hashed) and their roles
    webhook_deliveries  inbound webhook delivery ids already taken (a redelivery triggers no second run)
    jobs              queued triage work for the workers (committed with the ticket row)

The schema is owned by alembic (service/migrations); `make_engine` brings any database up to date.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, UniqueConstraint, event
from sqlmodel import Field, Session, SQLModel, create_engine


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back without a zone: they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class TicketRecord(SQLModel, table=True):
    __tablename__ = "tickets"
    ticket_id: str = Field(primary_key=True)
    channel: str = "api"
    latest_run_id: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class RunRecord(SQLModel, table=True):
    __tablename__ = "runs"
    run_id: str = Field(primary_key=True)
    ticket_id: str = Field(index=True)
    status: str = Field(index=True)
    decision: str | None = None
    category: str | None = None
    result_json: str = "{}"
    latency_ms: float | None = None
    """Wall time of the graph run (metrics read it across processes)."""
    error: str | None = None
    """Set when the run failed with an exception (the ticket is left for humans)."""
    llm_tokens: int = 0
    llm_cost: float = 0.0
    """What the run spent on the LLM (0 without one): summed by the metrics across processes."""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AuditRecord(SQLModel, table=True):
    __tablename__ = "audit_events"
    seq: int = Field(primary_key=True)
    """Position in the chain: 1, 2, 3, ... with no gaps."""
    id: str = Field(unique=True)
    """`{run_id}:{position:04d}:{node}`: the same event written twice lands on the same id."""
    run_id: str = Field(index=True)
    ticket_id: str = Field(index=True)
    node: str
    kind: str
    data_json: str
    created_at: str
    """ISO-8601 UTC text, exactly as hashed."""
    prev_hash: str
    hash: str


class AuditAnchor(SQLModel, table=True):
    __tablename__ = "audit_anchors"
    id: int | None = Field(default=None, primary_key=True)
    seq: int
    hash: str
    created_at: datetime = Field(default_factory=utcnow)


class OutboxRecord(SQLModel, table=True):
    __tablename__ = "outbox"
    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True)
    run_id: str = Field(index=True)
    ticket_id: str = Field(index=True)
    category: str | None = None
    op: str
    payload_json: str
    status: str = Field(default="pending", index=True)
    """pending | delivered | dead"""
    attempts: int = 0
    last_error: str = ""
    next_attempt_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None


class ApprovalRecord(SQLModel, table=True):
    __tablename__ = "approvals"
    run_id: str = Field(primary_key=True)
    ticket_id: str = Field(index=True)
    category: str | None = None
    digest: str
    payload_json: str
    status: str = Field(default="pending", index=True)
    """pending | answered | expired; an answered request is never answered again."""
    requested_at: datetime
    expires_at: datetime
    verdict: str | None = None
    answer_json: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None
    resumed: bool = False
    """The run has been resumed with the answer (a crash in between is finished by `recover`)."""


class ControlRecord(SQLModel, table=True):
    __tablename__ = "control_modes"
    scope: str = Field(primary_key=True)
    mode: str
    changed_by: str
    reason: str = ""
    changed_at: datetime = Field(default_factory=utcnow)


class ControlChange(SQLModel, table=True):
    __tablename__ = "control_changes"
    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(index=True)
    old_mode: str | None
    new_mode: str
    changed_by: str
    reason: str = ""
    changed_at: datetime = Field(default_factory=utcnow)


class BreakerRecord(SQLModel, table=True):
    __tablename__ = "breakers"
    category: str = Field(primary_key=True)
    tripped_at: datetime = Field(default_factory=utcnow)
    reason: str
    previous_mode: str | None = None


class TicketText(SQLModel, table=True):
    __tablename__ = "ticket_texts"
    __table_args__ = (UniqueConstraint("ticket_id", "run_id"),)
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: str = Field(index=True)
    run_id: str
    requester: str | None = Field(default=None, index=True)
    text: str
    arrival_json: str = "{}"
    """The rest of the ticket as it arrived (channel, fields): a run started again after a crash sees the
    same ticket. Here, not on the run, because custom fields may hold personal data too."""
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class ApiKeyRecord(SQLModel, table=True):
    __tablename__ = "api_keys"
    id: str = Field(primary_key=True)
    """The key's public prefix (`tk_<id>_...`): lets us find the row without storing the secret."""
    name: str
    role: str
    """ingest | reviewer | admin"""
    secret_hash: str
    """SHA-256 of the whole key. Keys are 256-bit random, so a fast hash is enough (no password)."""
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("system", "event_id"),)
    id: int | None = Field(default=None, primary_key=True)
    system: str
    event_id: str
    ticket_id: str | None = None
    run_id: str | None = None
    received_at: datetime = Field(default_factory=utcnow)


class JobRecord(SQLModel, table=True):
    __tablename__ = "jobs"
    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(unique=True)
    ticket_id: str = Field(index=True)
    kind: str = "triage"
    """triage (the ticket text is in ticket_texts) | fetch (read the ticket from the helpdesk first)"""
    payload_json: str = "{}"
    status: str = Field(default="queued", index=True)
    """queued | running | done | failed"""
    attempts: int = 0
    worker: str | None = None
    claimed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    error: str | None = None


# The tables themselves, for the hot paths that write plain rows (an ORM object per row costs more than
# the statement). Same schema, same transactions.
RUNS = RunRecord.__table__  # type: ignore[attr-defined]
TICKETS = TicketRecord.__table__  # type: ignore[attr-defined]
JOBS = JobRecord.__table__  # type: ignore[attr-defined]
OUTBOX = OutboxRecord.__table__  # type: ignore[attr-defined]
TEXTS = TicketText.__table__  # type: ignore[attr-defined]
AUDIT = AuditRecord.__table__  # type: ignore[attr-defined]
ANCHORS = AuditAnchor.__table__  # type: ignore[attr-defined]


def database_url(url: str) -> str:
    """Accept the usual `postgresql://` / `postgres://` URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def make_engine(url: str) -> Engine:
    """An engine for the URL, creating the SQLite file's folder and migrating the schema to the newest."""
    url = database_url(url)
    sqlite = url.startswith("sqlite")
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if sqlite:
        engine = create_engine(url, connect_args={"timeout": 30})
    else:
        engine = create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True)
    if sqlite:
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets readers (review list, audit show) run beside the writer; NORMAL survives a killed
            # process without an fsync per commit. Autocommit off: we issue BEGIN IMMEDIATE ourselves.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # A write transaction takes the write lock at its start: read-then-write sequences (the audit
            # chain head, single-use approvals, job claims) then never interleave between processes.
            # Reads begin deferred and, in WAL mode, never wait for a writer.
            writes = conn.get_execution_options().get(WRITE_OPTION, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")
    from service.migrations import upgrade

    upgrade(engine)
    return engine


WRITE_OPTION = "triage_write"
_writers: weakref.WeakKeyDictionary[Engine, tuple[Engine, AbstractContextManager[Any]]] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def _writer(engine: Engine) -> tuple[Engine, AbstractContextManager[Any]]:
    """The engine as write transactions use it, and the in-process lock they hold. On SQLite, threads of
    one process queue on that lock instead of on SQLite's busy handler, which sleeps in growing steps
    (up to 100 ms) and made latency under concurrent requests jump; other processes still meet the busy
    handler. PostgreSQL needs no lock: its writers do not block each other's transactions."""
    with _writers_lock:
        found = _writers.get(engine)
        if found is None:
            lock: AbstractContextManager[Any] = (threading.RLock() if engine.dialect.name == "sqlite"
                                                  else nullcontext())
            found = (engine.execution_options(**{WRITE_OPTION: True}), lock)
            _writers[engine] = found
        return found


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One write transaction, committed on success, rolled back on any error."""
    writer, lock = _writer(engine)
    with lock, Session(writer) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
