"""decide: the one decision, with reason codes (see agent.policy)."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.context import TriageContext
from agent.events import event
from agent.policy import decide_action
from agent.state import TriageState


def decide(state: TriageState, runtime: Runtime[TriageContext]) -> dict[str, Any]:
    """Apply the pack's policy, autonomy and the run's mode."""
    assert state.classification is not None and state.mode is not None
    pack = runtime.context.pack
    decision = decide_action(
        pack, state.mode, state.classification, state.draft, state.guard_flags, state.output_flags,
        [a.id for a in state.articles],
    )
    threshold = pack.threshold(state.classification.category) if state.classification.category else None
    return {
        "decision": decision,
        "events": event("decide", "decided", decision=decision.decision, reasons=decision.reasons,
                        needs_approval=decision.needs_approval, threshold=threshold, mode=state.mode),
    }
