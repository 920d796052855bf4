"""LangGraph checkpointers that know the agent's record types (no "unregistered type" surprises)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver

from agent import state

# Every record type of the state module: a new one is registered the day it is added (a forgotten type
# would come back from a checkpoint as a plain dict).
CHECKPOINT_TYPES: list[type] = [
    obj for obj in vars(state).values()
    if isinstance(obj, type) and obj.__module__ == state.__name__ and obj.__name__ != "_Record"
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
