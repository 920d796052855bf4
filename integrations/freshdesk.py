"""Freshdesk (API v2) behind the HelpdeskAdapter contract.

- Reads: `GET /api/v2/tickets/{id}` and `GET /api/v2/tickets/{id}/conversations` (paged).
- Notes: `POST /api/v2/tickets/{id}/notes` with `private: true`; replies: `POST /api/v2/tickets/{id}/reply`.
  Bodies are HTML: the agent's text is escaped and its line breaks kept.
- Fields: `PUT /api/v2/tickets/{id}` (priority 1-4, group_id, responder_id, custom_fields cf_*, type).
  `tags` replaces the whole list there, so the agent's tags are merged into the current ones.
- One write per ticket is not possible: notes, replies and the ticket update are separate endpoints.
- No conditional write: the fields are read right before the PUT and those a person changed since
  arrival are dropped (`fields_safe_to_write`); the gap between the read and the PUT is not covered.
- Idempotency: Freshdesk has no idempotency key. The PUT of fields is idempotent; notes and replies
  carry a marker and are posted only when no conversation entry holds it yet, and their POST is never
  resent blindly (integrations/http.py).
- Webhooks come from automation rules and are not signed: the rule sends a shared token in a custom
  header (`webhook_token_header`). Body: `{"ticket_id": "{{ticket.id}}", "event": "created"}` (also
  accepted inside Freshdesk's `freshdesk_webhook` wrapper). Freshdesk sends no delivery id, so the event
  id is `event_id` from the body when the rule sets one, else a hash of the body (a redelivery of the
  same body is then recognised).
- Rate limits: 429 with Retry-After (integrations/http.py).
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from integrations.contract import (
    BadWebhookPayload,
    Comment,
    FieldValue,
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
from integrations.http_adapter import HttpAdapter
from integrations.webhooks import verify_token

logger = logging.getLogger(__name__)

_PAGE_SIZE = 100
_PAGE_LIMIT = 20
_STATUSES = {2: "open", 3: "pending", 4: "resolved", 5: "closed"}
_DEFAULT_PRIORITY_MAP: dict[str, int] = {"low": 1, "normal": 2, "high": 3, "urgent": 4}


class FreshdeskSettings(HttpSettings):
    """Environment TRIAGE_FRESHDESK_*: the helpdesk URL, an API key, the webhook token and the field mapping."""

    model_config = SettingsConfigDict(env_prefix="TRIAGE_FRESHDESK_", extra="ignore")
    api_key: SecretStr
    webhook_token: SecretStr | None = None
    webhook_token_header: str = "X-Triage-Token"
    group_ids: dict[str, int] = Field(default_factory=dict)
    """Agent queue name -> Freshdesk group_id."""
    agent_ids: dict[str, int] = Field(default_factory=dict)
    """Agent assignee name -> Freshdesk agent id (responder_id); a numeric assignee is the id itself."""
    category_field: str = "cf_category"
    """Where the category goes: a custom field key (cf_...) or `type`, Freshdesk's own ticket type."""
    custom_fields: dict[str, str] = Field(default_factory=dict)
    """Any other agent field name -> custom field key (cf_...)."""
    priority_map: dict[str, int] = Field(default_factory=lambda: dict(_DEFAULT_PRIORITY_MAP))


