"""The one contract every ticketing adapter implements, and the errors they all raise.

The agent itself only needs the three writes of `agent.context.Ticketing`; the service needs more: read
a ticket and its conversation, assign, verify an inbound webhook and name its event, and know how long
a rate-limited API wants us to wait. `HelpdeskAdapter` is that whole surface. The conformance suite in
tests/integrations/ runs every registered adapter against it.

Field names the agent writes are its own (`category`, `priority`, `queue`, `tags`, `assignee`, or any
custom name); each adapter maps them onto its system (a Zendesk group id, an RT queue name, a
ServiceNow assignment group) through its settings.

A field a human changed after the ticket arrived is never overwritten: the agent passes the values it
saw at arrival as `baseline`, the adapter reads the ticket right before writing, and drops every field
whose current value is no longer the baseline (`fields_safe_to_write`). Where the API offers a
conditional write (RT If-Match, Zendesk safe_update) the adapter uses it, so a change between the read
and the write is caught too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

FieldValue = str | list[str]


@dataclass(frozen=True)
class Comment:
    """One message of a ticket's conversation."""

    body: str
    public: bool
    author: str | None = None
    created_at: str | None = None
    """ISO-8601 as the system reported it."""


@dataclass(frozen=True)
class TicketSnapshot:
    """A ticket as the helpdesk shows it now, in the agent's field names."""

    id: str
    subject: str
    body: str
    """The first message (what the requester wrote when opening the ticket)."""
    requester: str | None
    status: str
    fields: dict[str, Any]
    comments: list[Comment] = field(default_factory=list)
    updated_at: str | None = None
    version: str | None = None
    """Whatever the system uses for conditional writes (ETag, updated stamp, mod count), if anything."""


@dataclass(frozen=True)
class WebhookEvent:
    """A verified inbound event: who sent it, which delivery it is (for deduplication), which ticket."""

    system: str
    event_id: str
    """The delivery id: a redelivered event carries the same one and triggers no second run."""
    ticket_id: str | None
    kind: str
    """`created`, `updated`, `comment`, ... as far as the payload tells."""
    payload: Mapping[str, Any] = field(default_factory=dict)


# --- errors ------------------------------------------------------------------------------------------


class AdapterError(Exception):
    """A call to a ticketing system failed. `retryable` tells the outbox whether to try again."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        """Seconds the system asked us to wait, when it said."""


class NotFound(AdapterError):
    """The ticket (or what the call refers to) does not exist: retrying will not help."""


class Unauthorized(AdapterError):
    """Credentials rejected or rights missing (401/403): an operator must fix the settings."""


class Rejected(AdapterError):
    """The system refused the request as invalid (400/422): the payload or the mapping is wrong."""


class Conflict(AdapterError):
    """A conditional write lost a race (409/412): read again and retry."""

    retryable = True


class RateLimited(AdapterError):
    """429 (or a 503 with Retry-After): wait `retry_after` seconds, then retry."""

    retryable = True


class Unavailable(AdapterError):
    """5xx, timeouts, connection failures: transient, retry with backoff."""

    retryable = True


class MalformedResponse(AdapterError):
    """The system answered 2xx with a body we cannot read: retryable, it is usually a proxy or a blip."""

    retryable = True


class BadWebhookPayload(ValueError):
    """A verified webhook whose body is not what the system documents: the service answers 422."""


class WebhookRejected(Exception):
    """An inbound webhook failed verification (bad or missing signature, token, or stale timestamp).

    The service answers 401 and does nothing else with the request."""


# --- the contract ------------------------------------------------------------------------------------


@runtime_checkable
class HelpdeskAdapter(Protocol):
    """Everything the service does with a ticketing system. Every write is idempotent on its key."""

    name: str
    """Registry name: `local`, `rt`, `zendesk`, `jira_sm`, `servicenow`, `freshdesk`."""
    supports_conditional_write: bool

    def get_ticket(self, ticket_id: str) -> TicketSnapshot:
        """The ticket with its conversation, fields in the agent's names. Raises NotFound."""
        ...

    def set_fields(self, ticket_id: str, fields: Mapping[str, FieldValue], *, idempotency_key: str,
                   baseline: Mapping[str, Any] | None = None) -> None:
        """Write fields, leaving alone any field whose current value differs from `baseline`."""
        ...

    def add_note(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        """An internal note, never visible to the requester."""
        ...

    def add_reply(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        """A public reply to the requester."""
        ...

    def assign(self, ticket_id: str, assignee: str, *, idempotency_key: str) -> None:
        ...

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Check the request really comes from the system; raises WebhookRejected. Headers are matched
        case-insensitively (callers may pass any casing)."""
        ...

    def wait_seconds(self, status: int, headers: Mapping[str, str]) -> float | None:
        """How long the system asks us to wait before the next call, if it said (Retry-After first,
        then the system's reset header); None when it did not say."""
        ...


def fields_safe_to_write(wanted: Mapping[str, FieldValue], current: Mapping[str, Any],
                         baseline: Mapping[str, Any] | None) -> tuple[dict[str, FieldValue], list[str]]:
    """Split the agent's wanted fields into those it may write and those a human has changed since the
    ticket arrived (current value no longer the baseline). Without a baseline every field may be written."""
    if baseline is None:
        return dict(wanted), []
    allowed: dict[str, FieldValue] = {}
    skipped: list[str] = []
    for name, value in wanted.items():
        if name in baseline and _normal(current.get(name)) != _normal(baseline[name]):
            skipped.append(name)
        else:
            allowed[name] = value
    return allowed, skipped


def _normal(value: Any) -> Any:
    """Compare field values the way a person would: list order and None-vs-empty do not matter."""
    if value in (None, "", []):
        return None
    if isinstance(value, list | tuple | set):
        return sorted(str(v) for v in value)
    return str(value)
