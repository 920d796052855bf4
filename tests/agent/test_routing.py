"""The pure routers: each state leads to exactly one next node."""

from __future__ import annotations

from agent.routing import after_decide, after_escalate, after_gate
from agent.state import Decision, ProposedAction, ReviewAnswer, Ticket, TriageState


def state(**fields: object) -> TriageState:
    return TriageState(ticket=Ticket(id="1", text="t"), run_id="r", **fields)  # type: ignore[arg-type]


def decision(needs_approval: bool) -> Decision:
    return Decision(decision="escalate" if needs_approval else "auto_reply", reasons=["x"],
                    needs_approval=needs_approval, action=ProposedAction(kind="reply", reply="hi"))


def test_gate() -> None:
    assert after_gate(state(mode="off")) == "record"
    for mode in ("shadow", "propose", "auto"):
        assert after_gate(state(mode=mode)) == "guard_input"


def test_decide() -> None:
    assert after_decide(state(decision=decision(True))) == "escalate"
    assert after_decide(state(decision=decision(False))) == "act"


def test_escalate() -> None:
    assert after_escalate(state()) == "record"
    assert after_escalate(state(review=ReviewAnswer(verdict="approve", reviewer="a"))) == "act"
