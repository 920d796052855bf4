"""Processes really killed (SIGKILL) at each step of a run: nothing lost, nothing written twice.

Each case runs the real CLI stack in a subprocess that kills itself at one point, then a new process
recovers (`triage recover` does the same) and reports what the helpdesk, the outbox and the audit hold.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

AUTO = "I forgot my password and need to reset it"
PROPOSE = "I was charged twice on my invoice this month"
STEPS = ["control_gate", "guard_input", "classify", "retrieve", "draft", "check_output", "decide", "act", "record"]


def driver(home: Path, pack: Path, phase: str, kill_at: str | None, ticket: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRASH_TICKET": ticket,
           "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "netguard"), str(ROOT)])}
    args = [sys.executable, "-m", "tests.service.crash_driver", str(home), str(pack), phase]
    return subprocess.run([*args, kill_at] if kill_at else args, capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=240)


def killed(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == -signal.SIGKILL, f"expected a SIGKILL, got {proc.returncode}: {proc.stderr[-800:]}"


def finish(home: Path, pack: Path) -> dict[str, Any]:
    proc = driver(home, pack, "finish", None, "")
    assert proc.returncode == 0, proc.stderr[-2000:]
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return report


def assert_handled_once(report: dict[str, Any], queue: str) -> None:
    assert report["runs"] == ["done"]  # one run, finished: no ticket lost
    assert [public for public, _ in report["comments"]] == [False, True]  # one note, one reply: nothing twice
    assert report["fields"]["queue"] == queue
    assert report["outbox"] == ["delivered"]
    assert report["audit_problems"] == []


@pytest.mark.parametrize("kill_at", [f"after:{s}" for s in STEPS]
                         + ["before:control_gate", "before:act", "before:record", "after:write"])
def test_auto_reply_survives_a_kill(kill_at: str, pack_copy: Path, tmp_path: Path) -> None:
    killed(driver(tmp_path / "home", pack_copy, "submit", kill_at, AUTO))
    assert_handled_once(finish(tmp_path / "home", pack_copy), "identity")


@pytest.mark.parametrize("kill_at", ["before:control_gate", "after:guard_input", "after:act", "after:record",
                                     "after:write"])
def test_a_queued_ticket_survives_a_killed_worker(kill_at: str, pack_copy: Path, tmp_path: Path) -> None:
    """The worker dies mid-run; recovery starts the run again from the ticket as it arrived, fields
    included: the agent's queue replaces "inbox" only because "inbox" was the ticket's field on arrival."""
    killed(driver(tmp_path / "home", pack_copy, "queue", kill_at, AUTO))
    assert_handled_once(finish(tmp_path / "home", pack_copy), "identity")


@pytest.mark.parametrize("kill_at", ["after:decide", "before:escalate"])
def test_a_kill_before_the_review_leaves_a_resumable_request(kill_at: str, pack_copy: Path, tmp_path: Path) -> None:
    killed(driver(tmp_path / "home", pack_copy, "submit", kill_at, PROPOSE))
    assert_handled_once(finish(tmp_path / "home", pack_copy), "finance")


@pytest.mark.parametrize("kill_at", ["after:claim", "after:escalate", "after:act", "after:record", "after:write"])
def test_an_answered_review_survives_a_kill(kill_at: str, pack_copy: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert driver(home, pack_copy, "submit", None, PROPOSE).returncode == 0
    killed(driver(home, pack_copy, "answer", kill_at, ""))
    assert_handled_once(finish(home, pack_copy), "finance")
