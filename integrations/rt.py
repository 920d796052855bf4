"""Request Tracker 5 (Best Practical) through its REST2 API, authenticated with an auth token.

Field mapping (settings, environment TRIAGE_RT_*): the agent's `queue` is an RT queue name (through
`queues`, names not listed pass as they are), `priority` an RT number (`priorities`), `category` and
`tags` are ticket custom fields (`category_field`, the multi-value `tags_field`), `assignee` is the Owner,
`status` the Status; other names need an entry in `custom_fields`.

Behaviour a user relies on:
- Field writes read the ticket, keep the fields a human changed since arrival (`fields_safe_to_write`),
  send only what differs, and use RT's conditional write (If-Match with the ETag of that read). A 412
  means someone wrote in between: the ticket is read again, the rule re-applied, and the write tried once
  more. RT answers a PUT with 200 and a list of messages even when a field failed (an unknown queue, a
  user who does not exist, a custom field name it does not know is silently dropped), so the ticket is
  read back and any field that did not take raises `Rejected` with RT's messages.
- Notes (`/comment`) and replies (`/correspond`) are idempotent although RT has no idempotency keys: each
  message carries its key in a transaction custom field (`key_field`, default "Triage Key"), and before
  posting the adapter asks RT with TicketSQL whether a transaction of that ticket already holds the key.
  The key travels in the same request as the message, so there is no window where the message exists
  without its key. Two workers posting the same key at the same instant could both post (the outbox
  delivers a ticket's writes in order from one worker, so this does not happen in this project).
  Field writes need no stored key: they are idempotent by value (identical values are not sent again)
  and a replay never overwrites a field a human changed since arrival.
- RT has no outbound webhooks. `integrations.rt_poll` finds changes with TicketSQL; `verify_webhook`
  accepts events from an RT Scrip we define that signs with Standard Webhooks and posts
  `{"type": "ticket.created|ticket.updated|ticket.comment", "ticket_id": "12", "transaction_id": "345"}`.

HTTP goes through the shared integrations.http layer like every vendor adapter's, so retries live in one
place; integrations.rt_http holds what is RT's own (REST2's location, paging) and draws the status-code
mapping and which calls are resent. Settings add the shared knobs: TRIAGE_RT_MAX_ATTEMPTS,
TRIAGE_RT_MAX_TOTAL_S, TRIAGE_RT_BACKOFF_INITIAL_S, TRIAGE_RT_BACKOFF_MAX_S.
"""

from __future__ import annotations

import email.utils
import hashlib
import ipaddress
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from integrations.contract import (
    BadWebhookPayload,
    Comment,
    Conflict,
    FieldValue,
    NotFound,
    Rejected,
    TicketSnapshot,
    WebhookEvent,
    WebhookRejected,
    fields_safe_to_write,
)
from integrations.http import HttpSettings, reading, wait_from_headers
from integrations.rt_http import items, record, rest2_client
from integrations.webhooks import verify_standard

logger = logging.getLogger(__name__)

_MESSAGE_TYPES = {"Create": True, "Correspond": True, "Comment": False}
"""History transaction types that are messages, and whether the requester sees them."""
_MAX_KEY_LENGTH = 200  # a custom field value longer than 255 characters moves to LargeContent, unsearchable
_NOBODY = "Nobody"


