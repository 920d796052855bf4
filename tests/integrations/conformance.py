"""The conformance suite every ticketing adapter must pass.

How to run it for an adapter: subclass `AdapterConformance` in a test module (its name must start with
`Test`) and give it a `harness` fixture that returns an object with this small interface:

    adapter: HelpdeskAdapter       # the adapter under test, its field mapping configured as below
    missing_ticket_id: str         # an id no ticket has
    create_ticket(subject, body, requester) -> str
                                   # open a ticket in the system (as a requester would); returns its id
    human_edit(ticket_id, fields)  # a person changes fields, given in the agent's names (queue, ...)
    signed_webhook(ticket_id, event_id, age_s=0.0) -> (headers, body)
                                   # an inbound webhook request about the ticket, signed (or carrying the
                                   # token) the way the system does, sent `age_s` seconds ago
    webhook_auth_headers: tuple[str, ...]
                                   # the headers that carry its signature or token
    signs_body: bool               # a changed body fails verification (False for shared-token systems)
    signs_time: bool               # an old request fails verification (a signed timestamp)
    rate_limit_next(retry_after_s) -> bool
                                   # make the next call answer 429 with Retry-After; False when the
                                   # system has no rate limits (that test is then skipped)
    waits: list[float]             # every wait the adapter made, from its injected sleep

The adapter's mapping must know the queues in `QUEUES`, the categories in `CATEGORIES`, the
priorities `low normal high urgent` and the assignee `ASSIGNEE`. See test_conformance.py for the
five harnesses (local helpdesk and the four vendor fakes); a live system (Request Tracker) plugs in
the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import pytest

from integrations.contract import FieldValue, HelpdeskAdapter, NotFound, WebhookRejected
from integrations.registry import adapter_names

QUEUES = ("finance", "identity")
CATEGORIES = ("billing", "password_reset")
ASSIGNEE = "ana"


class Harness(Protocol):
    adapter: HelpdeskAdapter
    missing_ticket_id: str
    webhook_auth_headers: tuple[str, ...]
    signs_body: bool
    signs_time: bool
    waits: list[float]

    def create_ticket(self, subject: str, body: str, requester: str) -> str: ...

    def human_edit(self, ticket_id: str, fields: Mapping[str, FieldValue]) -> None: ...

    def signed_webhook(self, ticket_id: str, event_id: str, age_s: float = 0.0) -> tuple[dict[str, str], bytes]: ...

    def rate_limit_next(self, retry_after_s: float) -> bool: ...


def _new_ticket(harness: Harness) -> str:
    return harness.create_ticket("Charged twice", "I was charged twice for March, please refund one.",
                                 "jo@example.com")


class AdapterConformance:
    """The contract in tests. Subclasses provide the `harness` fixture."""

    def test_is_a_registered_helpdesk_adapter(self, harness: Harness) -> None:
        assert isinstance(harness.adapter, HelpdeskAdapter)
        assert harness.adapter.name in adapter_names()

    def test_reads_the_ticket_as_the_requester_opened_it(self, harness: Harness) -> None:
        tid = _new_ticket(harness)
        ticket = harness.adapter.get_ticket(tid)
        assert ticket.subject == "Charged twice"
        assert ticket.body == "I was charged twice for March, please refund one."
        assert ticket.comments == []
        assert ticket.status

    def test_note_is_internal_and_reply_public(self, harness: Harness) -> None:
        tid = _new_ticket(harness)
        harness.adapter.add_note(tid, "why: billing, 0.93", idempotency_key="run1:reply:note")
        harness.adapter.add_reply(tid, "Sorry about that.\nThe duplicate is refunded.",
                                  idempotency_key="run1:reply:reply")
        comments = harness.adapter.get_ticket(tid).comments
        assert [(c.public, c.body) for c in comments] == [
            (False, "why: billing, 0.93"), (True, "Sorry about that.\nThe duplicate is refunded.")]

    def test_fields_round_trip_in_the_agents_names(self, harness: Harness) -> None:
        tid = _new_ticket(harness)
        wanted: dict[str, FieldValue] = {"category": CATEGORIES[0], "priority": "high", "queue": QUEUES[0],
                                         "tags": ["triaged"]}
        harness.adapter.set_fields(tid, wanted, idempotency_key="run1:route:fields")
        fields = harness.adapter.get_ticket(tid).fields
        assert {name: fields.get(name) for name in wanted} == wanted

    def test_a_field_a_human_changed_after_arrival_is_left_alone(self, harness: Harness) -> None:
        tid = _new_ticket(harness)
        arrived = harness.adapter.get_ticket(tid).fields
        harness.human_edit(tid, {"queue": QUEUES[1]})
        baseline: dict[str, Any] = {"queue": arrived.get("queue"), "priority": arrived.get("priority")}
        harness.adapter.set_fields(tid, {"queue": QUEUES[0], "priority": "urgent"},
                                   idempotency_key="run1:route:fields", baseline=baseline)
        fields = harness.adapter.get_ticket(tid).fields
        assert fields["queue"] == QUEUES[1]
        assert fields["priority"] == "urgent"

    def test_a_repeated_idempotency_key_writes_nothing_twice(self, harness: Harness) -> None:
        tid = _new_ticket(harness)
        for _ in range(2):  # the outbox re-delivering after a lost acknowledgement
            harness.adapter.set_fields(tid, {"queue": QUEUES[0], "tags": ["triaged"]}, idempotency_key="r:fields")
            harness.adapter.add_note(tid, "why: billing", idempotency_key="r:note")
            harness.adapter.add_reply(tid, "Refunded.", idempotency_key="r:reply")
        ticket = harness.adapter.get_ticket(tid)
        assert [(c.public, c.body) for c in ticket.comments] == [(False, "why: billing"), (True, "Refunded.")]
        assert ticket.fields["queue"] == QUEUES[0]
        assert ticket.fields["tags"] == ["triaged"]

    def test_assign(self, harness: Harness) -> None:
        tid = _new_ticket(harness)
        harness.adapter.assign(tid, ASSIGNEE, idempotency_key="r:assign")
        assert harness.adapter.get_ticket(tid).fields["assignee"] == ASSIGNEE

    def test_missing_ticket_is_not_found(self, harness: Harness) -> None:
        with pytest.raises(NotFound):
            harness.adapter.get_ticket(harness.missing_ticket_id)
        with pytest.raises(NotFound):
            harness.adapter.add_note(harness.missing_ticket_id, "x", idempotency_key="r:note")

    def test_a_valid_webhook_verifies_and_names_its_delivery(self, harness: Harness) -> None:
        tid = _new_ticket(harness)
        headers, body = harness.signed_webhook(tid, "delivery-7f3a")
        event = harness.adapter.verify_webhook(headers, body)
        assert (event.event_id, event.ticket_id, event.system) == ("delivery-7f3a", tid, harness.adapter.name)
        # header names are matched whatever their casing (proxies and frameworks change it)
        lowered = {name.lower(): value for name, value in headers.items()}
        assert harness.adapter.verify_webhook(lowered, body).event_id == "delivery-7f3a"

    def test_an_unsigned_webhook_is_rejected(self, harness: Harness) -> None:
        headers, body = harness.signed_webhook(_new_ticket(harness), "d1")
        unsigned = {k: v for k, v in headers.items() if k.lower() not in
                    {h.lower() for h in harness.webhook_auth_headers}}
        with pytest.raises(WebhookRejected):
            harness.adapter.verify_webhook(unsigned, body)

    def test_a_tampered_webhook_is_rejected(self, harness: Harness) -> None:
        headers, body = harness.signed_webhook(_new_ticket(harness), "d1")
        for name in harness.webhook_auth_headers:
            forged = {**headers, name: headers[name][:-2] + ("AA" if headers[name][-2:] != "AA" else "BB")}
            with pytest.raises(WebhookRejected):
                harness.adapter.verify_webhook(forged, body)
        if harness.signs_body:
            with pytest.raises(WebhookRejected):
                harness.adapter.verify_webhook(headers, body.replace(b"}", b', "extra": 1}', 1))

    def test_a_stale_webhook_is_rejected(self, harness: Harness) -> None:
        if not harness.signs_time:
            pytest.skip("this system signs no timestamp: deduplication by event id is its replay guard")
        headers, body = harness.signed_webhook(_new_ticket(harness), "d1", age_s=6 * 3600)
        with pytest.raises(WebhookRejected):
            harness.adapter.verify_webhook(headers, body)

    def test_a_rate_limited_call_waits_as_asked_then_succeeds(self, harness: Harness) -> None:
        tid = _new_ticket(harness)
        if not harness.rate_limit_next(7.0):
            pytest.skip("this system has no rate limits")
        assert harness.adapter.get_ticket(tid).subject == "Charged twice"
        assert harness.waits == [7.0]