class FreshdeskAdapter(HttpAdapter[FreshdeskSettings]):
    """HelpdeskAdapter for Freshdesk."""

    name = "freshdesk"
    supports_conditional_write = False
    settings_model = FreshdeskSettings

    def credentials(self, settings: FreshdeskSettings) -> tuple[str, str]:
        return (settings.api_key.get_secret_value(), "X")  # Freshdesk: the API key as user, any password

    # --- reads --------------------------------------------------------------------------------------

    def _raw_ticket(self, ticket_id: str) -> dict[str, Any]:
        data = self.http.call("GET", f"/api/v2/tickets/{ticket_id}")
        with reading(self.name, f"ticket {ticket_id}"):
            if not isinstance(data, dict) or "id" not in data:
                raise TypeError("the ticket is not an object with an id")
            return data

    def _raw_conversations(self, ticket_id: str) -> Iterator[dict[str, Any]]:
        for page in range(1, _PAGE_LIMIT + 1):
            data = self.http.call("GET", f"/api/v2/tickets/{ticket_id}/conversations",
                                  params={"per_page": _PAGE_SIZE, "page": page})
            with reading(self.name, f"conversations of ticket {ticket_id}"):
                entries = [dict(entry) for entry in data]
            yield from entries
            if len(entries) < _PAGE_SIZE:
                return

    def get_ticket(self, ticket_id: str) -> TicketSnapshot:
        raw = self._raw_ticket(ticket_id)
        conversation = list(self._raw_conversations(ticket_id))
        with reading(self.name, f"ticket {ticket_id}"):
            comments = [
                Comment(body=strip_marker(str(c.get("body_text") or c.get("body") or "")),
                        public=not c.get("private", False), author=_text(c.get("user_id")),
                        created_at=c.get("created_at"))
                for c in conversation
            ]
            status = raw.get("status")
            return TicketSnapshot(
                id=str(raw["id"]), subject=str(raw.get("subject") or ""),
                body=str(raw.get("description_text") or raw.get("description") or ""),
                requester=_text(raw.get("requester_id")),
                status=_STATUSES.get(int(status), str(status)) if status else "",
                fields=self._agent_fields(raw), comments=comments, updated_at=raw.get("updated_at"),
                version=raw.get("updated_at"),
            )

    def _agent_fields(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        s = self.settings
        custom = raw.get("custom_fields") or {}
        fields: dict[str, Any] = {
            "queue": agent_name(raw.get("group_id"), s.group_ids),
            "assignee": agent_name(raw.get("responder_id"), s.agent_ids),
            "priority": agent_name(raw.get("priority"), s.priority_map),
            "tags": list(raw.get("tags") or []),
            "category": raw.get("type") if s.category_field == "type" else custom.get(s.category_field),
        }
        for name, key in s.custom_fields.items():
            fields[name] = custom.get(key)
        return fields

    # --- writes -------------------------------------------------------------------------------------

    def _native(self, fields: Mapping[str, FieldValue], raw: Mapping[str, Any]) -> dict[str, Any]:
        s = self.settings
        update: dict[str, Any] = {}
        custom: dict[str, Any] = {}
        for name, value in fields.items():
            if name == "queue":
                update["group_id"] = _mapped_id(value, s.group_ids, "queue", "TRIAGE_FRESHDESK_GROUP_IDS")
            elif name == "assignee":
                update["responder_id"] = _mapped_id(value, s.agent_ids, "assignee", "TRIAGE_FRESHDESK_AGENT_IDS")
            elif name == "priority":
                if value not in s.priority_map:
                    raise Rejected(f"freshdesk: priority {value!r} has no entry in TRIAGE_FRESHDESK_PRIORITY_MAP")
                update["priority"] = s.priority_map[str(value)]
            elif name == "tags":
                update["tags"] = merged_tags(raw.get("tags"), value)
            elif name == "category" and s.category_field == "type":
                update["type"] = value
            elif name == "category":
                custom[s.category_field] = value
            elif name in s.custom_fields:
                custom[s.custom_fields[name]] = value
            else:
                logger.warning("freshdesk: no field mapped for %r (see TRIAGE_FRESHDESK_*); not written", name)
        if custom:
            update["custom_fields"] = custom
        return update

    def set_fields(self, ticket_id: str, fields: Mapping[str, FieldValue], *, idempotency_key: str,
                   baseline: Mapping[str, Any] | None = None) -> None:
        raw = self._raw_ticket(ticket_id)
        allowed, changed_by_human = fields_safe_to_write(fields, self._agent_fields(raw), baseline)
        if changed_by_human:
            logger.info("freshdesk: ticket %s: left %s alone (changed by a person)", ticket_id,
                        ", ".join(changed_by_human))
        update = self._native(allowed, raw)
        if update:
            self.http.call("PUT", f"/api/v2/tickets/{ticket_id}", json=update, read_body=False)

    def _post_once(self, ticket_id: str, path: str, payload: dict[str, Any], body: str, key: str) -> None:
        entries = self._raw_conversations(ticket_id)
        if already_posted((str(e.get("body_text") or e.get("body") or "") for e in entries), key):
            return
        marked = html.escape(with_marker(body, key)).replace("\n", "<br>")
        self.http.call("POST", f"/api/v2/tickets/{ticket_id}/{path}", json={"body": marked, **payload},
                       read_body=False)

    def add_note(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        self._post_once(ticket_id, "notes", {"private": True}, body, idempotency_key)

    def add_reply(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        self._post_once(ticket_id, "reply", {}, body, idempotency_key)

    def assign(self, ticket_id: str, assignee: str, *, idempotency_key: str) -> None:
        self.set_fields(ticket_id, {"assignee": assignee}, idempotency_key=idempotency_key)

    # --- inbound ------------------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        s = self.settings
        if s.webhook_token is None:
            raise WebhookRejected("freshdesk: no webhook token configured (TRIAGE_FRESHDESK_WEBHOOK_TOKEN)")
        verify_token(headers, s.webhook_token_header, [s.webhook_token.get_secret_value()])
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise TypeError("the body is not a JSON object")
            inner = payload.get("freshdesk_webhook")
            data = inner if isinstance(inner, dict) else payload
            ticket_id = data.get("ticket_id")
        except (ValueError, TypeError) as exc:
            raise BadWebhookPayload(f"freshdesk webhook body is not the expected JSON: {exc}") from exc
        event_id = data.get("event_id") or "sha256:" + hashlib.sha256(body).hexdigest()
        event = str(data.get("event") or "updated")
        return WebhookEvent(system=self.name, event_id=str(event_id), ticket_id=_text(ticket_id),
                            kind=event if event in ("created", "updated", "comment") else "updated", payload=payload)


def _mapped_id(value: FieldValue, mapping: Mapping[str, int], what: str, setting: str) -> int:
    if isinstance(value, str) and value in mapping:
        return mapping[value]
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise Rejected(f"freshdesk: {what} {value!r} has no id in {setting}")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
