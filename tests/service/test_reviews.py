"""Approvals: bound to the exact action, single use, expiring into the human queue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from agent.state import ReviewAnswer
from service.approvals import ReviewError
from service.runtime import Embedded
from service.store import utcnow

# Every test here runs on SQLite and on the real PostgreSQL.
pytestmark = pytest.mark.parametrize("state_url", ["sqlite", "postgresql"], indirect=True)


def escalated(app: Embedded) -> dict[str, Any]:
    result = app.submit("I was charged twice on my invoice this month")
    assert result["status"] == "awaiting_review" and result["approval"]
    return result


def answer(result: dict[str, Any], verdict: str = "approve", **extra: Any) -> ReviewAnswer:
    return ReviewAnswer(verdict=verdict, reviewer=extra.pop("reviewer", "ana"),  # type: ignore[arg-type]
                        digest=extra.pop("digest", result["approval"]["digest"]), **extra)


def public_replies(app: Embedded, ticket_id: str) -> list[str]:
    return [c.body for c in app.helpdesk.get_ticket(ticket_id).comments if c.public]


def test_approve_acts_once_even_when_answered_twice(app: Embedded) -> None:
    result = escalated(app)
    assert public_replies(app, result["ticket_id"]) == []  # nothing reaches the customer before approval
    done = app.answer(result["run_id"], answer(result))
    assert done["status"] == "done" and "review_approve" in done["reasons"]
    with pytest.raises(ReviewError, match="already answered"):
        app.answer(result["run_id"], answer(result, reviewer="bob"))
    assert len(public_replies(app, result["ticket_id"])) == 1
    reviewed = [e for e in app.audit.trail(result["ticket_id"]) if e["kind"] == "reviewed"]
    assert reviewed[0]["data"]["reviewer"] == "ana"


def test_an_answer_about_another_action_is_refused(app: Embedded) -> None:
    result = escalated(app)
    with pytest.raises(ReviewError, match="another version of the action"):
        app.answer(result["run_id"], answer(result, digest="0" * 64))
    assert app.approvals.get(result["run_id"])["status"] == "pending"  # type: ignore[index]


def test_edit_makes_a_new_digest_and_sends_the_edited_reply(app: Embedded) -> None:
    result = escalated(app)
    done = app.answer(result["run_id"], answer(result, verdict="edit", reply="Refund issued, see invoice."))
    assert public_replies(app, result["ticket_id"]) == ["Refund issued, see invoice."]
    reviewed = next(e for e in app.audit.trail(result["ticket_id"]) if e["kind"] == "reviewed")
    assert reviewed["data"]["digest"] != result["approval"]["digest"] and "review_edit" in done["reasons"]


def test_reroute_and_reject(app: Embedded) -> None:
    first, second = escalated(app), escalated(app)
    app.answer(first["run_id"], answer(first, verdict="reroute", category="password_reset", queue="identity"))
    assert app.helpdesk.get_ticket(first["ticket_id"]).fields["queue"] == "identity"
    assert public_replies(app, first["ticket_id"]) == []
    app.answer(second["run_id"], answer(second, verdict="reject"))
    ticket = app.helpdesk.get_ticket(second["ticket_id"])
    assert ticket.fields["queue"] == "triage" and public_replies(app, second["ticket_id"]) == []


def test_expired_request_goes_to_the_human_queue(app: Embedded) -> None:
    result = escalated(app)
    past = (utcnow() - timedelta(minutes=1)).replace(tzinfo=None).isoformat(sep=" ")
    with app.db.begin() as conn:
        conn.execute(text(f"UPDATE approvals SET expires_at = '{past}'"))
    with pytest.raises(ReviewError, match="expired"):
        app.answer(result["run_id"], answer(result))
    [expired] = app.expire_reviews()
    assert "approval_expired" in expired["reasons"] and expired["status"] == "left_for_humans"
    assert app.helpdesk.get_ticket(result["ticket_id"]).fields["queue"] == "triage"
    assert public_replies(app, result["ticket_id"]) == []
    assert app.approvals.get(result["run_id"])["status"] == "expired"  # type: ignore[index]


def test_paused_run_survives_a_restart(open_app: Callable[[], Embedded]) -> None:
    result = escalated(open_app())
    restarted = open_app()
    assert [p["run_id"] for p in restarted.approvals.pending()] == [result["run_id"]]
    assert restarted.answer(result["run_id"], answer(result))["status"] == "done"


def test_only_runs_that_paused_keep_checkpoints(app: Embedded) -> None:
    """A run that finishes without a review leaves nothing to read back (decision 0008); a paused one can
    be resumed from its checkpoint, and after the answer its final state is saved as well."""
    plain = app.submit("I forgot my password")
    assert plain["status"] == "done" and not app.engine.graph.get_state(app.engine._config(plain["run_id"])).values
    result = escalated(app)
    assert app.engine.pending(result["run_id"])
    app.answer(result["run_id"], answer(result))
    final = app.engine.graph.get_state(app.engine._config(result["run_id"]))
    assert final.values["status"] == "done" and not final.next
