"""Jira Service Management (Cloud) behind the HelpdeskAdapter contract.

- Reads: `GET /rest/api/3/issue/{key}` (all fields; the description is Atlassian Document Format, read
  as plain text) and the conversation from `GET /rest/servicedeskapi/request/{key}/comment`, the one
  endpoint that says which comments are public.
- Notes and replies: `POST /rest/servicedeskapi/request/{key}/comment` with `public` false or true. The
  platform comment endpoint cannot be used: it makes every comment public by default.
- Fields: `PUT /rest/api/3/issue/{key}` with `fields` (priority by name, mapped custom fields) and
  `update.labels` add operations for tags (the agent adds labels, it never replaces a person's).
  Assignment: `PUT /rest/api/3/issue/{key}/assignee` with an accountId.
- One write per ticket is not possible: the comment and the field edit are separate endpoints, and the
  internal/public switch exists only on the comment one. Fields go first, then the note.
- No conditional write (no ETag on issue edit): the fields are read right before the PUT and those a
  person changed since arrival are dropped (`fields_safe_to_write`); a change in the milliseconds
  between the read and the PUT is not caught.
- Idempotency: Jira has no idempotency key. Field edits are idempotent by nature (PUT, label adds);
  comments carry a marker and are posted only when no comment holds it yet (integrations/http.py), and
  the POST is never resent blindly.
- Webhooks (admin webhooks with a secret): `X-Hub-Signature: sha256=<hex HMAC of the body>`; the
  delivery id is `X-Atlassian-Webhook-Identifier` (the same on Jira's retries). The payload's signed
  `timestamp` must be younger than `webhook_max_age_s`, so a captured request cannot be replayed later.
- Rate limits: 429 with Retry-After and X-RateLimit-Reset in ISO 8601, handled by integrations/http.py.
"""

from __future__ import annotations

import hashlib
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
    reading,
    strip_marker,
    with_marker,
)
from integrations.http_adapter import HttpAdapter
from integrations.webhooks import header, verify_body_hmac

logger = logging.getLogger(__name__)

_PAGE_SIZE = 100
_PAGE_LIMIT = 20
_DEFAULT_PRIORITY_MAP: dict[str, str] = {"low": "Low", "normal": "Medium", "high": "High", "urgent": "Highest"}


class JiraSMSettings(HttpSettings):
    """Environment TRIAGE_JIRA_SM_*: the site, an API token, the webhook secret and the field mapping."""

    model_config = SettingsConfigDict(env_prefix="TRIAGE_JIRA_SM_", extra="ignore")
    email: str
    """The Atlassian account the agent acts as (basic auth with its API token)."""
    api_token: SecretStr
    webhook_secret: SecretStr | None = None
    webhook_max_age_s: int = Field(default=3600, ge=0)
    """Refuse webhooks whose signed payload timestamp is older than this; 0 turns the check off."""
    field_ids: dict[str, str] = Field(default_factory=dict)
    """Agent field name -> Jira field id, e.g. {"category": "customfield_10050", "queue": "customfield_10051"}
    (JSM queues are JQL over a field: map `queue` to the field your queue filters match)."""
    option_fields: list[str] = Field(default_factory=list)
    """Field ids that are select lists: written as {"value": ...}, read back from the option's value."""
    priority_map: dict[str, str] = Field(default_factory=lambda: dict(_DEFAULT_PRIORITY_MAP))
    """Agent priority -> Jira priority name."""
    account_ids: dict[str, str] = Field(default_factory=dict)
    """Agent assignee name -> Atlassian accountId (anything else is used as the accountId itself)."""


