"""Zendesk Support (Ticketing API v2) behind the HelpdeskAdapter contract.

- Reads: `GET /api/v2/tickets/{id}.json` and `/comments.json` (the first comment is the ticket's body).
- Writes: one `PUT /api/v2/tickets/{id}.json` carries the fields and the comment together
  (`comment.public` false = internal note, true = public reply), because Zendesk limits updates per
  ticket. Every PUT is a safe update (`safe_update` + the `updated_stamp` just read): a change made
  between our read and our write answers 409, and we read again and retry once, so a field a person
  changed meanwhile is caught by `fields_safe_to_write` on the second pass.
- Idempotency: the `Idempotency-Key` header on every write (the write's key plus the stamp the PUT
  was built on, see `_request_key`), and, because Zendesk documents that header for ticket creation,
  a marker in each comment checked before posting (see integrations/http.py). A resent PUT cannot
  apply twice either: its `updated_stamp` is stale after the first one landed.
- Tags: Zendesk's `tags` replaces the list, so the agent's tags are merged into the current ones.
- Webhooks: `X-Zendesk-Webhook-Signature` = base64(HMAC-SHA256(secret, timestamp + body)) with
  `X-Zendesk-Webhook-Signature-Timestamp`, which must be within `webhook_tolerance_s` of now.
  Event id: the event's `id` (event subscriptions), else the `X-Zendesk-Webhook-Invocation-Id` header,
  else a hash of the signed timestamp and body. A trigger-connected webhook should send a JSON body
  such as `{"ticket_id": "{{ticket.id}}", "event": "updated"}`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from integrations.contract import (
    BadWebhookPayload,
    Comment,
    Conflict,
    FieldValue,
    MalformedResponse,
    Rejected,
    TicketSnapshot,
    WebhookEvent,
    WebhookRejected,
    fields_safe_to_write,
)
from integrations.http import (
    HttpSettings,
    agent_name,
    already_posted,
    merged_tags,
    reading,
    strip_marker,
    with_marker,
)
from integrations.http_adapter import OneCallWriteAdapter
from integrations.webhooks import DEFAULT_TOLERANCE_S, header, verify_body_hmac

logger = logging.getLogger(__name__)

_PAGE_LIMIT = 20  # comment pages followed at most (100 comments each)
_DEFAULT_PRIORITY_MAP: dict[str, str] = {"low": "low", "normal": "normal", "high": "high", "urgent": "urgent"}


class ZendeskSettings(HttpSettings):
    """Environment TRIAGE_ZENDESK_*: the account, an API token, the webhook secret and the field mapping."""

    model_config = SettingsConfigDict(env_prefix="TRIAGE_ZENDESK_", extra="ignore")
    email: str
    """The agent's Zendesk user (API token auth is `email/token:api_token`)."""
    api_token: SecretStr
    webhook_secret: SecretStr | None = None
    webhook_tolerance_s: int = DEFAULT_TOLERANCE_S
    group_ids: dict[str, int] = Field(default_factory=dict)
    """Agent queue name -> Zendesk group_id."""
    category_field_id: int | None = None
    """The ticket field (dropdown or text) that holds the agent's category."""
    custom_field_ids: dict[str, int] = Field(default_factory=dict)
    """Any other agent field name -> Zendesk ticket field id."""
    priority_map: dict[str, str] = Field(default_factory=lambda: dict(_DEFAULT_PRIORITY_MAP))
    """Agent priority -> Zendesk priority (low, normal, high, urgent)."""
    assignee_ids: dict[str, int] = Field(default_factory=dict)
    """Agent assignee name -> Zendesk user id (a numeric assignee is used as the id itself)."""


