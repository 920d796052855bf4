"""Freshdesk adapter against the fake API v2: notes vs replies, merged tags, failures and webhooks."""

from __future__ import annotations

import json

import httpx
import pytest

from integrations.contract import (
    Conflict,
    MalformedResponse,
    NotFound,
    Rejected,
    Unauthorized,
    Unavailable,
    WebhookRejected,
)
from tests.integrations.vendor_fakes import FreshdeskHarness


@pytest.fixture
def fd() -> FreshdeskHarness:
    return FreshdeskHarness()


def new_ticket(fd: FreshdeskHarness) -> str:
    return fd.create_ticket("Invoice", "Wrong VAT on my invoice", "jo@example.com")


def test_a_note_is_private_and_a_reply_goes_to_the_reply_endpoint(fd: FreshdeskHarness) -> None:
    tid = new_ticket(fd)
    fd.adapter.add_note(tid, "why: billing", idempotency_key="k1")
    fd.adapter.add_reply(tid, "Fixed <b>now</b>.\nThanks", idempotency_key="k2")
    (note, reply) = fd.freshdesk.writes("POST")
    assert note.url.path == f"/api/v2/tickets/{tid}/notes" and json.loads(note.content)["private"] is True
    assert reply.url.path == f"/api/v2/tickets/{tid}/reply"
    assert json.loads(reply.content)["body"].startswith("Fixed &lt;b&gt;now&lt;/b&gt;.<br>Thanks<br><br>[triage-ref:")
    assert [(c.public, c.body) for c in fd.adapter.get_ticket(tid).comments] == [
        (False, "why: billing"), (True, "Fixed <b>now</b>.\nThanks")]


def test_tags_are_merged_because_freshdesk_replaces_the_list(fd: FreshdeskHarness) -> None:
    tid = new_ticket(fd)
    fd.freshdesk.tickets[int(tid)]["tags"] = ["vip"]
    fd.adapter.set_fields(tid, {"tags": ["triaged"], "priority": "urgent", "category": "billing"},
                          idempotency_key="k")
    (put,) = fd.freshdesk.writes("PUT")
    assert json.loads(put.content) == {"tags": ["vip", "triaged"], "priority": 4,
                                       "custom_fields": {"cf_category": "billing"}}


def test_category_can_go_to_the_ticket_type() -> None:
    fd = FreshdeskHarness(category_field="type")
    tid = new_ticket(fd)
    fd.adapter.set_fields(tid, {"category": "Refund"}, idempotency_key="k")
    assert fd.freshdesk.tickets[int(tid)]["type"] == "Refund"
    assert fd.adapter.get_ticket(tid).fields["category"] == "Refund"


def test_an_unmapped_queue_is_rejected_naming_the_setting(fd: FreshdeskHarness) -> None:
    with pytest.raises(Rejected, match="TRIAGE_FRESHDESK_GROUP_IDS"):
        fd.adapter.set_fields(new_ticket(fd), {"queue": "nowhere"}, idempotency_key="k")
    assert fd.freshdesk.writes() == []


def test_a_validation_error_from_freshdesk_is_rejected(fd: FreshdeskHarness) -> None:
    tid = new_ticket(fd)
    fd.freshdesk.fail_next(400, method="PUT", body=b'{"description": "Validation failed", "errors": []}')
    with pytest.raises(Rejected, match="Validation failed"):
        fd.adapter.set_fields(tid, {"priority": "low"}, idempotency_key="k")


def test_wrong_api_key_and_missing_ticket(fd: FreshdeskHarness) -> None:
    with pytest.raises(NotFound):
        fd.adapter.get_ticket("404")
    fd.freshdesk.authorization = "Basic bm9wZTpY"
    with pytest.raises(Unauthorized):
        fd.adapter.get_ticket(new_ticket(fd))


def test_403_and_409(fd: FreshdeskHarness) -> None:
    tid = new_ticket(fd)
    fd.freshdesk.fail_next(403, method="GET")
    with pytest.raises(Unauthorized):
        fd.adapter.get_ticket(tid)
    fd.freshdesk.fail_next(409, method="PUT")
    with pytest.raises(Conflict):
        fd.adapter.set_fields(tid, {"priority": "low"}, idempotency_key="k")


def test_a_rate_limited_reply_waits_and_is_posted_once(fd: FreshdeskHarness) -> None:
    tid = new_ticket(fd)
    fd.freshdesk.fail_next(429, method="POST", headers={"Retry-After": "20"})
    fd.adapter.add_reply(tid, "Done.", idempotency_key="k")
    assert fd.waits == [20.0]
    assert [c.body for c in fd.adapter.get_ticket(tid).comments] == ["Done."]


def test_a_reply_that_may_have_landed_is_not_resent_and_not_duplicated_later(fd: FreshdeskHarness) -> None:
    tid = new_ticket(fd)
    fd.freshdesk.fail_next(error=httpx.ReadTimeout, method="POST", after_applying=True)
    with pytest.raises(Unavailable):
        fd.adapter.add_reply(tid, "Done.", idempotency_key="run1:reply")
    fd.adapter.add_reply(tid, "Done.", idempotency_key="run1:reply")
    assert len(fd.freshdesk.writes("POST")) == 1


def test_5xx_then_success_and_a_body_that_is_not_a_ticket(fd: FreshdeskHarness) -> None:
    tid = new_ticket(fd)
    fd.freshdesk.fail_next(500, method="GET")
    assert fd.adapter.get_ticket(tid).body == "Wrong VAT on my invoice"
    fd.freshdesk.fail_next(200, method="GET", body=b"[]")
    with pytest.raises(MalformedResponse):
        fd.adapter.get_ticket(tid)


def test_webhook_event_id_falls_back_to_a_hash_of_the_body(fd: FreshdeskHarness) -> None:
    body = json.dumps({"freshdesk_webhook": {"ticket_id": "7", "event": "created"}}).encode()
    headers = {"x-triage-token": FreshdeskHarness.TOKEN}
    first = fd.adapter.verify_webhook(headers, body)
    assert first.event_id == fd.adapter.verify_webhook(headers, body).event_id
    assert first.event_id != fd.adapter.verify_webhook(headers, body.replace(b'"7"', b'"8"')).event_id
    with pytest.raises(WebhookRejected):
        fd.adapter.verify_webhook({"Authorization": "Bearer nope"}, body)
