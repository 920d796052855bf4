"""escalate: pause for a reviewer, then carry their answer into the action.

Nothing with an external side effect sits before `interrupt()`: a resumed node re-runs from its start.
The writes before it (the audit trail so far, the approval request) are idempotent, keyed by the run,
so a re-run rewrites the same rows. The answer is checked here too: it must be about the exact action
(digest) and arrive before the request expires, or the ticket goes to the human queue instead.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent.approvals import action_digest
from agent.context import TriageContext
from agent.events import event
from agent.state import Decision, ProposedAction, ReviewAnswer, TriageState


def review_request(state: TriageState) -> dict[str, Any]:
    """The payload a reviewer sees: the proposed action, its digest and expiry, and why it needs them."""
    assert state.decision is not None and state.classification is not None and state.approval is not None
    return {
        "run_id": state.run_id,
        "ticket_id": state.ticket.id,
        "reasons": state.decision.reasons,
        "classification": state.classification.model_dump(mode="json"),
        "action": state.decision.action.model_dump(mode="json"),
        "digest": state.approval.digest,
        "expires_at": state.approval.expires_at.isoformat(),
        "articles": [a.model_dump(mode="json") for a in state.articles],
    }


def _handoff(action: ProposedAction, human_queue: str, why: str) -> ProposedAction:
    return ProposedAction(kind="handoff", queue=human_queue, priority=action.priority, category=action.category,
                          tags=action.tags, note=f"{action.note} {why}")


def apply_review(decision: Decision, answer: ReviewAnswer, human_queue: str) -> ProposedAction:
    """The action after a reviewer's answer (reject hands the ticket to the human queue without a reply)."""
    action = decision.action
    if answer.verdict == "approve":
        return action
    if answer.verdict == "edit":
        return action.model_copy(update={"kind": "reply", "reply": answer.reply})
    if answer.verdict == "reroute":
        return action.model_copy(update={"kind": "route", "reply": None, "queue": answer.queue,
                                         "category": answer.category or action.category})
    return _handoff(action, human_queue, f"Reviewer {answer.reviewer} rejected the proposal.")


def escalate(state: TriageState, runtime: Runtime[TriageContext]) -> dict[str, Any]:
    """Wait durably for a reviewer's answer (or, in eval runs, stop at the request)."""
    ctx = runtime.context
    assert state.decision is not None and state.approval is not None
    if not ctx.hold_for_review:
        return {"status": "awaiting_review", "events": event("escalate", "review_requested", held=False)}
    requested = event("escalate", "review_requested", held=True, reasons=state.decision.reasons,
                      digest=state.approval.digest, expires_at=state.approval.expires_at.isoformat())
    ctx.audit.write(state.run_id, state.ticket.id, [*state.events, *requested])
    payload = review_request(state)
    ctx.approvals.open(state.run_id, state.ticket.id, state.approval, payload)
    answer = ReviewAnswer.model_validate(interrupt(payload))

    human_queue = ctx.pack.policy.human_queue
    if answer.verdict == "expire" or ctx.clock() > state.approval.expires_at:
        reason, action = "approval_expired", _handoff(state.decision.action, human_queue, "Approval expired.")
    elif answer.digest != state.approval.digest:
        reason = "approval_mismatch"
        action = _handoff(state.decision.action, human_queue, "The answer was about another version of the action.")
    else:
        reason, action = f"review_{answer.verdict}", apply_review(state.decision, answer, human_queue)
    decision = state.decision.model_copy(
        update={"action": action, "needs_approval": False, "reasons": [*state.decision.reasons, reason]}
    )
    return {
        "review": answer,
        "decision": decision,
        "events": requested + event("escalate", "reviewed", verdict=answer.verdict, reviewer=answer.reviewer,
                                    outcome=reason, comment=answer.comment, digest=action_digest(action)),
    }
