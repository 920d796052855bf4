"""The run context: everything with I/O reaches the graph through these Protocols.

It is LangGraph's `context_schema`: built once per process, passed to every run, never checkpointed.
Tests swap any member for a fake; the CLI, the service and the eval runner each assemble their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from agent.llm.services import LlmServices
from agent.models.classifier import Prediction
from agent.models.encoder import TextEncoder, Vector
from agent.pack import Pack
from agent.state import ActionOp, ApprovalRequest, AuditEvent, Mode, RetrievedArticle


class Classifier(Protocol):
    def predict(self, text: str, vector: Vector) -> Prediction: ...


class Retriever(Protocol):
    def search(self, vector: Vector, text: str, category: str | None, k: int = 3) -> list[RetrievedArticle]: ...


class Ticketing(Protocol):
    """The writes the agent may make on a ticket. Each is idempotent on its key."""

    def set_fields(self, ticket_id: str, fields: Mapping[str, str | list[str]], *, idempotency_key: str,
                   baseline: Mapping[str, Any] | None = None) -> None:
        """Write fields, except those whose current value is no longer `baseline`'s (a human changed them)."""
        ...

    def add_note(self, ticket_id: str, body: str, *, idempotency_key: str) -> None: ...

    def add_reply(self, ticket_id: str, body: str, *, idempotency_key: str) -> None: ...


class ActionQueue(Protocol):
    """The outbox: the run's writes, queued in the same transaction as its decision, delivered later."""

    def submit(self, run_id: str, ticket_id: str, ops: Sequence[ActionOp], decision: Mapping[str, Any]) -> None: ...


class ApprovalBook(Protocol):
    """Where pending approvals are registered so reviewers can find and answer them."""

    def open(self, run_id: str, ticket_id: str, request: ApprovalRequest, payload: Mapping[str, Any]) -> None: ...


class AuditSink(Protocol):
    def write(self, run_id: str, ticket_id: str, events: Sequence[AuditEvent]) -> None: ...


class ControlReader(Protocol):
    """Where the live modes come from; read for every ticket, never cached."""

    def mode(self, scope: str = "global") -> Mode: ...


@dataclass(frozen=True)
class FixedControl:
    """A control that always answers one mode (eval runs, tests, a first demo)."""

    fixed: Mode = "auto"

    def mode(self, scope: str = "global") -> Mode:
        return self.fixed


@dataclass
class MemoryAudit:
    """Keeps audit events in memory (eval runs and tests); a second write of the same run replaces it."""

    runs: dict[str, list[AuditEvent]] = field(default_factory=dict)

    def write(self, run_id: str, ticket_id: str, events: Sequence[AuditEvent]) -> None:
        self.runs[run_id] = list(events)


@dataclass
class NullActions:
    """Queues nothing anywhere: eval runs are isolated from every helpdesk."""

    def submit(self, run_id: str, ticket_id: str, ops: Sequence[ActionOp], decision: Mapping[str, Any]) -> None:
        return None


@dataclass
class DirectActions:
    """Applies queued writes at once through an adapter (tests and single-shot tools; no outbox)."""

    ticketing: Ticketing

    def submit(self, run_id: str, ticket_id: str, ops: Sequence[ActionOp], decision: Mapping[str, Any]) -> None:
        for op in ops:
            apply_op(self.ticketing, ticket_id, op)


def apply_op(ticketing: Ticketing, ticket_id: str, op: ActionOp) -> None:
    """Perform one queued write on the helpdesk."""
    if op.op == "set_fields":
        ticketing.set_fields(ticket_id, op.payload["fields"], idempotency_key=op.idempotency_key,
                             baseline=op.payload.get("baseline"))
    elif op.op == "add_note":
        ticketing.add_note(ticket_id, op.payload["body"], idempotency_key=op.idempotency_key)
    else:
        ticketing.add_reply(ticket_id, op.payload["body"], idempotency_key=op.idempotency_key)


@dataclass
class NoApprovals:
    def open(self, run_id: str, ticket_id: str, request: ApprovalRequest, payload: Mapping[str, Any]) -> None:
        return None


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TriageContext:
    pack: Pack
    encoder: TextEncoder
    classifier: Classifier
    retriever: Retriever
    actions: ActionQueue
    audit: AuditSink
    control: ControlReader
    approvals: ApprovalBook = field(default_factory=NoApprovals)
    clock: Callable[[], datetime] = utc_now
    hold_for_review: bool = True
    """Pause escalations for a reviewer (needs a checkpointer). Eval runs set False: they only measure."""
    versions: Mapping[str, str] = field(default_factory=dict)
    """Model, pack and policy versions, stamped on every run's audit trail."""
    llm: LlmServices | None = None
    """The optional LLM (agent/llm): None runs the local path only, without importing the LLM client."""
