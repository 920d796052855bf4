"""The built-in local helpdesk: real SQLite, idempotent writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.local import LocalHelpdesk, TicketNotFound


def test_writes_are_idempotent_per_key(tmp_path: Path) -> None:
    desk = LocalHelpdesk(tmp_path / "h.db")
    tid = desk.create_ticket("printer jammed", subject="printer", requester="a@example.com")
    desk.set_fields(tid, {"queue": "hardware", "tags": ["x"]}, idempotency_key="k1")
    desk.add_note(tid, "why: printer", idempotency_key="k2")
    desk.add_reply(tid, "Try this", idempotency_key="k3")
    # a retry after a crash repeats the same keys: nothing is written twice
    desk.add_note(tid, "why: printer", idempotency_key="k2")
    desk.add_reply(tid, "Try this", idempotency_key="k3")
    desk.set_fields(tid, {"queue": "other"}, idempotency_key="k1")
    ticket = LocalHelpdesk(tmp_path / "h.db").get_ticket(tid)  # survives reopening
    assert ticket.fields == {"queue": "hardware", "tags": ["x"]}
    assert [(c.public, c.body) for c in ticket.comments] == [(False, "why: printer"), (True, "Try this")]
    assert ticket.status == "answered"


def test_unknown_ticket(tmp_path: Path) -> None:
    desk = LocalHelpdesk(tmp_path / "h.db")
    with pytest.raises(TicketNotFound):
        desk.add_note("999", "x", idempotency_key="k")
    with pytest.raises(TicketNotFound):
        desk.get_ticket("999")


def test_a_field_a_human_changed_after_arrival_is_left_alone(tmp_path: Path) -> None:
    desk = LocalHelpdesk(tmp_path / "h.db")
    tid = desk.create_ticket("my invoice is wrong")
    desk.set_human_fields(tid, {"queue": "vip"})  # an agent moved it while the run was in flight
    desk.set_fields(tid, {"queue": "finance", "priority": "normal"}, idempotency_key="k",
                    baseline={"queue": None, "priority": None})
    assert desk.get_ticket(tid).fields == {"queue": "vip", "priority": "normal"}
