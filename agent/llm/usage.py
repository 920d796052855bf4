"""Tokens and cost, as the endpoint reported them in each response's `usage` field.

Nothing here counts tokens itself: a tokenizer would need files downloaded at run time, and the
endpoint's own count is the one it bills.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from agent.state import AuditEvent

CALL_EVENT = "llm_call"


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens)

    @classmethod
    def of_message(cls, message: Any) -> Usage:
        """Read a LangChain message's `usage_metadata` (absent on some servers: then zero)."""
        meta = getattr(message, "usage_metadata", None) or {}
        return cls(int(meta.get("input_tokens") or 0), int(meta.get("output_tokens") or 0))


@dataclass(frozen=True)
class TicketUsage:
    """What one ticket's run spent on the LLM, summed from its `llm_call` audit events."""

    calls: int
    tokens: int
    cost: float


def ticket_usage(events: Iterable[AuditEvent]) -> TicketUsage:
    """Sum the LLM calls of one run (a run with no call has zero tokens and cost)."""
    calls = [e.data for e in events if e.kind == CALL_EVENT]
    return TicketUsage(
        calls=sum(1 for c in calls if c.get("outcome") != "switched_off"),
        tokens=sum(int(c.get("input_tokens", 0)) + int(c.get("output_tokens", 0)) for c in calls),
        cost=round(sum(float(c.get("cost", 0.0)) for c in calls), 8),
    )
