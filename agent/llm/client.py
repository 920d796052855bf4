"""The one place that talks to the chat endpoint: ChatOpenAI with structured output, bounded retries,
the token budget and usage accounting.

Retries live here and nowhere else: ChatOpenAI is built with `max_retries=0`, and the graph has no
RetryPolicy on the LLM nodes (a node must fall back to the local path after the last attempt, which a
graph-level retry would pre-empt). Transient failures (timeouts, connection errors, 429, 5xx) and
malformed answers are retried up to `max_attempts`, waiting what a 429's Retry-After asks (up to
`max_retry_wait_s`, else giving up at once) or a short exponential backoff. Refusals are not retried.

`langchain_openai` and `openai` are imported when the client is built, never at import time: an agent
without an LLM never loads them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from langchain_core.exceptions import ModelRefusalError
from pydantic import BaseModel, ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base

from agent.llm.budget import DailyBudget, utc_day
from agent.llm.errors import LlmBadAnswer, LlmError, LlmRefused, LlmSwitchedOff, LlmUnavailable
from agent.llm.settings import LlmSettings
from agent.llm.usage import Usage

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)
Messages = Sequence[tuple[str, str]]
# Keywords strict structured output does not accept everywhere; bounds are checked by pydantic instead.
_UNSENT_KEYWORDS = {"maxLength", "minLength", "maximum", "minimum", "maxItems", "minItems", "default", "title"}
_PLACEHOLDER_KEY = "not-needed"  # self-hosted endpoints take any key, but the client insists on one


@dataclass(frozen=True)
class Answer(Generic[T]):
    value: T
    usage: Usage
    attempts: int


class _Retryable(LlmError):
    """A failure worth another attempt; `retry_after` is what the server asked us to wait, if it said."""

    def __init__(self, final: LlmError, retry_after: float | None = None) -> None:
        super().__init__(str(final), final.usage)
        self.final = final
        self.retry_after = retry_after


class _AskedToWaitTooLong(stop_base):
    """Stop retrying when the server's Retry-After exceeds what we are willing to wait."""

    def __init__(self, limit_s: float) -> None:
        self.limit_s = limit_s

    def __call__(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        asked = exc.retry_after if isinstance(exc, _Retryable) else None
        if asked is not None and asked > self.limit_s:
            logger.warning("LLM endpoint asked to wait %.0f s (more than %.0f s): giving up on this call",
                           asked, self.limit_s)
            return True
        return False


def wire_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema as sent to the endpoint: strict-mode friendly (bounds stay local)."""

    def strip(node: Any, names: bool = False) -> Any:
        if isinstance(node, dict):  # under "properties" the keys are field names, kept whatever they are
            return {k: strip(v, k == "properties" and not names) for k, v in node.items()
                    if names or k not in _UNSENT_KEYWORDS}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    body = strip(schema.model_json_schema())
    return {"title": schema.__name__, "description": (schema.__doc__ or schema.__name__).strip(), **body}


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:  # an HTTP date: rare from LLM endpoints; treat as "no hint"
        return None


class LlmClient:
    """Asks the endpoint for one structured answer; raises an `LlmError` when it gets none."""

    def __init__(self, settings: LlmSettings, budget: DailyBudget, clock: Callable[[], datetime],
                 sleep: Callable[[float], None] = time.sleep) -> None:
        from langchain_openai import ChatOpenAI  # only here: the default path never imports it

        self.settings = settings
        self.budget = budget
        self._clock = clock
        self._sleep = sleep
        self._warned_day: str | None = None
        key = settings.api_key.get_secret_value() if settings.api_key else _PLACEHOLDER_KEY
        self._chat = ChatOpenAI(model=settings.model, base_url=settings.base_url, api_key=key,  # type: ignore[arg-type]
                                timeout=settings.timeout_s, max_retries=0, temperature=0)

    def ask(self, messages: Messages, schema: type[T]) -> Answer[T]:
        """One answer in `schema`, after at most `max_attempts` attempts; tokens are charged as they come."""
        now = self._clock()
        if self.budget.exhausted(now):
            if self._warned_day != utc_day(now):  # say it once a day, not once a ticket
                self._warned_day = utc_day(now)
                logger.warning("LLM switched off: the daily token budget of %d tokens is spent; the local path "
                               "decides alone until 00:00 UTC", self.budget.limit)
            raise LlmSwitchedOff(f"the daily token budget of {self.budget.limit} tokens is spent")
        runnable = self._chat.with_structured_output(wire_schema(schema), method=self.settings.structured_output,
                                                     include_raw=True, strict=True)
        spent = Usage()
        attempts = 0

        def attempt() -> T:
            nonlocal spent, attempts
            attempts += 1
            try:
                value, usage = self._attempt(runnable, messages, schema)
            except LlmError as exc:
                spent = spent + exc.usage
                raise
            spent = spent + usage
            return value

        retrying = Retrying(
            stop=stop_after_attempt(self.settings.max_attempts) | _AskedToWaitTooLong(self.settings.max_retry_wait_s),
            wait=self._wait, retry=retry_if_exception(lambda e: isinstance(e, _Retryable)),
            sleep=self._sleep, reraise=True,
        )
        try:
            value = retrying(attempt)
        except _Retryable as exc:
            raise type(exc.final)(str(exc.final), spent, attempts) from exc
        except LlmError as exc:
            raise type(exc)(str(exc), spent, attempts) from exc
        return Answer(value=value, usage=spent, attempts=attempts)

    def _attempt(self, runnable: Any, messages: Messages, schema: type[T]) -> tuple[T, Usage]:
        import openai

        try:
            out = runnable.invoke(list(messages))
        except openai.APITimeoutError as exc:
            raise _Retryable(LlmUnavailable(f"no answer within {self.settings.timeout_s:g} s")) from exc
        except openai.APIConnectionError as exc:
            raise _Retryable(LlmUnavailable(f"cannot reach the endpoint: {exc}")) from exc
        except openai.APIStatusError as exc:
            failure = LlmUnavailable(f"the endpoint answered HTTP {exc.status_code}")
            if exc.status_code == 429 or exc.status_code >= 500:
                raise _Retryable(failure, _retry_after(exc)) from exc
            raise failure from exc  # 400, 401, 404: asking again will not help
        except ValidationError as exc:  # the SDK parses some answers itself before we see them
            problem = exc.errors()[0]["msg"]
            raise _Retryable(LlmBadAnswer(f"the answer is not valid JSON for the schema: {problem}")) from exc
        usage = Usage.of_message(out.get("raw"))
        self.budget.charge(self._clock(), usage.total)
        error = out.get("parsing_error")
        if error is not None:
            if isinstance(error, ModelRefusalError):
                raise LlmRefused(f"the model refused: {error}", usage)
            raise _Retryable(LlmBadAnswer(f"the answer is not valid JSON: {str(error)[:200]}", usage))
        try:
            return schema.model_validate(out.get("parsed")), usage
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "answer"
            raise _Retryable(LlmBadAnswer(f"the answer breaks the schema at {where}: {first['msg']}", usage)) from exc

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = exc.retry_after if isinstance(exc, _Retryable) else None
        if asked is not None:
            return asked
        return float(min(self.settings.max_retry_wait_s, 0.5 * 2 ** (state.attempt_number - 1)))
