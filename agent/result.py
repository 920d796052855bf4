"""The decision as callers see it: the JSON shape of `triage run` (the command-line contract)."""

from __future__ import annotations

from typing import Any

from agent.llm.usage import ticket_usage
from agent.state import TriageState


def decision_json(state: TriageState, latency_ms: float) -> dict[str, Any]:
    """Every contract key, null where it does not apply (e.g. an agent switched off classifies nothing)."""
    cls = state.classification
    decision = state.decision
    action = decision.action if decision else None
    return {
        "run_id": state.run_id,
        "ticket_id": state.ticket.id,
        "category": cls.category if cls else None,
        "confidence": cls.confidence if cls else None,
        "alternatives": [{"category": c, "probability": p} for c, p in cls.alternatives] if cls else [],
        "out_of_scope": cls.out_of_scope if cls else None,
        "oos_score": cls.oos_score if cls else None,
        "priority": cls.priority if cls else None,
        "queue": action.queue if action and action.queue else (cls.queue if cls else None),
        "decision": decision.decision if decision else None,
        "reasons": decision.reasons if decision else [],
        "needs_approval": decision.needs_approval if decision else False,
        "approval": {"digest": state.approval.digest, "expires_at": state.approval.expires_at.isoformat()}
        if state.approval else None,
        "draft": state.draft.text if state.draft else None,
        "citations": state.draft.citations if state.draft else [],
        "articles": [a.model_dump() for a in state.articles],
        "guard": {"input": state.guard_flags, "output": state.output_flags},
        "mode": state.mode,
        "status": state.status,
        "actions": [a.model_dump() for a in state.actions],
        "llm": _llm_usage(state),
        "latency_ms": round(latency_ms, 2),
    }


def _llm_usage(state: TriageState) -> dict[str, Any] | None:
    """What the run spent on the LLM (None when it asked none)."""
    usage = ticket_usage(state.events)
    return {"calls": usage.calls, "tokens": usage.tokens, "cost": usage.cost} if usage.calls else None
