"""Approval requests bound to the exact action: a digest of its arguments, and an expiry."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from agent.state import ApprovalRequest, ProposedAction


def action_digest(action: ProposedAction) -> str:
    """sha256 over the action's canonical JSON: any edit to any argument makes a new digest."""
    canonical = json.dumps(action.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def approval_request(action: ProposedAction, now: datetime, ttl_hours: float) -> ApprovalRequest:
    return ApprovalRequest(digest=action_digest(action), requested_at=now, expires_at=now + timedelta(hours=ttl_hours))
