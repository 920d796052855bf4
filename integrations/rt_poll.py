"""Finding new and changed Request Tracker tickets by polling: RT sends no webhooks.

Each poll asks RT with TicketSQL for the tickets whose LastUpdated is at or after the cursor, oldest
first, and hands each change to the caller as a `WebhookEvent` (event id `rt-poll:<ticket>:<LastUpdated>`,
so the service deduplicates polled and pushed events alike). Guarantees:

- At least once: the cursor and the ticket's last handled LastUpdated are stored (SQLite) only after the
  handler returned; a crash or a failing handler means the change comes again, never that it is lost.
- No duplicates from the overlap: the query uses `>=` because RT dates have one-second resolution, and a
  change already handled (same ticket, same LastUpdated) is skipped.
- Nothing half-finished: RT's dates are whole seconds, so a change made in the second that is still going
  on (by RT's clock, from its Date header) waits for the next poll; otherwise a second change in that same
  second would share the first one's LastUpdated and be skipped as already seen.
- No loop on our own writes: a ticket last updated by the agent's RT user is reported only when someone
  else (a requester, a colleague) also wrote on it since we last handled it. RT_System's bookkeeping
  (outgoing mail records) counts as ours.
- Survives restarts: the state file holds the cursor; the first poll ever starts at RT's "now" (or at
  `start_at`), so connecting the agent does not triage the whole backlog.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from integrations.contract import WebhookEvent
from integrations.rt import RequestTrackerAdapter

logger = logging.getLogger(__name__)

_SYSTEM_USERS = {"RT_System"}
_FIELDS = ("LastUpdated", "LastUpdatedBy", "Created", "Status")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rt_poll_cursor (
    source TEXT PRIMARY KEY,
    cursor TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rt_poll_handled (
    source TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    last_updated TEXT NOT NULL,
    PRIMARY KEY (source, ticket_id)
);
"""


