"""LangGraph checkpointers that know the agent's record types (no "unregistered type" surprises)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver

from agent import state

CHECKPOINT_TYPES: list[type] = [
    state.Ticket, state.Classification, state.RetrievedArticle, state.Draft, state.ProposedAction,
    state.Decision, state.ReviewAnswer, state.ActionResult, state.AuditEvent, state.TriageInput,
    state.TriageState,
]


def serializer() -> JsonPlusSerializer:
    return JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_TYPES)


def sqlite_checkpointer(path: Path) -> SqliteSaver:
    """A SqliteSaver on its own file (WAL, so readers never block the writer)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode survives a killed process (the crash we design for) without an fsync per step.
    conn.execute("PRAGMA synchronous=NORMAL")
    saver = SqliteSaver(conn, serde=serializer())
    saver.setup()
    return saver
