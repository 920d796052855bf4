"""classify: category with calibrated top-3, out-of-scope flag, priority and queue."""

from __future__ import annotations

from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from agent.context import TriageContext
from agent.events import event
from agent.models.priority import assess_priority
from agent.state import Classification, TriageState


def classify(state: TriageState, runtime: Runtime[TriageContext]) -> dict[str, Any]:
    """Classify the cleaned ticket with the local model."""
    ctx = runtime.context
    prediction = ctx.classifier.predict(state.clean_text, np.asarray(state.vector, dtype=np.float32))
    category = None if prediction.out_of_scope else prediction.label
    result = Classification(
        category=category,
        confidence=round(prediction.probability, 4),
        alternatives=[(label, round(p, 4)) for label, p in prediction.alternatives],
        out_of_scope=prediction.out_of_scope,
        oos_score=round(prediction.oos_score, 4),
        priority=assess_priority(ctx.pack, state.ticket.text, category),
        queue=ctx.pack.category(category).target_queue if category else None,
    )
    return {"classification": result, "events": event("classify", "classified", **result.model_dump())}
