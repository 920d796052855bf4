"""The typed state that flows through the triage graph, and the records nodes put in it.

Nodes return partial updates; only `events` has a reducer (appending), every other field is replaced by
the node that owns it. Nested records are frozen pydantic models so checkpoints round-trip them exactly.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field

Mode = Literal["off", "shadow", "propose", "auto"]
DecisionKind = Literal["auto_reply", "auto_route", "escalate", "reject"]
ActionKind = Literal["reply", "route", "handoff", "reject", "none"]
Probability = Annotated[float, Ge(0), Le(1)]

MODES: tuple[Mode, ...] = ("off", "shadow", "propose", "auto")


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Ticket(_Record):
    """An incoming ticket as the graph receives it. `text` is untrusted."""

    id: str
    text: str
    subject: str = ""
    requester: str | None = None
    channel: str = "api"
    fields: dict[str, Any] = Field(default_factory=dict)
    """The ticket's fields as they were when it arrived, in the agent's names (category, priority,
    queue, ...). The writes carry them as a baseline: a field a human changed since is left alone."""


class Classification(_Record):
    category: str | None
    """Best category, or None when the ticket is out of scope."""
    confidence: Probability
    alternatives: list[tuple[str, Probability]]
    """Top-3 categories with calibrated probabilities, best first."""
    out_of_scope: bool
    oos_score: Probability
    priority: str
    queue: str | None
    neighbours: list[tuple[str, float]] = Field(default_factory=list)
    """The nearest training tickets (label, cosine), nearest first: what the model's answer rests on."""


class RetrievedArticle(_Record):
    id: str
    title: str
    score: float
    """Cosine similarity between the ticket and the article."""


class Draft(_Record):
    text: str
    citations: list[str]
    """Ids of the KB articles the reply is grounded in."""


class ProposedAction(_Record):
    """The one action the agent wants to take on the ticket; only these kinds and fields exist."""

    kind: ActionKind
    queue: str | None = None
    priority: str | None = None
    category: str | None = None
    tags: list[str] = Field(default_factory=list)
    reply: str | None = None
    """Public reply to the customer (kind `reply` only)."""
    note: str = ""
    """Internal note explaining the decision (never shown to the customer)."""


class ActionOp(_Record):
    """One write on the helpdesk, queued in the outbox under its idempotency key."""

    op: Literal["set_fields", "add_note", "add_reply"]
    payload: dict[str, Any]
    idempotency_key: str


class ApprovalRequest(_Record):
    """What a reviewer approves: the exact action (by digest), until it expires."""

    digest: str
    requested_at: datetime
    expires_at: datetime


class Decision(_Record):
    decision: DecisionKind
    reasons: list[str]
    """Reason codes, e.g. `confident`, `low_confidence`, `autonomy_never`, `out_of_scope`."""
    needs_approval: bool = False
    """True when a human must approve the proposed action before anything is written."""
    action: ProposedAction


class ReviewAnswer(_Record):
    """A reviewer's answer to an escalation."""

    verdict: Literal["approve", "edit", "reject", "reroute", "expire"]
    """`expire` is the system's answer when nobody answered in time."""
    reviewer: str
    digest: str | None = None
    """Digest of the action the reviewer saw; an answer about another action is refused."""
    reply: str | None = None
    """With `edit`: the reply text the reviewer wrote instead."""
    queue: str | None = None
    """With `reroute`: the queue (and so category) the reviewer chose."""
    category: str | None = None
    comment: str = ""


class ActionResult(_Record):
    kind: ActionKind
    idempotency_key: str
    executed: bool
    """True when the writes were queued in the outbox (delivered by a worker); False when suppressed."""
    detail: str = ""


class AuditEvent(_Record):
    """One entry of a run's audit trail (over redacted text only)."""

    node: str
    kind: str
    data: dict[str, Any] = Field(default_factory=dict)


@dataclass
class TriageInput:
    """What a caller provides to start a run."""

    ticket: Ticket
    run_id: str


@dataclass
class TriageState:
    """The full state of one triage run."""

    ticket: Ticket
    run_id: str
    mode: Mode | None = None
    """Global mode read by control_gate at the start of this run."""
    clean_text: str = ""
    """Newest message body, normalised and capped: what the models see."""
    vector: list[float] = field(default_factory=list)
    """The ticket's sentence embedding, computed once and shared by guard, classify and retrieve."""
    guard_flags: list[str] = field(default_factory=list)
    request_text: str = ""
    """The first, main request when the ticket goes on to another one ("Also, ..."); "" when it does not."""
    request_vector: list[float] = field(default_factory=list)
    """request_text's embedding (empty with it): classify and retrieve answer the main request."""
    classification: Classification | None = None
    articles: list[RetrievedArticle] = field(default_factory=list)
    draft: Draft | None = None
    output_flags: list[str] = field(default_factory=list)
    decision: Decision | None = None
    approval: ApprovalRequest | None = None
    """Set by decide when a reviewer must approve: the action's digest and when the request expires."""
    review: ReviewAnswer | None = None
    status: Literal["running", "done", "awaiting_review", "left_for_humans"] = "running"
    actions: list[ActionResult] = field(default_factory=list)
    events: Annotated[list[AuditEvent], operator.add] = field(default_factory=list)
    """Appended to by every node; persisted by `record` with deterministic ids."""
