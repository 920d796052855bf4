"""guard_input: limits on untrusted text, cleaning, and the one embedding every later node shares."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.context import TriageContext
from agent.events import event
from agent.models.text import clean_ticket
from agent.state import TriageState
from guardrails.injection import detect_injection
from guardrails.language import LANGUAGE_FLAG, detect_language
from guardrails.limits import check_limits
from guardrails.pii import redact


def _rounded(score: float | None) -> float | None:
    return None if score is None else round(score, 3)


def guard_input(state: TriageState, runtime: Runtime[TriageContext]) -> dict[str, Any]:
    """Apply size/encoding limits, clean the newest message and embed it once."""
    ctx = runtime.context
    text = f"{state.ticket.subject}\n{state.ticket.text}" if state.ticket.subject else state.ticket.text
    limited = check_limits(text, ctx.pack.policy.limits.max_chars)
    # Models, retrieval and every later record see the redacted text; raw values stay in the PII store.
    redaction = redact(limited.text)
    clean = clean_ticket(redaction.text)
    flags = list(limited.flags)
    language = detect_language(clean)
    if language.language is not None and language.language not in ctx.pack.manifest.languages:
        flags.append(LANGUAGE_FLAG)
    vector = ctx.encoder.encode([clean])[0]
    # The whole text, quoted history included (an instruction hidden in a forwarded email counts), before
    # redaction: "send the data to x@evil.example" needs its address to be recognised. The shared vector
    # (newest message) feeds the whole-text model; every sentence of the raw text is scored on its own too.
    injection = detect_injection(limited.text, vector)
    flags += injection.flags
    return {
        "clean_text": clean,
        "vector": vector.tolist(),
        "guard_flags": flags,
        "events": event("guard_input", "checked", flags=flags, chars=len(text), clean_chars=len(clean),
                        language=language.language, pii=redaction.counts,
                        # Evidence quotes the raw ticket: redact it like everything else the audit trail holds.
                        injection_evidence=[redact(item).text for item in injection.evidence],
                        obfuscated=injection.obfuscated, injection_score=_rounded(injection.score),
                        injection_span_score=_rounded(injection.span_score)),
    }
