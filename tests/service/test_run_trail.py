"""A run's audit trail commits with its outcome, and the modes a decision needs are read together."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from agent.state import Ticket
from service.runtime import Embedded, redacted

pytestmark = pytest.mark.parametrize("state_url", ["sqlite", "postgresql"], indirect=True)


def kinds(app: Embedded, ticket_id: str) -> list[str]:
    return [f"{e['node']}:{e['kind']}" for e in app.audit.trail(ticket_id)]


def test_a_finished_run_has_its_trail_and_its_outcome(app: Embedded) -> None:
    result = app.submit("I forgot my password and need to reset it")
    trail = app.audit.trail(result["ticket_id"])
    finished = [e for e in trail if e["kind"] == "finished"]
    assert len(finished) == 1 and finished[0]["data"]["decision"] == result["decision"]
    assert app.run_result(result["run_id"]) == result
    assert app.audit.verify()[1] == []


def test_a_run_waiting_for_a_reviewer_shows_the_request_on_its_trail(app: Embedded) -> None:
    result = app.submit("I was charged twice on my invoice this month")
    assert result["status"] == "awaiting_review"
    assert "escalate:review_requested" in kinds(app, result["ticket_id"])


def test_a_run_killed_before_its_outcome_was_saved_gets_its_trail_on_recovery(
        open_app: Callable[[], Embedded]) -> None:
    first = open_app()
    ticket_id = first.helpdesk.create_ticket("I forgot my password and need to reset it")  # type: ignore[attr-defined]
    ticket = Ticket(id=ticket_id, text="I forgot my password and need to reset it", channel="api")
    first._register(ticket, "run-1")
    first.engine.run(redacted(ticket), run_id="run-1")  # the graph finished; the process died before saving
    assert kinds(first, ticket_id) == []

    second = open_app()
    assert second.recover()["runs_finished"] == ["run-1"]
    trail = kinds(second, ticket_id)
    assert trail.count("record:finished") == 1 and trail[0] == "control_gate:started"
    assert second.run_result("run-1")["status"] == "done"  # type: ignore[index]
    assert second.audit.verify()[1] == []


def test_one_read_answers_every_scope_and_unset_scopes_keep_their_defaults(app: Embedded) -> None:
    app.control.set_mode("propose", scope="category:billing", changed_by="ana")
    app.control.set_mode("off", scope="action:reply", changed_by="ana")
    modes = app.control.modes_of(["global", "category:billing", "category:password_reset", "action:reply"])
    assert modes == {"global": "auto", "category:billing": "propose", "category:password_reset": "auto",
                     "action:reply": "off"}
    assert all(app.control.mode(scope) == mode for scope, mode in modes.items())
