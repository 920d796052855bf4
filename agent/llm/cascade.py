"""The classification cascade: the local classifier decides when it is confident; otherwise the LLM picks
among its top candidates (or none of them), in a validated schema. Any failure keeps the local answer,
which, not being confident, goes to a reviewer: a ticket is never lost to the LLM, and the LLM only ever
chooses a category; the action is still the policy's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, cast

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, create_model

from agent.llm.errors import LlmError
from agent.llm.prompts import CLASSIFY_VERSION, NONE_OF_THEM, Candidate, classify_messages, leaks_prompt
from agent.llm.services import LlmServices
from agent.pack import Pack
from agent.state import AuditEvent, Classification


class _Choice(BaseModel):
    """The model's choice of category."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: str
    confidence: Annotated[float, Ge(0), Le(1)]
    reason: str = Field(max_length=300)


def choice_schema(names: list[str]) -> type[_Choice]:
    """The answer schema for these candidates: any other category fails validation."""
    allowed = cast(Any, Literal[tuple([*names, NONE_OF_THEM])])
    return create_model("CategoryChoice", __base__=_Choice, __doc__=_Choice.__doc__, category=(allowed, ...))


@dataclass(frozen=True)
class Verdict:
    """The LLM's category (None: none of the candidates fits) and the confidence it is given."""

    category: str | None
    confidence: float


def why_local(llm: LlmServices, pack: Pack, local: Classification, guard_flags: list[str]) -> str | None:
    """Why the local path decides alone (None: ask the LLM). Every ticket is counted by the share gate."""
    reason = _local_reason(llm, pack, local, guard_flags)
    if reason is not None:
        llm.share_gate.skip()
        return reason
    if not llm.share_gate.admit():
        return f"share cap: {llm.settings.max_share:.0%} of the last {llm.settings.share_window} tickets"
    return None


def _local_reason(llm: LlmServices, pack: Pack, local: Classification, guard_flags: list[str]) -> str | None:
    stopping = [f for f in guard_flags if pack.policy.guard.get(f, "escalate") != "continue"]
    if stopping:  # the policy stops this ticket anyway: spend no tokens on it
        return f"guard flags {', '.join(stopping)}"
    if not local.out_of_scope and local.category is not None:
        bar = llm.settings.ask_below if llm.settings.ask_below is not None else pack.threshold(local.category)
        if local.confidence >= bar:
            return "confident"
    candidates = [c for c, _ in local.alternatives if pack.has_category(c)]
    return None if candidates else "no candidates"


def _confidence(llm: LlmServices, pack: Pack, local: Classification, category: str | None, stated: float) -> float:
    """The confidence the policy will see for the LLM's pick (see LlmSettings.max_confidence)."""
    if category is None:
        return local.confidence
    if llm.settings.max_confidence is None:
        # The local, calibrated probability, kept under the category's bar: a reviewer approves. (A ticket
        # the local model flagged out of scope may have a high probability for a category nonetheless.)
        below_bar = max(0.0, pack.threshold(category) - 0.01)
        return round(min(dict(local.alternatives).get(category, 0.0), below_bar), 4)
    return round(min(stated, llm.settings.max_confidence), 4)


def ask(llm: LlmServices, pack: Pack, run_id: str, text: str,
        local: Classification) -> tuple[Verdict | None, list[AuditEvent]]:
    """Ask the LLM among the local candidates; None (with the reason in the events) keeps the local answer."""
    names = [c for c, _ in local.alternatives if pack.has_category(c)]
    candidates = [Candidate(n, pack.category(n).description) for n in names]
    messages = classify_messages(text, candidates, llm.canary, run_id)
    try:
        answer = llm.client.ask(messages, choice_schema(names))
    except LlmError as exc:
        return None, [llm.failure_event("classify", "classify", CLASSIFY_VERSION, exc)]
    choice = answer.value
    if leaks_prompt(choice.reason, llm.canary):
        event = llm.call_event("classify", "classify", CLASSIFY_VERSION, answer.usage, answer.attempts,
                               "bad_answer", detail="the answer repeats the system prompt: discarded")
        return None, [event]
    category = None if choice.category == NONE_OF_THEM else choice.category
    verdict = Verdict(category=category, confidence=_confidence(llm, pack, local, category, choice.confidence))
    event = llm.call_event("classify", "classify", CLASSIFY_VERSION, answer.usage, answer.attempts, "answered",
                           candidates=names, category=category, llm_confidence=choice.confidence,
                           reason=choice.reason)
    return verdict, [event]
