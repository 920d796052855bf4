"""What the RT adapter makes of answers a healthy test RT never gives (rate limits, 5xx, broken bodies),
with httpx.MockTransport standing in for RT and a fake clock for the waits. No live RT needed.

RT goes through the shared integrations.http layer: these tests pin what that means for RT's calls
(reads retried as asked, a message never resent once it may have reached RT)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest

from integrations.contract import MalformedResponse, RateLimited, Unauthorized, Unavailable
from integrations.rt import RequestTrackerAdapter, RTSettings
from tests.integrations.vendor_fakes import FakeClock

TICKET = {"id": 5, "Subject": "s", "Status": "new", "Priority": "50", "Queue": {"id": "1"},
          "Owner": {"id": "Nobody"}, "Requestor": [], "CustomFields": [], "LastUpdated": "2026-01-01T00:00:00Z"}
KEY_FIELD = {"items": [{"id": 3, "Name": "Triage Key", "LookupType": "RT::Queue-RT::Ticket-RT::Transaction"}]}
COMMENT = "POST /REST/2.0/ticket/5/comment"
PUT = "PUT /REST/2.0/ticket/5"


@dataclass
class FakeRT:
    """The adapter under test, the calls it made, and the waits it slept (on a clock that only moves then)."""

    adapter: RequestTrackerAdapter
    calls: list[str] = field(default_factory=list)
    clock: FakeClock = field(default_factory=FakeClock)


def rt_answering(answer: Callable[[httpx.Request], httpx.Response]) -> FakeRT:
    clock = FakeClock()
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        return answer(request)

    settings = RTSettings(base_url="https://rt.example.com", token="t")
    adapter = RequestTrackerAdapter(settings, transport=httpx.MockTransport(handler), sleep=clock.sleep,
                                    clock=clock.monotonic, now=clock.time)
    return FakeRT(adapter, calls, clock)


def healthy(request: httpx.Request) -> httpx.Response:
    """RT's answers to everything a note or a field write reads before writing."""
    path = request.url.path
    if path.endswith("/customfields"):
        return httpx.Response(200, json=KEY_FIELD)
    if path.endswith("/tickets"):
        return httpx.Response(200, json={"count": 0, "items": []})
    if path.endswith("/queue/1"):
        return httpx.Response(200, json={"Name": "General"})
    if path.endswith("/queue/2"):
        return httpx.Response(200, json={"Name": "Billing"})
    return httpx.Response(200, json=TICKET, headers={"ETag": '"9"'})


def test_a_rate_limit_is_waited_out_for_as_long_as_rt_asks() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "3"}, json={"message": "slow down"})])
    rt = rt_answering(lambda r: next(answers, None) or healthy(r))
    assert rt.adapter.get_ticket("5").fields["queue"] == "General"
    assert rt.clock.slept == [3.0]
    assert rt.calls.count("GET /REST/2.0/ticket/5") == 2


def test_a_rate_limit_that_outlasts_the_budget_goes_to_the_outbox_with_its_wait() -> None:
    rt = rt_answering(lambda r: httpx.Response(429, headers={"Retry-After": "3600"}, json={"message": "slow"}))
    with pytest.raises(RateLimited) as raised:
        rt.adapter.add_note("5", "x", idempotency_key="k")
    assert raised.value.retry_after == 3600 and raised.value.retryable
    assert rt.calls == ["POST /REST/2.0/customfields"] and rt.clock.slept == []  # nothing slept past the budget


def test_attempts_are_capped() -> None:
    rt = rt_answering(lambda r: httpx.Response(429, headers={"Retry-After": "0"}, json={"message": "slow"}))
    with pytest.raises(RateLimited) as raised:
        rt.adapter.get_ticket("5")
    assert raised.value.retry_after == 0
    assert len(rt.calls) == rt.adapter.settings.max_attempts


def test_reads_ride_out_a_brief_outage() -> None:
    answers = iter([httpx.Response(502, text="bad gateway")])
    rt = rt_answering(lambda r: next(answers, None) or healthy(r))
    ticket = rt.adapter.get_ticket("5")
    assert ticket.fields["queue"] == "General" and ticket.version == '"9"'
    assert rt.calls.count("GET /REST/2.0/ticket/5") == 2
    assert len(rt.clock.slept) == 1  # backoff, as RT did not say how long


