"""What the RT adapter makes of answers a healthy test RT never gives (rate limits, 5xx, broken bodies),
with httpx.MockTransport standing in for RT. No live RT needed."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from integrations.contract import MalformedResponse, RateLimited, Unauthorized, Unavailable
from integrations.rt import RequestTrackerAdapter, RTSettings

TICKET = {"id": 5, "Subject": "s", "Status": "new", "Priority": "50", "Queue": {"id": "1"},
          "Owner": {"id": "Nobody"}, "Requestor": [], "CustomFields": [], "LastUpdated": "2026-01-01T00:00:00Z"}


def adapter_answering(answer: Callable[[httpx.Request], httpx.Response]) -> tuple[RequestTrackerAdapter, list[str]]:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        return answer(request)

    settings = RTSettings(base_url="https://rt.example.com", token="t")
    return RequestTrackerAdapter(settings, transport=httpx.MockTransport(handler)), calls


def test_a_rate_limit_says_how_long_to_wait() -> None:
    rt, calls = adapter_answering(lambda r: httpx.Response(429, headers={"Retry-After": "0"}, json={"message": "slow"}))
    with pytest.raises(RateLimited) as raised:
        rt.add_note("5", "x", idempotency_key="k")
    assert raised.value.retry_after == 0 and raised.value.retryable
    assert calls == ["POST /REST/2.0/customfields"]  # writes are not retried here: the outbox does that


def test_reads_ride_out_a_brief_outage() -> None:
    answers = iter([httpx.Response(502, text="bad gateway"), httpx.Response(200, json=TICKET, headers={"ETag": '"9"'}),
                    httpx.Response(200, json={"Name": "General"})])
    rt, calls = adapter_answering(lambda r: next(answers) if r.url.path.endswith(("/ticket/5", "/queue/1"))
                                  else httpx.Response(200, json={"items": []}))
    ticket = rt.get_ticket("5")
    assert ticket.fields["queue"] == "General" and ticket.version == '"9"'
    assert calls.count("GET /REST/2.0/ticket/5") == 2


def test_errors_that_retrying_cannot_fix_are_not_retried() -> None:
    rt, calls = adapter_answering(lambda r: httpx.Response(401, json={"message": "Unauthorized"}))
    with pytest.raises(Unauthorized, match="Unauthorized"):
        rt.get_ticket("5")
    assert len(calls) == 1


def test_server_errors_and_unreadable_bodies() -> None:
    rt, _ = adapter_answering(lambda r: httpx.Response(500, text="Internal Server Error"))
    with pytest.raises(Unavailable, match="HTTP 500"):
        rt.add_reply("5", "x", idempotency_key="k")
    rt, _ = adapter_answering(lambda r: httpx.Response(200, text="<html>login</html>"))
    with pytest.raises(MalformedResponse, match="not JSON"):
        rt.get_ticket("5")
