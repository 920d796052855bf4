"""Why an LLM call gave no usable answer. Every one of them sends the ticket down the local path.

    LlmError                  base: carries the tokens spent before it failed
    ├── LlmSwitchedOff        not asked: the daily token budget is spent
    ├── LlmUnavailable        timeouts, connection errors, 429 and 5xx after the bounded retries,
    │                         or a Retry-After longer than we are willing to wait
    ├── LlmRefused            the model refused (or its output was filtered)
    └── LlmBadAnswer          malformed JSON, an answer outside the schema, a category that is not one
                              of the candidates, a citation of an article that was not retrieved
"""

from __future__ import annotations

from agent.llm.usage import Usage


class LlmError(RuntimeError):
    """An LLM call that produced no usable answer."""

    outcome = "error"

    def __init__(self, message: str, usage: Usage | None = None, attempts: int = 0) -> None:
        super().__init__(message)
        self.usage = usage or Usage()
        self.attempts = attempts


class LlmSwitchedOff(LlmError):
    outcome = "switched_off"


class LlmUnavailable(LlmError):
    outcome = "unavailable"


class LlmRefused(LlmError):
    outcome = "refused"


class LlmBadAnswer(LlmError):
    outcome = "bad_answer"
