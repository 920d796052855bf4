"""The embedded agent on real SQLite files in a temporary TRIAGE_HOME."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from service.runtime import Embedded, open_embedded
from service.settings import Settings
from tests.conftest import require_live
from tests.live_services import fresh_database, postgres_problem


@pytest.fixture
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """The state database: SQLite under the test's home by default; a module that parametrises
    `backend` with "postgresql" runs against a fresh database on the real server."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield None
        return
    problem = postgres_problem()
    if problem:
        require_live("PostgreSQL", problem)
    with fresh_database() as url:
        yield url


@pytest.fixture
def pack_copy(tiny_pack: Path, tmp_path: Path) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(tiny_pack, target)
    return target


@pytest.fixture
def open_app(pack_copy: Path, tmp_path: Path, state_url: str | None) -> Callable[[], Embedded]:
    """Open the embedded agent; call again for a fresh 'process' on the same files (or database)."""

    def opener() -> Embedded:
        return open_embedded(Settings(home=tmp_path / "home", database_url=state_url), pack_copy)

    return opener


@pytest.fixture
def app(open_app: Callable[[], Embedded]) -> Embedded:
    return open_app()
