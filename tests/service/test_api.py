"""The HTTP service, driven over real HTTP (uvicorn on loopback) against SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from integrations.webhooks import sign_standard
from service.runtime import Embedded, open_embedded
from service.settings import Settings
from service.store import BreakerRecord, JobRecord, RunRecord, WebhookDelivery, transaction
from tests.service.api_server import LiveApi, serve

pytestmark = pytest.mark.parametrize("state_url", ["sqlite", "postgresql"], indirect=True)

SECRET = "whsec_" + "c2VjcmV0LWZvci10ZXN0cy1vbmx5LTMyYnl0ZXMhIQ=="
BILLING = "I was charged twice on my invoice this month"
PASSWORD = "I forgot my password and cannot log in"


@pytest.fixture
def make_api(pack_copy: Path, tmp_path: Path, state_url: str | None) -> Iterator[Callable[..., LiveApi]]:
    """Start the service with settings overrides; every server started is stopped at the end."""
    stack: list[Any] = []

    def start(**overrides: Any) -> LiveApi:
        settings = Settings(home=tmp_path / "home", database_url=state_url, pack=pack_copy,
                            webhook_secrets=[SECRET], **overrides)
        runtime = open_embedded(settings, pack_copy)
        ctx = serve(settings, runtime)
        api = ctx.__enter__()
        stack.append(ctx)
        return api

    yield start
    for ctx in reversed(stack):
        ctx.__exit__(None, None, None)


@pytest.fixture
def api(make_api: Callable[..., LiveApi]) -> LiveApi:
    return make_api()


def comments(runtime: Embedded, ticket_id: str) -> list[tuple[bool, str]]:
    return [(c.public, c.body) for c in runtime.helpdesk.get_ticket(ticket_id).comments]


def eventually(check: Callable[[], bool], timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def count(runtime: Embedded, model: Any) -> int:
    with Session(runtime.db) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


# --- the whole loop -------------------------------------------------------------------------------------


def test_escalated_ticket_is_approved_over_http_and_acted_on_with_a_verified_trail(api: LiveApi) -> None:
    with api.client("ingest") as http:
        decided = http.post("/v1/tickets", json={"text": BILLING, "requester": "pat@example.com"}).json()
    assert decided["decision"] == "escalate" and decided["status"] == "awaiting_review"
    ticket_id, run_id = decided["ticket_id"], decided["run_id"]
    assert all(not public for public, _ in comments(api.runtime, ticket_id))  # nothing sent before approval

    with api.client("reviewer") as http:
        pending = http.get("/v1/reviews").json()["pending"]
        assert [r["run_id"] for r in pending] == [run_id]
        answer = http.post(f"/v1/reviews/{run_id}", json={"verdict": "approve", "digest": pending[0]["digest"]})
        assert answer.status_code == 200, answer.text
        again = http.post(f"/v1/reviews/{run_id}", json={"verdict": "approve", "digest": pending[0]["digest"]})
        assert again.status_code == 409 and "already answered" in again.json()["error"]["message"]
        trail = http.get(f"/v1/tickets/{ticket_id}/audit").json()["events"]

    assert answer.json()["status"] == "done"
    assert any(public for public, _ in comments(api.runtime, ticket_id))  # the approved reply went out, once
    assert sum(public for public, _ in comments(api.runtime, ticket_id)) == 1
    assert [e["node"] for e in trail][:2] == ["control_gate", "guard_input"]
    assert any(e["node"] == "escalate" for e in trail) and any(e["node"] == "act" for e in trail)
    assert "pat@example.com" not in json.dumps(trail)
    entries, problems = api.runtime.audit.verify()
    assert entries == len(trail) and problems == []
    with api.client("ingest") as http:
        ticket = http.get(f"/v1/tickets/{ticket_id}").json()
    assert ticket["latest_run_id"] == run_id and ticket["runs"][0]["decision"] == "escalate"


def test_queued_ingest_is_acknowledged_then_decided_by_a_worker(api: LiveApi) -> None:
    with api.client("ingest") as http:
        queued = http.post("/v1/tickets?mode=queued", json={"text": PASSWORD})
    assert queued.status_code == 202
    body = queued.json()
    assert body["status"] == "queued" and body["links"]["run"] == f"/v1/runs/{body['run_id']}"
    run = api.wait_for_run(body["run_id"])
    assert run["decision"] == "auto_reply" and run["result"]["category"] == "password_reset"
    # The writes follow through the outbox, right after the decision is recorded.
    eventually(lambda: any(public for public, _ in comments(api.runtime, body["ticket_id"])))


def test_a_queued_ticket_has_an_empty_trail_and_an_unknown_one_is_404(make_api: Callable[..., LiveApi]) -> None:
    api = make_api(worker_threads=0)  # nobody triages: the ticket stays queued
    with api.client("ingest") as http:
        queued = http.post("/v1/tickets?mode=queued", json={"text": PASSWORD}).json()
    with api.client("reviewer") as http:
        trail = http.get(f"/v1/tickets/{queued['ticket_id']}/audit")
        unknown = http.get("/v1/tickets/no-such-ticket/audit")
    assert trail.status_code == 200 and trail.json()["events"] == []
    assert unknown.status_code == 404 and "has not seen ticket no-such-ticket" in unknown.json()["error"]["message"]


def test_a_retried_request_with_the_same_idempotency_key_makes_one_run(api: LiveApi) -> None:
    with api.client("ingest", **{"Idempotency-Key": "mail-4711"}) as http:
        first = http.post("/v1/tickets", json={"text": PASSWORD}).json()
        second = http.post("/v1/tickets", json={"text": PASSWORD}).json()
    assert first["run_id"] == second["run_id"]
    assert count(api.runtime, RunRecord) == 1
    assert sum(public for public, _ in comments(api.runtime, first["ticket_id"])) == 1


# --- roles, keys, limits, bad input ----------------------------------------------------------------------


def test_roles_are_enforced(api: LiveApi) -> None:
    with api.client(None) as anonymous:
        assert anonymous.post("/v1/tickets", json={"text": PASSWORD}).status_code == 401
        assert anonymous.get("/v1/reviews", headers={"Authorization": "Bearer tk_nope_nope"}).status_code == 401
    with api.client("ingest") as http:
        assert http.get("/v1/reviews").status_code == 403
        assert http.put("/v1/control", json={"mode": "off", "reason": "x"}).status_code == 403
    with api.client("reviewer") as http:
        assert http.get("/v1/reviews").status_code == 200
        denied = http.put("/v1/control", json={"mode": "off", "reason": "incident"})
        assert denied.status_code == 403 and "admin" in denied.json()["error"]["message"]
    assert api.runtime.control.mode() == "auto"  # nothing changed by the refused calls


def test_the_off_switch_over_http_leaves_tickets_for_humans(api: LiveApi) -> None:
    with api.client("admin") as http:
        changed = http.put("/v1/control", json={"mode": "off", "reason": "incident 42"})
        assert changed.status_code == 200 and changed.json()["global"] == "off"
        decided = http.post("/v1/tickets", json={"text": PASSWORD}).json()
        modes = http.get("/v1/control").json()
        metrics = http.get("/metrics").text
    assert decided["mode"] == "off" and comments(api.runtime, decided["ticket_id"]) == []
    assert modes["history"][-1]["reason"] == "incident 42" and "test-admin" in modes["history"][-1]["by"]
    assert 'triage_mode{mode="off"} 1.0' in metrics


def test_bad_input_gets_a_clear_4xx_and_changes_nothing(make_api: Callable[..., LiveApi]) -> None:
    api = make_api(max_body_bytes=2_000)
    with api.client("admin") as http:
        cases = {
            "empty text": http.post("/v1/tickets", json={"text": ""}),
            "no text": http.post("/v1/tickets", json={"subject": "hi"}),
            "not json": http.post("/v1/tickets", content=b"{text: 1", headers={"Content-Type": "application/json"}),
            "unknown field": http.post("/v1/tickets", json={"text": "x", "prio": "high"}),
            "bad mode": http.post("/v1/tickets?mode=later", json={"text": "x"}),
            "bad ticket id": http.post("/v1/tickets", json={"text": "x", "ticket_id": "../etc"}),
            "unknown local ticket": http.post("/v1/tickets", json={"text": "x", "ticket_id": "9999"}),
            "too large": http.post("/v1/tickets", json={"text": "x" * 5_000}),
            "unknown category scope": http.put("/v1/control", json={"mode": "off", "scope": "category:nope",
                                                                    "reason": "x"}),
            "bad verdict": http.post("/v1/reviews/r1", json={"verdict": "maybe", "digest": "12345678"}),
            "no such review": http.post("/v1/reviews/r1", json={"verdict": "approve", "digest": "12345678"}),
        }
    expected = {"too large": 413, "unknown local ticket": 404, "no such review": 404, "unknown category scope": 404}
    for name, response in cases.items():
        assert response.status_code == expected.get(name, 422), (name, response.status_code, response.text)
        error = response.json()["error"]
        assert error["message"], name
    assert cases["empty text"].json()["error"]["fields"][0]["field"] == "body.text"
    assert "prio" in cases["unknown field"].json()["error"]["message"]
    assert count(api.runtime, RunRecord) == 0


def test_rate_limit_answers_429_with_retry_after(make_api: Callable[..., LiveApi]) -> None:
    api = make_api(rate_limit_per_minute=6, rate_burst=2)
    with api.client("ingest") as http:
        codes = [http.get("/v1/agent") for _ in range(3)]
    assert [c.status_code for c in codes] == [200, 200, 429]
    assert int(codes[2].headers["Retry-After"]) >= 1


def test_ticket_text_is_never_logged(api: LiveApi, caplog: pytest.LogCaptureFixture) -> None:
    secret_text = "my card 4111 1111 1111 1111 was charged twice, call me on +44 20 7946 0958"
    with caplog.at_level(logging.DEBUG), api.client("ingest") as http:
        http.post("/v1/tickets", json={"text": secret_text})
        http.post("/v1/tickets", json={"text": secret_text, "ticket_id": "../x"})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "4111" not in logged and "7946" not in logged


# --- webhooks ---------------------------------------------------------------------------------------------


def signed(body: dict[str, Any], msg_id: str, secret: str = SECRET, at: int | None = None) -> dict[str, Any]:
    raw = json.dumps(body).encode()
    stamp = at if at is not None else int(time.time())
    return {"content": raw, "headers": {"webhook-id": msg_id, "webhook-timestamp": str(stamp),
                                        "webhook-signature": sign_standard(secret, msg_id, stamp, raw),
                                        "Content-Type": "application/json"}}


def test_a_verified_webhook_runs_once_even_when_redelivered(api: LiveApi) -> None:
    event = {"type": "ticket.created", "ticket": {"text": PASSWORD}}
    with api.client(None) as http:
        first = http.post("/v1/webhooks/generic", **signed(event, "msg_1"))
        again = http.post("/v1/webhooks/generic", **signed(event, "msg_1"))
    assert first.status_code == 200 and first.json()["status"] == "queued"
    assert again.json() == {"status": "duplicate", "duplicate": True, "event_id": "msg_1",
                            "run_id": first.json()["run_id"]}
    assert api.wait_for_run(first.json()["run_id"])["decision"] == "auto_reply"
    assert count(api.runtime, RunRecord) == 1 and count(api.runtime, JobRecord) == 1


def test_every_failed_verification_is_401_with_no_side_effect(api: LiveApi) -> None:
    event = {"type": "ticket.created", "ticket": {"text": PASSWORD}}
    tampered = signed(event, "msg_2")
    tampered["content"] = tampered["content"].replace(b"password", b"passw0rd")
    unsigned = signed(event, "msg_3")
    del unsigned["headers"]["webhook-signature"]
    with api.client(None) as http:
        responses = [
            http.post("/v1/webhooks/generic", **tampered),
            http.post("/v1/webhooks/generic", **unsigned),
            http.post("/v1/webhooks/generic", **signed(event, "msg_4", secret="whsec_" + "d3Jvbmc=")),
            http.post("/v1/webhooks/generic", **signed(event, "msg_5", at=int(time.time()) - 3600)),
            http.post("/v1/webhooks/local", **signed(event, "msg_6")),  # the local helpdesk has no secret set
        ]
        unknown = http.post("/v1/webhooks/zendesk", **signed(event, "msg_7"))
    assert [r.status_code for r in responses] == [401] * 5
    assert unknown.status_code == 404
    for table in (RunRecord, JobRecord, WebhookDelivery):
        assert count(api.runtime, table) == 0


def test_shared_token_mode(make_api: Callable[..., LiveApi]) -> None:
    api = make_api(webhook_auth="token", webhook_tokens=["t0k3n-of-forty-characters-or-so-123456"])
    body = {"ticket": {"text": PASSWORD}}
    with api.client(None) as http:
        wrong = http.post("/v1/webhooks/generic", json=body, headers={"X-Webhook-Token": "nope", "webhook-id": "a"})
        right = http.post("/v1/webhooks/generic", json=body,
                          headers={"X-Webhook-Token": "t0k3n-of-forty-characters-or-so-123456", "webhook-id": "a"})
    assert wrong.status_code == 401 and right.json()["status"] == "queued"


# --- conversation semantics -----------------------------------------------------------------------------


def test_auto_replies_are_never_answered(api: LiveApi) -> None:
    with api.client("ingest") as http:
        by_header = http.post("/v1/tickets", json={"text": "Thanks, I will read your message on Monday.",
                                                   "headers": {"Auto-Submitted": "auto-replied"}}).json()
        by_text = http.post("/v1/tickets", json={"subject": "Out of Office: password",
                                                 "text": "I am out of the office until 3 March."}).json()
    assert by_header["handled"] == "ignored" and by_text["handled"] == "ignored"
    for outcome in (by_header, by_text):
        assert comments(api.runtime, outcome["ticket_id"]) == []


def test_a_follow_up_after_the_agents_reply_goes_to_a_person(api: LiveApi) -> None:
    with api.client("ingest") as http:
        first = http.post("/v1/tickets", json={"text": PASSWORD}).json()
        assert first["decision"] == "auto_reply"
        follow_up = http.post("/v1/tickets", json={"text": "That did not work, still locked out",
                                                   "ticket_id": first["ticket_id"]}).json()
    assert follow_up["handled"] == "handed_to_humans"
    ticket = api.runtime.helpdesk.get_ticket(first["ticket_id"])
    assert ticket.fields["queue"] == api.runtime.pack.policy.human_queue
    assert sum(c.public for c in ticket.comments) == 1  # no second answer from the agent


def test_a_follow_up_while_a_review_is_pending_is_recorded_for_the_reviewer(api: LiveApi) -> None:
    with api.client("ingest") as http:
        first = http.post("/v1/tickets", json={"text": BILLING}).json()
        follow_up = http.post("/v1/tickets", json={"text": "Any news?", "ticket_id": first["ticket_id"]}).json()
    assert follow_up["handled"] == "recorded" and follow_up["reason"] == "follow_up_while_review_pending"
    assert count(api.runtime, RunRecord) == 1


# --- visibility ------------------------------------------------------------------------------------------


def test_metrics_breakers_and_agent_card(api: LiveApi) -> None:
    with api.client("ingest") as http:
        http.post("/v1/tickets", json={"text": PASSWORD})
        http.post("/v1/tickets", json={"text": BILLING})
    with transaction(api.runtime.db) as session:
        session.add(BreakerRecord(category="billing", reason="override rate 0.5 over 0.3", previous_mode="auto"))
    with api.client("admin") as http:
        metrics = http.get("/metrics").text
        control = http.get("/v1/control").json()
        card = http.get("/v1/agent").json()
        health, ready = http.get("/healthz"), http.get("/readyz")
    assert 'triage_tickets_total{decision="auto_reply"} 1.0' in metrics
    assert 'triage_tickets_total{decision="escalate"} 1.0' in metrics
    assert "triage_latency_seconds_count 2.0" in metrics
    assert "triage_reviews_pending 1.0" in metrics and 'triage_breaker_tripped{category="billing"} 1.0' in metrics
    assert "triage_outbox_dead_letters 0.0" in metrics and 'triage_queue_depth{status="queued"} 0.0' in metrics
    assert control["breakers"]["billing"]["reason"].startswith("override rate")
    assert card["owner"]["name"] == "Test Owner" and card["autonomy"]["security"]["autonomy"] == "never"
    assert health.json()["status"] == "ok" and ready.json()["status"] == "ready"
