"""The shared HTTP layer: waits asked for by the system, retries that cannot write twice, error mapping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from integrations.contract import (
    AdapterError,
    Conflict,
    MalformedResponse,
    NotFound,
    RateLimited,
    Rejected,
    Unauthorized,
    Unavailable,
)
from integrations.http import (
    HelpdeskHttp,
    HttpSettings,
    parse_reset,
    parse_retry_after,
    strip_marker,
    wait_from_headers,
    with_marker,
)
from integrations.registry import AdapterConfigError, load_adapter
from tests.integrations.vendor_fakes import (
    FakeClock,
    FreshdeskHarness,
    JiraHarness,
    ServiceNowHarness,
    VendorHarness,
    ZendeskHarness,
)

NOW = 1_795_000_000.0  # 2026-11-18T...Z, the fake wall clock


class Script:
    """Answers requests from a list: an httpx.Response, or a transport error class to raise."""

    def __init__(self, *answers: httpx.Response | type[httpx.TransportError]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, type):
            raise answer("scripted", request=request)
        return answer


def client(script: Callable[[httpx.Request], httpx.Response], clock: FakeClock, **settings: float) -> HelpdeskHttp:
    return HelpdeskHttp("acme", HttpSettings(base_url="https://acme.example.com", **settings),  # type: ignore[arg-type]
                        transport=httpx.MockTransport(script), sleep=clock.sleep, clock=clock.monotonic,
                        now=clock.time)


def ok(body: object = None) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {"ok": True})


# --- how long to wait -----------------------------------------------------------------------------------


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    assert parse_retry_after("7", NOW) == 7.0
    in_90s = format_datetime(datetime.fromtimestamp(NOW + 90, UTC), usegmt=True)
    assert parse_retry_after(in_90s, NOW) == pytest.approx(90.0)
    assert parse_retry_after("soon", NOW) is None


def test_reset_as_unix_time_iso_8601_or_a_delay() -> None:
    assert parse_reset(str(int(NOW) + 45), NOW) == pytest.approx(45.0)  # ServiceNow
    jira_style = datetime.fromtimestamp(NOW + 120, UTC).strftime("%Y-%m-%dT%H:%MZ")  # minutes precision
    assert 60.0 <= (parse_reset(jira_style, NOW) or 0) <= 120.0
    assert parse_reset("30", NOW) == 30.0
    assert parse_reset(str(int(NOW) - 10), NOW) == 0.0  # a reset already past means go now


def test_retry_after_wins_over_reset_and_reset_counts_only_when_refused() -> None:
    both = {"Retry-After": "5", "X-RateLimit-Reset": str(int(NOW) + 600)}
    assert wait_from_headers(429, both, NOW) == 5.0
    reset_only = {"x-ratelimit-reset": str(int(NOW) + 600)}
    assert wait_from_headers(429, reset_only, NOW) == pytest.approx(600.0)
    # ServiceNow sends its reset on every answer: on a 200 with calls left it asks for nothing
    assert wait_from_headers(200, {**reset_only, "X-RateLimit-Remaining": "120"}, NOW) is None
    assert wait_from_headers(200, {**reset_only, "X-RateLimit-Remaining": "0"}, NOW) == pytest.approx(600.0)


# --- status codes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "error"), [
    (401, Unauthorized), (403, Unauthorized), (404, NotFound), (400, Rejected), (422, Rejected),
    (409, Conflict), (412, Conflict), (500, Unavailable), (502, Unavailable),
])
def test_status_codes_become_contract_errors(status: int, error: type[AdapterError]) -> None:
    clock = FakeClock()
    http = client(Script(httpx.Response(status, json={"error": "nope"})), clock, max_attempts=1)
    with pytest.raises(error) as raised:
        http.call("GET", "/tickets/1")
    assert raised.value.status == status
    assert "acme: GET /tickets/1 answered" in str(raised.value)


def test_429_is_rate_limited_with_the_wait_it_asked_for() -> None:
    http = client(Script(httpx.Response(429, headers={"Retry-After": "12"})), FakeClock(), max_attempts=1)
    with pytest.raises(RateLimited) as raised:
        http.call("GET", "/tickets/1")
    assert raised.value.retry_after == 12.0


def test_a_503_with_retry_after_is_rate_limited() -> None:
    http = client(Script(httpx.Response(503, headers={"Retry-After": "3"})), FakeClock(), max_attempts=1)
    with pytest.raises(RateLimited):
        http.call("GET", "/tickets/1")


# --- retries --------------------------------------------------------------------------------------------


def test_a_read_is_retried_after_5xx_with_growing_jittered_backoff() -> None:
    clock = FakeClock()
    script = Script(httpx.Response(500), httpx.Response(502), ok({"n": 1}))
    assert client(script, clock, backoff_initial_s=0.5, backoff_max_s=8).call("GET", "/t") == {"n": 1}
    assert len(script.requests) == 3
    assert len(clock.slept) == 2 and 0.5 <= clock.slept[0] <= 1.0 and 1.0 <= clock.slept[1] <= 1.5


@pytest.mark.parametrize("header", ["Retry-After", "X-RateLimit-Reset"])
def test_a_429_waits_as_asked_even_for_a_post(header: str) -> None:
    clock = FakeClock()
    value = "4" if header == "Retry-After" else str(int(clock.time()) + 4)
    script = Script(httpx.Response(429, headers={header: value}), httpx.Response(201, json={"id": 1}))
    assert client(script, clock).call("POST", "/notes", json={"body": "x"}) == {"id": 1}
    assert clock.slept == [pytest.approx(4.0)]
    assert len(script.requests) == 2


@pytest.mark.parametrize("failure", [httpx.Response(500), httpx.Response(503), httpx.ReadTimeout,
                                     httpx.RemoteProtocolError])
def test_a_post_that_may_have_reached_the_server_is_never_resent(
        failure: httpx.Response | type[httpx.TransportError]) -> None:
    clock = FakeClock()
    script = Script(failure, httpx.Response(201))
    with pytest.raises(Unavailable):
        client(script, clock).call("POST", "/notes", json={"body": "x"})
    assert len(script.requests) == 1 and clock.slept == []


def test_a_post_whose_connection_never_opened_is_resent() -> None:
    script = Script(httpx.ConnectError, httpx.Response(201))
    client(script, FakeClock()).call("POST", "/notes", json={"body": "x"})
    assert len(script.requests) == 2


def test_a_post_with_an_idempotency_key_may_be_resent() -> None:
    script = Script(httpx.ReadTimeout, httpx.Response(201))
    client(script, FakeClock()).call("POST", "/tickets", json={}, headers={"Idempotency-Key": "k1"})
    assert len(script.requests) == 2
    assert [r.headers["Idempotency-Key"] for r in script.requests] == ["k1", "k1"]


def test_attempts_are_capped() -> None:
    script = Script(httpx.Response(500))
    with pytest.raises(Unavailable):
        client(script, FakeClock(), max_attempts=3).call("GET", "/t")
    assert len(script.requests) == 3


def test_a_wait_beyond_the_time_budget_is_left_to_the_caller() -> None:
    clock = FakeClock()
    script = Script(httpx.Response(429, headers={"Retry-After": "3600"}), ok())
    with pytest.raises(RateLimited) as raised:
        client(script, clock, max_total_s=30).call("GET", "/t")
    assert raised.value.retry_after == 3600.0
    assert clock.slept == [] and len(script.requests) == 1


def test_total_time_is_capped_across_attempts() -> None:
    clock = FakeClock()
    script = Script(httpx.Response(429, headers={"Retry-After": "10"}))
    with pytest.raises(RateLimited):
        client(script, clock, max_total_s=25, max_attempts=10).call("GET", "/t")
    assert clock.slept == [10.0, 10.0]


def test_a_garbled_body_is_malformed_and_a_read_retries_it() -> None:
    script = Script(httpx.Response(200, content=b"<html>proxy error</html>"), ok({"n": 2}))
    assert client(script, FakeClock()).call("GET", "/t") == {"n": 2}
    always_bad = Script(httpx.Response(200, content=b"{not json"))
    with pytest.raises(MalformedResponse):
        client(always_bad, FakeClock(), max_attempts=2).call("GET", "/t")


def test_every_request_carries_the_configured_timeout() -> None:
    script = Script(ok())
    client(script, FakeClock(), timeout_s=4.5).call("GET", "/t")
    assert script.requests[0].extensions["timeout"] == {"connect": 4.5, "read": 4.5, "write": 4.5, "pool": 4.5}


# --- settings and markers ------------------------------------------------------------------------------


def test_plain_http_is_refused_outside_localhost() -> None:
    with pytest.raises(AdapterConfigError, match=r"TRIAGE_ZENDESK_\*.*base_url.*https://"):
        load_adapter("zendesk", base_url="http://acme.zendesk.com", email="a@example.com", api_token="t")
    assert HttpSettings(base_url="http://localhost:8080/").base_url == "http://localhost:8080"


def test_missing_credentials_are_named() -> None:
    with pytest.raises(AdapterConfigError, match="api_key"):
        load_adapter("freshdesk", base_url="https://acme.freshdesk.com")


def test_the_marker_is_stripped_when_reading_and_hides_the_key() -> None:
    marked = with_marker("Hello.\n", "run-42:reply:reply")
    assert "run-42" not in marked
    assert strip_marker(marked) == "Hello."


# --- the same layer under every vendor adapter ---------------------------------------------------------

VENDORS = [ZendeskHarness, JiraHarness, ServiceNowHarness, FreshdeskHarness]
WAIT_HEADERS: dict[str, Callable[[float], dict[str, str]]] = {
    "retry-after seconds": lambda now: {"Retry-After": "20"},
    "retry-after http date": lambda now: {
        "Retry-After": format_datetime(datetime.fromtimestamp(now + 20, UTC), usegmt=True)},
    "reset unix time": lambda now: {"X-RateLimit-Reset": str(int(now) + 20)},
    "reset iso 8601": lambda now: {"X-RateLimit-Reset": datetime.fromtimestamp(now + 20, UTC).isoformat()},
}


@pytest.mark.parametrize("vendor", VENDORS, ids=lambda v: v.__name__.removesuffix("Harness"))
@pytest.mark.parametrize("form", list(WAIT_HEADERS))
def test_every_adapter_waits_out_a_429_however_the_wait_is_written(vendor: type[VendorHarness], form: str) -> None:
    harness = vendor()
    tid = harness.create_ticket("Subject", "Body", "jo@example.com")
    harness.fake.fail_next(429, headers=WAIT_HEADERS[form](harness.clock.time()))
    assert harness.adapter.get_ticket(tid).subject == "Subject"
    assert harness.waits == [pytest.approx(20.0)]
