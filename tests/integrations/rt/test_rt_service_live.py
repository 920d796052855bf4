"""The service on a real RT, the way it runs there: RT sends no webhooks, so the poller finds new and
changed tickets, the service queues them, a worker triages them, and the answers appear in RT. A
requester writing again after the agent's answer goes to a person; the agent does not answer twice."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from integrations.rt import RequestTrackerAdapter
from integrations.rt_poll import RTPoller
from service.intake import Intake
from service.polling import handle_event
from service.runtime import open_embedded
from service.settings import Settings
from service.workers import WorkerPool
from tests.integrations.rt.conftest import DEFAULT_PACK_QUEUES, RTPerson

AGENT = "triage-agent"


def poll_settled(poller: RTPoller, intake: Intake, timeout_s: float = 15.0) -> None:
    """Poll until no change waits for RT's current second to end (RT dates are whole seconds)."""
    deadline = time.monotonic() + timeout_s
    while poller.poll(lambda event: handle_event(intake, event)).deferred and time.monotonic() < deadline:
        time.sleep(0.3)


def test_polled_ticket_is_triaged_in_rt_and_a_follow_up_goes_to_a_person(
        rt: RequestTrackerAdapter, person: RTPerson, marker: Callable[[str], str], tmp_path: Path,
        trained_default_pack: Path) -> None:
    settings = Settings(home=tmp_path / "home", pack=trained_default_pack)
    intake = Intake(open_embedded(settings, pack_dir=trained_default_pack, helpdesk=rt))
    subject = marker("locked out")
    poller = RTPoller(rt, tmp_path / "poll.db", query=f"Subject LIKE '{subject.replace(chr(39), '')}'",
                      start_at=rt.server_time() - timedelta(seconds=1))
    tid = person.create_ticket("I forgot my password and the reset email never arrives. Can you help me log in?",
                               subject=subject, requester="sam@example.com")

    poll_settled(poller, intake)
    WorkerPool(intake).drain()
    assert [kind for kind, _ in person.messages_by(tid, AGENT)] == ["Comment", "Correspond"]
    assert person.ticket(tid)["CF"]["Category"] == ["password_reset"]

    poll_settled(poller, intake)  # our own writes changed LastUpdated: no new run for them
    WorkerPool(intake).drain()
    assert len(person.messages_by(tid, AGENT)) == 2

    person.comment(tid, "That link did not work either, still locked out.", public=True)
    poll_settled(poller, intake)
    WorkerPool(intake).drain()
    messages = person.messages_by(tid, AGENT)
    assert [kind for kind, _ in messages] == ["Comment", "Correspond", "Comment"]  # a note, no second answer
    assert "a person takes it from here" in messages[-1][1]
    assert person.ticket(tid)["QueueName"] == DEFAULT_PACK_QUEUES["support-triage"]
