"""escalate: pause for a reviewer, then carry their answer into the action.

Nothing with an external side effect sits before `interrupt()`: a resumed node re-runs from its start.
The one write before it, the audit trail so far, is idempotent (deterministic event ids), so the trail
shows the pending review while the run waits and a re-run rewrites the same rows.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent.context import TriageContext
from agent.events import event
from agent.state import Decision, ProposedAction, ReviewAnswer, TriageState


def review_request(state: TriageState) -> dict[str, Any]:
    """The payload a reviewer sees: the proposed action and why it needs them."""
    assert state.decision is not None and state.classification is not None
    return {
        "run_id": state.run_id,
        "ticket_id": state.ticket.id,
        "reasons": state.decision.reasons,
        "classification": state.classification.model_dump(),
        "action": state.decision.action.model_dump(),
        "articles": [a.model_dump() for a in state.articles],
    }


def apply_review(decision: Decision, answer: ReviewAnswer, human_queue: str) -> ProposedAction:
    """The action after a reviewer's answer (reject hands the ticket to the human queue untouched)."""
    action = decision.action
    if answer.verdict == "approve":
        return action
    if answer.verdict == "edit":
        return action.model_copy(update={"kind": "reply", "reply": answer.reply})
    if answer.verdict == "reroute":
        return action.model_copy(update={"kind": "route", "reply": None, "queue": answer.queue,
                                         "category": answer.category or action.category})
    return ProposedAction(kind="handoff", queue=human_queue, priority=action.priority, category=action.category,
                          tags=action.tags, note=f"{action.note} Reviewer {answer.reviewer} rejected the proposal.")


def escalate(state: TriageState, runtime: Runtime[TriageContext]) -> dict[str, Any]:
    """Wait durably for a reviewer's answer (or, in eval runs, stop at the request)."""
    ctx = runtime.context
    assert state.decision is not None
    if not ctx.hold_for_review:
        return {"status": "awaiting_review", "events": event("escalate", "review_requested", held=False)}
    requested = event("escalate", "review_requested", held=True, reasons=state.decision.reasons)
    ctx.audit.write(state.run_id, state.ticket.id, [*state.events, *requested])
    answer = ReviewAnswer.model_validate(interrupt(review_request(state)))
    action = apply_review(state.decision, answer, ctx.pack.policy.human_queue)
    decision = state.decision.model_copy(
        update={"action": action, "needs_approval": False,
                "reasons": [*state.decision.reasons, f"review_{answer.verdict}"]}
    )
    return {
        "review": answer,
        "decision": decision,
        "events": requested + event("escalate", "reviewed", verdict=answer.verdict, reviewer=answer.reviewer,
                        comment=answer.comment),
    }
