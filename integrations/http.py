"""The one HTTP layer every vendor adapter goes through: timeouts, retries, rate limits, error mapping.

Resilience lives here and nowhere else (the outbox retries whole deliveries later; it never wraps a
single HTTP call). A call is retried inside `HelpdeskHttp.call` when, and only when, retrying cannot
write twice:

- 429 (the system refused the request before doing anything): any call, after the wait it asked for.
- a connection that failed before the request was sent (`RequestNotSent`): any call.
- 5xx, a 503 with Retry-After, read timeouts, a garbled 2xx body: only idempotent calls (GET, PUT,
  DELETE, or anything sent with an Idempotency-Key header, or marked `idempotent=True` by the
  adapter). A POST that may have reached the server is never sent again blindly: the error goes up,
  the outbox tries the whole write later, and the adapter's idempotency check makes that harmless.

How long to wait: `Retry-After` (seconds or an HTTP date) first, then `X-RateLimit-Reset` (Unix seconds
as ServiceNow sends it, or ISO 8601 as Jira sends it), else exponential backoff with jitter. Attempts
and total time are capped by the settings; a wait that would overrun the budget is not slept: the
`RateLimited` error goes up with its `retry_after` instead.

Status codes become the contract's errors (integrations/contract.py):

    AdapterError
    ├── Unauthorized ........ 401, 403
    ├── NotFound ............ 404, 410
    ├── Rejected ............ 400, 422 and any other 4xx
    ├── Conflict ............ 409, 412
    ├── RateLimited ......... 429, or 503 with Retry-After
    ├── Unavailable ......... other 5xx, timeouts, transport errors
    │   └── RequestNotSent .. the connection failed before the request left (safe to resend)
    └── MalformedResponse ... 2xx whose body is not the JSON the system documents

The second half of the module holds what the vendor adapters share beyond HTTP: the settings every
one of them has, the marker that makes a repeated idempotency key harmless on systems without
idempotency keys. (The adapter base classes are in integrations/http_adapter.py.)
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import tenacity
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

from integrations.contract import (
    AdapterError,
    Conflict,
    FieldValue,
    MalformedResponse,
    NotFound,
    RateLimited,
    Rejected,
    Unauthorized,
    Unavailable,
)
from integrations.webhooks import header

logger = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_UNIX_TIME_FLOOR = 1_000_000_000  # X-RateLimit-Reset values below this are a delay, not a Unix time


class RequestNotSent(Unavailable):
    """The connection failed before the request was sent: resending it cannot write twice."""


class HttpSettings(BaseSettings):
    """What every vendor adapter's settings share; each vendor subclasses it with its own env prefix."""

    base_url: str
    """The system's root URL, e.g. https://acme.zendesk.com (https is required except on localhost)."""
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    """Per request: connect, read, write and pool timeouts."""
    max_attempts: int = Field(default=4, ge=1, le=10)
    """Attempts per call, the first included."""
    max_total_s: float = Field(default=30.0, gt=0, le=3600)
    """Time budget per call, waits included; a longer wait is left to the outbox."""
    backoff_initial_s: float = Field(default=0.5, gt=0)
    backoff_max_s: float = Field(default=8.0, gt=0)

    @field_validator("base_url")
    @classmethod
    def _https_only(cls, value: str) -> str:
        value = value.rstrip("/")
        url = httpx.URL(value)
        if url.scheme == "https" or (url.scheme == "http" and url.host in ("localhost", "127.0.0.1", "::1")):
            if not url.host:
                raise ValueError(f"{value!r} has no host name")
            return value
        raise ValueError(f"must be an https:// URL (credentials never travel in clear text), got {value!r}")