class RTSettings(HttpSettings):
    """Environment TRIAGE_RT_*: where RT is, the token, how the agent's fields map onto RT, and the shared
    HTTP knobs (timeout_s, max_attempts, max_total_s, backoff_*) of integrations.http.HttpSettings."""

    model_config = SettingsConfigDict(env_prefix="TRIAGE_RT_", extra="ignore")

    base_url: str
    """RT's web root, e.g. https://rt.example.com (REST2 lives under /REST/2.0)."""
    token: SecretStr
    """An RT auth token (Settings > Auth Tokens in RT) of the user the agent acts as."""
    agent_user: str = "triage-agent"
    """The RT user the token belongs to: the poller ignores changes made only by this user."""
    allow_insecure_http: bool = False
    """Plain http is refused for anything but a loopback address (the token would travel in clear)."""
    queues: dict[str, str] = Field(default_factory=dict)
    """Agent queue -> RT queue name; a queue not listed is used as the RT queue name."""
    priorities: dict[str, int] = Field(default_factory=lambda: {"low": 20, "normal": 50, "high": 70, "urgent": 90})
    """Agent priority -> RT's numeric priority."""
    category_field: str = "Category"
    tags_field: str = "Tags"
    """A multi-value ticket custom field."""
    custom_fields: dict[str, str] = Field(default_factory=dict)
    """Any other agent field -> an RT ticket custom field name."""
    key_field: str = "Triage Key"
    """Transaction custom field that stores each message's idempotency key."""
    webhook_secrets: list[SecretStr] = Field(default_factory=list)
    """Standard Webhooks secrets of the RT Scrip that notifies the service (several during a rotation)."""

    @field_validator("base_url")
    @classmethod
    def _https_only(cls, value: str) -> str:
        """Replaces HttpSettings' check of the same name (pydantic overrides validators by name): RT takes
        the web root or the REST2 URL, and plain http is decided by `_no_token_in_clear` below."""
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/").removesuffix("/REST/2.0")

    @model_validator(mode="after")
    def _no_token_in_clear(self) -> RTSettings:
        host = urlsplit(self.base_url).hostname or ""
        if urlsplit(self.base_url).scheme == "http" and not self.allow_insecure_http and not _loopback(host):
            raise ValueError(f"base_url {self.base_url} is plain http to a remote host: use https "
                             "(or set TRIAGE_RT_ALLOW_INSECURE_HTTP=true on a trusted network)")
        return self


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- the ticket as RT holds it ------------------------------------------------------------------------


@dataclass(frozen=True)
class _RtTicket:
    """RT's view of a ticket: raw slots (`Queue`, `Priority`, `Owner`, `Status`, `CF.<name>`) and its ETag."""

    data: dict[str, Any]
    slots: dict[str, FieldValue | None]
    etag: str | None


def _normal(value: FieldValue | None) -> Any:
    if value in (None, "", []):
        return None
    if isinstance(value, list):
        return sorted(value)
    return value


