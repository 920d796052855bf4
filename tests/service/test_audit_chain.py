"""`triage audit verify` finds every kind of tampering, and says which entry."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from service.runtime import Embedded

# Every test here runs on SQLite and on the real PostgreSQL.
pytestmark = pytest.mark.parametrize("state_url", ["sqlite", "postgresql"], indirect=True)


def fill(app: Embedded) -> None:
    app.submit("I forgot my password and need to reset it")
    app.submit("I clicked a link in a phishing email")
    app.submit("I was charged twice on my invoice")


def sql(app: Embedded, statement: str) -> None:
    with app.db.begin() as conn:
        conn.execute(text(statement))


def test_an_untouched_chain_verifies(app: Embedded) -> None:
    fill(app)
    count, problems = app.audit.verify()
    assert count > 20 and problems == []


def test_edited_entry_is_named(app: Embedded) -> None:
    fill(app)
    sql(app, "UPDATE audit_events SET data_json = '{\"decision\": \"auto_reply\"}' WHERE seq = 7")
    problems = app.audit.verify()[1]
    assert [p.seq for p in problems] == [7] and "edited" in str(problems[0])


def test_deleted_entry_is_named(app: Embedded) -> None:
    fill(app)
    sql(app, "DELETE FROM audit_events WHERE seq = 5")
    problems = app.audit.verify()[1]
    assert problems and problems[0].seq == 6 and "deleted" in str(problems[0])


def test_reordered_entries_are_found(app: Embedded) -> None:
    fill(app)
    sql(app, "UPDATE audit_events SET seq = -1 WHERE seq = 3")
    sql(app, "UPDATE audit_events SET seq = 3 WHERE seq = 4")
    sql(app, "UPDATE audit_events SET seq = 4 WHERE seq = -1")
    problems = app.audit.verify()[1]
    assert {p.seq for p in problems} >= {3, 4}


def test_deleted_tail_is_found_through_the_anchors(app: Embedded) -> None:
    fill(app)
    count, _ = app.audit.verify()
    sql(app, f"DELETE FROM audit_events WHERE seq > {count - 3}")
    problems = app.audit.verify()[1]
    assert any("newest entries were deleted" in str(p) for p in problems)


def test_rewritten_chain_is_caught_by_the_anchor_file(app: Embedded) -> None:
    """Even deleting the tail and the database's own anchors leaves the mirrored anchor file."""
    fill(app)
    count, _ = app.audit.verify()
    sql(app, f"DELETE FROM audit_events WHERE seq > {count - 2}")
    sql(app, "DELETE FROM audit_anchors")
    assert any("newest entries were deleted" in str(p) for p in app.audit.verify()[1])


def test_erasing_a_persons_data_keeps_the_chain_verifiable(app: Embedded) -> None:
    result = app.submit("I forgot my password, call me on +44 20 7946 0958", requester="jo@example.com")
    assert app.pii.text(result["ticket_id"]) is not None
    trail = str(app.audit.trail(result["ticket_id"]))
    assert "7946 0958" not in trail  # the raw text never enters the chained payload (digits alone can be a timestamp)
    assert app.pii.erase(requester="jo@example.com") == 1
    assert app.pii.text(result["ticket_id"]) is None
    assert app.audit.verify()[1] == []


def test_mode_changes_are_on_the_trail(app: Embedded) -> None:
    app.control.set_mode("shadow", scope="category:billing", changed_by="ana", reason="audit week")
    entries = app.audit.trail("control")
    assert entries[-1]["data"] == {"scope": "category:billing", "old": None, "new": "shadow", "by": "ana",
                                   "reason": "audit week"}
    assert app.control.history()[-1]["by"] == "ana"
