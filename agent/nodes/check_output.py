"""check_output: a draft reaches nobody unless it passes the output checks."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.context import TriageContext
from agent.events import event
from agent.state import TriageState
from guardrails.output import check_draft


def check_output(state: TriageState, runtime: Runtime[TriageContext]) -> dict[str, Any]:
    """Flag a draft that cites unretrieved articles, cites nothing, or links outside the allowlist."""
    if state.draft is None:
        return {"output_flags": [], "events": event("check_output", "no_draft")}
    policy = runtime.context.pack.policy
    flags = check_draft(
        state.draft.text,
        state.draft.citations,
        [a.id for a in state.articles],
        policy.url_allowlist,
        max_refund_amount=policy.commitments.max_refund_amount,
        max_promised_days=policy.commitments.max_promised_days,
    )
    return {"output_flags": flags, "events": event("check_output", "checked", flags=flags)}
