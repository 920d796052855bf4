"""The audit trail: append-only and tamper-evident.

Every event joins one hash chain: hash_n = sha256(hash_{n-1} + canonical JSON of entry n), where the
entry holds its sequence number, id, run, ticket, node, kind, data and time. Editing an entry breaks its
hash; deleting or reordering entries breaks the sequence or the links; deleting the newest entries is
found through the anchors, copies of the chain head written with every append (and mirrored to an
append-only file when one is configured, so rewriting the database alone is not enough).

Payloads carry no raw ticket text (that lives in the PII store, service.pii), so erasing a person's data
never touches the chain.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text
from sqlmodel import Session, col, select

from agent.state import AuditEvent
from service.store import ANCHORS, AUDIT, AuditAnchor, AuditRecord, transaction, utcnow

GENESIS = "0" * 64


def entry_hash(prev_hash: str, record: AuditRecord) -> str:
    """The chain link of one entry (everything but its own hash)."""
    return _link(prev_hash, record.seq, record.id, record.run_id, record.ticket_id, record.node, record.kind,
                 record.data_json, record.created_at)


def _link(prev_hash: str, seq: int, entry_id: str, run_id: str, ticket_id: str, node: str, kind: str,
          data_json: str, created_at: str) -> str:
    body = {
        "seq": seq, "id": entry_id, "run_id": run_id, "ticket_id": ticket_id,
        "node": node, "kind": kind, "data": json.loads(data_json), "created_at": created_at,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


@dataclass(frozen=True)
class Problem:
    seq: int | None
    entry_id: str | None
    what: str

    def __str__(self) -> str:
        where = f"entry {self.seq} ({self.entry_id})" if self.seq is not None else "chain"
        return f"{where}: {self.what}"


CHAIN_LOCK_KEY = 0x7472696167  # any constant; names the lock in pg_locks


def lock_chain_head(session: Session) -> None:
    """Serialise appends across processes. SQLite: BEGIN IMMEDIATE already holds the write lock. PostgreSQL
    reads the head without blocking, so two writers would both extend it: take a transaction-scoped
    advisory lock first (released at commit or rollback)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})


