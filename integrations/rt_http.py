"""The small HTTP client under the Request Tracker adapter: REST2 calls, token auth, paging, and RT's
status codes turned into the contract's errors.

    AdapterError (integrations.contract)
    +-- Unauthorized        401, 403
    +-- NotFound            404
    +-- Rejected            400, 422 and any other 4xx
    +-- Conflict            409, 412 (a stale If-Match)
    +-- RateLimited         429, or 503 with Retry-After (`retry_after` in seconds)
    +-- Unavailable         other 5xx, connection failures, timeouts
    +-- MalformedResponse   a 2xx whose body is not the JSON REST2 documents

Reads (GET) are retried here, three tries with a short backoff or the server's Retry-After: they are
safe to repeat. Writes are not: the outbox retries them, each under its idempotency key. Kept apart from
the adapter so it can move onto the shared integrations HTTP layer without touching the RT logic.
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from tenacity import RetryCallState, retry, retry_if_exception, stop_after_attempt

from integrations.contract import (
    AdapterError,
    Conflict,
    MalformedResponse,
    NotFound,
    RateLimited,
    Rejected,
    Unauthorized,
    Unavailable,
)
from integrations.webhooks import header

PAGE_SIZE = 100  # REST2's largest page


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Retry-After as seconds (a number or an HTTP date); None when absent or unreadable."""
    value = header(headers, "retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _rt_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and "message" in body:
        return str(body["message"]).strip()
    return json.dumps(body)[:200]


def error_for(response: httpx.Response, doing: str) -> AdapterError:
    """The contract error for a failed RT answer; the message says what we were doing and what RT said."""
    status = response.status_code
    text = f"RT {doing}: HTTP {status}: {_rt_message(response)}"
    wait = retry_after(response.headers)
    if status in (401, 403):
        return Unauthorized(text, status=status)
    if status == 404:
        return NotFound(text, status=status)
    if status in (409, 412):
        return Conflict(text, status=status)
    if status == 429 or (status == 503 and wait is not None):
        return RateLimited(text, status=status, retry_after=wait)
    if status >= 500:
        return Unavailable(text, status=status)
    return Rejected(text, status=status)


def _wait_before_retry(state: RetryCallState) -> float:
    """Honour the server's Retry-After (capped), else back off 0.2, 0.4, ... seconds."""
    outcome = state.outcome
    exc = outcome.exception() if outcome is not None else None
    asked = exc.retry_after if isinstance(exc, AdapterError) else None
    return min(10.0, asked) if asked is not None else 0.2 * 2 ** (state.attempt_number - 1)


_retry_reads = retry(
    retry=retry_if_exception(lambda exc: isinstance(exc, AdapterError) and exc.retryable
                             and not isinstance(exc, Conflict)),
    stop=stop_after_attempt(3), wait=_wait_before_retry, reraise=True,
)


class RTClient:
    """REST2 under `base_url`/REST/2.0 with `Authorization: token ...`; every failure is an AdapterError."""

    def __init__(self, base_url: str, token: str, *, timeout_s: float,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=f"{base_url}/REST/2.0", timeout=timeout_s, transport=transport,
                                 headers={"Authorization": f"token {token}", "Accept": "application/json"})

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, doing: str, **kwargs: Any) -> httpx.Response:
        """One request; `doing` ("read ticket 12") goes into every error message."""
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise Unavailable(f"RT {doing}: {type(exc).__name__}: {exc} ({self.base_url})") from exc
        if response.status_code >= 400:
            raise error_for(response, doing)
        return response

    @_retry_reads
    def get(self, path: str, doing: str, params: Mapping[str, str | int] | None = None) -> httpx.Response:
        return self.call("GET", path, doing, params=params)

    @staticmethod
    def json(response: httpx.Response, doing: str) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise MalformedResponse(f"RT {doing}: HTTP {response.status_code} but the body is not JSON: "
                                    f"{response.text[:120]!r}", status=response.status_code) from exc

    @classmethod
    def record(cls, response: httpx.Response, doing: str) -> dict[str, Any]:
        """A REST2 record or collection: a JSON object, else MalformedResponse."""
        body = cls.json(response, doing)
        if not isinstance(body, dict):
            raise MalformedResponse(f"RT {doing}: expected a JSON object, got {type(body).__name__}",
                                    status=response.status_code)
        return body

    def items(self, path: str, doing: str, params: Mapping[str, str | int], *,
              search: Any = None) -> list[dict[str, Any]]:
        """Every item of a paged collection; with `search` (REST2's JSON search) it is POSTed. RT may say
        "pages": null, so paging stops on a short page."""
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            query = {**params, "page": page, "per_page": PAGE_SIZE}
            response = (self.get(path, doing, query) if search is None
                        else self.call("POST", path, doing, params=query, json=search))
            batch = self.record(response, doing).get("items") or []
            items.extend(batch)
            if len(batch) < PAGE_SIZE:
                return items
            page += 1