class JiraSMAdapter(HttpAdapter[JiraSMSettings]):
    """HelpdeskAdapter for Jira Service Management Cloud."""

    name = "jira_sm"
    supports_conditional_write = False
    settings_model = JiraSMSettings

    def credentials(self, settings: JiraSMSettings) -> tuple[str, str]:
        return (settings.email, settings.api_token.get_secret_value())

    # --- reads --------------------------------------------------------------------------------------

    def _raw_issue(self, key: str) -> dict[str, Any]:
        wanted = ["summary", "description", "reporter", "status", "priority", "labels", "assignee", "updated",
                  *self.settings.field_ids.values()]
        data = self.http.call("GET", f"/rest/api/3/issue/{key}", params={"fields": ",".join(wanted)})
        with reading(self.name, f"issue {key}"):
            if not isinstance(data["fields"], dict):
                raise TypeError("`fields` is not an object")
            return dict(data)

    def _raw_comments(self, key: str) -> Iterator[dict[str, Any]]:
        for page in range(_PAGE_LIMIT):
            data = self.http.call("GET", f"/rest/servicedeskapi/request/{key}/comment",
                                  params={"start": page * _PAGE_SIZE, "limit": _PAGE_SIZE})
            with reading(self.name, f"comments of {key}"):
                values = [dict(v) for v in data["values"]]
                last = bool(data.get("isLastPage", True))
            yield from values
            if last or not values:
                return

    def get_ticket(self, ticket_id: str) -> TicketSnapshot:
        raw = self._raw_issue(ticket_id)
        comments = list(self._raw_comments(ticket_id))
        with reading(self.name, f"issue {ticket_id}"):
            fields = raw["fields"]
            reporter = fields.get("reporter") or {}
            conversation = [
                Comment(body=strip_marker(str(c.get("body") or "")), public=bool(c.get("public", True)),
                        author=(c.get("author") or {}).get("displayName"),
                        created_at=(c.get("created") or {}).get("iso8601"))
                for c in comments
            ]
            return TicketSnapshot(
                id=str(raw["key"]), subject=str(fields.get("summary") or ""), body=adf_text(fields.get("description")),
                requester=reporter.get("emailAddress") or reporter.get("accountId"),
                status=str((fields.get("status") or {}).get("name") or ""), fields=self._agent_fields(fields),
                comments=conversation, updated_at=fields.get("updated"), version=fields.get("updated"),
            )

    def _agent_fields(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        s = self.settings
        result: dict[str, Any] = {
            "priority": agent_name((fields.get("priority") or {}).get("name"), s.priority_map),
            "tags": list(fields.get("labels") or []),
            "assignee": agent_name((fields.get("assignee") or {}).get("accountId"), s.account_ids),
        }
        for name, field_id in s.field_ids.items():
            value = fields.get(field_id)
            result[name] = value.get("value", value.get("name")) if isinstance(value, dict) else value
        return result

    # --- writes -------------------------------------------------------------------------------------

    def set_fields(self, ticket_id: str, fields: Mapping[str, FieldValue], *, idempotency_key: str,
                   baseline: Mapping[str, Any] | None = None) -> None:
        raw = self._raw_issue(ticket_id)
        allowed, changed_by_human = fields_safe_to_write(fields, self._agent_fields(raw["fields"]), baseline)
        if changed_by_human:
            logger.info("jira_sm: %s: left %s alone (changed by a person)", ticket_id, ", ".join(changed_by_human))
        assignee = allowed.pop("assignee", None)
        edit = self._edit(allowed)
        if edit:
            self.http.call("PUT", f"/rest/api/3/issue/{ticket_id}", json=edit, read_body=False)
        if isinstance(assignee, str):
            self._assign(ticket_id, assignee)

    def _edit(self, fields: Mapping[str, FieldValue]) -> dict[str, Any]:
        s = self.settings
        edit_fields: dict[str, Any] = {}
        update: dict[str, Any] = {}
        for name, value in fields.items():
            if name == "priority":
                if value not in s.priority_map:
                    raise Rejected(f"jira_sm: priority {value!r} has no entry in TRIAGE_JIRA_SM_PRIORITY_MAP")
                edit_fields["priority"] = {"name": s.priority_map[str(value)]}
            elif name == "tags":
                labels = [value] if isinstance(value, str) else value
                update["labels"] = [{"add": label} for label in labels]
            elif name in s.field_ids:
                field_id = s.field_ids[name]
                edit_fields[field_id] = {"value": value} if field_id in s.option_fields else value
            else:
                logger.warning("jira_sm: no field mapped for %r (TRIAGE_JIRA_SM_FIELD_IDS); not written", name)
        edit: dict[str, Any] = {}
        if edit_fields:
            edit["fields"] = edit_fields
        if update:
            edit["update"] = update
        return edit

    def _comment(self, ticket_id: str, body: str, public: bool, key: str) -> None:
        if already_posted((str(c.get("body") or "") for c in self._raw_comments(ticket_id)), key):
            return
        self.http.call("POST", f"/rest/servicedeskapi/request/{ticket_id}/comment",
                       json={"body": with_marker(body, key), "public": public}, read_body=False)

    def add_note(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        self._comment(ticket_id, body, public=False, key=idempotency_key)

    def add_reply(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        self._comment(ticket_id, body, public=True, key=idempotency_key)

    def _assign(self, ticket_id: str, assignee: str) -> None:
        account = self.settings.account_ids.get(assignee, assignee)
        self.http.call("PUT", f"/rest/api/3/issue/{ticket_id}/assignee", json={"accountId": account},
                       read_body=False)

    def assign(self, ticket_id: str, assignee: str, *, idempotency_key: str) -> None:
        self._assign(ticket_id, assignee)  # a PUT of the same accountId: repeating it changes nothing

    # --- inbound ------------------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        if self.settings.webhook_secret is None:
            raise WebhookRejected("jira_sm: no webhook secret configured (TRIAGE_JIRA_SM_WEBHOOK_SECRET)")
        verify_body_hmac(headers, body, "X-Hub-Signature", self.settings.webhook_secret.get_secret_value(),
                         prefix="sha256=")
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise TypeError("the body is not a JSON object")
            issue = payload.get("issue") or {}
            ticket_id = issue.get("key") or issue.get("id")
            sent_ms = payload.get("timestamp")
        except (ValueError, TypeError, AttributeError) as exc:
            raise BadWebhookPayload(f"jira_sm webhook body is not the expected JSON: {exc}") from exc
        max_age = self.settings.webhook_max_age_s
        fresh = isinstance(sent_ms, int | float) and abs(self._now() - sent_ms / 1000) <= max_age
        if max_age and not fresh:
            raise WebhookRejected(f"jira_sm webhook timestamp is missing or older than {max_age} s")
        event_id = header(headers, "X-Atlassian-Webhook-Identifier") or "sha256:" + hashlib.sha256(body).hexdigest()
        return WebhookEvent(system=self.name, event_id=event_id, kind=_kind(payload.get("webhookEvent")),
                            ticket_id=None if ticket_id is None else str(ticket_id), payload=payload)


def _kind(event: Any) -> str:
    """`jira:issue_created` -> created, `comment_created` -> comment, everything else -> updated."""
    text = str(event or "")
    if text.startswith("comment_"):
        return "comment"
    return "created" if text.endswith("_created") else "updated"


def adf_text(node: Any) -> str:
    """Plain text of an Atlassian Document Format value (v3 descriptions); a plain string passes through."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    if not isinstance(node, dict):
        return ""
    if node.get("type") == "text":
        return str(node.get("text") or "")
    if node.get("type") == "hardBreak":
        return "\n"
    parts = [adf_text(child) for child in node.get("content") or []]
    separator = "\n" if node.get("type") in ("doc", "bulletList", "orderedList") else ""
    return separator.join(parts)
