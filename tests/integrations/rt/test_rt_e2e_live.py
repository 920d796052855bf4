"""End to end on a real RT: a ticket opened in RT is triaged by the embedded agent on the default pack,
and what the agent decided shows up in RT; an RT outage delays the writes but loses or doubles none."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from agent.state import Ticket
from integrations.rt import RequestTrackerAdapter
from service.runtime import Embedded, open_embedded
from service.settings import Settings
from service.store import OutboxRecord, transaction, utcnow
from tests.integrations.rt.conftest import DEFAULT_PACK_QUEUES, RTPerson, rt_settings

AGENT = "triage-agent"
FORGOT_PASSWORD = ("I forgot my password and the reset email never arrives. "
                   "Can you help me get back into my account?")


@pytest.fixture
def agent_on_rt(rt: RequestTrackerAdapter, tmp_path: Path, trained_default_pack: Path) -> Embedded:
    """The embedded agent on the default pack, acting on the live RT (RT checked first: training is slow)."""
    settings = Settings(home=tmp_path / "home", pack=trained_default_pack, default_mode="auto")
    return open_embedded(settings, pack_dir=trained_default_pack, helpdesk=rt)


def test_a_ticket_opened_in_rt_is_triaged_and_answered_in_rt(agent_on_rt: Embedded, person: RTPerson) -> None:
    tid = person.create_ticket(FORGOT_PASSWORD, subject="Locked out", requester="sam@example.com")

    result = agent_on_rt.triage_from_helpdesk(tid)

    assert (result["category"], result["decision"]) == ("password_reset", "auto_reply")
    seen = person.ticket(tid)
    assert seen["QueueName"] == DEFAULT_PACK_QUEUES[result["queue"]] == "Accounts"
    assert seen["CF"]["Category"] == ["password_reset"]
    assert seen["Priority"] == str(agent_on_rt.helpdesk.settings.priorities[result["priority"]])  # type: ignore[attr-defined]
    messages = person.messages_by(tid, AGENT)
    assert [kind for kind, _ in messages] == ["Comment", "Correspond"]
    note, reply = messages[0][1], messages[1][1]
    assert "category password_reset" in note  # the why-note, internal
    assert reply.strip() == result["draft"].strip()  # the public answer is the agent's grounded draft
    assert result["citations"] and all(article.startswith("KB-PWD") and article in reply
                                       for article in result["citations"])
    assert seen["Status"] == "open"  # RT opens a new ticket on a public reply
    assert agent_on_rt.outbox.list(status="pending") == []


def test_writes_due_while_rt_is_down_arrive_exactly_once_when_it_is_back(
        agent_on_rt: Embedded, rt: RequestTrackerAdapter, rt_env: dict[str, str], person: RTPerson) -> None:
    tid = person.create_ticket(FORGOT_PASSWORD, subject="Locked out during an outage")
    snapshot = rt.get_ticket(tid)  # read before RT went away
    down = RequestTrackerAdapter(rt_settings(rt_env, base_url="http://127.0.0.1:9", timeout_s=2))
    agent_on_rt.helpdesk = down

    result = agent_on_rt.triage(Ticket(id=tid, text=snapshot.body, subject=snapshot.subject, channel="helpdesk",
                                       requester=snapshot.requester, fields=dict(snapshot.fields)))

    assert result["decision"] == "auto_reply"
    pending = agent_on_rt.outbox.list(status="pending")
    assert [row["op"] for row in pending] == ["set_fields", "add_note", "add_reply"]
    assert pending[0]["last_error"].startswith("RequestNotSent")  # the first write never left; the rest wait
    assert person.messages_by(tid, AGENT) == [] and person.ticket(tid)["QueueName"] == "General"

    # RT is back; the worker's next round comes after the backoff
    agent_on_rt.helpdesk = rt
    agent_on_rt.outbox.clock = lambda: utcnow() + timedelta(hours=1)
    report = agent_on_rt.deliver()
    assert (report.delivered, report.failed) == (3, 0)

    # a crash right after RT applied the reply, before the outbox recorded it: delivered again, written once
    with transaction(agent_on_rt.db) as session:
        row = session.exec(select(OutboxRecord).where(OutboxRecord.ticket_id == tid,
                                                      OutboxRecord.op == "add_reply")).one()
        row.status = "pending"
        session.add(row)
    assert agent_on_rt.deliver().delivered == 1
    assert agent_on_rt.deliver().delivered == 0

    assert [kind for kind, _ in person.messages_by(tid, AGENT)] == ["Comment", "Correspond"]
    seen = person.ticket(tid)
    assert seen["QueueName"] == "Accounts" and seen["CF"]["Category"] == ["password_reset"]
    assert agent_on_rt.outbox.list(status="pending") == []
