"""Schemathesis against the service's own OpenAPI spec, over real HTTP: no 5xx, no schema violation,
every status code documented, every valid request accepted. `make fuzz-api` runs it with more examples."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from service.runtime import open_embedded
from service.settings import Settings
from tests.service.api_server import serve


def test_schemathesis_finds_no_failure(pack_copy: Path, tmp_path: Path) -> None:
    cli = Path(sys.executable).parent / "schemathesis"
    if not cli.exists() and shutil.which("schemathesis") is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    settings = Settings(home=tmp_path / "home", pack=pack_copy, rate_limit_per_minute=0)
    with serve(settings, open_embedded(settings, pack_copy)) as api:
        examples = os.environ.get("TRIAGE_FUZZ_EXAMPLES", "15")
        done = subprocess.run(
            [str(cli), "--config-file", str(Path(__file__).with_name("schemathesis.toml")),
             "run", f"{api.url}/openapi.json", "-H", f"Authorization: Bearer {api.keys['admin']}",
             "--checks", "all", "--max-examples", examples, "--workers", "1", "--seed", "1"],
            capture_output=True, text=True, timeout=900, env={**os.environ, "NO_COLOR": "1"})
    summary = done.stdout[-3000:]
    assert done.returncode == 0, summary
    assert "passed" in summary
