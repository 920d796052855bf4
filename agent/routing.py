"""Pure routing functions: they read the state and name the next node, nothing else."""

from __future__ import annotations

from typing import Literal

from agent.state import TriageState


def after_gate(state: TriageState) -> Literal["guard_input", "record"]:
    """An agent switched off leaves the ticket alone and only records that it did."""
    return "record" if state.mode == "off" else "guard_input"


def after_decide(state: TriageState) -> Literal["escalate", "act"]:
    """Approval escalations wait for a reviewer; everything else (hand-offs included) is acted on."""
    assert state.decision is not None
    return "escalate" if state.decision.needs_approval else "act"


def after_escalate(state: TriageState) -> Literal["act", "record"]:
    """With a reviewer's answer, act on it; an unheld review (eval) goes straight to the record."""
    return "act" if state.review is not None else "record"
