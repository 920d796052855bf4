"""ServiceNow (Table API, `incident` by default) behind the HelpdeskAdapter contract.

- Reads: `GET /api/now/table/incident/{sys_id}` (a ticket id that is not a sys_id is looked up as the
  incident number) and the conversation from the journal, `GET /api/now/table/sys_journal_field`
  (`work_notes` entries are internal, `comments` entries are customer-visible).
- Writes: one `PATCH /api/now/table/incident/{sys_id}` carries the fields and the journal entry
  together (`work_notes` = internal note, `comments` = public reply), see `write`.
- Priority: ServiceNow computes it from impact x urgency (Priority Lookup Rules), so the agent's
  priority is written as the impact and urgency pair of `priority_map` and read back from the computed
  `priority` through `priority_names`.
- No conditional write on the Table API: the fields are read right before the PATCH and those a person
  changed since arrival are dropped (`fields_safe_to_write`); the short gap between the two is not
  covered (`sys_mod_count` cannot be made a precondition of the PATCH).
- Idempotency: no idempotency key. A PATCH of fields only is idempotent; a journal entry is not, so it
  carries a marker, is written only when no journal entry holds that marker yet, and its PATCH is never
  resent blindly (integrations/http.py).
- Webhooks: ServiceNow signs nothing natively. The Business Rule that calls us sends a shared token in
  `webhook_token_header` and, when `webhook_hmac_secret` is set, `X-Signature: <hex HMAC-SHA256 of the
  body>` (then required). Its body: `{"event_id": gs.generateGUID(), "sys_id": current.sys_id,
  "number": current.number, "event": "created"|"updated"|"comment"}`. Without an event_id the delivery
  id is a hash of the body. Tokens carry no timestamp: deduplication by event id is the replay guard.
- Rate limits: 429 with Retry-After, or X-RateLimit-Reset as a Unix time (integrations/http.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from integrations.contract import (
    BadWebhookPayload,
    Comment,
    FieldValue,
    NotFound,
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
    reading,
    strip_marker,
    with_marker,
)
from integrations.http_adapter import OneCallWriteAdapter
from integrations.webhooks import verify_body_hmac, verify_token

logger = logging.getLogger(__name__)

_SYS_ID = re.compile(r"[0-9a-f]{32}")
_STATES = {"1": "new", "2": "in_progress", "3": "on_hold", "6": "resolved", "7": "closed", "8": "canceled"}
_DEFAULT_PRIORITY_MAP: dict[str, tuple[int, int]] = {"urgent": (1, 1), "high": (1, 2), "normal": (2, 2), "low": (3, 2)}
_DEFAULT_PRIORITY_NAMES: dict[str, str] = {"1": "urgent", "2": "high", "3": "normal", "4": "low", "5": "low"}


class ServiceNowSettings(HttpSettings):
    """Environment TRIAGE_SERVICENOW_*: the instance, a user, the webhook token and the field mapping."""

    model_config = SettingsConfigDict(env_prefix="TRIAGE_SERVICENOW_", extra="ignore")
    username: str
    password: SecretStr
    table: str = "incident"
    webhook_token: SecretStr | None = None
    webhook_token_header: str = "X-Triage-Token"
    webhook_hmac_secret: SecretStr | None = None
    group_ids: dict[str, str] = Field(default_factory=dict)
    """Agent queue name -> assignment_group sys_id."""
    user_ids: dict[str, str] = Field(default_factory=dict)
    """Agent assignee name -> assigned_to sys_id (anything else is used as the sys_id itself)."""
    category_field: str = "category"
    tags_field: str | None = None
    """A string column holding the agent's tags comma-separated; incidents have no tag list of their own."""
    columns: dict[str, str] = Field(default_factory=dict)
    """Any other agent field name -> column name."""
    priority_map: dict[str, tuple[int, int]] = Field(default_factory=lambda: dict(_DEFAULT_PRIORITY_MAP))
    """Agent priority -> (impact, urgency); with the default lookup rules these give priority 1, 2, 3, 4."""
    priority_names: dict[str, str] = Field(default_factory=lambda: dict(_DEFAULT_PRIORITY_NAMES))
    """Computed priority -> agent priority."""