class RequestTrackerAdapter:
    """HelpdeskAdapter for Request Tracker 5 (REST2). Thread-safe as far as httpx.Client is."""

    name = "rt"
    supports_conditional_write = True
    settings_model = RTSettings

    @classmethod
    def from_settings(cls, settings: RTSettings) -> RequestTrackerAdapter:
        return cls(settings)

    def __init__(self, settings: RTSettings, *, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self._now = now
        self.client = rest2_client(settings, settings.token.get_secret_value(), transport=transport, sleep=sleep,
                                   clock=clock, now=now)
        self._queue_names: dict[str, str] = {}
        self._key_field_checked = False

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> RequestTrackerAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reading --------------------------------------------------------------------------------------

    @staticmethod
    def _ticket_path(ticket_id: str) -> str:
        if not str(ticket_id).isdigit():
            raise NotFound(f"RT ticket ids are numbers; got {ticket_id!r}")
        return f"/ticket/{int(ticket_id)}"

    def _queue_name(self, queue_id: str) -> str:
        if queue_id not in self._queue_names:
            what = f"queue {queue_id}"
            queue = record(self.client.call("GET", f"/queue/{queue_id}"), what)
            with reading(self.name, what):
                self._queue_names[queue_id] = str(queue["Name"])
        return self._queue_names[queue_id]

    def _load(self, ticket_id: str) -> _RtTicket:
        what = f"ticket {ticket_id}"
        reply = self.client.reply("GET", self._ticket_path(ticket_id))
        data = record(reply.body, what)
        with reading(self.name, what):
            data["id"] = str(data["id"])
            slots: dict[str, FieldValue | None] = {
                "Queue": self._queue_name(str(data["Queue"]["id"])),
                "Priority": str(data.get("Priority", "")),
                "Owner": None if data["Owner"]["id"] == _NOBODY else str(data["Owner"]["id"]),
                "Status": str(data.get("Status", "")),
            }
            for cf in data.get("CustomFields") or []:
                slots[f"CF.{cf['name']}"] = [str(v) for v in cf.get("values") or []]
        return _RtTicket(data=data, slots=slots, etag=reply.headers.get("etag"))

    def _agent_fields(self, ticket: _RtTicket) -> dict[str, Any]:
        """RT's slots in the agent's field names."""
        s = self.settings
        queue = ticket.slots["Queue"]
        priority = str(ticket.slots["Priority"])
        fields: dict[str, Any] = {
            "queue": next((agent for agent, rt in s.queues.items() if rt == queue), queue),
            "priority": next((agent for agent, number in s.priorities.items() if str(number) == priority), priority),
            "assignee": ticket.slots["Owner"],
        }
        named = {"category": s.category_field, "tags": s.tags_field, **s.custom_fields}
        for agent_name, cf_name in named.items():
            values = ticket.slots.get(f"CF.{cf_name}") or []
            assert isinstance(values, list)
            if agent_name == "tags":
                fields[agent_name] = list(values)
            else:
                fields[agent_name] = values[0] if len(values) == 1 else (list(values) or None)
        return fields

    def _conversation(self, ticket_id: str) -> list[tuple[str, Comment]]:
        """(transaction type, message) for every message on the ticket, oldest first."""
        path = self._ticket_path(ticket_id)
        what = f"history of ticket {ticket_id}"
        history = items(self.client, f"{path}/history", what, {"fields": "Type,Creator,Created"})
        # The attachments listing gives decoded content (on /attachment/{id} it is base64).
        attachments = items(self.client, f"{path}/attachments", what, {"fields": "TransactionId,ContentType,Content"})
        plain: dict[str, str] = {}
        other_text: dict[str, str] = {}  # an HTML-only message still shows, as its source
        for part in attachments:
            kind = str(part.get("ContentType", ""))
            target = plain if kind == "text/plain" else other_text if kind.startswith("text/") else None
            if target is not None:
                target.setdefault(str(part.get("TransactionId", "")), str(part.get("Content") or ""))
        texts = {**other_text, **plain}
        messages = []
        for txn in history:
            kind = str(txn.get("Type"))
            if kind in _MESSAGE_TYPES:
                creator = txn.get("Creator")
                author = str(creator.get("id")) if isinstance(creator, dict) else None
                messages.append((kind, Comment(body=texts.get(str(txn["id"]), ""), public=_MESSAGE_TYPES[kind],
                                               author=author, created_at=txn.get("Created"))))
        return messages

    def get_ticket(self, ticket_id: str) -> TicketSnapshot:
        ticket = self._load(ticket_id)
        conversation = self._conversation(ticket_id)
        first = next((c for kind, c in conversation if kind == "Create"), None)
        requestors = ticket.data.get("Requestor") or []
        return TicketSnapshot(
            id=ticket.data["id"], subject=str(ticket.data.get("Subject") or ""),
            body=first.body if first else "",
            requester=str(requestors[0]["id"]) if requestors else None,
            status=str(ticket.slots["Status"]), fields=self._agent_fields(ticket),
            comments=[c for kind, c in conversation if kind != "Create"],
            updated_at=ticket.data.get("LastUpdated"), version=ticket.etag,
        )

    # --- field writes ---------------------------------------------------------------------------------

    def _rt_slots(self, fields: Mapping[str, FieldValue]) -> dict[str, FieldValue]:
        """The agent's fields as RT slots; a field with no mapping is refused before anything is sent."""
        s = self.settings
        named = {"category": s.category_field, "tags": s.tags_field, **s.custom_fields}
        slots: dict[str, FieldValue] = {}
        for name, value in fields.items():
            if name == "queue":
                slots["Queue"] = s.queues.get(str(value), str(value))
            elif name == "priority":
                if str(value) in s.priorities:
                    slots["Priority"] = str(s.priorities[str(value)])
                elif str(value).isdigit():
                    slots["Priority"] = str(value)
                else:
                    raise Rejected(f"priority {value!r} has no RT number: add it to TRIAGE_RT_PRIORITIES "
                                   f"(now {json.dumps(s.priorities)})")
            elif name == "assignee":
                slots["Owner"] = str(value) or _NOBODY
            elif name == "status":
                slots["Status"] = str(value)
            elif name in named:
                slots[f"CF.{named[name]}"] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
            else:
                raise Rejected(f"field {name!r} has no RT mapping: map it to a custom field in TRIAGE_RT_CUSTOM_FIELDS")
        return slots

    @staticmethod
    def _put_body(slots: Mapping[str, FieldValue]) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for slot, value in slots.items():
            if slot.startswith("CF."):
                body.setdefault("CustomFields", {})[slot.removeprefix("CF.")] = value
            else:
                body[slot] = int(str(value)) if slot == "Priority" else value
        return body

    def set_fields(self, ticket_id: str, fields: Mapping[str, FieldValue], *, idempotency_key: str,
                   baseline: Mapping[str, Any] | None = None) -> None:
        self._rt_slots(fields)  # an unmappable field fails before any call
        for attempt in (1, 2):
            ticket = self._load(ticket_id)
            allowed, kept = fields_safe_to_write(fields, self._agent_fields(ticket), baseline)
            if kept:
                logger.info("rt: ticket %s: leaving %s as a person set them (%s)", ticket_id, kept, idempotency_key)
            wanted = {slot: value for slot, value in self._rt_slots(allowed).items()
                      if _normal(ticket.slots.get(slot)) != _normal(value)}
            if not wanted:
                return
            headers = {"If-Match": ticket.etag} if ticket.etag else {}
            try:
                # Conditional, it may be resent after a lost answer (a landed write turns the resend into a
                # 412); without an ETag a resend could overwrite a person's newer value, so it goes once.
                messages = self.client.call("PUT", self._ticket_path(ticket_id), json=self._put_body(wanted),
                                            headers=headers, idempotent=bool(ticket.etag))
            except Conflict:
                if attempt == 2:
                    raise
                logger.info("rt: ticket %s changed between our read and our write; reading it again", ticket_id)
                continue
            self._check_applied(ticket_id, wanted, messages)
            return

    def _check_applied(self, ticket_id: str, wanted: Mapping[str, FieldValue], messages: Any) -> None:
        """RT says 200 even when a field failed: read the ticket back and name what did not take."""
        now = self._load(ticket_id).slots
        missed = [slot for slot, value in wanted.items() if _normal(now.get(slot)) != _normal(value)]
        if missed:
            said = "; ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages or "")
            raise Rejected(f"RT did not apply {', '.join(missed)} on ticket {ticket_id}: {said or 'no message'}",
                           status=200)

    def assign(self, ticket_id: str, assignee: str, *, idempotency_key: str) -> None:
        self.set_fields(ticket_id, {"assignee": assignee}, idempotency_key=idempotency_key)

    # --- messages -------------------------------------------------------------------------------------

    def add_note(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        self._post_message(ticket_id, "comment", body, idempotency_key)

    def add_reply(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        self._post_message(ticket_id, "correspond", body, idempotency_key)

    @staticmethod
    def _stored_key(idempotency_key: str) -> str:
        if len(idempotency_key) <= _MAX_KEY_LENGTH:
            return idempotency_key
        return "sha256:" + hashlib.sha256(idempotency_key.encode()).hexdigest()

    def _ensure_key_field(self) -> None:
        """Refuse to post when the key field is missing: RT would drop the key and a retry would post twice."""
        if self._key_field_checked:
            return
        what = f"custom fields named {self.settings.key_field!r}"
        found = items(self.client, "/customfields", what, {"fields": "Name,LookupType"},
                      search=[{"field": "Name", "value": self.settings.key_field}])
        if not any(str(cf.get("LookupType", "")).endswith("RT::Transaction") for cf in found):
            raise Rejected(f"RT has no transaction custom field {self.settings.key_field!r} visible to this user: "
                           "create it (applied to all queues) or set TRIAGE_RT_KEY_FIELD")
        self._key_field_checked = True

    def _key_used(self, ticket_id: str, key: str) -> bool:
        quoted = key.replace("\\", "\\\\").replace("'", "\\'")
        query = f"id = {int(ticket_id)} AND 'TxnCF.{{{self.settings.key_field}}}' = '{quoted}'"
        found = record(self.client.call("GET", "/tickets", params={"query": query}), f"key {key} on ticket {ticket_id}")
        return bool(found.get("count"))

    def _post_message(self, ticket_id: str, kind: str, body: str, idempotency_key: str) -> None:
        path = self._ticket_path(ticket_id)
        self._ensure_key_field()
        key = self._stored_key(idempotency_key)
        if self._key_used(ticket_id, key):
            logger.info("rt: ticket %s already has %s %s; not posting it again", ticket_id, kind, key)
            return
        payload = {"Content": body, "ContentType": "text/plain", "TxnCustomFields": {self.settings.key_field: key}}
        try:
            # Never resent after it may have reached RT: the key is checked above, not by RT, so the outbox
            # delivers it again later and that check makes the second delivery harmless.
            said = self.client.call("POST", f"{path}/{kind}", json=payload, idempotent=False)
        except Rejected:
            self._load(ticket_id)  # RT answers 400 for a missing ticket here: say NotFound when that is why
            raise
        if not any("custom field" in str(m).lower() and "updated" in str(m).lower() for m in said or []):
            logger.error("rt: %s on ticket %s posted but RT did not confirm its key %s: %s", kind, ticket_id, key, said)

    # --- searches the poller uses ---------------------------------------------------------------------

    def search_tickets(self, query: str, fields: Sequence[str], order_by: str = "LastUpdated") -> list[dict[str, Any]]:
        """Every ticket matching the TicketSQL query, oldest `order_by` first, with the given fields."""
        return items(self.client, "/tickets", "ticket search", {"query": query, "fields": ",".join(fields),
                                                                 "orderby": order_by, "order": "ASC"})

    def server_time(self) -> datetime:
        """RT's own clock (the Date header of a cheap call), so the poller never trusts ours."""
        stamp = self.client.reply("GET", "/rt").headers.get("date")
        try:
            return email.utils.parsedate_to_datetime(stamp) if stamp else datetime.now(UTC)
        except (TypeError, ValueError):
            return datetime.now(UTC)

    def transaction_creators(self, ticket_id: str, since: str, *, inclusive: bool) -> list[str]:
        """Who made the ticket's transactions created after `since` (an RT date with offset)."""
        what = f"recent transactions of ticket {ticket_id}"
        body = [{"field": "ObjectType", "value": "RT::Ticket"}, {"field": "ObjectId", "value": int(ticket_id)},
                {"field": "Created", "operator": ">=" if inclusive else ">", "value": since}]
        found = items(self.client, "/transactions", what, {"fields": "Creator,Type"}, search=body)
        return [str(t["Creator"]["id"]) if isinstance(t.get("Creator"), dict) else "" for t in found]

    # --- inbound --------------------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Standard Webhooks from our RT Scrip; with no secret configured every request is refused."""
        secrets = [s.get_secret_value() for s in self.settings.webhook_secrets]
        if not secrets:
            raise WebhookRejected("no RT webhook secret configured (TRIAGE_RT_WEBHOOK_SECRETS)")
        event_id = verify_standard(headers, body, secrets)
        try:
            payload = json.loads(body)
            ticket_id = str(payload["ticket_id"])
            kind = str(payload.get("type", "ticket.updated")).removeprefix("ticket.")
        except (ValueError, KeyError, TypeError) as exc:
            raise BadWebhookPayload(f"RT webhook body is not the expected JSON: {exc}") from exc
        if not ticket_id.isdigit():
            raise BadWebhookPayload(f"RT webhook ticket_id {ticket_id!r} is not a number")
        return WebhookEvent(system=self.name, event_id=event_id, ticket_id=ticket_id, kind=kind, payload=payload)

    def wait_seconds(self, status: int, headers: Mapping[str, str]) -> float | None:
        """RT itself never rate-limits; a proxy in front of it may say Retry-After."""
        return wait_from_headers(status, headers, self._now())
