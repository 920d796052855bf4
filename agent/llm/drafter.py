"""Drafting with the LLM: a reply grounded in the retrieved articles, citing them by id.

The draft then meets the same output checks as a local one (check_output: citations must be retrieved
articles, links allow-listed, no planted instructions, no promises beyond policy). Two things are checked
here because only this module knows them: the canary and our instruction text. A draft that repeats them
is dropped and the ticket flagged `llm_prompt_leak` (the model followed something in the ticket, so a
human should read it). Any other failure falls back to the local reply, the article's own answer.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from agent.llm.errors import LlmError
from agent.llm.prompts import DRAFT_VERSION, Source, draft_messages, leaks_prompt
from agent.llm.services import LlmServices
from agent.state import AuditEvent, Draft

LEAK_FLAG = "llm_prompt_leak"


class DraftAnswer(BaseModel):
    """A reply to the customer and the ids of the articles it uses."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reply: str = Field(min_length=1, max_length=4000)
    citations: list[str] = Field(max_length=5)


def write_draft(llm: LlmServices, run_id: str, text: str,
                sources: list[Source]) -> tuple[Draft | None, list[str], list[AuditEvent]]:
    """(draft, flags, events). A None draft with no flag means: use the local reply."""
    messages = draft_messages(text, sources, llm.canary, run_id)
    try:
        answer = llm.client.ask(messages, DraftAnswer)
    except LlmError as exc:
        return None, [], [llm.failure_event("draft", "draft", DRAFT_VERSION, exc)]
    reply = answer.value
    if leaks_prompt(reply.reply, llm.canary):
        event = llm.call_event("draft", "draft", DRAFT_VERSION, answer.usage, answer.attempts, "bad_answer",
                               detail="the draft repeats the system prompt or its canary: dropped")
        return None, [LEAK_FLAG], [event]
    citations = list(dict.fromkeys(reply.citations))
    event = llm.call_event("draft", "draft", DRAFT_VERSION, answer.usage, answer.attempts, "answered",
                           citations=citations)
    return Draft(text=reply.reply, citations=citations), [], [event]
