"""The embedded agent on real SQLite files in a temporary TRIAGE_HOME."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from service.runtime import Embedded, open_embedded
from service.settings import Settings


@pytest.fixture
def pack_copy(tiny_pack: Path, tmp_path: Path) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(tiny_pack, target)
    return target


@pytest.fixture
def open_app(pack_copy: Path, tmp_path: Path) -> Callable[[], Embedded]:
    """Open the embedded agent; call again for a fresh 'process' on the same files."""

    def opener() -> Embedded:
        return open_embedded(Settings(home=tmp_path / "home"), pack_copy)

    return opener


@pytest.fixture
def app(open_app: Callable[[], Embedded]) -> Embedded:
    return open_app()
