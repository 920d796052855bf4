"""The RT poller against a real RT: new and changed tickets reported once, a cursor that survives a
restart, at-least-once delivery, and no loop on the agent's own writes."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from integrations.contract import WebhookEvent
from integrations.rt import RequestTrackerAdapter
from integrations.rt_poll import PollReport, RTPoller
from tests.integrations.rt.conftest import RTPerson


def poll_until_settled(poller: RTPoller, events: list[WebhookEvent], timeout_s: float = 15.0) -> PollReport:
    """Poll until no change is waiting for RT's current second to end (RT dates are whole seconds)."""
    deadline = time.monotonic() + timeout_s
    while True:
        report = poller.poll(events.append)
        if report.deferred == 0 or time.monotonic() > deadline:
            return report
        time.sleep(0.3)


@pytest.fixture
def new_poller(rt: RequestTrackerAdapter, tmp_path: Path,
               marker: Callable[[str], str]) -> Callable[[], RTPoller]:
    """A poller (a fresh object each call, as after a restart) over this test's tickets only."""
    started = rt.server_time() - timedelta(seconds=1)
    subject = marker("").replace("'", "")
    return lambda: RTPoller(rt, tmp_path / "poll.db", query=f"Subject LIKE '{subject}'", start_at=started)


def test_new_and_changed_tickets_are_reported_once_and_the_cursor_survives_a_restart(
        new_poller: Callable[[], RTPoller], person: RTPerson, marker: Callable[[str], str]) -> None:
    first = person.create_ticket("Export to CSV fails", subject=marker("export"))
    second = person.create_ticket("Cannot invite a member", subject=marker("invite"))
    events: list[WebhookEvent] = []
    poller = new_poller()
    poll_until_settled(poller, events)
    assert [(e.ticket_id, e.kind) for e in events] == [(first, "created"), (second, "created")]
    assert len({e.event_id for e in events}) == 2

    poll_until_settled(poller, events)
    restarted = new_poller()  # same state file, new process
    poll_until_settled(restarted, events)
    assert len(events) == 2  # nothing reported twice, before or after the restart

    person.comment(first, "Any news? It still fails.", public=True)  # the requester writes again
    poll_until_settled(restarted, events)
    assert [(e.ticket_id, e.kind) for e in events[2:]] == [(first, "updated")]


def test_a_change_whose_handler_failed_comes_again(new_poller: Callable[[], RTPoller], person: RTPerson,
                                                   marker: Callable[[str], str]) -> None:
    tid = person.create_ticket("Webhook deliveries stopped", subject=marker("webhooks"))
    time.sleep(1.1)  # let RT's second pass so the change is settled

    def crash(event: WebhookEvent) -> None:
        raise RuntimeError("worker died while handling the change")

    with pytest.raises(RuntimeError):
        new_poller().poll(crash)
    events: list[WebhookEvent] = []
    poll_until_settled(new_poller(), events)
    assert [e.ticket_id for e in events] == [tid]


def test_the_agents_own_writes_do_not_come_back(new_poller: Callable[[], RTPoller], rt: RequestTrackerAdapter,
                                                person: RTPerson, marker: Callable[[str], str]) -> None:
    tid = person.create_ticket("Two-factor codes are rejected", subject=marker("2fa"))
    events: list[WebhookEvent] = []
    poller = new_poller()
    poll_until_settled(poller, events)
    assert [e.ticket_id for e in events] == [tid]

    # the agent triages it: fields, note, reply (each updates the ticket's LastUpdated)
    rt.set_fields(tid, {"queue": "accounts", "category": "login_2fa"}, idempotency_key="own:fields")
    rt.add_note(tid, "why: login_2fa", idempotency_key="own:note")
    rt.add_reply(tid, "Check your phone's clock.", idempotency_key="own:reply")
    report = poll_until_settled(poller, events)
    assert len(events) == 1
    assert report.own_writes == 1

    person.comment(tid, "My clock is right, still failing.", public=True)  # but a person's answer does
    poll_until_settled(poller, events)
    assert [(e.ticket_id, e.kind) for e in events[1:]] == [(tid, "updated")]
