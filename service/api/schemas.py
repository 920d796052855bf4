"""Request and response bodies of the API (they are the OpenAPI spec's schemas)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from agent.state import MODES

TicketId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")]
FieldValue = Annotated[str, StringConstraints(max_length=500)] | list[Annotated[str, StringConstraints(max_length=200)]]


HeaderName = Annotated[str, StringConstraints(max_length=100)]
HeaderValue = Annotated[str, StringConstraints(max_length=1000)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TicketIn(_In):
    text: Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
    """The ticket body as the customer wrote it (untrusted; redacted before anything else sees it)."""
    subject: Annotated[str, StringConstraints(max_length=1_000)] = ""
    requester: Annotated[str, StringConstraints(max_length=320)] | None = None
    ticket_id: TicketId | None = None
    """The helpdesk's id of the ticket; without one the ticket is opened in the local helpdesk."""
    channel: Annotated[str, StringConstraints(min_length=1, max_length=40)] = "api"
    fields: dict[Annotated[str, StringConstraints(min_length=1, max_length=100)], FieldValue] = Field(
        default_factory=dict, max_length=50)
    """The ticket's fields as they are now (category, priority, queue, ...): a field a human changes later is
    never overwritten."""
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict, max_length=50)
    """Mail headers, if the ticket came by email (Auto-Submitted, Precedence, ...): auto-replies are never answered."""


class Alternative(BaseModel):
    category: str
    probability: float


class ArticleOut(BaseModel):
    id: str
    title: str
    score: float


class ApprovalOut(BaseModel):
    digest: str
    expires_at: str


class GuardOut(BaseModel):
    input: list[str]
    output: list[str]


class ActionOut(BaseModel):
    kind: str
    idempotency_key: str
    executed: bool
    detail: str = ""


class DecisionOut(BaseModel):
    """The decision on one run: the same shape as `triage run` prints."""

    model_config = ConfigDict(extra="allow")
    run_id: str
    ticket_id: str
    category: str | None
    confidence: float | None
    alternatives: list[Alternative]
    out_of_scope: bool | None
    oos_score: float | None
    priority: str | None
    queue: str | None
    decision: str | None
    reasons: list[str]
    needs_approval: bool
    approval: ApprovalOut | None
    draft: str | None
    citations: list[str]
    articles: list[ArticleOut]
    guard: GuardOut
    mode: str | None
    status: str
    actions: list[ActionOut]
    latency_ms: float


class QueuedOut(BaseModel):
    run_id: str
    ticket_id: str
    status: Literal["queued"]
    duplicate: bool = False
    """True when this request repeated an Idempotency-Key already taken: nothing new was queued."""
    links: dict[str, str]


class ConversationOut(BaseModel):
    """A message the agent took note of without a triage run (auto-reply, a follow-up for humans, ...)."""

    ticket_id: str
    handled: Literal["ignored", "handed_to_humans", "recorded"]
    reason: str
    run_id: str | None = None


class RunOut(BaseModel):
    run_id: str
    ticket_id: str
    status: str
    decision: str | None
    category: str | None
    latency_ms: float | None
    error: str | None
    result: DecisionOut | None


class TicketOut(BaseModel):
    ticket_id: str
    channel: str
    latest_run_id: str | None
    runs: list[RunOut]


class AuditEventOut(BaseModel):
    seq: int
    """Position in the tamper-evident chain."""
    id: str
    run_id: str
    node: str
    kind: str
    data: dict[str, Any]
    at: str


class AuditOut(BaseModel):
    ticket_id: str
    events: list[AuditEventOut]


class ReviewOut(BaseModel):
    run_id: str
    ticket_id: str
    category: str | None
    status: str
    digest: str
    requested_at: str
    expires_at: str
    verdict: str | None
    answered_by: str | None
    request: dict[str, Any]


class ReviewListOut(BaseModel):
    pending: list[ReviewOut]
    expired_now: list[str]


class ReviewIn(_In):
    verdict: Literal["approve", "edit", "reject", "reroute"]
    digest: Annotated[str, StringConstraints(min_length=8, max_length=128)]
    """The digest of the action the reviewer saw (from the review): an answer about another version is refused."""
    reply: Annotated[str, StringConstraints(min_length=1, max_length=20_000)] | None = None
    """With `edit`: the reply to send instead."""
    category: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    """With `reroute`: the category (and so queue) the ticket belongs to."""
    comment: Annotated[str, StringConstraints(max_length=2_000)] = ""


ModeName = Literal["off", "shadow", "propose", "auto"]
assert set(MODES) == {"off", "shadow", "propose", "auto"}


class ControlIn(_In):
    mode: ModeName
    scope: Annotated[str, StringConstraints(
        pattern=r"^(global|category:[A-Za-z0-9_.\-]{1,100}|action:(reply|route|handoff|reject))$")] = "global"
    """`global`, `category:<name>` or `action:<kind>`."""
    reason: Annotated[str, StringConstraints(min_length=1, max_length=1_000)]
    """Why: recorded in the audit trail with who changed it."""


class ControlOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    global_mode: str = Field(alias="global")
    scopes: dict[str, Any]
    breakers: dict[str, Any]


class HealthOut(BaseModel):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)


class ErrorOut(BaseModel):
    error: dict[str, Any]
