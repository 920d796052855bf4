"""The built-in local helpdesk: a small ticketing system in one SQLite file.

It lets the agent run end to end with nothing else installed, and it behaves like the real adapters:
every write carries an idempotency key and a repeated key writes nothing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subject TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    requester TEXT,
    status TEXT NOT NULL DEFAULT 'new',
    fields TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    public INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS applied_keys (
    key TEXT PRIMARY KEY,
    applied_at TEXT NOT NULL
);
"""


class TicketNotFound(LookupError):
    """No ticket with that id in the local helpdesk."""


@dataclass(frozen=True)
class LocalTicket:
    id: str
    subject: str
    body: str
    requester: str | None
    status: str
    fields: dict[str, Any]
    comments: list[dict[str, Any]]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class LocalHelpdesk:
    """Tickets, fields and comments in SQLite; implements the agent's Ticketing protocol."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:  # one transaction: the write and its idempotency key commit together
                yield db
        finally:
            db.close()

    def create_ticket(self, body: str, subject: str = "", requester: str | None = None) -> str:
        """Open a new ticket; returns its id."""
        now = _now()
        with self._db() as db:
            cur = db.execute(
                "INSERT INTO tickets (subject, body, requester, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (subject, body, requester, now, now),
            )
            return str(cur.lastrowid)

    def get_ticket(self, ticket_id: str) -> LocalTicket:
        with self._db() as db:
            row = db.execute(
                "SELECT id, subject, body, requester, status, fields FROM tickets WHERE id = ?", (ticket_id,)
            ).fetchone()
            if row is None:
                raise TicketNotFound(f"no ticket {ticket_id} in the local helpdesk ({self.path})")
            comments = [
                {"public": bool(p), "body": b, "created_at": c}
                for p, b, c in db.execute(
                    "SELECT public, body, created_at FROM comments WHERE ticket_id = ? ORDER BY id", (ticket_id,)
                )
            ]
        return LocalTicket(str(row[0]), row[1], row[2], row[3], row[4], json.loads(row[5]), comments)

    def _once(self, db: sqlite3.Connection, key: str) -> bool:
        """Claim an idempotency key inside the caller's transaction; False if it was used before."""
        try:
            db.execute("INSERT INTO applied_keys (key, applied_at) VALUES (?, ?)", (key, _now()))
        except sqlite3.IntegrityError:
            return False
        return True

    def _require(self, db: sqlite3.Connection, ticket_id: str) -> None:
        if db.execute("SELECT 1 FROM tickets WHERE id = ?", (ticket_id,)).fetchone() is None:
            raise TicketNotFound(f"no ticket {ticket_id} in the local helpdesk ({self.path})")

    def set_fields(self, ticket_id: str, fields: Mapping[str, str | list[str]], *, idempotency_key: str) -> None:
        with self._db() as db:
            self._require(db, ticket_id)
            if not self._once(db, idempotency_key):
                return
            (current,) = db.execute("SELECT fields FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
            merged = {**json.loads(current), **fields}
            db.execute("UPDATE tickets SET fields = ?, updated_at = ? WHERE id = ?",
                       (json.dumps(merged), _now(), ticket_id))

    def _comment(self, ticket_id: str, body: str, public: bool, key: str) -> None:
        with self._db() as db:
            self._require(db, ticket_id)
            if not self._once(db, key):
                return
            db.execute("INSERT INTO comments (ticket_id, public, body, created_at) VALUES (?, ?, ?, ?)",
                       (ticket_id, int(public), body, _now()))
            if public:
                db.execute("UPDATE tickets SET status = 'answered', updated_at = ? WHERE id = ?", (_now(), ticket_id))

    def add_note(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        self._comment(ticket_id, body, public=False, key=idempotency_key)

    def add_reply(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        self._comment(ticket_id, body, public=True, key=idempotency_key)
