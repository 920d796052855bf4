"""The job queue: triage work queued with the ticket in one transaction, claimed by workers.

One table in the state database, so SQLite and PostgreSQL share the code (docs/decisions/0006):
- enqueue commits with the ticket's run row and its text: a ticket acknowledged is a ticket kept;
- a worker claims the oldest queued job with one UPDATE ... RETURNING; on PostgreSQL the candidate row
  is picked with FOR UPDATE SKIP LOCKED, so N workers never wait on each other or take the same job;
  on SQLite, BEGIN IMMEDIATE makes the claim a critical section;
- a job whose worker died is claimable again once its lease has run out (the run itself is resumed
  from its checkpoint, so nothing is done twice).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, insert, text, update
from sqlmodel import Session, col, func, select

from agent.state import Ticket
from service.store import JOBS, JobRecord, transaction, utcnow

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Job:
    id: int
    run_id: str
    ticket_id: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    ticket: Ticket | None = None
    """The ticket as the claim read it (raw text, from the PII store); None until read."""


def enqueue(session: Session, run_id: str, ticket_id: str, kind: str = "triage",
            payload: dict[str, Any] | None = None) -> None:
    """Add a job inside the caller's transaction (with the rows it belongs to)."""
    session.execute(insert(JOBS).values(run_id=run_id, ticket_id=ticket_id, kind=kind, status="queued", attempts=0,
                                        payload_json=json.dumps(payload or {}), created_at=utcnow()))


_CLAIM_PG = """
UPDATE jobs SET status = 'running', worker = :worker, claimed_at = :now, attempts = attempts + 1
WHERE id = (
    SELECT id FROM jobs
    WHERE (status = 'queued' OR (status = 'running' AND claimed_at < :stale)) AND attempts < :max_attempts
    ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
RETURNING id, run_id, ticket_id, kind, payload_json, attempts
"""
_CLAIM_SQLITE = _CLAIM_PG.replace(" FOR UPDATE SKIP LOCKED", "")


class JobQueue:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._claim_sql = text(_CLAIM_PG if engine.dialect.name == "postgresql" else _CLAIM_SQLITE)

    def claim(self, worker: str, also: Callable[[Session, Job], Job] | None = None) -> Job | None:
        """Take the oldest claimable job. `also` runs inside the claim's transaction and may return the job
        completed (the runtime marks the run as running and reads its text there: one transaction)."""
        now = utcnow()
        with transaction(self.engine) as session:
            row = session.execute(self._claim_sql, {
                "worker": worker, "now": now, "stale": now - LEASE, "max_attempts": MAX_ATTEMPTS}).first()
            if row is None:
                return None
            job = Job(id=row[0], run_id=row[1], ticket_id=row[2], kind=row[3], payload=json.loads(row[4]),
                      attempts=row[5])
            if also is not None:
                job = also(session, job)
        return job

    def finish(self, job: Job, error: str | None = None) -> None:
        """Mark a job done, or failed with the error (a failed job is retried until MAX_ATTEMPTS)."""
        with transaction(self.engine) as session:
            finish_in(session, job, error)

    def depth(self) -> dict[str, int]:
        """Jobs per status (queue depth for metrics and readiness)."""
        with Session(self.engine) as session:
            rows = session.exec(select(JobRecord.status, func.count()).group_by(col(JobRecord.status))).all()
        return {status: int(n) for status, n in rows}


def finish_in(session: Session, job: Job, error: str | None = None) -> None:
    """Mark a job done (or failed, to be retried until MAX_ATTEMPTS) inside the caller's transaction: the
    runtime commits a job's end with its run's outcome."""
    if error is None:
        status = "done"
    else:
        status = "failed" if job.attempts >= MAX_ATTEMPTS else "queued"
        error = error[:500]
    session.execute(update(JOBS).where(JOBS.c.id == job.id).values(status=status, error=error, finished_at=utcnow()))
