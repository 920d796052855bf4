"""The daily token budget: once a UTC day's tokens are spent, the LLM is off until midnight.

The service keeps the count in a small SQLite file under TRIAGE_HOME, so a restart does not hand out a
fresh budget; an eval run keeps its own in memory and never touches the service's count. A call's
tokens are known only once it returns, so the last call of a day may overshoot the budget by one answer.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol


def utc_day(now: datetime) -> str:
    return now.strftime("%Y-%m-%d")


class TokenLedger(Protocol):
    """Where the tokens spent per UTC day are counted."""

    def spent(self, day: str) -> int: ...

    def add(self, day: str, tokens: int) -> None: ...


@dataclass
class MemoryLedger:
    """Counts in memory (eval runs, tests)."""

    days: dict[str, int] = field(default_factory=dict)

    def spent(self, day: str) -> int:
        return self.days.get(day, 0)

    def add(self, day: str, tokens: int) -> None:
        self.days[day] = self.days.get(day, 0) + tokens


class SqliteLedger:
    """Counts in a SQLite file shared by every process of one installation (API, workers, CLI)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("CREATE TABLE IF NOT EXISTS llm_tokens (day TEXT PRIMARY KEY, tokens INTEGER NOT NULL)")

    def spent(self, day: str) -> int:
        with self._lock:
            row = self._conn.execute("SELECT tokens FROM llm_tokens WHERE day = ?", (day,)).fetchone()
        return int(row[0]) if row else 0

    def add(self, day: str, tokens: int) -> None:
        # One statement, so two processes adding at once both count (no read-modify-write race).
        with self._lock:
            self._conn.execute(
                "INSERT INTO llm_tokens (day, tokens) VALUES (?, ?) "
                "ON CONFLICT(day) DO UPDATE SET tokens = tokens + excluded.tokens", (day, tokens))

    def close(self) -> None:
        self._conn.close()


@dataclass
class DailyBudget:
    """A ledger with a limit per UTC day."""

    limit: int
    ledger: TokenLedger

    def spent(self, now: datetime) -> int:
        return self.ledger.spent(utc_day(now))

    def exhausted(self, now: datetime) -> bool:
        return self.spent(now) >= self.limit

    def charge(self, now: datetime, tokens: int) -> None:
        if tokens:
            self.ledger.add(utc_day(now), tokens)
