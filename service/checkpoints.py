"""LangGraph checkpointers that know the agent's record types (no "unregistered type" surprises)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, ChannelVersions, Checkpoint, CheckpointMetadata
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver

from agent import state

# Every record type of the state module: a new one is registered the day it is added (a forgotten type
# would come back from a checkpoint as a plain dict).
CHECKPOINT_TYPES: list[type] = [
    obj for obj in vars(state).values()
    if isinstance(obj, type) and obj.__module__ == state.__name__ and obj.__name__ != "_Record"
]


FINISHED = ("done", "left_for_humans")
"""Statuses `record` sets at a run's end (TriageState.status)."""


class _SkipsUnpausedFinishes(BaseCheckpointSaver[Any]):
    """Leaves out the checkpoint of a run that finished without ever pausing.

    Such a run needs its state back for nothing: its outcome, trail and writes are in the state database,
    and a run killed before they were saved is run again from its ticket either way (decision 0008). Most
    runs are of this kind, and their one save (state serialised, a row written) cost 0.4-0.7 ms of a
    ticket's ~19 ms of worker CPU, and a checkpoint row for `triage prune` to delete. A run that paused
    keeps every checkpoint: the pause's, and its final one after the reviewer's answer (it has a parent
    checkpoint)."""

    def put(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
            new_versions: ChannelVersions) -> RunnableConfig:
        configurable = config.get("configurable", {})
        never_paused = configurable.get("checkpoint_id") is None
        if never_paused and checkpoint["channel_values"].get("status") in FINISHED:
            return {"configurable": {"thread_id": configurable.get("thread_id"),
                                     "checkpoint_ns": configurable.get("checkpoint_ns", ""),
                                     "checkpoint_id": checkpoint["id"]}}
        return super().put(config, checkpoint, metadata, new_versions)


class AgentSqliteSaver(_SkipsUnpausedFinishes, SqliteSaver):
    pass


def serializer() -> JsonPlusSerializer:
    return JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_TYPES)


def sqlite_checkpointer(path: Path) -> AgentSqliteSaver:
    """A SqliteSaver on its own file (WAL, so readers never block the writer)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode survives a killed process (the crash we design for) without an fsync per step.
    conn.execute("PRAGMA synchronous=NORMAL")
    saver = AgentSqliteSaver(conn, serde=serializer())
    saver.setup()
    return saver


def postgres_checkpointer(url: str, max_connections: int = 10) -> BaseCheckpointSaver[Any]:
    """A PostgresSaver on a connection pool (the options are the ones the saver requires)."""
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row

    class AgentPostgresSaver(_SkipsUnpausedFinishes, PostgresSaver):
        pass

    from psycopg_pool import ConnectionPool

    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    pool: ConnectionPool[Any] = ConnectionPool(
        conninfo, min_size=1, max_size=max_connections, open=True,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )
    saver = AgentPostgresSaver(pool, serde=serializer())
    saver.setup()  # the saver's own tables and migrations, idempotent
    return saver


def checkpointer_for(state_url: str, sqlite_path: Path) -> BaseCheckpointSaver[Any]:
    """Checkpoints live beside the state: in PostgreSQL when the state does, else in their own SQLite file."""
    if state_url.startswith(("postgresql", "postgres:")):
        return postgres_checkpointer(state_url)
    return sqlite_checkpointer(sqlite_path)
