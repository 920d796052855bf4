"""The built-in local helpdesk: a small ticketing system in one SQLite file.

It lets the agent run end to end with nothing else installed, and it behaves like the real adapters:
every write carries an idempotency key and a repeated key writes nothing.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from integrations.contract import (
    BadWebhookPayload,
    Comment,
    FieldValue,
    NotFound,
    TicketSnapshot,
    WebhookEvent,
    WebhookRejected,
    fields_safe_to_write,
)
from integrations.webhooks import verify_standard


class LocalSettings(BaseSettings):
    """Environment TRIAGE_LOCAL_*: where the helpdesk file lives and the webhook signing secrets."""

    model_config = SettingsConfigDict(env_prefix="TRIAGE_LOCAL_", extra="ignore")
    path: Path = Path(".triage/helpdesk.db")
    webhook_secrets: list[SecretStr] = []

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
    author TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS applied_keys (
    key TEXT PRIMARY KEY,
    applied_at TEXT NOT NULL
);
"""


class TicketNotFound(NotFound, LookupError):
    """No ticket with that id in the local helpdesk."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class LocalHelpdesk:
    """Tickets, fields and comments in SQLite; implements the HelpdeskAdapter contract.

    Its inbound events (from a local mail gateway or form) are signed with Standard Webhooks under
    `webhook_secrets`: with none configured, every webhook is refused."""

    name = "local"
    supports_conditional_write = True  # the read and the write share one SQLite transaction
    settings_model = LocalSettings

    @classmethod
    def from_settings(cls, settings: LocalSettings) -> LocalHelpdesk:
        return cls(settings.path, [secret.get_secret_value() for secret in settings.webhook_secrets])

    def __init__(self, path: Path, webhook_secrets: list[str] | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._lock = threading.RLock()
        self.webhook_secrets = list(webhook_secrets or [])
        with self._lock:  # schema statements, each in autocommit
            db = self._connection()
            db.executescript(_SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(comments)")}
            if "author" not in columns:  # helpdesk files made before comments had an author
                db.execute("ALTER TABLE comments ADD COLUMN author TEXT")

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (the write and its idempotency key commit together). It takes SQLite's
        write lock at its start, so a read-then-write never fails to upgrade under concurrency, and the
        threads of this process queue on a lock rather than on SQLite's sleeping busy handler."""
        db = self._connection()
        with self._lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _connection(self) -> sqlite3.Connection:
        """One connection per thread, kept open: opening and closing per call costs a WAL checkpoint (an
        fsync) each time the last connection closes."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)  # we issue BEGIN ourselves
            # WAL with NORMAL sync: a commit survives a killed process without an fsync each time (the
            # outbox re-delivers anything lost with the machine, and the idempotency keys absorb it).
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def create_ticket(self, body: str, subject: str = "", requester: str | None = None) -> str:
        """Open a new ticket; returns its id."""
        now = _now()
        with self._db() as db:
            cur = db.execute(
                "INSERT INTO tickets (subject, body, requester, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (subject, body, requester, now, now),
            )
            return str(cur.lastrowid)

    def get_ticket(self, ticket_id: str) -> TicketSnapshot:
        with self._db() as db:
            row = db.execute(
                "SELECT id, subject, body, requester, status, fields, updated_at FROM tickets WHERE id = ?",
                (ticket_id,),
            ).fetchone()
            if row is None:
                raise TicketNotFound(f"no ticket {ticket_id} in the local helpdesk ({self.path})")
            comments = [
                Comment(body=b, public=bool(p), author=a, created_at=c)
                for p, b, a, c in db.execute(
                    "SELECT public, body, author, created_at FROM comments WHERE ticket_id = ? ORDER BY id",
                    (ticket_id,),
                )
            ]
        return TicketSnapshot(id=str(row[0]), subject=row[1], body=row[2], requester=row[3], status=row[4],
                              fields=json.loads(row[5]), comments=comments, updated_at=row[6], version=row[6])

    def set_human_fields(self, ticket_id: str, fields: Mapping[str, FieldValue]) -> None:
        """A person edits the ticket (the local helpdesk's UI, and tests): no idempotency key."""
        with self._db() as db:
            self._require(db, ticket_id)
            (current,) = db.execute("SELECT fields FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
            db.execute("UPDATE tickets SET fields = ?, updated_at = ? WHERE id = ?",
                       (json.dumps({**json.loads(current), **fields}), _now(), ticket_id))

    def add_customer_message(self, ticket_id: str, body: str, author: str | None = None) -> None:
        """The requester writes again on the ticket (a follow-up)."""
        with self._db() as db:
            self._require(db, ticket_id)
            db.execute("INSERT INTO comments (ticket_id, public, body, author, created_at) VALUES (?, 1, ?, ?, ?)",
                       (ticket_id, body, author or "requester", _now()))
            db.execute("UPDATE tickets SET status = 'open', updated_at = ? WHERE id = ?", (_now(), ticket_id))

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

    def set_fields(self, ticket_id: str, fields: Mapping[str, FieldValue], *, idempotency_key: str,
                   baseline: Mapping[str, Any] | None = None) -> None:
        with self._db() as db:
            self._require(db, ticket_id)
            if not self._once(db, idempotency_key):
                return
            (current,) = db.execute("SELECT fields FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
            allowed, _changed_by_human = fields_safe_to_write(fields, json.loads(current), baseline)
            merged = {**json.loads(current), **allowed}
            db.execute("UPDATE tickets SET fields = ?, updated_at = ? WHERE id = ?",
                       (json.dumps(merged), _now(), ticket_id))

    def _comment(self, ticket_id: str, body: str, public: bool, key: str) -> None:
        with self._db() as db:
            self._require(db, ticket_id)
            if not self._once(db, key):
                return
            db.execute("INSERT INTO comments (ticket_id, public, body, author, created_at) VALUES (?, ?, ?, ?, ?)",
                       (ticket_id, int(public), body, "triage-agent", _now()))
            if public:
                db.execute("UPDATE tickets SET status = 'answered', updated_at = ? WHERE id = ?", (_now(), ticket_id))

    def add_note(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        self._comment(ticket_id, body, public=False, key=idempotency_key)

    def add_reply(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        self._comment(ticket_id, body, public=True, key=idempotency_key)

    def assign(self, ticket_id: str, assignee: str, *, idempotency_key: str) -> None:
        self.set_fields(ticket_id, {"assignee": assignee}, idempotency_key=idempotency_key)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Standard Webhooks; the body is `{"type": "ticket.created", "ticket_id": "12"}`."""
        if not self.webhook_secrets:
            raise WebhookRejected("the local helpdesk has no webhook secret configured")
        event_id = verify_standard(headers, body, self.webhook_secrets)
        try:
            payload = json.loads(body)
            ticket_id = str(payload["ticket_id"])
            kind = str(payload.get("type", "ticket.updated")).removeprefix("ticket.")
        except (ValueError, KeyError, TypeError) as exc:
            raise BadWebhookPayload(f"local helpdesk webhook body is not the expected JSON: {exc}") from exc
        return WebhookEvent(system=self.name, event_id=event_id, ticket_id=ticket_id, kind=kind, payload=payload)

    def wait_seconds(self, status: int, headers: Mapping[str, str]) -> float | None:
        return None  # a local file: never rate limited
