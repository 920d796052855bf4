"""Zendesk adapter against the fake Ticketing API: payloads, safe updates, failures and webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx
import pytest

from integrations.contract import Conflict, MalformedResponse, NotFound, Unauthorized, WebhookRejected
from tests.integrations.vendor_fakes import ZendeskHarness


@pytest.fixture
def zd() -> ZendeskHarness:
    return ZendeskHarness()


def new_ticket(zd: ZendeskHarness) -> str:
    return zd.create_ticket("Refund", "Charged twice in March", "jo@example.com")


def puts(zd: ZendeskHarness) -> list[dict[str, object]]:
    return [json.loads(r.content) for r in zd.zendesk.writes("PUT")]


def test_fields_go_out_in_one_safe_update_with_an_idempotency_key(zd: ZendeskHarness) -> None:
    tid = new_ticket(zd)
    stamp = zd.zendesk.tickets[int(tid)]["updated_at"]
    zd.adapter.set_fields(tid, {"queue": "finance", "priority": "high", "category": "billing", "tags": ["triaged"]},
                          idempotency_key="run1:fields")
    assert puts(zd) == [{"ticket": {"group_id": 360001, "priority": "high", "tags": ["triaged"],
                                    "custom_fields": [{"id": 8001, "value": "billing"}],
                                    "safe_update": True, "updated_stamp": stamp}}]
    assert zd.zendesk.writes("PUT")[0].headers["Idempotency-Key"] == f"run1:fields@{stamp}"


def test_write_carries_fields_and_an_internal_note_in_a_single_put(zd: ZendeskHarness) -> None:
    tid = new_ticket(zd)
    zd.adapter.write(tid, idempotency_key="run1:route", fields={"queue": "finance"}, comment="why: billing")
    (body,) = puts(zd)
    ticket = body["ticket"]
    assert isinstance(ticket, dict)
    assert ticket["group_id"] == 360001
    assert ticket["comment"]["public"] is False
    assert ticket["comment"]["body"].startswith("why: billing\n\n[triage-ref:")


def test_a_person_editing_between_read_and_write_causes_a_reread_and_their_field_is_kept(zd: ZendeskHarness) -> None:
    tid = new_ticket(zd)
    zd.zendesk.before_next("PUT", lambda: zd.human_edit(tid, {"queue": "identity"}))
    zd.adapter.set_fields(tid, {"queue": "finance", "priority": "urgent"}, idempotency_key="k",
                          baseline={"queue": None, "priority": None})
    fields = zd.adapter.get_ticket(tid).fields
    assert (fields["queue"], fields["priority"]) == ("identity", "urgent")
    assert len(puts(zd)) == 2  # the 409, then the safe second try without the queue
    assert "group_id" not in puts(zd)[1]["ticket"]  # type: ignore[operator]


def test_a_second_conflict_goes_up_to_the_outbox(zd: ZendeskHarness) -> None:
    tid = new_ticket(zd)
    zd.zendesk.fail_next(409, method="PUT", times=2, body=b'{"error": "UpdateConflict"}')
    with pytest.raises(Conflict):
        zd.adapter.add_note(tid, "why", idempotency_key="k")


def test_a_write_whose_answer_was_lost_is_not_applied_twice(zd: ZendeskHarness) -> None:
    tid = new_ticket(zd)
    zd.zendesk.fail_next(error=httpx.ReadTimeout, method="PUT", after_applying=True)
    zd.adapter.add_reply(tid, "Refunded.", idempotency_key="run1:reply")  # resent under the same key
    assert [c.body for c in zd.adapter.get_ticket(tid).comments] == ["Refunded."]
    zd.adapter.add_reply(tid, "Refunded.", idempotency_key="run1:reply")  # the outbox delivering again
    assert [c.body for c in zd.adapter.get_ticket(tid).comments] == ["Refunded."]


@pytest.mark.parametrize("status", [401, 403])
def test_bad_credentials_or_rights(zd: ZendeskHarness, status: int) -> None:
    tid = new_ticket(zd)
    zd.zendesk.fail_next(status, body=b'{"error": "Forbidden"}')
    with pytest.raises(Unauthorized, match=f"answered {status}"):
        zd.adapter.get_ticket(tid)


def test_wrong_token_is_unauthorized(zd: ZendeskHarness) -> None:
    zd.zendesk.authorization = "Basic d3Jvbmc="
    with pytest.raises(Unauthorized):
        zd.adapter.get_ticket(new_ticket(zd))


def test_missing_ticket(zd: ZendeskHarness) -> None:
    with pytest.raises(NotFound):
        zd.adapter.set_fields("424242", {"queue": "finance"}, idempotency_key="k")


def test_429_on_a_write_waits_and_writes_once(zd: ZendeskHarness) -> None:
    tid = new_ticket(zd)
    zd.zendesk.fail_next(429, method="PUT", headers={"Retry-After": "9"})
    zd.adapter.add_note(tid, "why", idempotency_key="k")
    assert zd.waits == [9.0]
    assert len(zd.adapter.get_ticket(tid).comments) == 1


def test_5xx_and_timeouts_on_reads_are_retried(zd: ZendeskHarness) -> None:
    tid = new_ticket(zd)
    zd.zendesk.fail_next(503, method="GET")
    zd.zendesk.fail_next(error=httpx.ReadTimeout, method="GET")
    assert zd.adapter.get_ticket(tid).subject == "Refund"
    assert len(zd.waits) == 2


def test_a_body_that_is_not_a_zendesk_ticket_is_malformed(zd: ZendeskHarness) -> None:
    tid = new_ticket(zd)
    zd.zendesk.fail_next(200, method="GET", body=b'{"tickets": []}', times=4)
    with pytest.raises(MalformedResponse, match="ticket"):
        zd.adapter.get_ticket(tid)


def test_trigger_webhook_uses_the_invocation_id_and_kind(zd: ZendeskHarness) -> None:
    stamp = zd.clock.iso()
    body = json.dumps({"ticket_id": "101", "event": "comment_added"}).encode()
    signature = base64.b64encode(hmac.new(zd.SECRET.encode(), stamp.encode() + body, hashlib.sha256).digest())
    headers = {"x-zendesk-webhook-signature": signature.decode(), "x-zendesk-webhook-signature-timestamp": stamp,
               "x-zendesk-webhook-invocation-id": "inv-881"}
    event = zd.adapter.verify_webhook(headers, body)
    assert (event.event_id, event.ticket_id, event.kind) == ("inv-881", "101", "comment")


def test_webhook_without_a_configured_secret_is_refused() -> None:
    zd = ZendeskHarness(webhook_secret=None)
    headers, body = zd.signed_webhook(new_ticket(zd), "e1")
    with pytest.raises(WebhookRejected, match="no webhook secret"):
        zd.adapter.verify_webhook(headers, body)


def test_wait_seconds_reads_retry_after(zd: ZendeskHarness) -> None:
    assert zd.adapter.wait_seconds(429, {"retry-after": "30"}) == 30.0
    assert zd.adapter.wait_seconds(200, {"X-Rate-Limit-Remaining": "650"}) is None


def test_a_next_page_on_another_host_is_not_followed_with_our_credentials(zd: ZendeskHarness) -> None:
    tid = new_ticket(zd)
    zd.zendesk.fail_next(200, method="GET", after_applying=False, body=json.dumps(
        {"ticket": zd.zendesk.tickets[int(tid)]}).encode())
    zd.zendesk.fail_next(200, method="GET", body=json.dumps(
        {"comments": [], "next_page": "https://evil.example.net/api/v2/tickets/1/comments.json?page=2"}).encode())
    with pytest.raises(MalformedResponse, match="another host"):
        zd.adapter.get_ticket(tid)
    assert all(r.url.host == "acme.zendesk.com" for r in zd.zendesk.requests)
