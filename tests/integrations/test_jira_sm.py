"""Jira Service Management adapter against the fake API: endpoints, payloads, failures and webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import httpx
import pytest

from integrations.contract import (
    Conflict,
    MalformedResponse,
    NotFound,
    RateLimited,
    Rejected,
    Unauthorized,
    Unavailable,
    WebhookRejected,
)
from integrations.jira_sm import adf_text
from tests.integrations.vendor_fakes import JiraHarness


@pytest.fixture
def jira() -> JiraHarness:
    return JiraHarness()


def new_issue(jira: JiraHarness) -> str:
    return jira.create_ticket("VPN down", "VPN drops every hour", "jo@example.com")


def sent(jira: JiraHarness, method: str) -> list[tuple[str, dict[str, object]]]:
    return [(r.url.path, json.loads(r.content)) for r in jira.jira.writes(method)]


def test_notes_and_replies_use_the_service_desk_comment_endpoint(jira: JiraHarness) -> None:
    key = new_issue(jira)
    jira.adapter.add_note(key, "why: network", idempotency_key="k1")
    jira.adapter.add_reply(key, "Please reconnect.", idempotency_key="k2")
    posts = sent(jira, "POST")
    assert [(path, body["public"]) for path, body in posts] == [
        (f"/rest/servicedeskapi/request/{key}/comment", False), (f"/rest/servicedeskapi/request/{key}/comment", True)]


def test_fields_are_one_edit_with_labels_added_not_replaced(jira: JiraHarness) -> None:
    key = new_issue(jira)
    jira.jira.issues[key]["fields"]["labels"] = ["vip"]
    jira.adapter.set_fields(key, {"priority": "urgent", "category": "billing", "tags": ["triaged"]},
                            idempotency_key="k")
    assert sent(jira, "PUT") == [(f"/rest/api/3/issue/{key}", {
        "fields": {"priority": {"name": "Highest"}, "customfield_10050": {"value": "billing"}},
        "update": {"labels": [{"add": "triaged"}]}})]
    assert jira.adapter.get_ticket(key).fields["tags"] == ["vip", "triaged"]


def test_an_unknown_priority_is_rejected_before_anything_is_sent(jira: JiraHarness) -> None:
    key = new_issue(jira)
    with pytest.raises(Rejected, match="TRIAGE_JIRA_SM_PRIORITY_MAP"):
        jira.adapter.set_fields(key, {"priority": "p0"}, idempotency_key="k")
    assert jira.jira.writes() == []


def test_the_description_is_read_from_atlassian_document_format(jira: JiraHarness) -> None:
    assert jira.adapter.get_ticket(new_issue(jira)).body == "VPN drops every hour"
    doc = {"type": "doc", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "a"}]},
                                      {"type": "paragraph", "content": [{"type": "text", "text": "b"}]}]}
    assert adf_text(doc) == "a\nb"


@pytest.mark.parametrize("status", [409, 412])
def test_a_conflicting_edit_is_a_conflict(jira: JiraHarness, status: int) -> None:
    key = new_issue(jira)
    jira.jira.fail_next(status, method="PUT")
    with pytest.raises(Conflict):
        jira.adapter.set_fields(key, {"priority": "high"}, idempotency_key="k")


@pytest.mark.parametrize("status", [401, 403])
def test_credentials_and_rights(jira: JiraHarness, status: int) -> None:
    jira.jira.fail_next(status)
    with pytest.raises(Unauthorized):
        jira.adapter.get_ticket(new_issue(jira))


def test_missing_issue(jira: JiraHarness) -> None:
    with pytest.raises(NotFound, match="Issue does not exist"):
        jira.adapter.get_ticket("SD-404")


def test_429_with_only_an_iso_reset_waits_until_then() -> None:
    jira = JiraHarness(max_total_s=300)
    key = new_issue(jira)
    reset = datetime.fromtimestamp(jira.clock.time() + 120, UTC).strftime("%Y-%m-%dT%H:%MZ")
    jira.jira.fail_next(429, headers={"X-RateLimit-Reset": reset, "RateLimit-Reason": "jira-burst-based"})
    assert jira.adapter.get_ticket(key).subject == "VPN down"
    assert len(jira.waits) == 1 and 60 <= jira.waits[0] <= 120


def test_a_wait_longer_than_the_budget_goes_up_as_rate_limited(jira: JiraHarness) -> None:
    key = new_issue(jira)
    jira.jira.fail_next(429, headers={"Retry-After": "600", "RateLimit-Reason": "jira-per-issue-on-write"})
    with pytest.raises(RateLimited) as raised:
        jira.adapter.get_ticket(key)
    assert raised.value.retry_after == 600.0 and jira.waits == []


def test_5xx_then_success_on_a_read(jira: JiraHarness) -> None:
    key = new_issue(jira)
    jira.jira.fail_next(502, method="GET", times=2)
    assert jira.adapter.get_ticket(key).subject == "VPN down"


def test_a_comment_post_is_never_resent_blindly(jira: JiraHarness) -> None:
    key = new_issue(jira)
    jira.jira.fail_next(error=httpx.ReadTimeout, method="POST", after_applying=True)
    with pytest.raises(Unavailable):
        jira.adapter.add_note(key, "why", idempotency_key="run1:note")
    assert len(jira.jira.writes("POST")) == 1
    jira.adapter.add_note(key, "why", idempotency_key="run1:note")  # the outbox's next delivery
    assert len(jira.jira.writes("POST")) == 1  # the marker showed it had landed
    assert [c.body for c in jira.adapter.get_ticket(key).comments] == ["why"]


def test_a_comment_that_never_landed_is_posted_on_the_next_delivery(jira: JiraHarness) -> None:
    key = new_issue(jira)
    jira.jira.fail_next(500, method="POST")
    with pytest.raises(Unavailable):
        jira.adapter.add_note(key, "why", idempotency_key="run1:note")
    jira.adapter.add_note(key, "why", idempotency_key="run1:note")
    assert [c.body for c in jira.adapter.get_ticket(key).comments] == ["why"]


def test_a_garbled_comment_page_is_malformed(jira: JiraHarness) -> None:
    key = new_issue(jira)
    jira.jira.fail_next(200, method="GET", body=b'{"values": 7}', times=1)
    with pytest.raises(MalformedResponse):
        jira.adapter.add_note(key, "why", idempotency_key="k")


def test_webhook_with_another_secret_or_without_identifier(jira: JiraHarness) -> None:
    key = new_issue(jira)
    headers, body = jira.signed_webhook(key, "d-1")
    wrong = hmac.new(b"another-secret", body, hashlib.sha256).hexdigest()
    with pytest.raises(WebhookRejected):
        jira.adapter.verify_webhook({**headers, "X-Hub-Signature": f"sha256={wrong}"}, body)
    del headers["X-Atlassian-Webhook-Identifier"]
    first, again = jira.adapter.verify_webhook(headers, body), jira.adapter.verify_webhook(headers, body)
    assert first.event_id == again.event_id and first.event_id.startswith("sha256:")


def test_comment_events_are_named_comment(jira: JiraHarness) -> None:
    body = json.dumps({"timestamp": int(jira.clock.time() * 1000), "webhookEvent": "comment_created",
                       "issue": {"id": "10001", "key": "SD-1"}, "comment": {"id": "9"}}).encode()
    signature = hmac.new(JiraHarness.SECRET.encode(), body, hashlib.sha256).hexdigest()
    event = jira.adapter.verify_webhook({"X-Hub-Signature": f"sha256={signature}",
                                         "X-Atlassian-Webhook-Identifier": "w-1"}, body)
    assert (event.kind, event.ticket_id) == ("comment", "SD-1")
