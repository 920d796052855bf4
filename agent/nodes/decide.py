"""decide: the one decision, with reason codes (see agent.policy), under the modes that apply now."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.approvals import approval_request
from agent.context import TriageContext
from agent.events import event
from agent.modes import ACTION_KINDS, action_scope, mode_from, most_restrictive, read_modes, scopes_for
from agent.policy import decide_action
from agent.state import TriageState


def decide(state: TriageState, runtime: Runtime[TriageContext]) -> dict[str, Any]:
    """Apply the pack's policy and autonomy under the global, category and action modes."""
    assert state.classification is not None and state.mode is not None
    ctx = runtime.context
    pack = ctx.pack
    category = state.classification.category
    args = (state.classification, state.draft, state.guard_flags, state.output_flags, [a.id for a in state.articles])
    # One read for the whole decision: the ticket's scopes and every action kind's, since which action
    # applies is only known after deciding once.
    modes = read_modes(ctx.control, [*scopes_for(category), *map(action_scope, ACTION_KINDS)])
    mode = most_restrictive(state.mode, mode_from(modes, category))
    decision = decide_action(pack, mode, *args)
    action_mode = most_restrictive(mode, mode_from(modes, category, decision.action.kind))
    if action_mode != mode:  # the action's own scope is stricter: decide again under it
        mode = action_mode
        decision = decide_action(pack, mode, *args)
    approval = (approval_request(decision.action, ctx.clock(), pack.policy.approval_ttl_hours)
                if decision.needs_approval else None)
    threshold = pack.threshold(category) if category else None
    return {
        "decision": decision,
        "approval": approval,
        "events": event("decide", "decided", decision=decision.decision, reasons=decision.reasons,
                        needs_approval=decision.needs_approval, threshold=threshold, mode=mode,
                        digest=approval.digest if approval else None),
    }
