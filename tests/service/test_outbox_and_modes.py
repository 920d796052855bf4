"""The outbox (retries, dead letters, exactly-once delivery), scoped modes and the circuit breaker."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from integrations.contract import NotFound, RateLimited, Unavailable
from integrations.local import LocalHelpdesk
from service.runtime import Embedded
from service.store import OutboxRecord, as_utc, utcnow

# Every test here runs on SQLite and on the real PostgreSQL.
pytestmark = pytest.mark.parametrize("state_url", ["sqlite", "postgresql"], indirect=True)


@dataclass
class FlakyDesk:
    """The local helpdesk behind an unreliable network: down, or losing answers after writing."""

    desk: LocalHelpdesk
    down: bool = False
    lose_answers: bool = False
    calls: Counter[str] = field(default_factory=Counter)

    def _call(self, name: str, write: object) -> None:
        self.calls[name] += 1
        if self.down:
            raise ConnectionError("helpdesk unreachable")
        write()  # type: ignore[operator]
        if self.lose_answers:
            raise TimeoutError("the helpdesk wrote it, but its answer was lost")

    def set_fields(self, ticket_id: str, fields: Mapping[str, str | list[str]], *, idempotency_key: str,
                   baseline: Mapping[str, object] | None = None) -> None:
        self._call("set_fields", lambda: self.desk.set_fields(ticket_id, fields, idempotency_key=idempotency_key,
                                                              baseline=baseline))

    def add_note(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        self._call("add_note", lambda: self.desk.add_note(ticket_id, body, idempotency_key=idempotency_key))

    def add_reply(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        self._call("add_reply", lambda: self.desk.add_reply(ticket_id, body, idempotency_key=idempotency_key))

    def create_ticket(self, body: str, subject: str = "", requester: str | None = None) -> str:
        return self.desk.create_ticket(body, subject, requester)

    def get_ticket(self, ticket_id: str) -> object:
        return self.desk.get_ticket(ticket_id)


def no_backoff(app: Embedded) -> None:
    """Each reading of the outbox's clock is an hour later: every retry is due at the next pass."""
    hours = iter(range(1, 10_000))
    app.outbox.clock = lambda: utcnow() + timedelta(hours=next(hours))


def comments(app: Embedded, ticket_id: str) -> list[tuple[bool, str]]:
    return [(c.public, c.body) for c in app.helpdesk.get_ticket(ticket_id).comments]


def test_outage_then_recovery_delivers_every_write_exactly_once(app: Embedded) -> None:
    real = app.helpdesk
    flaky = FlakyDesk(real, down=True)
    app.helpdesk = flaky  # type: ignore[assignment]
    tickets = [app.submit(t)["ticket_id"] for t in ("I forgot my password", "please reset my password",
                                                    "I clicked a phishing link")]
    assert all(comments(app, t) == [] for t in tickets)
    assert {r["status"] for r in app.outbox.list()} == {"pending"}
    no_backoff(app)
    flaky.down, flaky.lose_answers = False, True  # writes land, but answers are lost: the outbox retries
    app.deliver()
    flaky.lose_answers = False
    report = app.deliver()
    assert report.failed == 0 and {r["status"] for r in app.outbox.list()} == {"delivered"}
    for ticket_id in tickets:
        bodies = comments(app, ticket_id)
        assert len(bodies) == len(set(bodies))  # nothing written twice
    assert [p for p, _ in comments(app, tickets[0])] == [False, True]


def test_dead_letters_are_listed_and_redriven(app: Embedded) -> None:
    flaky = FlakyDesk(app.helpdesk, down=True)
    app.helpdesk = flaky  # type: ignore[assignment]
    app.outbox.max_attempts = 2
    ticket = app.submit("I forgot my password")["ticket_id"]
    no_backoff(app)
    app.deliver()
    dead = app.outbox.list("dead")
    assert dead and "helpdesk unreachable" in dead[0]["last_error"]
    flaky.down = False
    assert app.outbox.redrive() == len(dead)
    app.deliver()
    assert {r["status"] for r in app.outbox.list()} == {"delivered"}
    assert len(comments(app, ticket)) == 2


@dataclass
class RefusingDesk(FlakyDesk):
    """A helpdesk that answers every write with one adapter error."""

    error: Exception = field(default_factory=lambda: Unavailable("503"))

    def _call(self, name: str, write: object) -> None:
        self.calls[name] += 1
        raise self.error


def test_a_write_the_helpdesk_refuses_for_good_is_dead_lettered_at_once(app: Embedded) -> None:
    app.helpdesk = RefusingDesk(app.helpdesk, error=NotFound("ticket 1 was deleted"))  # type: ignore[assignment]
    app.submit("I forgot my password")
    dead = app.outbox.list("dead")
    assert dead and dead[0]["attempts"] == 1 and "deleted" in dead[0]["last_error"]


