"""Small helpers for nodes to add audit events."""

from __future__ import annotations

from typing import Any

from agent.state import AuditEvent


def event(node: str, kind: str, **data: Any) -> list[AuditEvent]:
    """A one-event list, ready to return under the state's `events` key (the reducer appends it)."""
    return [AuditEvent(node=node, kind=kind, data=data)]
