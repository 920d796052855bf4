"""act: perform the decided action on the ticket, the only node that writes outside the agent.

Modes and the action allow-list are checked again right here, before any write: a mode switched off
mid-run, or an action that a ticket or a model smuggled in, never reaches the helpdesk.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.context import TriageContext
from agent.events import event
from agent.state import ActionResult, ProposedAction, TriageState
from guardrails.actions import action_violations


def _fields(action: ProposedAction) -> dict[str, str | list[str]]:
    fields: dict[str, str | list[str]] = {}
    if action.queue:
        fields["queue"] = action.queue
    if action.priority:
        fields["priority"] = action.priority
    if action.category:
        fields["category"] = action.category
    if action.tags:
        fields["tags"] = list(action.tags)
    return fields


def act(state: TriageState, runtime: Runtime[TriageContext]) -> dict[str, Any]:
    """Write fields, the internal note and (for replies) the public reply, each with an idempotency key."""
    ctx = runtime.context
    assert state.decision is not None
    action = state.decision.action
    key = f"{state.run_id}:{action.kind}"
    final_status = "done" if action.kind in ("reply", "route", "reject") else "left_for_humans"
    mode = ctx.control.mode("global")
    if mode in ("off", "shadow") or action.kind == "none":
        result = ActionResult(kind=action.kind, idempotency_key=key, executed=False, detail=f"mode {mode}: not written")
        return {"actions": [result], "status": final_status,
                "events": event("act", "suppressed", mode=mode, action=action.model_dump())}
    problems = action_violations(action, ctx.pack)
    if problems:
        result = ActionResult(kind=action.kind, idempotency_key=key, executed=False, detail="; ".join(problems))
        return {"actions": [result], "status": "left_for_humans",
                "events": event("act", "blocked", problems=problems, action=action.model_dump())}
    ticket_id = state.ticket.id
    ctx.ticketing.set_fields(ticket_id, _fields(action), idempotency_key=f"{key}:fields")
    if action.note:
        ctx.ticketing.add_note(ticket_id, action.note, idempotency_key=f"{key}:note")
    if action.kind == "reply" and action.reply:
        ctx.ticketing.add_reply(ticket_id, action.reply, idempotency_key=f"{key}:reply")
    result = ActionResult(kind=action.kind, idempotency_key=key, executed=True)
    return {"actions": [result], "status": final_status,
            "events": event("act", "executed", action=action.model_dump())}