class ZendeskAdapter(OneCallWriteAdapter[ZendeskSettings]):
    """HelpdeskAdapter for Zendesk Support; also offers `write` (fields and a comment in one PUT)."""

    name = "zendesk"
    supports_conditional_write = True
    settings_model = ZendeskSettings

    def credentials(self, settings: ZendeskSettings) -> tuple[str, str]:
        return (f"{settings.email}/token", settings.api_token.get_secret_value())

    # --- reads --------------------------------------------------------------------------------------

    def _raw_ticket(self, ticket_id: str) -> dict[str, Any]:
        data = self.http.call("GET", f"/api/v2/tickets/{ticket_id}.json")
        with reading(self.name, f"ticket {ticket_id}"):
            ticket = data["ticket"]
            if not isinstance(ticket, dict):
                raise TypeError("`ticket` is not an object")
            return ticket

    def _raw_comments(self, ticket_id: str) -> list[dict[str, Any]]:
        comments: list[dict[str, Any]] = []
        url: str | None = f"/api/v2/tickets/{ticket_id}/comments.json"
        for _ in range(_PAGE_LIMIT):
            if url is None:
                break
            data = self.http.call("GET", url)
            with reading(self.name, f"comments of ticket {ticket_id}"):
                comments.extend(dict(c) for c in data["comments"])
                url = data.get("next_page")
            if url is not None and httpx.URL(url).host != httpx.URL(self.settings.base_url).host:
                # our credentials go with every request: never follow a link to another host
                raise MalformedResponse(f"zendesk: next_page of ticket {ticket_id} points to another host")
        return comments

    def get_ticket(self, ticket_id: str) -> TicketSnapshot:
        raw = self._raw_ticket(ticket_id)
        comments = self._raw_comments(ticket_id)
        with reading(self.name, f"ticket {ticket_id}"):
            conversation = [
                Comment(body=strip_marker(str(c.get("body") or "")), public=bool(c.get("public", True)),
                        author=_text(c.get("author_id")), created_at=_text(c.get("created_at")))
                for c in comments[1:]  # the first comment is the ticket's description
            ]
            return TicketSnapshot(
                id=str(raw["id"]), subject=str(raw.get("subject") or ""), body=str(raw.get("description") or ""),
                requester=_text(raw.get("requester_id")), status=str(raw.get("status") or ""),
                fields=self._agent_fields(raw), comments=conversation, updated_at=_text(raw.get("updated_at")),
                version=_text(raw.get("updated_at")),
            )

    def _agent_fields(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The ticket's fields under the agent's names (unmapped values kept as Zendesk's own)."""
        s = self.settings
        fields: dict[str, Any] = {}
        fields["queue"] = agent_name(raw.get("group_id"), s.group_ids)
        fields["priority"] = agent_name(raw.get("priority"), s.priority_map)
        fields["tags"] = list(raw.get("tags") or [])
        fields["assignee"] = agent_name(raw.get("assignee_id"), s.assignee_ids)
        custom = {item["id"]: item.get("value") for item in raw.get("custom_fields") or []}
        if s.category_field_id is not None:
            fields["category"] = custom.get(s.category_field_id)
        for name, field_id in s.custom_field_ids.items():
            fields[name] = custom.get(field_id)
        return fields

    # --- writes -------------------------------------------------------------------------------------

    def _native(self, fields: Mapping[str, FieldValue], raw: Mapping[str, Any]) -> dict[str, Any]:
        """The agent's fields as a Zendesk ticket update; a value the mapping cannot place is Rejected."""
        s = self.settings
        update: dict[str, Any] = {}
        custom: list[dict[str, Any]] = []
        for name, value in fields.items():
            if name == "queue":
                update["group_id"] = _mapped_id(value, s.group_ids, "queue", "TRIAGE_ZENDESK_GROUP_IDS")
            elif name == "priority":
                if value not in s.priority_map:
                    raise Rejected(f"zendesk: priority {value!r} has no entry in TRIAGE_ZENDESK_PRIORITY_MAP")
                update["priority"] = s.priority_map[str(value)]
            elif name == "tags":
                update["tags"] = merged_tags(raw.get("tags"), value)
            elif name == "assignee":
                update["assignee_id"] = _mapped_id(value, s.assignee_ids, "assignee", "TRIAGE_ZENDESK_ASSIGNEE_IDS")
            elif name == "category" and s.category_field_id is not None:
                custom.append({"id": s.category_field_id, "value": value})
            elif name in s.custom_field_ids:
                custom.append({"id": s.custom_field_ids[name], "value": value})
            else:
                logger.warning("zendesk: no field mapped for %r (see TRIAGE_ZENDESK_*); not written", name)
        if custom:
            update["custom_fields"] = custom
        return update

    def write(self, ticket_id: str, *, idempotency_key: str, fields: Mapping[str, FieldValue] | None = None,
              comment: str | None = None, public: bool = False, baseline: Mapping[str, Any] | None = None) -> None:
        """Fields and one comment in a single safe PUT; on a 409 read again and try once more."""
        for attempt in (1, 2):
            raw = self._raw_ticket(ticket_id)
            update: dict[str, Any] = {}
            if fields:
                allowed, changed_by_human = fields_safe_to_write(fields, self._agent_fields(raw), baseline)
                if changed_by_human:
                    logger.info("zendesk: ticket %s: left %s alone (changed by a person)", ticket_id,
                                ", ".join(changed_by_human))
                update.update(self._native(allowed, raw))
            if comment is not None:
                bodies = (str(c.get("body") or "") for c in self._raw_comments(ticket_id))
                if not already_posted(bodies, idempotency_key):
                    update["comment"] = {"body": with_marker(comment, idempotency_key), "public": public}
            if not update:
                return
            update |= {"safe_update": True, "updated_stamp": raw.get("updated_at")}
            try:
                self.http.call("PUT", f"/api/v2/tickets/{ticket_id}.json", json={"ticket": update},
                               headers={"Idempotency-Key": _request_key(idempotency_key, raw.get("updated_at"))},
                               read_body=False)
                return
            except Conflict:
                if attempt == 2:
                    raise
                logger.info("zendesk: ticket %s changed while we wrote; reading it again", ticket_id)

    # --- inbound ------------------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        if self.settings.webhook_secret is None:
            raise WebhookRejected("zendesk: no webhook secret configured (TRIAGE_ZENDESK_WEBHOOK_SECRET)")
        stamp = header(headers, "X-Zendesk-Webhook-Signature-Timestamp")
        if not stamp:
            raise WebhookRejected("missing X-Zendesk-Webhook-Signature-Timestamp header")
        verify_body_hmac(headers, body, "X-Zendesk-Webhook-Signature", self.settings.webhook_secret.get_secret_value(),
                         encoding="base64", signed_prefix=stamp.encode())
        sent_at = _instant(stamp)
        if sent_at is None or abs(self._now() - sent_at) > self.settings.webhook_tolerance_s:
            raise WebhookRejected(f"X-Zendesk-Webhook-Signature-Timestamp is outside the "
                                  f"{self.settings.webhook_tolerance_s} s window")
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise TypeError("the body is not a JSON object")
            event_type = str(payload.get("type") or "")
            detail = _object(payload.get("detail"))
            ticket = _object(payload.get("ticket"))
            ticket_id = detail.get("id") if event_type.startswith("zen:event-type:ticket") else None
            ticket_id = ticket_id or payload.get("ticket_id") or ticket.get("id")
        except (ValueError, TypeError) as exc:
            raise BadWebhookPayload(f"zendesk webhook body is not the expected JSON: {exc}") from exc
        event_id = (payload.get("id") if event_type.startswith("zen:event-type:") else None) \
            or header(headers, "X-Zendesk-Webhook-Invocation-Id") \
            or "sha256:" + hashlib.sha256(stamp.encode() + body).hexdigest()
        return WebhookEvent(system=self.name, event_id=str(event_id), kind=_kind(event_type or payload.get("event")),
                            ticket_id=_text(ticket_id), payload=payload)


def _request_key(idempotency_key: str, stamp: Any) -> str:
    """The Idempotency-Key of one PUT: the write's key plus the stamp it was built on.

    A resend of the very same request (same stamp, same body) is then recognised by Zendesk, while the
    second try after a 409 (or a later delivery by the outbox), whose body differs, gets a key of its own
    instead of reusing one with another payload. Those cannot apply twice anyway: a stale stamp is
    refused by the safe update and a posted comment is found by its marker."""
    key = f"{idempotency_key}@{stamp}"
    return key if len(key) <= 255 else hashlib.sha256(key.encode()).hexdigest()


def _kind(event: Any) -> str:
    """`zen:event-type:ticket.created` -> `created`; comment events -> `comment`; else `updated`."""
    text = str(event or "").rsplit(".", 1)[-1].lower()
    if "comment" in text:
        return "comment"
    return "created" if text == "created" else "updated"


def _instant(stamp: str) -> float | None:
    """Zendesk's signature timestamp (ISO 8601; Unix seconds accepted too) as Unix seconds."""
    try:
        return float(stamp)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(stamp.strip())
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _mapped_id(value: FieldValue, mapping: Mapping[str, int], what: str, setting: str) -> int:
    if isinstance(value, str) and value in mapping:
        return mapping[value]
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise Rejected(f"zendesk: {what} {value!r} has no id in {setting}")


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