class ServiceNowAdapter(OneCallWriteAdapter[ServiceNowSettings]):
    """HelpdeskAdapter for ServiceNow; also offers `write` (fields and a journal entry in one PATCH)."""

    name = "servicenow"
    supports_conditional_write = False
    settings_model = ServiceNowSettings

    def credentials(self, settings: ServiceNowSettings) -> tuple[str, str]:
        return (settings.username, settings.password.get_secret_value())

    @property
    def _table(self) -> str:
        return f"/api/now/table/{self.settings.table}"

    # --- reads --------------------------------------------------------------------------------------

    def _sys_id(self, ticket_id: str) -> str:
        if _SYS_ID.fullmatch(ticket_id):
            return ticket_id
        data = self.http.call("GET", self._table, params={"sysparm_query": f"number={ticket_id}",
                                                          "sysparm_fields": "sys_id", "sysparm_limit": 1})
        with reading(self.name, f"lookup of {ticket_id}"):
            found = data["result"]
            if not found:
                raise NotFound(f"servicenow: no {self.settings.table} numbered {ticket_id}", status=404)
            return str(found[0]["sys_id"])

    def _raw_record(self, sys_id: str) -> dict[str, Any]:
        data = self.http.call("GET", f"{self._table}/{sys_id}", params={"sysparm_exclude_reference_link": "true"})
        with reading(self.name, f"{self.settings.table} {sys_id}"):
            record = data["result"]
            if not isinstance(record, dict):
                raise TypeError("`result` is not an object")
            return record

    def _journal(self, sys_id: str) -> list[dict[str, Any]]:
        query = f"element_id={sys_id}^elementINwork_notes,comments^ORDERBYsys_created_on"
        data = self.http.call("GET", "/api/now/table/sys_journal_field", params={
            "sysparm_query": query, "sysparm_fields": "element,value,sys_created_by,sys_created_on",
            "sysparm_limit": 1000})
        with reading(self.name, f"journal of {sys_id}"):
            return [dict(entry) for entry in data["result"]]

    def get_ticket(self, ticket_id: str) -> TicketSnapshot:
        sys_id = self._sys_id(ticket_id)
        raw = self._raw_record(sys_id)
        journal = self._journal(sys_id)
        with reading(self.name, f"{self.settings.table} {sys_id}"):
            conversation = [
                Comment(body=strip_marker(str(e.get("value") or "")), public=e.get("element") == "comments",
                        author=e.get("sys_created_by"), created_at=e.get("sys_created_on"))
                for e in journal
            ]
            state = str(raw.get("state") or "")
            return TicketSnapshot(
                id=str(raw["sys_id"]), subject=str(raw.get("short_description") or ""),
                body=str(raw.get("description") or ""), requester=raw.get("caller_id") or None,
                status=_STATES.get(state, state), fields=self._agent_fields(raw), comments=conversation,
                updated_at=raw.get("sys_updated_on"), version=_text(raw.get("sys_mod_count")),
            )

    def _agent_fields(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        s = self.settings
        priority = str(raw.get("priority") or "")
        fields: dict[str, Any] = {
            "queue": agent_name(raw.get("assignment_group"), s.group_ids),
            "assignee": agent_name(raw.get("assigned_to"), s.user_ids),
            "priority": s.priority_names.get(priority, priority or None),
            "category": raw.get(s.category_field) or None,
        }
        if s.tags_field:
            fields["tags"] = [t.strip() for t in str(raw.get(s.tags_field) or "").split(",") if t.strip()]
        for name, column in s.columns.items():
            fields[name] = raw.get(column) or None
        return fields

    # --- writes -------------------------------------------------------------------------------------

    def _native(self, fields: Mapping[str, FieldValue], raw: Mapping[str, Any]) -> dict[str, Any]:
        s = self.settings
        update: dict[str, Any] = {}
        for name, value in fields.items():
            if name == "queue":
                if value not in s.group_ids:
                    raise Rejected(f"servicenow: queue {value!r} has no sys_id in TRIAGE_SERVICENOW_GROUP_IDS")
                update["assignment_group"] = s.group_ids[str(value)]
            elif name == "priority":
                if value not in s.priority_map:
                    raise Rejected(f"servicenow: priority {value!r} has no entry in TRIAGE_SERVICENOW_PRIORITY_MAP")
                impact, urgency = s.priority_map[str(value)]
                update["impact"], update["urgency"] = str(impact), str(urgency)
            elif name == "assignee":
                update["assigned_to"] = s.user_ids.get(str(value), str(value))
            elif name == "category":
                update[s.category_field] = value
            elif name == "tags" and s.tags_field:
                current = [t.strip() for t in str(raw.get(s.tags_field) or "").split(",") if t.strip()]
                added = [value] if isinstance(value, str) else value
                update[s.tags_field] = ",".join(current + [t for t in added if t not in current])
            elif name in s.columns:
                update[s.columns[name]] = value
            else:
                logger.warning("servicenow: no column mapped for %r (see TRIAGE_SERVICENOW_*); not written", name)
        return update

    def write(self, ticket_id: str, *, idempotency_key: str, fields: Mapping[str, FieldValue] | None = None,
              comment: str | None = None, public: bool = False, baseline: Mapping[str, Any] | None = None) -> None:
        """Fields and one journal entry in a single PATCH."""
        sys_id = self._sys_id(ticket_id)
        update: dict[str, Any] = {}
        if fields:
            raw = self._raw_record(sys_id)
            allowed, changed_by_human = fields_safe_to_write(fields, self._agent_fields(raw), baseline)
            if changed_by_human:
                logger.info("servicenow: %s: left %s alone (changed by a person)", sys_id, ", ".join(changed_by_human))
            update.update(self._native(allowed, raw))
        journal_entry = comment is not None and not already_posted(
            (str(e.get("value") or "") for e in self._journal(sys_id)), idempotency_key)
        if journal_entry and comment is not None:
            update["comments" if public else "work_notes"] = with_marker(comment, idempotency_key)
        if update:
            self.http.call("PATCH", f"{self._table}/{sys_id}", json=update, idempotent=not journal_entry,
                           read_body=False)

    # --- inbound ------------------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        s = self.settings
        if s.webhook_token is None:
            raise WebhookRejected("servicenow: no webhook token configured (TRIAGE_SERVICENOW_WEBHOOK_TOKEN)")
        verify_token(headers, s.webhook_token_header, [s.webhook_token.get_secret_value()])
        if s.webhook_hmac_secret is not None:
            verify_body_hmac(headers, body, "X-Signature", s.webhook_hmac_secret.get_secret_value())
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise TypeError("the body is not a JSON object")
            ticket_id = payload.get("sys_id") or payload.get("number")
        except (ValueError, TypeError) as exc:
            raise BadWebhookPayload(f"servicenow webhook body is not the expected JSON: {exc}") from exc
        event_id = payload.get("event_id") or "sha256:" + hashlib.sha256(body).hexdigest()
        event = str(payload.get("event") or "updated")
        return WebhookEvent(system=self.name, event_id=str(event_id), ticket_id=_text(ticket_id),
                            kind=event if event in ("created", "updated", "comment") else "updated", payload=payload)


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