# --- how long the system asks us to wait --------------------------------------------------------------


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Retry-After as seconds, or as an HTTP date (then the seconds from `now` until it)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def parse_reset(value: str | None, now: float) -> float | None:
    """X-RateLimit-Reset as a Unix time (ServiceNow), an ISO 8601 instant (Jira) or a plain delay."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, when.timestamp() - now)
    if number >= _UNIX_TIME_FLOOR:
        return max(0.0, number - now)
    return max(0.0, number)


def wait_from_headers(status: int, headers: Mapping[str, str], now: float) -> float | None:
    """The wait a response asks for: Retry-After always counts; the reset header only when the call was
    refused (429/503) or the window is spent, because ServiceNow sends it on every answer."""
    retry_after = parse_retry_after(header(headers, "Retry-After"), now)
    if retry_after is not None:
        return retry_after
    remaining = header(headers, "X-RateLimit-Remaining")
    if status in (429, 503) or (remaining is not None and remaining.strip() == "0"):
        return parse_reset(header(headers, "X-RateLimit-Reset"), now)
    return None


# --- status codes onto the contract's errors ------------------------------------------------------------


def error_for(system: str, request: httpx.Request, response: httpx.Response, now: float) -> AdapterError | None:
    """The contract error a non-2xx answer stands for (None for 2xx)."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    what = f"{system}: {request.method} {request.url.path} answered {status}"
    detail = _short(response)
    message = f"{what}: {detail}" if detail else what
    wait = wait_from_headers(status, response.headers, now)
    if status in (401, 403):
        return Unauthorized(message + " (check the adapter's credentials and the account's rights)", status=status)
    if status in (404, 410):
        return NotFound(message, status=status)
    if status in (409, 412):
        return Conflict(message, status=status)
    if status == 429 or (status == 503 and wait is not None):
        return RateLimited(message, status=status, retry_after=wait)
    if status >= 500:
        return Unavailable(message, status=status)
    return Rejected(message, status=status)


def _short(response: httpx.Response) -> str:
    """The start of an error body, for the operator; vendors put the reason there (never ticket text)."""
    try:
        text = response.text
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return ""
    return " ".join(text.split())[:200]


# --- the client ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """A 2xx answer: the decoded JSON body (None when empty or not read) and the headers beside it, for
    the adapters that need one (RT's ETag for conditional writes, its Date as the server's clock)."""

    status: int
    headers: httpx.Headers
    body: Any


class HelpdeskHttp:
    """An httpx client with the retry rules above. Inject `transport`, `sleep` and the clocks in tests."""

    def __init__(self, system: str, settings: HttpSettings, *, auth: httpx.Auth | tuple[str, str] | None = None,
                 headers: Mapping[str, str] | None = None, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], float] = time.time) -> None:
        self.system = system
        self.settings = settings
        self._sleep = sleep
        self._clock = clock
        self._now = now
        self._client = httpx.Client(
            base_url=settings.base_url, auth=auth, transport=transport, follow_redirects=False,
            timeout=httpx.Timeout(settings.timeout_s),
            headers={"Accept": "application/json", "User-Agent": "triage-agent", **(headers or {})},
        )

    @property
    def http(self) -> httpx.Client:
        """The httpx client underneath, e.g. to add event hooks that watch every answer."""
        return self._client

    def close(self) -> None:
        self._client.close()

    def call(self, method: str, url: str, *, json: Any = None, params: Mapping[str, str | int] | None = None,
             headers: Mapping[str, str] | None = None, idempotent: bool | None = None,
             read_body: bool = True) -> Any:
        """Send one request (retried as the module docstring says) and return its decoded JSON body
        (None when empty or when `read_body` is False). Raises the contract's errors."""
        return self.reply(method, url, json=json, params=params, headers=headers, idempotent=idempotent,
                          read_body=read_body).body

    def reply(self, method: str, url: str, *, json: Any = None, params: Mapping[str, str | int] | None = None,
              headers: Mapping[str, str] | None = None, idempotent: bool | None = None,
              read_body: bool = True) -> Reply:
        """`call`, with the answer's status and headers kept beside the body."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS or header(headers or {}, "Idempotency-Key") is not None
        started = self._clock()

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(lambda exc: self._worth_retrying(exc, idempotent)),
            wait=self._wait,
            stop=tenacity.stop_after_attempt(self.settings.max_attempts)
            | _OutOfTime(self._clock, started, self.settings.max_total_s),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        return retrying(self._attempt, method, url, json, params, headers, read_body)

    def _attempt(self, method: str, url: str, json: Any, params: Mapping[str, str | int] | None,
                 headers: Mapping[str, str] | None, read_body: bool) -> Reply:
        request = self._client.build_request(method, url, json=json, params=params, headers=headers)
        where = f"{self.system}: {method} {request.url.path}"
        try:
            response = self._client.send(request)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise RequestNotSent(f"{where}: could not connect ({type(exc).__name__})") from exc
        except httpx.TimeoutException as exc:
            raise Unavailable(f"{where}: no answer within {self.settings.timeout_s} s") from exc
        except httpx.TransportError as exc:
            raise Unavailable(f"{where}: {type(exc).__name__}: {exc}") from exc
        error = error_for(self.system, request, response, self._now())
        if error is not None:
            raise error
        if not read_body or not response.content:
            return Reply(response.status_code, response.headers, None)
        try:
            return Reply(response.status_code, response.headers, response.json())
        except ValueError as exc:
            raise MalformedResponse(f"{where} answered {response.status_code} with a body that is not JSON",
                                    status=response.status_code) from exc

    @staticmethod
    def _worth_retrying(exc: BaseException, idempotent: bool) -> bool:
        if isinstance(exc, RequestNotSent):
            return True
        if isinstance(exc, RateLimited) and exc.status == 429:
            return True  # refused before any work was done
        return idempotent and isinstance(exc, RateLimited | Unavailable | MalformedResponse)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = getattr(exc, "retry_after", None)
        if isinstance(asked, int | float):
            return float(asked)
        backoff = tenacity.wait_exponential_jitter(multiplier=self.settings.backoff_initial_s,
                                                   max=self.settings.backoff_max_s,
                                                   jitter=self.settings.backoff_initial_s)
        return float(backoff(state))

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        logger.warning("%s; retrying in %.1f s (attempt %d of %d)", exc, state.upcoming_sleep,
                       state.attempt_number + 1, self.settings.max_attempts)


class _OutOfTime(tenacity.stop.stop_base):
    """Stop when the next wait would end after the call's time budget (on the injectable clock)."""

    def __init__(self, clock: Callable[[], float], started: float, budget_s: float) -> None:
        self.clock, self.started, self.budget_s = clock, started, budget_s

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return self.clock() - self.started + retry_state.upcoming_sleep > self.budget_s


