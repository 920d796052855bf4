"""The Request Tracker adapter against a real RT 5 (scripts/live/rt.sh): every method, checked through
RT's own API as a person in RT would see the ticket."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from integrations.contract import HelpdeskAdapter, NotFound, Rejected, Unauthorized, Unavailable, WebhookRejected
from integrations.registry import load_adapter
from integrations.rt import RequestTrackerAdapter, RTSettings
from integrations.webhooks import sign_standard
from tests.integrations.rt.conftest import RTPerson, rt_settings

AGENT = "triage-agent"


def test_the_adapter_meets_the_contract_and_is_registered(rt_env: dict[str, str]) -> None:
    adapter = load_adapter("rt", base_url=rt_env["TRIAGE_RT_BASE_URL"], token=rt_env["TRIAGE_RT_TOKEN"])
    assert isinstance(adapter, RequestTrackerAdapter)
    assert isinstance(adapter, HelpdeskAdapter)


def test_get_ticket_reads_fields_and_the_conversation(rt: RequestTrackerAdapter, person: RTPerson) -> None:
    tid = person.create_ticket("My invoice shows the wrong VAT number.", subject="Wrong VAT",
                               requester="kim@example.com", Tags=["vip", "eu"])
    person.update(tid, Priority=70)
    person.comment(tid, "Checking with finance.", public=False)
    person.comment(tid, "We are looking into it.", public=True)

    ticket = rt.get_ticket(tid)

    assert (ticket.id, ticket.subject, ticket.requester) == (tid, "Wrong VAT", "kim@example.com")
    assert ticket.body == "My invoice shows the wrong VAT number."
    assert ticket.fields["queue"] == "support-general"  # RT's General, in the agent's queue names
    assert ticket.fields["priority"] == "high"
    assert sorted(ticket.fields["tags"]) == ["eu", "vip"]
    assert ticket.fields["category"] is None and ticket.fields["assignee"] is None
    assert [(c.body, c.public, c.author) for c in ticket.comments] == [
        ("Checking with finance.", False, "root"), ("We are looking into it.", True, "root")]
    assert ticket.version and ticket.updated_at


def test_set_fields_lands_in_rt_queue_priority_and_custom_fields(rt: RequestTrackerAdapter, person: RTPerson) -> None:
    tid = person.create_ticket("I was charged twice")
    rt.set_fields(tid, {"queue": "billing", "priority": "urgent", "category": "billing_invoice",
                        "tags": ["double-charge", "card"]}, idempotency_key="fields-1")
    seen = person.ticket(tid)
    assert seen["QueueName"] == "Billing"
    assert seen["Priority"] == "90"
    assert seen["CF"]["Category"] == ["billing_invoice"]
    assert sorted(seen["CF"]["Tags"]) == ["card", "double-charge"]
    assert rt.get_ticket(tid).fields["queue"] == "billing"


def test_note_is_internal_and_reply_is_public(rt: RequestTrackerAdapter, person: RTPerson) -> None:
    tid = person.create_ticket("How do I export my projects?")
    rt.add_note(tid, "why: data_export, confidence 0.91", idempotency_key="n-1")
    rt.add_reply(tid, "Go to Settings > Export.", idempotency_key="r-1")
    assert person.messages_by(tid, AGENT) == [("Comment", "why: data_export, confidence 0.91"),
                                              ("Correspond", "Go to Settings > Export.")]
    comments = rt.get_ticket(tid).comments
    assert [(c.public, c.author) for c in comments] == [(False, AGENT), (True, AGENT)]


def test_repeating_every_write_with_its_key_changes_nothing(rt: RequestTrackerAdapter, person: RTPerson) -> None:
    tid = person.create_ticket("My reset email never arrives")
    for _ in range(2):  # the outbox redelivers after a crash between RT's answer and its own bookkeeping
        rt.set_fields(tid, {"queue": "accounts", "category": "password_reset"}, idempotency_key="k:fields")
        rt.add_note(tid, "why: password_reset", idempotency_key="k:note")
        rt.add_reply(tid, "Check your spam folder.", idempotency_key="k:reply")
        rt.assign(tid, "alice", idempotency_key="k:assign")
    history = person.history(tid)
    by_agent = [(t["Type"], t["Field"]) for t in history if t["Creator"] == AGENT]
    assert by_agent.count(("Comment", "")) == 1
    assert by_agent.count(("Correspond", "")) == 1
    assert by_agent.count(("Set", "Queue")) == 1
    assert by_agent.count(("Set", "Owner")) == 1
    assert person.ticket(tid)["Owner"]["id"] == "alice"
    # the same text under a new key is a new message
    rt.add_note(tid, "why: password_reset", idempotency_key="k2:note")
    assert person.messages_by(tid, AGENT).count(("Comment", "why: password_reset")) == 2


def test_a_field_a_person_changed_after_arrival_is_left_alone(rt: RequestTrackerAdapter, person: RTPerson) -> None:
    tid = person.create_ticket("Our SSO login fails for everyone")
    baseline = rt.get_ticket(tid).fields  # what the agent saw when the ticket arrived
    person.update(tid, Queue="Security")  # a colleague moves it while the agent is thinking
    rt.set_fields(tid, {"queue": "accounts", "priority": "high"}, idempotency_key="h-1",
                  baseline={"queue": baseline["queue"], "priority": baseline["priority"]})
    seen = person.ticket(tid)
    assert seen["QueueName"] == "Security"
    assert seen["Priority"] == "70"


def test_a_write_racing_a_person_gets_412_and_is_decided_again(rt: RequestTrackerAdapter, person: RTPerson,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    tid = person.create_ticket("The mobile app crashes on start")
    baseline = rt.get_ticket(tid).fields
    statuses: list[int] = []
    rt.client.http.event_hooks["response"].append(lambda response: statuses.append(response.status_code))
    real_load = rt._load
    calls = {"n": 0}

    def load_then_person_edits(ticket_id: str) -> Any:
        ticket = real_load(ticket_id)
        calls["n"] += 1
        if calls["n"] == 1:  # between the adapter's read and its conditional write
            person.update(tid, Queue="Engineering")
        return ticket

    monkeypatch.setattr(rt, "_load", load_then_person_edits)
    rt.set_fields(tid, {"queue": "mobile", "priority": "high"}, idempotency_key="race-1",
                  baseline={"queue": baseline["queue"], "priority": baseline["priority"]})

    assert 412 in statuses  # RT refused the write based on the stale read
    seen = person.ticket(tid)
    assert seen["QueueName"] == "Engineering"  # the person's move survives the retry
    assert seen["Priority"] == "70"  # the field nobody touched is written on the second try


def test_rt_errors_become_the_contract_errors(rt: RequestTrackerAdapter, rt_env: dict[str, str],
                                             person: RTPerson) -> None:
    with pytest.raises(NotFound):
        rt.get_ticket("99999999")
    with pytest.raises(NotFound):
        rt.add_note("99999999", "x", idempotency_key="missing-1")
    with pytest.raises(NotFound):
        rt.get_ticket("12; DROP")
    tid = person.create_ticket("Wrong queue test")
    with pytest.raises(Rejected, match="Queue"):
        rt.set_fields(tid, {"queue": "No Such Queue"}, idempotency_key="bad-queue")
    with pytest.raises(Rejected, match="Owner"):
        rt.assign(tid, "nobody-by-that-name", idempotency_key="bad-owner")
    with pytest.raises(Rejected, match="TRIAGE_RT_PRIORITIES"):
        rt.set_fields(tid, {"priority": "critical"}, idempotency_key="bad-priority")
    with pytest.raises(Rejected, match="'sentiment'"):
        rt.set_fields(tid, {"sentiment": "angry"}, idempotency_key="bad-field")
    assert person.ticket(tid)["QueueName"] == "General"
    with (RequestTrackerAdapter(rt_settings(rt_env, token="1-1-not-a-real-token")) as wrong_token,
          pytest.raises(Unauthorized)):
        wrong_token.get_ticket(tid)
    with (RequestTrackerAdapter(rt_settings(rt_env, base_url="http://127.0.0.1:9", timeout_s=2)) as unreachable,
          pytest.raises(Unavailable) as failure):
        unreachable.add_note(tid, "x", idempotency_key="down-1")
    assert failure.value.retryable


def test_posting_refuses_when_rt_lacks_the_key_field(rt_env: dict[str, str], person: RTPerson) -> None:
    tid = person.create_ticket("Key field test")
    with (RequestTrackerAdapter(rt_settings(rt_env, key_field="No Such Key Field")) as adapter,
          pytest.raises(Rejected, match="No Such Key Field")):
        adapter.add_note(tid, "would be posted twice on a retry", idempotency_key="nokey-1")
    assert person.messages_by(tid, AGENT) == []


# --- without RT: settings, webhooks, rate limits ---------------------------------------------------------


def offline(**overrides: Any) -> RequestTrackerAdapter:
    return RequestTrackerAdapter(RTSettings(**{"base_url": "http://127.0.0.1:9", "token": "t", **overrides}))


def test_settings_refuse_a_token_over_plain_http_to_another_host() -> None:
    with pytest.raises(ValueError, match="plain http"):
        RTSettings(base_url="http://rt.example.com", token="t")
    assert RTSettings(base_url="https://rt.example.com/REST/2.0/", token="t").base_url == "https://rt.example.com"


def test_webhooks_from_our_scrip_are_verified() -> None:
    adapter = offline(webhook_secrets=["scrip-secret"])
    body = json.dumps({"type": "ticket.created", "ticket_id": "42", "transaction_id": "900"}).encode()
    stamp = int(time.time())
    headers = {"Webhook-Id": "msg-1", "Webhook-Timestamp": str(stamp),
               "Webhook-Signature": sign_standard("scrip-secret", "msg-1", stamp, body)}
    event = adapter.verify_webhook(headers, body)
    assert (event.system, event.event_id, event.ticket_id, event.kind) == ("rt", "msg-1", "42", "created")
    with pytest.raises(WebhookRejected):
        adapter.verify_webhook({**headers, "Webhook-Signature": sign_standard("other", "msg-1", stamp, body)}, body)
    with pytest.raises(WebhookRejected):
        offline().verify_webhook(headers, body)  # no secret configured: nothing gets in


def test_wait_seconds_reads_retry_after() -> None:
    adapter = offline()
    assert adapter.wait_seconds(429, {"retry-after": "7"}) == 7.0
    assert adapter.wait_seconds(503, {}) is None
    later = httpx.Headers({"Retry-After": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 60))})
    waited = adapter.wait_seconds(503, dict(later))
    assert waited is not None and 50 < waited <= 60
