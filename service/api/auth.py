"""API-key authentication, roles and per-key rate limits as FastAPI dependencies."""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from service.api.errors import ApiError
from service.api.limits import RateLimiter, retry_after_header
from service.keys import ApiKeys, Principal, Role

CACHE_SECONDS = 5.0
"""A revoked key keeps working at most this long in a running process (saves a query per request)."""


class Authenticator:
    def __init__(self, keys: ApiKeys, limiter: RateLimiter) -> None:
        self.keys = keys
        self.limiter = limiter
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def cached(self, key: str) -> Principal | None:
        """The key's principal if it was verified less than CACHE_SECONDS ago."""
        with self._lock:
            hit = self._cache.get(key)
        return hit[0] if hit and time.monotonic() - hit[1] < CACHE_SECONDS else None

    def principal(self, key: str) -> Principal | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit and now - hit[1] < CACHE_SECONDS:
            return hit[0]
        found = self.keys.authenticate(key)
        if found is not None:
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[key] = (found, now)
        return found


def presented_key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.headers.get("x-api-key") or None


def require(role: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: the caller must hold a key of at least `role`, within its rate limit.

    Async, so FastAPI runs it on the event loop instead of handing it to a thread (a hop that cost more
    CPU than the check itself); a cached key costs a dict lookup, and only a key not seen for
    CACHE_SECONDS is looked up in the database, off the loop."""

    async def dependency(request: Request) -> Principal:
        auth: Authenticator = request.app.state.auth
        key = presented_key(request)
        if key is None:
            raise ApiError(401, "unauthenticated", "send an API key: Authorization: Bearer <key> or X-API-Key",
                           headers={"WWW-Authenticate": "Bearer"})
        principal = auth.cached(key)
        if principal is None:
            principal = await run_in_threadpool(auth.principal, key)
        if principal is None:
            raise ApiError(401, "unauthenticated", "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
        wait = auth.limiter.take(principal.key_id)
        if wait is not None:
            raise ApiError(429, "rate_limited", f"rate limit of key '{principal.name}' reached; retry later",
                           headers=retry_after_header(wait))
        if not principal.can(role):
            raise ApiError(403, "forbidden", f"this needs the {role} role; key '{principal.name}' is {principal.role}")
        return principal

    return dependency


# The caller, by the least role an endpoint needs (use as a parameter's type).
IngestKey = Annotated[Principal, Depends(require("ingest"))]
ReviewerKey = Annotated[Principal, Depends(require("reviewer"))]
AdminKey = Annotated[Principal, Depends(require("admin"))]
