"""draft: a reply composed from the best article's answer section, citing it.

Without an LLM the agent never writes new claims: the reply is the article's own answer, framed. With an
LLM set to draft, it writes the reply from the retrieved articles (agent/llm/drafter.py); if it fails,
the framed article is the reply. Either way check_output applies the same checks next.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.context import TriageContext
from agent.events import event
from agent.llm.drafter import write_draft
from agent.llm.prompts import Source
from agent.llm.usage import ticket_usage
from agent.pack import Article, Pack
from agent.state import AuditEvent, Draft, TriageState

MAX_SOURCES = 3


def compose_reply(article: Article) -> str:
    """Frame an article's answer as a reply that names its source."""
    return (
        "Hello,\n\n"
        f"{article.answer}\n\n"
        f"(Source: {article.title} [{article.id}])\n\n"
        "If this does not solve it, reply to this message and a person from our team will take over."
    )


def _sources(state: TriageState, pack: Pack) -> list[Source]:
    """The retrieved articles good enough to answer from, best first."""
    found = [(a, pack.article(a.id)) for a in state.articles[:MAX_SOURCES]]
    return [Source(id=art.id, title=art.title, answer=art.answer)
            for hit, art in found if art is not None and hit.score >= pack.policy.min_retrieval_score]


def _draft(state: TriageState, runtime: Runtime[TriageContext]) -> dict[str, Any]:
    pack = runtime.context.pack
    llm = runtime.context.llm
    cls = state.classification
    assert cls is not None
    if cls.category is None or pack.category(cls.category).autonomy == "never":
        return {"draft": None, "events": event("draft", "skipped", why="no customer reply for this ticket")}
    best = state.articles[0] if state.articles else None
    if best is None or best.score < pack.policy.min_retrieval_score:
        return {"draft": None, "events": event("draft", "skipped", why="no KB article answers it")}
    article = pack.article(best.id)
    if article is None:  # the index is older than the pack: never cite what the pack no longer has
        return {"draft": None, "events": event("draft", "skipped", why=f"article {best.id} not in the pack")}
    events: list[AuditEvent] = []
    if llm is not None and llm.settings.draft and not state.guard_flags:
        written, flags, events = write_draft(llm, state.run_id, state.clean_text, _sources(state, pack))
        if flags:  # the model repeated its instructions: no reply, and a human looks at the ticket
            return {"draft": None, "guard_flags": [*state.guard_flags, *flags],
                    "events": [*events, *event("draft", "dropped", flags=flags)]}
        if written is not None:
            return {"draft": written, "events": [*events, *event("draft", "drafted", citations=written.citations,
                                                                 by="llm")]}
    result = Draft(text=compose_reply(article), citations=[article.id])
    return {"draft": result, "events": [*events, *event("draft", "drafted", citations=result.citations)]}


def draft(state: TriageState, runtime: Runtime[TriageContext]) -> dict[str, Any]:
    """Draft from the top article when it clears the pack's retrieval score; nothing for `never` categories."""
    update = _draft(state, runtime)
    if runtime.context.llm is not None:  # the run's LLM spend, in one audit line (the last LLM step is here)
        usage = ticket_usage([*state.events, *update["events"]])
        update["events"] = [*update["events"], *event("draft", "llm_usage", calls=usage.calls, tokens=usage.tokens,
                                                      cost=usage.cost)]
    return update
