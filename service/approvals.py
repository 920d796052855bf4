"""Approval requests: registered when a run pauses, claimed once by a reviewer, expired when late.

Claiming is one conditional update (pending -> answered, for this digest, before expiry), so two
reviewers answering at once, or one answering twice, produce exactly one answer. The answer is stored
before the run resumes: a crash in between is finished by `recover`, with the same answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from agent.state import ApprovalRequest, ReviewAnswer
from service.store import ApprovalRecord, as_utc, transaction, utcnow


class ReviewError(ValueError):
    """The answer cannot be taken: unknown run, already answered, expired, or about another action."""


class SqlApprovals:
    """ApprovalBook on the state database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def open(self, run_id: str, ticket_id: str, request: ApprovalRequest, payload: Mapping[str, Any]) -> None:
        with transaction(self.engine) as session:
            if session.get(ApprovalRecord, run_id) is None:  # a re-run of the node registers nothing new
                category = payload.get("action", {}).get("category")
                session.add(ApprovalRecord(
                    run_id=run_id, ticket_id=ticket_id, category=category, digest=request.digest,
                    payload_json=json.dumps(payload), requested_at=request.requested_at,
                    expires_at=request.expires_at,
                ))

    def pending(self) -> list[dict[str, Any]]:
        with Session(self.engine) as session:
            rows = session.exec(select(ApprovalRecord).where(ApprovalRecord.status == "pending")
                                .order_by(col(ApprovalRecord.requested_at))).all()
        return [self._view(r) for r in rows]

    def get(self, run_id: str) -> dict[str, Any] | None:
        with Session(self.engine) as session:
            row = session.get(ApprovalRecord, run_id)
        return self._view(row) if row else None

    @staticmethod
    def _view(row: ApprovalRecord) -> dict[str, Any]:
        return {"run_id": row.run_id, "ticket_id": row.ticket_id, "category": row.category, "status": row.status,
                "digest": row.digest, "requested_at": as_utc(row.requested_at).isoformat(),
                "expires_at": as_utc(row.expires_at).isoformat(), "verdict": row.verdict,
                "answered_by": row.answered_by, "request": json.loads(row.payload_json)}

    def claim(self, run_id: str, answer: ReviewAnswer) -> None:
        """Take the answer once: the request must be pending, unexpired and about this exact action."""
        with transaction(self.engine) as session:
            # FOR UPDATE: on PostgreSQL two reviewers answering at once must not both see `pending`
            # (SQLite's BEGIN IMMEDIATE already serialises them).
            row = session.get(ApprovalRecord, run_id, with_for_update=True)
            if row is None:
                raise ReviewError(f"run {run_id} has no review request")
            if row.status != "pending":
                raise ReviewError(f"run {run_id} was already {row.status} ({row.verdict} by {row.answered_by})")
            if answer.verdict != "expire":
                if as_utc(row.expires_at) < utcnow():
                    raise ReviewError(f"the review request of run {run_id} expired at {row.expires_at}")
                if answer.digest != row.digest:
                    raise ReviewError(f"run {run_id}: the answer is about another version of the action "
                                      f"(digest {answer.digest}, the request has {row.digest})")
            row.status = "expired" if answer.verdict == "expire" else "answered"
            row.verdict, row.answered_by, row.answered_at = answer.verdict, answer.reviewer, utcnow()
            row.answer_json = answer.model_dump_json()
            session.add(row)

    def expired_due(self) -> list[str]:
        """Runs whose request passed its expiry unanswered."""
        now = utcnow()
        with Session(self.engine) as session:
            rows = session.exec(select(ApprovalRecord).where(ApprovalRecord.status == "pending")).all()
        return [r.run_id for r in rows if as_utc(r.expires_at) < now]

    def unresumed(self) -> list[tuple[str, ReviewAnswer]]:
        """Answers taken but not yet carried into their run (a crash came in between)."""
        with Session(self.engine) as session:
            rows = session.exec(select(ApprovalRecord).where(col(ApprovalRecord.status).in_(["answered", "expired"]),
                                                             ApprovalRecord.resumed == False)).all()  # noqa: E712
        return [(r.run_id, ReviewAnswer.model_validate_json(r.answer_json or "{}")) for r in rows]

    def mark_resumed(self, run_id: str) -> None:
        with transaction(self.engine) as session:
            row = session.get(ApprovalRecord, run_id)
            if row is not None:
                row.resumed = True
                session.add(row)
