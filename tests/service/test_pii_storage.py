"""Raw PII stays in the PII store: never in checkpoints, the audit chain, the outbox or results."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from service.runtime import Embedded


def test_no_raw_pii_in_checkpoints_audit_or_results(app: Embedded, tmp_path: Path) -> None:
    # A ticket that waits for a reviewer, so its state is checkpointed (a finished run leaves no checkpoint).
    ticket = "I was charged twice on my invoice. Call me on +44 20 7946 0958 or mail jo.bloggs@acme.example"
    result = app.submit(ticket, requester="jo.bloggs@acme.example")
    assert result["status"] == "awaiting_review"
    assert app.pii.text(result["ticket_id"]) == ticket  # the raw text lives in the PII store only
    raw_values = ("7946 0958", "jo.bloggs@acme.example")
    for path in (tmp_path / "home" / "checkpoints.db", tmp_path / "home" / "triage.db"):
        with sqlite3.connect(path) as db:
            for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
                if table == "ticket_texts":
                    continue
                dump = repr(db.execute(f"SELECT * FROM {table}").fetchall())
                assert not any(v in dump for v in raw_values), f"raw PII in {path.name}:{table}"
    assert not any(v in repr(result) for v in raw_values)
    with sqlite3.connect(tmp_path / "home" / "checkpoints.db") as db:
        blobs = repr(db.execute("SELECT * FROM checkpoints").fetchall())
    assert "[PHONE_1]" in blobs and "[EMAIL_1]" in blobs  # the graph worked on the redacted ticket