def test_a_rate_limited_write_waits_as_long_as_the_helpdesk_asked(app: Embedded) -> None:
    app.helpdesk = RefusingDesk(app.helpdesk, error=RateLimited("429", retry_after=3600))  # type: ignore[assignment]
    before = utcnow()
    app.submit("I forgot my password")
    with Session(app.db) as session:
        row = session.exec(select(OutboxRecord).where(OutboxRecord.status == "pending")).first()
    assert row is not None and row.attempts == 1
    assert as_utc(row.next_attempt_at) >= before + timedelta(seconds=3590)


def test_category_shadow_and_action_off_write_nothing(app: Embedded) -> None:
    app.control.set_mode("shadow", scope="category:password_reset", changed_by="ana", reason="trial")
    result = app.submit("I forgot my password and need to reset it")
    assert result["decision"] == "auto_reply" and result["actions"][0]["executed"] is False
    assert comments(app, result["ticket_id"]) == [] and app.outbox.list() == []
    app.control.set_mode("auto", scope="category:password_reset", changed_by="ana", reason="trial over")
    app.control.set_mode("off", scope="action:reply", changed_by="ana", reason="no replies today")
    result = app.submit("I forgot my password and need to reset it")
    assert result["decision"] == "escalate" and result["reasons"] == ["mode_off"]
    assert comments(app, result["ticket_id"]) == []


def test_global_propose_asks_a_human_for_everything(app: Embedded) -> None:
    app.control.set_mode("propose", changed_by="ana", reason="go-live week")
    result = app.submit("I forgot my password and need to reset it")
    assert result["decision"] == "escalate" and "mode_propose" in result["reasons"]
    assert result["status"] == "awaiting_review"


def test_circuit_breaker_trips_on_errors_and_only_a_person_resets_it(app: Embedded) -> None:
    flaky = FlakyDesk(app.helpdesk, down=True)
    app.helpdesk = flaky  # type: ignore[assignment]
    app.outbox.max_attempts = 1
    for _ in range(10):  # min_samples actions, each dead-lettered
        app.submit("I forgot my password and need to reset it")
    modes = app.control.modes()
    assert "password_reset" in modes["breakers"] and "error rate" in modes["breakers"]["password_reset"]["reason"]
    assert app.control.mode("category:password_reset") == "propose"
    flaky.down = False
    result = app.submit("I forgot my password and need to reset it")
    assert "mode_propose" in result["reasons"]  # demoted: a human approves until someone resets it
    app.control.set_mode("auto", scope="category:password_reset", changed_by="ana", reason="helpdesk fixed")
    assert "password_reset" not in app.control.modes()["breakers"]
    changes = [(c["new"], c["by"]) for c in app.control.history()]
    assert ("propose", "circuit_breaker") in changes and ("auto", "ana") in changes


def test_circuit_breaker_trips_when_reviewers_keep_overriding(app: Embedded) -> None:
    from agent.state import ReviewAnswer

    for _ in range(10):  # min_samples reviews, every one rejected
        result = app.submit("I was charged twice on my invoice this month")
        app.answer(result["run_id"], ReviewAnswer(verdict="reject", reviewer="ana",
                                                  digest=result["approval"]["digest"]))
    breakers = app.control.modes()["breakers"]
    assert "billing" in breakers and "human override rate 1.00" in breakers["billing"]["reason"]
    assert app.control.history()[-1] == {**app.control.history()[-1], "scope": "category:billing",
                                         "new": "propose", "by": "circuit_breaker"}


@dataclass
class CombiningDesk(FlakyDesk):
    """A helpdesk whose API takes fields and a comment in one call (like Zendesk)."""

    combined: list[tuple[str, dict[str, object], str | None]] = field(default_factory=list)

    def write(self, ticket_id: str, *, idempotency_key: str, fields: Mapping[str, str | list[str]] | None = None,
              comment: str | None = None, public: bool = False,
              baseline: Mapping[str, object] | None = None) -> None:
        self.calls["write"] += 1
        self.combined.append((ticket_id, dict(fields or {}), comment))
        self.desk.set_fields(ticket_id, fields or {}, idempotency_key=idempotency_key, baseline=baseline)
        if comment:
            self.desk.add_note(ticket_id, comment, idempotency_key=f"{idempotency_key}:note")


def test_fields_and_note_travel_in_one_call_where_the_helpdesk_allows(app: Embedded) -> None:
    desk = CombiningDesk(app.helpdesk)
    app.helpdesk = desk  # type: ignore[assignment]
    ticket = app.submit("I forgot my password")["ticket_id"]
    assert desk.calls["write"] == 1 and desk.calls["set_fields"] == 0 and desk.calls["add_note"] == 0
    assert desk.combined[0][1]["queue"] == "identity" and "Triage agent" in str(desk.combined[0][2])
    assert {r["status"] for r in app.outbox.list()} == {"delivered"}
    assert [p for p, _ in comments(app, ticket)] == [False, True]  # the note, then the reply
