"""The webhook Scrip scripts/live/rt.sh installs in RT: a person's change reaches the agent as a signed
Standard Webhooks request that the adapter verifies; the agent's own writes send nothing."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

from integrations.contract import WebhookRejected
from integrations.rt import RequestTrackerAdapter
from tests.conftest import require_live
from tests.integrations.rt.conftest import RTPerson


@dataclass
class Received:
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver(rt_env: dict[str, str]) -> Iterator[Received]:
    """Listens where RT's Scrip posts (RT_WEBHOOK_URL in the env file) for the length of a test."""
    url = urlsplit(rt_env.get("RT_WEBHOOK_URL", ""))
    if not url.port:
        require_live("Request Tracker", "its env file names no RT_WEBHOOK_URL: re-run scripts/live/rt.sh")
    received = Received()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.requests.append(({k: v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    try:
        server = http.server.ThreadingHTTPServer((url.hostname or "127.0.0.1", url.port), Handler)
    except OSError as exc:
        require_live("Request Tracker", f"cannot listen for its webhook on {url.netloc}: {exc}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield received
    server.shutdown()
    server.server_close()


def test_a_persons_changes_arrive_signed_and_the_agents_own_do_not(
        receiver: Received, rt: RequestTrackerAdapter, person: RTPerson) -> None:
    tid = person.create_ticket("Slack notifications stopped yesterday")  # RT posts before it answers
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    event = rt.verify_webhook(headers, body)
    assert (event.system, event.ticket_id, event.kind) == ("rt", tid, "created")

    rt.add_note(tid, "why: integrations_api", idempotency_key="wh:note")
    rt.set_fields(tid, {"queue": "integrations"}, idempotency_key="wh:fields")
    assert len(receiver.requests) == 1  # the agent's writes wake nobody up: no loop

    person.comment(tid, "Still nothing in our channel.", public=True)
    assert [rt.verify_webhook(h, b).kind for h, b in receiver.requests[1:]] == ["comment"]
    assert len({rt.verify_webhook(h, b).event_id for h, b in receiver.requests}) == 2

    with pytest.raises(WebhookRejected):
        rt.verify_webhook(headers, body.replace(f'"{tid}"'.encode(), b'"1000000"'))  # a forged ticket id
