"""retrieve: the KB articles most likely to answer the ticket, within its predicted category."""

from __future__ import annotations

from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from agent.context import TriageContext
from agent.events import event
from agent.state import TriageState


def retrieve(state: TriageState, runtime: Runtime[TriageContext]) -> dict[str, Any]:
    """Search the KB with the shared ticket vector (all articles when the ticket is out of scope)."""
    assert state.classification is not None
    vector = np.asarray(state.vector, dtype=np.float32)
    articles = runtime.context.retriever.search(vector, state.clean_text, state.classification.category, k=3)
    return {
        "articles": articles,
        "events": event("retrieve", "retrieved", articles=[(a.id, a.score) for a in articles]),
    }
