"""check_output: a draft reaches nobody unless it passes the output checks (guardrails/output.py)."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.context import TriageContext
from agent.events import event
from agent.llm.prompts import INSTRUCTIONS
from agent.state import TriageState
from guardrails.output import check_draft


def check_output(state: TriageState, runtime: Runtime[TriageContext]) -> dict[str, Any]:
    """Flag a draft that is ungrounded, links off-list, over-promises, carries someone else's PII or leaks
    the prompt; every flag is a reason code that escalates the ticket."""
    if state.draft is None:
        return {"output_flags": [], "events": event("check_output", "no_draft")}
    ctx = runtime.context
    policy = ctx.pack.policy
    retrieved = [a.id for a in state.articles]
    # What the pack itself publishes (a support address in an article) is nobody's PII.
    published = [article.answer for article in map(ctx.pack.article, retrieved) if article is not None]
    flags = check_draft(
        state.draft.text,
        state.draft.citations,
        retrieved,
        policy.url_allowlist,
        max_refund_amount=policy.commitments.max_refund_amount,
        max_promised_days=policy.commitments.max_promised_days,
        requester=state.ticket.requester,
        known_values=published,
        canary=ctx.llm.canary if ctx.llm is not None else None,
        system_prompt="\n".join(INSTRUCTIONS) if ctx.llm is not None else None,
    )
    return {"output_flags": flags, "events": event("check_output", "checked", flags=flags)}