class SqlAudit:
    """AuditSink on the state database, chaining every new event."""

    def __init__(self, engine: Engine, anchor_file: Path | None = None) -> None:
        self.engine = engine
        self.anchor_file = anchor_file

    def write(self, run_id: str, ticket_id: str, events: Sequence[AuditEvent]) -> None:
        """Append the events not yet on the trail (ids are deterministic, so re-writes add nothing)."""
        with transaction(self.engine) as session:
            self.write_in(session, run_id, ticket_id, events)

    def write_in(self, session: Session, run_id: str, ticket_id: str, events: Sequence[AuditEvent]) -> None:
        """`write` inside the caller's transaction (the runtime commits a run's trail with its outcome)."""
        ids = [f"{run_id}:{position:04d}:{ev.node}" for position, ev in enumerate(events)]
        lock_chain_head(session)
        # Plain rows, not ORM objects: a run appends a dozen entries and this is on every ticket's path.
        present = set(session.execute(select(AUDIT.c.id).where(AUDIT.c.id.in_(ids))).scalars())
        head = session.execute(select(AUDIT.c.seq, AUDIT.c.hash).order_by(AUDIT.c.seq.desc()).limit(1)).first()
        seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
        rows: list[dict[str, Any]] = []
        for event_id, ev in zip(ids, events, strict=True):
            if event_id in present:
                continue
            seq += 1
            data_json = json.dumps(ev.data, default=str, sort_keys=True)
            created_at = utcnow().isoformat(timespec="microseconds")
            link = _link(prev, seq, event_id, run_id, ticket_id, ev.node, ev.kind, data_json, created_at)
            rows.append({"seq": seq, "id": event_id, "run_id": run_id, "ticket_id": ticket_id, "node": ev.node,
                         "kind": ev.kind, "data_json": data_json, "created_at": created_at, "prev_hash": prev,
                         "hash": link})
            prev = link
        if rows:
            session.execute(insert(AUDIT), rows)
            session.execute(insert(ANCHORS), {"seq": seq, "hash": prev, "created_at": utcnow()})
            self._mirror_anchor(seq, prev)

    def _mirror_anchor(self, seq: int, digest: str) -> None:
        if self.anchor_file is not None:
            self.anchor_file.parent.mkdir(parents=True, exist_ok=True)
            with self.anchor_file.open("a") as f:
                f.write(f"{seq} {digest}\n")

    def trail(self, ticket_id: str) -> list[dict[str, Any]]:
        """A ticket's events in chain order."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(AuditRecord).where(AuditRecord.ticket_id == ticket_id).order_by(col(AuditRecord.seq))
            ).all()
            return [{"seq": r.seq, "id": r.id, "run_id": r.run_id, "node": r.node, "kind": r.kind,
                     "data": json.loads(r.data_json), "at": r.created_at} for r in rows]

    def verify(self) -> tuple[int, list[Problem]]:
        """Walk the whole chain; returns the number of entries and every problem found."""
        problems: list[Problem] = []
        with Session(self.engine) as session:
            rows = session.exec(select(AuditRecord).order_by(col(AuditRecord.seq))).all()
            anchors = session.exec(select(AuditAnchor).order_by(col(AuditAnchor.id))).all()
        prev, expected_seq = GENESIS, 1
        by_seq: dict[int, AuditRecord] = {}
        for r in rows:
            by_seq[r.seq] = r
            if r.seq != expected_seq:
                problems.append(Problem(r.seq, r.id, f"sequence jumps from {expected_seq - 1} to {r.seq}: "
                                                     f"{r.seq - expected_seq} entries deleted"))
            if r.prev_hash != prev:
                problems.append(Problem(r.seq, r.id, "does not link to the entry before it (deleted or reordered)"))
            if entry_hash(r.prev_hash, r) != r.hash:
                problems.append(Problem(r.seq, r.id, "content does not match its hash (edited)"))
            prev, expected_seq = r.hash, r.seq + 1
        head = rows[-1].seq if rows else 0
        for anchor in self._anchors(anchors):
            seq, digest = anchor
            if seq > head:
                problems.append(Problem(None, None, f"an anchor records entry {seq} but the chain ends at {head}: "
                                                    "the newest entries were deleted"))
                break
            if seq in by_seq and by_seq[seq].hash != digest:
                problems.append(Problem(seq, by_seq[seq].id, "differs from the anchored hash (rewritten)"))
        return len(rows), problems

    def _anchors(self, rows: Sequence[AuditAnchor]) -> list[tuple[int, str]]:
        anchors = [(a.seq, a.hash) for a in rows]
        if self.anchor_file is not None and self.anchor_file.exists():
            for line in self.anchor_file.read_text().splitlines():
                seq, _, digest = line.partition(" ")
                if seq.isdigit() and digest:
                    anchors.append((int(seq), digest.strip()))
        return sorted(set(anchors))


class HeldTrail:
    """The graph's AuditSink in the service: a run's trail is held in memory and committed by the runtime
    in the same transaction as the run's outcome (one transaction instead of two, and the trail and the
    outcome are never out of step). Every write carries the run's whole trail so far, so the newest one
    held is the one to commit. A trail not taken (its run raised) is dropped after `keep` newer runs: the
    run is started again by recovery, which writes its trail anew."""

    def __init__(self, audit: SqlAudit, keep: int = 256) -> None:
        self.audit = audit
        self.keep = keep
        self._held: OrderedDict[str, tuple[str, list[AuditEvent]]] = OrderedDict()
        self._lock = threading.Lock()  # worker threads of one process share the sink

    def write(self, run_id: str, ticket_id: str, events: Sequence[AuditEvent]) -> None:
        with self._lock:
            self._held[run_id] = (ticket_id, list(events))
            self._held.move_to_end(run_id)
            while len(self._held) > self.keep:
                self._held.popitem(last=False)

    def take(self, run_id: str) -> tuple[str, list[AuditEvent]] | None:
        """The run's held trail (ticket id and events), removed from memory; None if nothing is held."""
        with self._lock:
            return self._held.pop(run_id, None)
