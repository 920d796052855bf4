"""draft: a reply composed from the best article's answer section, citing it.

Without an LLM the agent never writes new claims: the reply is the article's own answer, framed.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.context import TriageContext
from agent.events import event
from agent.pack import Article
from agent.state import Draft, TriageState


def compose_reply(article: Article) -> str:
    """Frame an article's answer as a reply that names its source."""
    return (
        "Hello,\n\n"
        f"{article.answer}\n\n"
        f"(Source: {article.title} [{article.id}])\n\n"
        "If this does not solve it, reply to this message and a person from our team will take over."
    )


def draft(state: TriageState, runtime: Runtime[TriageContext]) -> dict[str, Any]:
    """Draft from the top article when it clears the pack's retrieval score; nothing for `never` categories."""
    pack = runtime.context.pack
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
    result = Draft(text=compose_reply(article), citations=[article.id])
    return {"draft": result, "events": event("draft", "drafted", citations=result.citations)}
