"""No raw PII anywhere a run writes (logs, audit, checkpoints, outbox, run results, notes), while the reply
delivered to the customer still addresses them by their own address."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from agent.state import ReviewAnswer
from guardrails.injection import InjectionResult
from service.runtime import Embedded, open_embedded
from service.settings import Settings

REQUESTER = "jo.bloggs@acme.example"
SUBJECT = "Charged twice on card 4111 1111 1111 1111"
TICKET = (
    "Hi, I was charged twice on my invoice this month. Reach me at jo.bloggs@acme.example or call "
    "+44 20 7946 0958. The card is 4111-1111-1111-1111, refunds to IBAN DE89 3704 0044 0532 0130 00 please. "
    "I logged in from 203.0.113.42, my SSN is 123-45-6789 and I live at 221 Baker Street, Apt 2. "
    "Please copy my accountant bo.smith@ledger.example."
)
# Each value as written, plus the forms a careless serializer could turn it into.
RAW = ["jo.bloggs@acme.example", "7946 0958", "4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111",
       "DE89 3704 0044", "203.0.113.42", "123-45-6789", "221 Baker Street", "bo.smith@ledger.example"]


@pytest.fixture
def app(tiny_pack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Embedded:
    # The injection detector has its own tests; quiet here, so the ticket reaches a reviewer, not a hand-off.
    monkeypatch.setattr("agent.nodes.guard_input.detect_injection", lambda *a, **k: InjectionResult())
    monkeypatch.setattr("guardrails.output.detect_injection", lambda *a, **k: InjectionResult())
    pack = tmp_path / "pack"
    shutil.copytree(tiny_pack, pack)
    return open_embedded(Settings(home=tmp_path / "home"), pack)


def leaks(blob: str | bytes, allowed: tuple[str, ...] = ()) -> list[str]:
    """The raw values found in a blob (bytes are searched as UTF-8)."""
    text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
    return [v for v in RAW if v in text and v not in allowed]


def table_rows(path: Path, skip: set[str]) -> dict[str, list[Any]]:
    with sqlite3.connect(path) as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'") if t not in skip]
        return {t: db.execute(f"SELECT * FROM {t}").fetchall() for t in tables}


def test_a_ticket_full_of_pii_leaves_no_raw_value_behind(app: Embedded, tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app.control.set_mode("propose", changed_by="test", reason="every action waits for a reviewer")
    result = app.submit(TICKET, subject=SUBJECT, requester=REQUESTER)
    assert result["status"] == "awaiting_review", result["reasons"]
    assert app.pii.text(result["ticket_id"]) == f"{SUBJECT}\n{TICKET}"  # the raw text lives in the PII store
    # The reviewer sees placeholders only, and writes the reply with them.
    reply = "Hello [EMAIL_1], the duplicate charge on [CARD_1] is being reversed; we did not copy [EMAIL_2]."
    done = app.answer(result["run_id"], ReviewAnswer(verdict="edit", reviewer="ana", reply=reply,
                                                     digest=result["approval"]["digest"]))
    assert done["status"] == "done"

    home = tmp_path / "home"
    found: dict[str, list[str]] = {}
    for table, rows in table_rows(home / "triage.db", skip={"ticket_texts"}).items():  # audit, outbox, runs, ...
        found[f"triage.db:{table}"] = leaks(repr(rows))
    for table, rows in table_rows(home / "checkpoints.db", skip=set()).items():
        found[f"checkpoints.db:{table}"] = [v for row in rows for cell in row if isinstance(cell, str | bytes)
                                            for v in leaks(cell)]
    found["audit anchors"] = leaks((home / "audit-anchors.log").read_text()) if (
        home / "audit-anchors.log").exists() else []
    found["logs"] = [v for r in caplog.records for v in leaks(r.getMessage())]
    found["results"] = leaks(repr(result) + repr(done))
    comments = app.helpdesk.get_ticket(result["ticket_id"]).comments
    found["internal notes"] = [v for c in comments if not c.public for v in leaks(c.body)]
    assert {where: values for where, values in found.items() if values} == {}

    # The customer's reply is addressed to them, and to them only: every other value stays redacted.
    public = [c.body for c in comments if c.public]
    assert public == ["Hello jo.bloggs@acme.example, the duplicate charge on [CARD_1] is being reversed; "
                      "we did not copy [EMAIL_2]."]
    assert leaks(public[0], allowed=(REQUESTER,)) == []
    # The graph worked on the redacted ticket, and knew the requester only as a placeholder.
    with sqlite3.connect(home / "checkpoints.db") as db:
        blobs = b"".join(bytes(cell) for row in db.execute("SELECT * FROM checkpoints") for cell in row
                         if isinstance(cell, bytes))
    assert b"[CARD_1]" in blobs and b"[IBAN_1]" in blobs and b"[EMAIL_2]" in blobs


def test_an_erased_requester_gets_no_value_filled_back(app: Embedded) -> None:
    app.control.set_mode("propose", changed_by="test", reason="every action waits for a reviewer")
    result = app.submit(TICKET, subject=SUBJECT, requester=REQUESTER)
    assert app.pii.erase(requester=REQUESTER) == 1
    app.answer(result["run_id"], ReviewAnswer(verdict="edit", reviewer="ana", reply="Hello [EMAIL_1], done.",
                                              digest=result["approval"]["digest"]))
    public = [c.body for c in app.helpdesk.get_ticket(result["ticket_id"]).comments if c.public]
    assert public == ["Hello [EMAIL_1], done."]
