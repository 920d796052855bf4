"""record: every path ends here; the run's audit events go to the audit sink with deterministic ids.

The service's sink holds them and commits them with the run's outcome (service.audit.HeldTrail).
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.context import TriageContext
from agent.events import event
from agent.state import TriageState


def record(state: TriageState, runtime: Runtime[TriageContext]) -> dict[str, Any]:
    """Persist the trail (the sink keys events by run and position, so a re-run writes nothing twice)."""
    status = "done" if state.status == "running" else state.status
    summary = event(
        "record", "finished", status=status,
        decision=state.decision.decision if state.decision else None,
        reasons=state.decision.reasons if state.decision else [],
        executed=[a.executed for a in state.actions],
    )
    runtime.context.audit.write(state.run_id, state.ticket.id, [*state.events, *summary])
    return {"status": status, "events": summary}
