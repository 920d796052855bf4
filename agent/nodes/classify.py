"""classify: category with calibrated top-3, out-of-scope flag, priority and queue.

With an LLM configured (agent/llm), a ticket the local classifier is not confident about is put to the
LLM, which picks among the local top candidates (agent/llm/cascade.py). Without one, or when the LLM
fails, the local answer stands. A ticket that turns to a second request ("Also, ...") is classified by
its first, main one (agent/models/text.py main_request).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from agent.context import TriageContext
from agent.events import event
from agent.llm import cascade
from agent.models.priority import assess_priority
from agent.models.text import main_request
from agent.pack import Pack
from agent.state import Classification, TriageState


def _with_category(pack: Pack, text: str, base: Classification, category: str | None,
                   confidence: float) -> Classification:
    """The classification with another category (None: out of scope), its priority and queue."""
    return base.model_copy(update={
        "category": category,
        "confidence": confidence,
        "out_of_scope": category is None,
        "priority": assess_priority(pack, text, category),
        "queue": pack.category(category).target_queue if category else None,
    })


def classify(state: TriageState, runtime: Runtime[TriageContext]) -> dict[str, Any]:
    """Classify the cleaned ticket with the local model; ask the LLM only when that is not confident."""
    ctx = runtime.context
    text, vector = state.clean_text, np.asarray(state.vector, dtype=np.float32)
    request: dict[str, Any] = {}
    main = main_request(text)
    if main != text:  # several requests: the first is the ticket's (one more encoding, for these only)
        text, vector = main, ctx.encoder.encode([main])[0]
        request = {"request_text": main, "request_vector": vector.tolist()}
    prediction = ctx.classifier.predict(text, vector)
    category = None if prediction.out_of_scope else prediction.label
    result = Classification(
        category=category,
        confidence=round(prediction.probability, 4),
        alternatives=[(label, round(p, 4)) for label, p in prediction.alternatives],
        out_of_scope=prediction.out_of_scope,
        oos_score=round(prediction.oos_score, 4),
        priority=assess_priority(ctx.pack, state.ticket.text, category),
        queue=ctx.pack.category(category).target_queue if category else None,
        neighbours=[(label, round(cos, 4)) for label, cos in prediction.neighbours],
    )
    events = event("classify", "classified", **result.model_dump(),
                   **({"main_request_chars": len(main)} if request else {}))
    if ctx.llm is None:
        return {"classification": result, "events": events, **request}

    why = cascade.why_local(ctx.llm, ctx.pack, result, state.guard_flags)
    if why is not None:
        return {"classification": result, "events": [*events, *event("classify", "llm_not_asked", why=why)],
                **request}
    verdict, llm_events = cascade.ask(ctx.llm, ctx.pack, state.run_id, state.clean_text, result)
    events += llm_events
    if verdict is None:  # the local answer stands; not being confident, it goes to a reviewer
        return {"classification": result, "events": events, **request}
    decided = _with_category(ctx.pack, state.ticket.text, result, verdict.category, verdict.confidence)
    return {"classification": decided,
            "events": [*events, *event("classify", "llm_classified", **decided.model_dump())], **request}
