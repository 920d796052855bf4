"""act: turn the decided action into helpdesk writes and queue them in the outbox.

The modes and the action allow-list are checked again right here, before anything is queued: a mode
switched off mid-run, or an action that a ticket or a model smuggled in, never reaches the helpdesk.
The writes go to the outbox in the same transaction as the decision, each under an idempotency key made
from the run, so a crash or a retry never writes twice; a worker delivers them.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.context import TriageContext
from agent.events import event
from agent.modes import effective_mode
from agent.state import ActionOp, ActionResult, ProposedAction, TriageState
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


def action_ops(run_id: str, action: ProposedAction, arrived_with: dict[str, Any] | None = None) -> list[ActionOp]:
    """The helpdesk writes of an action, in delivery order: fields, the internal note, the reply.

    `arrived_with` is the ticket's fields when it arrived: the fields write carries the ones it touches
    as its baseline, so the adapter leaves alone any a human has changed since."""
    key = f"{run_id}:{action.kind}"
    fields = _fields(action)
    payload: dict[str, Any] = {"fields": fields}
    if arrived_with is not None:
        payload["baseline"] = {name: arrived_with.get(name) for name in fields}
    ops = [ActionOp(op="set_fields", payload=payload, idempotency_key=f"{key}:fields")]
    if action.note:
        ops.append(ActionOp(op="add_note", payload={"body": action.note}, idempotency_key=f"{key}:note"))
    if action.kind == "reply" and action.reply:
        ops.append(ActionOp(op="add_reply", payload={"body": action.reply}, idempotency_key=f"{key}:reply"))
    return ops


def act(state: TriageState, runtime: Runtime[TriageContext]) -> dict[str, Any]:
    """Re-check modes and the allow-list, then queue the writes with the decision."""
    ctx = runtime.context
    assert state.decision is not None
    action = state.decision.action
    key = f"{state.run_id}:{action.kind}"
    final_status = "done" if action.kind in ("reply", "route", "reject") else "left_for_humans"
    mode = effective_mode(ctx.control, action.category, action.kind)
    if mode in ("off", "shadow") or action.kind == "none":
        result = ActionResult(kind=action.kind, idempotency_key=key, executed=False, detail=f"mode {mode}: not written")
        return {"actions": [result], "status": final_status,
                "events": event("act", "suppressed", mode=mode, action=action.model_dump(mode="json"))}
    problems = action_violations(action, ctx.pack)
    if problems:
        # Nothing of the refused action is written; the ticket goes to the human queue with a note saying
        # what was refused, so a person sees it (otherwise it would sit untouched and unnoticed).
        blocked = ActionResult(kind=action.kind, idempotency_key=key, executed=False, detail="; ".join(problems))
        handoff = ProposedAction(kind="handoff", queue=ctx.pack.policy.human_queue, tags=["triage-agent"],
                                 note="Triage agent: the proposed action was refused by the action allow-list ("
                                      + "; ".join(problems) + "). A person takes this ticket.")
        reasons = [*state.decision.reasons, "action_not_allowed"]
        ctx.actions.submit(state.run_id, state.ticket.id, action_ops(state.run_id, handoff),
                           {"decision": "escalate", "reasons": reasons, "status": "left_for_humans"})
        return {"actions": [blocked], "status": "left_for_humans",
                "decision": state.decision.model_copy(update={"decision": "escalate", "reasons": reasons,
                                                              "action": handoff}),
                "events": event("act", "blocked", problems=problems, action=action.model_dump(mode="json"))}
    ops = action_ops(state.run_id, action, arrived_with=state.ticket.fields)
    decision = {"decision": state.decision.decision, "reasons": state.decision.reasons, "status": final_status}
    ctx.actions.submit(state.run_id, state.ticket.id, ops, decision)
    result = ActionResult(kind=action.kind, idempotency_key=key, executed=True, detail=f"{len(ops)} writes queued")
    return {"actions": [result], "status": final_status,
            "events": event("act", "queued", action=action.model_dump(mode="json"),
                            keys=[op.idempotency_key for op in ops])}
