"""What the vendor adapters over HTTP share, so each vendor module holds only what is the vendor's own.

`HttpAdapter` builds the retrying client (integrations/http.py) from the adapter's settings and the
credentials the vendor wants, makes an adapter from its settings for the registry, and answers
`wait_seconds` from the rate-limit headers every vendor here sends in one of two forms.

`OneCallWriteAdapter` is for systems whose single update carries fields and a comment together
(Zendesk's PUT, ServiceNow's PATCH): the four writes of the contract are then one `write` each, and
the outbox calls `write` directly to send a run's fields and note as one request.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, Self, TypeVar

import httpx

from integrations.contract import FieldValue
from integrations.http import HelpdeskHttp, HttpSettings, wait_from_headers

SettingsT = TypeVar("SettingsT", bound=HttpSettings)


class HttpAdapter(ABC, Generic[SettingsT]):
    """Base of the HTTP adapters: settings, client and rate-limit waits; the vendor supplies the rest."""

    name: ClassVar[str]
    supports_conditional_write: ClassVar[bool] = False
    settings_model: ClassVar[type[HttpSettings]]

    @classmethod
    def from_settings(cls, settings: SettingsT) -> Self:
        return cls(settings)

    def __init__(self, settings: SettingsT, *, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], float] = time.time) -> None:
        # transport, sleep, clock and now are for tests: a fake vendor and a clock that does not wait
        self.settings = settings
        self._now = now
        self.http = HelpdeskHttp(self.name, settings, auth=self.credentials(settings), transport=transport,
                                 sleep=sleep, clock=clock, now=now)

    @abstractmethod
    def credentials(self, settings: SettingsT) -> tuple[str, str]:
        """The basic-auth pair this vendor expects."""

    def wait_seconds(self, status: int, headers: Mapping[str, str]) -> float | None:
        return wait_from_headers(status, headers, self._now())


class OneCallWriteAdapter(HttpAdapter[SettingsT]):
    """An adapter whose `write` sends fields and one comment in a single request."""

    @abstractmethod
    def write(self, ticket_id: str, *, idempotency_key: str, fields: Mapping[str, FieldValue] | None = None,
              comment: str | None = None, public: bool = False, baseline: Mapping[str, Any] | None = None) -> None:
        """Fields (those no person changed since `baseline`) and the comment, once per idempotency key."""

    def set_fields(self, ticket_id: str, fields: Mapping[str, FieldValue], *, idempotency_key: str,
                   baseline: Mapping[str, Any] | None = None) -> None:
        self.write(ticket_id, idempotency_key=idempotency_key, fields=fields, baseline=baseline)

    def add_note(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        self.write(ticket_id, idempotency_key=idempotency_key, comment=body, public=False)

    def add_reply(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        self.write(ticket_id, idempotency_key=idempotency_key, comment=body, public=True)

    def assign(self, ticket_id: str, assignee: str, *, idempotency_key: str) -> None:
        self.write(ticket_id, idempotency_key=idempotency_key, fields={"assignee": assignee})
