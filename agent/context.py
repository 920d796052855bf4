"""The run context: everything with I/O reaches the graph through these Protocols.

It is LangGraph's `context_schema`: built once per process, passed to every run, never checkpointed.
Tests swap any member for a fake; the CLI, the service and the eval runner each assemble their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from agent.models.classifier import Prediction
from agent.models.encoder import TextEncoder, Vector
from agent.pack import Pack
from agent.state import AuditEvent, Mode, RetrievedArticle


class Classifier(Protocol):
    def predict(self, text: str, vector: Vector) -> Prediction: ...


class Retriever(Protocol):
    def search(self, vector: Vector, category: str | None, k: int = 3) -> list[RetrievedArticle]: ...


class Ticketing(Protocol):
    """The writes the agent may make on a ticket. Each is idempotent on its key."""

    def set_fields(self, ticket_id: str, fields: Mapping[str, str | list[str]], *, idempotency_key: str) -> None: ...

    def add_note(self, ticket_id: str, body: str, *, idempotency_key: str) -> None: ...

    def add_reply(self, ticket_id: str, body: str, *, idempotency_key: str) -> None: ...


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
class NullTicketing:
    """Writes nothing anywhere: eval runs are isolated from every helpdesk."""

    def set_fields(self, ticket_id: str, fields: Mapping[str, str | list[str]], *, idempotency_key: str) -> None:
        return None

    def add_note(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        return None

    def add_reply(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        return None


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TriageContext:
    pack: Pack
    encoder: TextEncoder
    classifier: Classifier
    retriever: Retriever
    ticketing: Ticketing
    audit: AuditSink
    control: ControlReader
    clock: Callable[[], datetime] = utc_now
    hold_for_review: bool = True
    """Pause escalations for a reviewer (needs a checkpointer). Eval runs set False: they only measure."""
    versions: Mapping[str, str] = field(default_factory=dict)
    """Model, pack and policy versions, stamped on every run's audit trail."""