def test_a_message_that_may_have_reached_rt_is_not_sent_again() -> None:
    rt = rt_answering(lambda r: httpx.Response(502, text="bad gateway") if r.method == "POST"
                      and r.url.path.endswith("/comment") else healthy(r))
    with pytest.raises(Unavailable) as raised:
        rt.adapter.add_note("5", "why: billing", idempotency_key="run-1:note")
    assert raised.value.retryable  # the outbox delivers it again; the key lookup then finds it if it landed
    assert rt.calls.count(COMMENT) == 1


def test_a_message_refused_with_429_is_sent_again_after_the_wait() -> None:
    refusals = iter([httpx.Response(429, headers={"Retry-After": "2"})])
    rt = rt_answering(lambda r: (next(refusals, None) or httpx.Response(201, json=["Comments added"]))
                      if r.url.path.endswith("/comment") else healthy(r))
    rt.adapter.add_note("5", "why: billing", idempotency_key="run-1:note")
    assert rt.calls.count(COMMENT) == 2 and rt.clock.slept == [2.0]


def test_a_conditional_field_write_is_resent_and_an_unconditional_one_is_not() -> None:
    moved = {"done": False}

    def put_fails_once(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            assert request.headers["If-Match"] == '"9"'
            if rt.calls.count(PUT) == 1:
                return httpx.Response(504, text="gateway timeout")
            moved["done"] = True
            return httpx.Response(200, json=["Queue changed from 'General' to 'Billing'"])
        if request.url.path.endswith("/ticket/5") and moved["done"]:
            return httpx.Response(200, json={**TICKET, "Queue": {"id": "2"}}, headers={"ETag": '"10"'})
        return healthy(request)

    rt = rt_answering(put_fails_once)
    rt.adapter.set_fields("5", {"queue": "Billing"}, idempotency_key="run-1:fields")
    assert rt.calls.count(PUT) == 2

    no_etag = rt_answering(lambda r: httpx.Response(504, text="gateway timeout") if r.method == "PUT"
                           else httpx.Response(200, json=TICKET) if r.url.path.endswith("/ticket/5") else healthy(r))
    with pytest.raises(Unavailable):
        no_etag.adapter.set_fields("5", {"queue": "Billing"}, idempotency_key="run-1:fields")
    assert no_etag.calls.count(PUT) == 1


def test_errors_that_retrying_cannot_fix_are_not_retried() -> None:
    rt = rt_answering(lambda r: httpx.Response(401, json={"message": "Unauthorized"}))
    with pytest.raises(Unauthorized, match="Unauthorized"):
        rt.adapter.get_ticket("5")
    assert len(rt.calls) == 1


def test_server_errors_and_unreadable_bodies() -> None:
    rt = rt_answering(lambda r: httpx.Response(500, text="Internal Server Error"))
    with pytest.raises(Unavailable, match="answered 500: Internal Server Error"):
        rt.adapter.add_reply("5", "x", idempotency_key="k")
    # the first call looks the key field up with a POSTed search: a read, so it was tried to the cap
    assert rt.calls == ["POST /REST/2.0/customfields"] * rt.adapter.settings.max_attempts
    rt = rt_answering(lambda r: httpx.Response(200, text="<html>login</html>"))
    with pytest.raises(MalformedResponse, match="not JSON"):
        rt.adapter.get_ticket("5")
    rt = rt_answering(lambda r: httpx.Response(200, json={**TICKET, "Owner": None}) if r.url.path.endswith("/ticket/5")
                      else healthy(r))
    with pytest.raises(MalformedResponse, match="ticket 5 is not shaped as documented"):
        rt.adapter.get_ticket("5")


def test_settings_take_the_shared_http_knobs_and_keep_rts_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_RT_MAX_ATTEMPTS", "2")
    settings = RTSettings(base_url="http://127.0.0.2:8080/REST/2.0", token="1-14-secret")  # any loopback address
    assert settings.max_attempts == 2 and settings.base_url == "http://127.0.0.2:8080"
    assert "1-14-secret" not in repr(settings)
    with pytest.raises(ValueError, match="plain http"):
        RTSettings(base_url="http://rt.internal", token="t")
    assert RTSettings(base_url="http://rt.internal", token="t", allow_insecure_http=True).base_url == "http://rt.internal"
