"""The outbox: helpdesk writes queued with the decision, delivered with retries, then dead-lettered.

`submit` runs inside the act node: the run's decision and its writes commit in one transaction, so a
crash leaves either both or neither. `deliver_due` is the worker: each write carries its idempotency
key to the adapter, so a crash between the helpdesk's answer and the row's update re-delivers a write
the helpdesk has already seen, and the helpdesk ignores it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Row, insert, update
from sqlmodel import Session, col, select

from agent.context import Ticketing, apply_op
from agent.state import ActionOp
from integrations.contract import AdapterError
from service.store import OUTBOX, RUNS, OutboxRecord, RunRecord, as_utc, transaction, utcnow

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6


def backoff(attempts: int) -> timedelta:
    """Wait before the next try: 2, 4, 8, ... seconds, at most 10 minutes."""
    return timedelta(seconds=min(600, 2**attempts))


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int
    failed: int
    dead: int


def _note_after(due: Sequence[Row[Any]], index: int) -> Row[Any] | None:
    """The same run's note right after its fields write, if it is due too (they travel together)."""
    row = due[index]
    for later in due[index + 1:]:
        if later.ticket_id != row.ticket_id:
            continue
        return later if later.run_id == row.run_id and later.op == "add_note" else None
    return None


class SqlOutbox:
    """ActionQueue on the state database, plus the delivery worker's loop body."""

    def __init__(self, engine: Engine, max_attempts: int = MAX_ATTEMPTS,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.max_attempts = max_attempts
        self.clock = clock

    def submit(self, run_id: str, ticket_id: str, ops: Sequence[ActionOp], decision: Mapping[str, Any]) -> None:
        """Queue the writes and record the decision in one transaction (repeat calls add nothing)."""
        with transaction(self.engine) as session:
            existing = set(session.execute(select(OUTBOX.c.idempotency_key).where(OUTBOX.c.run_id == run_id)).scalars())
            category = next((op.payload["fields"].get("category") for op in ops if op.op == "set_fields"), None)
            now = self.clock()
            rows = [{"idempotency_key": op.idempotency_key, "run_id": run_id, "ticket_id": ticket_id,
                     "category": category, "op": op.op, "payload_json": json.dumps(op.payload), "status": "pending",
                     "attempts": 0, "last_error": "", "next_attempt_at": now, "created_at": utcnow()}
                    for op in ops if op.idempotency_key not in existing]
            if rows:
                session.execute(insert(OUTBOX), rows)
            # The decision commits with its writes; the run stays `running` until the graph has recorded it.
            noted = session.execute(update(RUNS).where(RUNS.c.run_id == run_id)
                                    .values(decision=str(decision.get("decision")), updated_at=utcnow()))
            if not getattr(noted, "rowcount", 0):
                session.add(RunRecord(run_id=run_id, ticket_id=ticket_id, status="running",
                                      decision=str(decision.get("decision"))))

    def deliver_due(self, ticketing: Ticketing, ticket_id: str | None = None,
                    tickets: Collection[str] | None = None) -> DeliveryReport:
        """Deliver every pending write whose time has come, oldest first, in order within a ticket; only
        `ticket_id`'s, or only those of `tickets` (a worker's batch), when given."""
        now = self.clock()
        with Session(self.engine) as session:
            query = select(OUTBOX).where(OUTBOX.c.status == "pending").order_by(OUTBOX.c.id)
            if ticket_id is not None:
                query = query.where(OUTBOX.c.ticket_id == ticket_id)
            if tickets is not None:
                query = query.where(OUTBOX.c.ticket_id.in_(sorted(set(tickets))))
            due = [r for r in session.execute(query).all() if as_utc(r.next_attempt_at) <= now]
        failed = dead = 0
        done: list[int | None] = []
        blocked: set[str] = set()  # a ticket whose earlier write failed waits: writes stay in order
        combine = getattr(ticketing, "write", None)  # adapters that take fields and a note in one call
        skip: set[int | None] = set()
        for index, row in enumerate(due):
            if row.ticket_id in blocked or row.id in skip:
                continue
            partner = _note_after(due, index) if combine is not None and row.op == "set_fields" else None
            try:
                if partner is not None and combine is not None:
                    # One API call for the run's fields and its note: vendors limit writes per ticket.
                    fields = json.loads(row.payload_json)
                    combine(row.ticket_id, idempotency_key=row.idempotency_key, fields=fields["fields"],
                            comment=json.loads(partner.payload_json)["body"], public=False,
                            baseline=fields.get("baseline"))
                else:
                    op = ActionOp(op=row.op, payload=json.loads(row.payload_json),
                                  idempotency_key=row.idempotency_key)
                    apply_op(ticketing, row.ticket_id, op)
            except Exception as exc:  # any adapter failure is retried, then dead-lettered
                blocked.add(row.ticket_id)
                went_dead = self._failed(row.id, exc)
                failed += 1
                dead += int(went_dead)
                continue
            done.append(row.id)
            if partner is not None:
                skip.add(partner.id)
                done.append(partner.id)
        # One transaction for all that went through (a crash before it re-sends them; keys absorb that).
        self._delivered(done)
        return DeliveryReport(len(done), failed, dead)

    def _delivered(self, row_ids: Sequence[int | None]) -> None:
        if not row_ids:
            return
        with transaction(self.engine) as session:
            session.execute(update(OUTBOX).where(OUTBOX.c.id.in_(list(row_ids)))
                            .values(status="delivered", delivered_at=utcnow()))

    def _failed(self, row_id: int | None, exc: Exception) -> bool:
        with transaction(self.engine) as session:
            row = session.get(OutboxRecord, row_id)
            if row is None:
                return False
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:500]
            # An adapter's error says whether trying again can help (a 404 or a refused payload cannot:
            # dead-letter at once for a person, who can fix and re-drive) and how long the system asked us
            # to wait; any other exception is treated as transient.
            permanent = isinstance(exc, AdapterError) and not exc.retryable
            asked_wait = exc.retry_after if isinstance(exc, AdapterError) else None
            if permanent or row.attempts >= self.max_attempts:
                row.status = "dead"
                logger.error("outbox: %s dead-lettered after %d attempts: %s", row.idempotency_key, row.attempts,
                             row.last_error)
            else:
                wait = backoff(row.attempts)
                if asked_wait is not None:
                    wait = max(wait, timedelta(seconds=asked_wait))
                row.next_attempt_at = self.clock() + wait
                logger.warning("outbox: %s failed (attempt %d): %s", row.idempotency_key, row.attempts,
                               row.last_error)
            session.add(row)
            return row.status == "dead"

    def list(self, status: str | None = None) -> list[dict[str, Any]]:
        with Session(self.engine) as session:
            query = select(OutboxRecord).order_by(col(OutboxRecord.id))
            if status:
                query = query.where(OutboxRecord.status == status)
            return [{"id": r.id, "key": r.idempotency_key, "ticket_id": r.ticket_id, "op": r.op, "status": r.status,
                     "attempts": r.attempts, "last_error": r.last_error} for r in session.exec(query).all()]

    def redrive(self, ids: Sequence[int] | None = None) -> int:
        """Put dead letters (all, or the given ids) back in the queue for delivery now."""
        with transaction(self.engine) as session:
            query = select(OutboxRecord).where(OutboxRecord.status == "dead")
            if ids:
                query = query.where(col(OutboxRecord.id).in_(list(ids)))
            rows = session.exec(query).all()
            for row in rows:
                row.status, row.attempts, row.next_attempt_at = "pending", 0, self.clock()
                session.add(row)
            return len(rows)
