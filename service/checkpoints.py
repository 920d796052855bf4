"""LangGraph checkpointers that know the agent's record types (no "unregistered type" surprises)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
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


def postgres_checkpointer(url: str, max_connections: int = 10) -> BaseCheckpointSaver[Any]:
    """A PostgresSaver on a connection pool (the options are the ones the saver requires)."""
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    pool: ConnectionPool[Any] = ConnectionPool(
        conninfo, min_size=1, max_size=max_connections, open=True,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )
    saver = PostgresSaver(pool, serde=serializer())
    saver.setup()  # the saver's own tables and migrations, idempotent
    return saver


def checkpointer_for(state_url: str, sqlite_path: Path) -> BaseCheckpointSaver[Any]:
    """Checkpoints live beside the state: in PostgreSQL when the state does, else in their own SQLite file."""
    if state_url.startswith(("postgresql", "postgres:")):
        return postgres_checkpointer(state_url)
    return sqlite_checkpointer(sqlite_path)
