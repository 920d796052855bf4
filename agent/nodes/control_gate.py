"""control_gate: the global off-switch, read for every ticket."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.context import TriageContext
from agent.events import event
from agent.state import Decision, ProposedAction, TriageState


def control_gate(state: TriageState, runtime: Runtime[TriageContext]) -> dict[str, Any]:
    """Read the global mode; when it is `off`, leave the ticket untouched for humans."""
    ctx = runtime.context
    mode = ctx.control.mode("global")
    update: dict[str, Any] = {
        "mode": mode,
        "events": event("control_gate", "started", mode=mode, ticket_id=state.ticket.id, **ctx.versions),
    }
    if mode == "off":
        update["decision"] = Decision(decision="escalate", reasons=["agent_off"], action=ProposedAction(kind="none"))
        update["status"] = "left_for_humans"
    return update
