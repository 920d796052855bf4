"""Live services the tests use for real: PostgreSQL (scripts/live/postgres.sh brings it up in CI).

Each test that asks for PostgreSQL gets a database of its own, created fresh and dropped afterwards, so
tests never see each other's rows. TRIAGE_TEST_PG_URL points at the server (default: the machine's local
PostgreSQL on 127.0.0.1:5432 with trust auth).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

PG_SERVER_URL = os.environ.get("TRIAGE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def postgres_problem() -> str | None:
    """None when the server answers, else why not (the skip reason)."""
    try:
        import psycopg

        with psycopg.connect(PG_SERVER_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure means: not usable here
        return f"no PostgreSQL at {PG_SERVER_URL} ({type(exc).__name__}: {str(exc).strip()[:120]})"
    return None


@contextmanager
def fresh_database() -> Iterator[str]:
    """Create an empty database, yield its URL, drop it."""
    import psycopg

    name = f"triage_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_SERVER_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_SERVER_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:

        with psycopg.connect(PG_SERVER_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
