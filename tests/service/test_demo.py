"""`make run`: the service starts on a pack, takes its sample tickets over HTTP and says where to review."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.service.api_server import free_port


def test_make_run_serves_the_samples_and_prints_decisions_and_review_calls(pack_copy: Path, tmp_path: Path) -> None:
    samples = ["I forgot my password and cannot log in", "I was charged twice on my invoice this month"]
    (pack_copy / "samples.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in samples))
    env = {**os.environ, "TRIAGE_HOME": str(tmp_path / "home"), "TRIAGE_API_PORT": str(free_port()),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "netguard"), str(ROOT)])}
    done = subprocess.run([sys.executable, "-m", "service.demo_service", "--pack", str(pack_copy), "--exit"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Sending 2 sample tickets" in out
    assert "auto_reply" in out and "password_reset" in out  # the first sample, decided through the API
    assert "escalate" in out and "autonomy_propose" in out   # the second waits for a reviewer
    assert "/v1/reviews" in out and "Authorization: Bearer tk_" in out
    keys = json.loads((tmp_path / "home" / "demo-keys.json").read_text())
    assert set(keys) == {"ingest", "reviewer", "admin"}
