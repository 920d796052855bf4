"""retrieve: the KB articles most likely to answer the ticket, within its predicted category.

Retrieved text is untrusted too (indirect injection): an article whose body carries instructions aimed at
the agent is dropped before anything drafts from it, and the run is flagged `retrieved_injection`.
Articles do not change while a pack is loaded, so each is checked once per process.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from agent.context import TriageContext
from agent.events import event
from agent.pack import Pack
from agent.state import TriageState
from guardrails.injection import scan_retrieved

RETRIEVED_INJECTION_FLAG = "retrieved_injection"
_verdicts: dict[tuple[str, int], bool] = {}


def _carries_instructions(pack: Pack, article_id: str) -> bool:
    article = pack.article(article_id)
    if article is None:
        return False
    key = (article_id, hash(article.body))
    if key not in _verdicts:
        _verdicts[key] = bool(scan_retrieved(article.body).flags)
    return _verdicts[key]


def retrieval_query(state: TriageState) -> tuple[str, np.ndarray]:
    """The text and vector the KB is searched with: the ticket's main request when it goes on to another
    one (answer the first, as classify did), else the whole cleaned ticket."""
    if state.request_text:
        return state.request_text, np.asarray(state.request_vector, dtype=np.float32)
    return state.clean_text, np.asarray(state.vector, dtype=np.float32)


def retrieve(state: TriageState, runtime: Runtime[TriageContext]) -> dict[str, Any]:
    """Search the KB for the ticket's main request (all articles when the ticket is out of scope)."""
    assert state.classification is not None
    text, vector = retrieval_query(state)
    found = runtime.context.retriever.search(vector, text, state.classification.category, k=3)
    pack = runtime.context.pack
    tainted = [a.id for a in found if _carries_instructions(pack, a.id)]
    update: dict[str, Any] = {
        "articles": [a for a in found if a.id not in tainted],
        "events": event("retrieve", "retrieved", articles=[(a.id, a.score) for a in found], dropped=tainted),
    }
    if tainted and RETRIEVED_INJECTION_FLAG not in state.guard_flags:
        update["guard_flags"] = [*state.guard_flags, RETRIEVED_INJECTION_FLAG]
    return update
