"""What is Request Tracker's own about talking to REST2; everything else is the shared integrations.http.

RT's part: REST2 lives under `/REST/2.0` of RT's web root, authenticates with `Authorization: token ...`,
answers records and collections as JSON objects, and pages collections (and may say "pages": null, so
paging stops on a short page). Searches are POSTed as a JSON body, yet write nothing.

Retries, timeouts and the status-code mapping are integrations.http's, as for every vendor adapter, with
the budget in the settings (TRIAGE_RT_MAX_ATTEMPTS, TRIAGE_RT_MAX_TOTAL_S, TRIAGE_RT_TIMEOUT_S):

- reads (GET, and the POSTed searches, marked idempotent) are retried on 5xx, timeouts and unreadable
  bodies, after the Retry-After a proxy in front of RT asked for, else with backoff;
- a message (POST comment/correspond) is sent again only when it never left or was refused with 429;
  otherwise the error goes up and the outbox delivers it again under its idempotency key, which the
  adapter finds in RT before posting;
- a field write is a PUT with If-Match and may be resent: once the first one landed, the ETag no longer
  matches and RT answers 412, so a resend cannot overwrite anything. Without an ETag it is sent once.

RT's answers become the contract's errors (integrations.contract) through integrations.http.error_for:

    AdapterError
    +-- Unauthorized        401, 403 (a wrong or revoked token, a right the agent's user lacks)
    +-- NotFound            404 (and 410, which RT does not send)
    +-- Rejected            400, 422 and any other 4xx; RT answers 400 to a message on a missing ticket,
    |                       so the adapter reads the ticket then to tell NotFound apart
    +-- Conflict            409, 412 (a stale If-Match)
    +-- RateLimited         429, or 503 with Retry-After (RT never limits; a proxy in front of it may)
    +-- Unavailable         other 5xx, timeouts, connection failures
    +-- MalformedResponse   a 2xx whose body is not the JSON REST2 documents
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from integrations.contract import MalformedResponse
from integrations.http import HelpdeskHttp, HttpSettings

SYSTEM = "rt"
API_PATH = "/REST/2.0"
PAGE_SIZE = 100  # REST2's largest page


def rest2_client(settings: HttpSettings, token: str, *, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], float] = time.time) -> HelpdeskHttp:
    """The shared client aimed at REST2 under RT's web root (`settings.base_url`), with the token."""
    # A copy, not a new validation: the settings were checked once, with RT's own URL rules.
    api = settings.model_copy(update={"base_url": settings.base_url + API_PATH})
    return HelpdeskHttp(SYSTEM, api, headers={"Authorization": f"token {token}"}, transport=transport,
                        sleep=sleep, clock=clock, now=now)


def record(body: Any, what: str) -> dict[str, Any]:
    """A REST2 record or collection is a JSON object; anything else is MalformedResponse."""
    if not isinstance(body, dict):
        raise MalformedResponse(f"{SYSTEM}: {what}: expected a JSON object, got {type(body).__name__}")
    return body


def items(client: HelpdeskHttp, path: str, what: str, params: Mapping[str, str | int], *,
          search: Any = None) -> list[dict[str, Any]]:
    """Every item of a paged collection; with `search` (REST2's JSON search) each page is POSTed."""
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        query = {**params, "page": page, "per_page": PAGE_SIZE}
        if search is None:
            body = client.call("GET", path, params=query)
        else:  # a search changes nothing in RT: as safe to resend as a GET
            body = client.call("POST", path, params=query, json=search, idempotent=True)
        batch = record(body, what).get("items") or []
        if not isinstance(batch, list) or not all(isinstance(item, dict) for item in batch):
            raise MalformedResponse(f"{SYSTEM}: {what}: `items` is not a list of objects")
        found.extend(batch)
        if len(batch) < PAGE_SIZE:
            return found
        page += 1