@contextmanager
def reading(system: str, what: str) -> Iterator[None]:
    """Turn a 2xx body of the wrong shape (missing key, wrong type) into MalformedResponse."""
    try:
        yield
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise MalformedResponse(f"{system}: {what} is not shaped as documented ({type(exc).__name__}: {exc})") from exc


# --- idempotency for systems without idempotency keys -------------------------------------------------


_MARKER = re.compile(r"\s*\[triage-ref:[0-9a-f]{16}\]\s*$")


def marker(idempotency_key: str) -> str:
    """A short tag derived from the key, appended to every comment the agent posts.

    Before posting, an adapter looks for it in the ticket's comments: a write whose acknowledgement was
    lost (and which the outbox sends again) is then recognised and not posted twice. It is a hash, so
    run ids never reach the requester; it stays visible text because not every system keeps hidden
    HTML."""
    return "[triage-ref:" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:16] + "]"


def with_marker(body: str, idempotency_key: str) -> str:
    return f"{body.rstrip()}\n\n{marker(idempotency_key)}"


def already_posted(comment_bodies: Iterable[str], idempotency_key: str) -> bool:
    tag = marker(idempotency_key)
    return any(tag in body for body in comment_bodies)


def strip_marker(body: str) -> str:
    """The comment as a person wrote it (the agent reads conversations too)."""
    return _MARKER.sub("", body)


def merged_tags(current: Iterable[str] | None, wanted: FieldValue) -> list[str]:
    """The agent adds tags, it never removes a person's: systems whose API replaces the whole list get
    the union, in a stable order."""
    added = [wanted] if isinstance(wanted, str) else list(wanted)
    result = list(current or [])
    result.extend(tag for tag in added if tag not in result)
    return result


def agent_name(value: Any, names: Mapping[str, Any]) -> str | None:
    """The agent's name for a system's value (an id, a priority) through a name -> value mapping; a value
    nobody mapped comes back as text, so a person's choice outside the mapping still reads as a change."""
    if value is None or value == "":
        return None
    for name, mapped in names.items():
        if mapped == value or str(mapped) == str(value):
            return name
    return str(value)