def parse_rt_time(value: str) -> datetime:
    """RT's `2026-11-25T11:48:18Z` as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def rt_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ticketsql_time(value: str) -> str:
    """A date TicketSQL reads exactly: with a numeric offset (RT misreads a trailing `Z`)."""
    return parse_rt_time(value).strftime("%Y-%m-%dT%H:%M:%S+00:00")


class PollState:
    """The cursor and each ticket's last handled LastUpdated, per RT instance, in one SQLite file."""

    def __init__(self, path: Path, source: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.source = source
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:
                yield db
        finally:
            db.close()

    def cursor(self) -> str | None:
        with self._db() as db:
            row = db.execute("SELECT cursor FROM rt_poll_cursor WHERE source = ?", (self.source,)).fetchone()
        return str(row[0]) if row else None

    def start(self, cursor: str) -> None:
        with self._db() as db:
            db.execute("INSERT OR IGNORE INTO rt_poll_cursor (source, cursor) VALUES (?, ?)", (self.source, cursor))

    def handled(self, ticket_id: str) -> str | None:
        with self._db() as db:
            row = db.execute("SELECT last_updated FROM rt_poll_handled WHERE source = ? AND ticket_id = ?",
                             (self.source, ticket_id)).fetchone()
        return str(row[0]) if row else None

    def mark(self, ticket_id: str, last_updated: str) -> None:
        """Record a handled change and move the cursor to it, in one transaction."""
        with self._db() as db:
            db.execute("INSERT INTO rt_poll_handled (source, ticket_id, last_updated) VALUES (?, ?, ?) "
                       "ON CONFLICT (source, ticket_id) DO UPDATE SET last_updated = excluded.last_updated",
                       (self.source, ticket_id, last_updated))
            (current,) = db.execute("SELECT cursor FROM rt_poll_cursor WHERE source = ?", (self.source,)).fetchone()
            if parse_rt_time(last_updated) > parse_rt_time(current):
                db.execute("UPDATE rt_poll_cursor SET cursor = ? WHERE source = ?", (last_updated, self.source))
                # A ticket last handled before the cursor can only come back with a newer LastUpdated.
                db.execute("DELETE FROM rt_poll_handled WHERE source = ? AND last_updated < ?",
                           (self.source, last_updated))


@dataclass(frozen=True)
class PollReport:
    delivered: int
    own_writes: int
    """Changes skipped because only the agent (and RT_System) wrote on the ticket."""
    deferred: int
    """Changes in RT's current second, left for the next poll."""
    cursor: str


class RTPoller:
    """Polls one RT instance for ticket changes; `poll` once, or `run` until stopped."""

    def __init__(self, adapter: RequestTrackerAdapter, state_path: Path, *, query: str | None = None,
                 start_at: datetime | None = None) -> None:
        self.adapter = adapter
        self.state = PollState(state_path, adapter.settings.base_url)
        self.query = query
        """Extra TicketSQL every change must match, e.g. `Queue = 'General'`."""
        self.start_at = start_at

    def poll(self, handle: Callable[[WebhookEvent], None]) -> PollReport:
        """Hand every settled change since the cursor to `handle`, oldest first. If `handle` raises, the
        poll stops there and that change comes again next time."""
        server_now = self.adapter.server_time().replace(microsecond=0)
        self.state.start(rt_time(self.start_at or server_now))
        cursor = self.state.cursor() or rt_time(server_now)
        query = f"LastUpdated >= '{ticketsql_time(cursor)}'" + (f" AND ({self.query})" if self.query else "")
        delivered = own = deferred = 0
        for item in self.adapter.search_tickets(query, _FIELDS):
            ticket_id, updated = str(item["id"]), str(item["LastUpdated"])
            if parse_rt_time(updated) >= server_now:
                deferred += 1  # still RT's current second; everything after it is newer still
                break
            previous = self.state.handled(ticket_id)
            if previous is not None and parse_rt_time(previous) >= parse_rt_time(updated):
                continue
            updated_by = _user(item.get("LastUpdatedBy"))
            if updated_by == self.adapter.settings.agent_user and self._only_ours(ticket_id, previous or cursor,
                                                                                  inclusive=previous is None):
                self.state.mark(ticket_id, updated)
                own += 1
                continue
            created = previous is None and parse_rt_time(str(item.get("Created") or updated)) >= parse_rt_time(cursor)
            handle(WebhookEvent(system="rt", event_id=f"rt-poll:{ticket_id}:{updated}", ticket_id=ticket_id,
                                kind="created" if created else "updated",
                                payload={"last_updated": updated, "last_updated_by": updated_by,
                                         "status": item.get("Status")}))
            self.state.mark(ticket_id, updated)
            delivered += 1
        return PollReport(delivered, own, deferred, self.state.cursor() or cursor)

    def _only_ours(self, ticket_id: str, since: str, *, inclusive: bool) -> bool:
        creators = self.adapter.transaction_creators(ticket_id, ticketsql_time(since), inclusive=inclusive)
        return all(who in _SYSTEM_USERS or who == self.adapter.settings.agent_user for who in creators)

    def run(self, handle: Callable[[WebhookEvent], None], *, interval_s: float = 30.0,
            stop: threading.Event | None = None) -> None:
        """Poll every `interval_s` until `stop` is set; a failed poll is logged and tried again next time."""
        stop = stop or threading.Event()
        while not stop.is_set():
            try:
                report = self.poll(handle)
                if report.delivered:
                    logger.info("rt poll: %d changes handled, cursor %s", report.delivered, report.cursor)
            except Exception:  # keep polling: RT down, a handler bug; the cursor has not moved past it
                logger.exception("rt poll failed; trying again in %.0f s", interval_s)
            stop.wait(interval_s)


def _user(value: object) -> str | None:
    return str(value["id"]) if isinstance(value, dict) and "id" in value else None
