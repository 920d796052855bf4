"""The operator commands, as an operator types them: review, control, audit, outbox, pii, prune."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any


def test_review_flow_from_the_command_line(pack_copy: Path, run_cli: Any, tmp_path: Path) -> None:
    pack = ["--pack", str(pack_copy)]
    escalated = json.loads(run_cli("run", *pack, "I was charged twice on my invoice").stdout)
    pending = json.loads(run_cli("review", *pack, "list").stdout)["pending"]
    assert [p["run_id"] for p in pending] == [escalated["run_id"]]
    shown = json.loads(run_cli("review", *pack, "show", escalated["run_id"]).stdout)
    assert shown["request"]["action"]["kind"] == "reply" and shown["digest"] == escalated["approval"]["digest"]
    stale = run_cli("review", *pack, "approve", escalated["run_id"], "--reviewer", "ana", "--digest", "f" * 64)
    assert stale.code == 2 and "another version of the action" in stale.stderr
    done = run_cli("review", *pack, "approve", escalated["run_id"], "--reviewer", "ana")
    assert done.code == 0 and json.loads(done.stdout)["status"] == "done"
    again = run_cli("review", *pack, "approve", escalated["run_id"], "--reviewer", "bob")
    assert again.code == 2 and "already answered (approve by ana)" in again.stderr


def test_control_needs_a_reason_and_a_known_scope(pack_copy: Path, run_cli: Any) -> None:
    pack = ["--pack", str(pack_copy)]
    assert "--reason" in run_cli("control", *pack, "off").stderr
    bad = run_cli("control", *pack, "shadow", "--category", "nope", "--reason", "x")
    assert bad.code == 2 and "unknown scope 'category:nope'" in bad.stderr
    ok = run_cli("control", *pack, "off", "--by", "ana", "--reason", "incident 42")
    assert ok.code == 0 and json.loads(ok.stdout)["mode"] == "off"
    result = json.loads(run_cli("run", *pack, "I forgot my password").stdout)
    assert result["reasons"] == ["agent_off"]
    history = json.loads(run_cli("control", *pack, "history").stdout)
    assert history[-1] == {**history[-1], "new": "off", "by": "ana", "reason": "incident 42"}


def test_audit_verify_names_the_tampered_entry(pack_copy: Path, run_cli: Any, tmp_path: Path) -> None:
    pack = ["--pack", str(pack_copy)]
    run_cli("run", *pack, "I forgot my password")
    assert run_cli("audit", *pack, "verify").code == 0
    with sqlite3.connect(tmp_path / "home" / "triage.db") as db:
        db.execute("UPDATE audit_events SET kind = 'nothing_to_see' WHERE seq = 4")
    result = run_cli("audit", *pack, "verify")
    assert result.code == 1 and "entry 4" in result.stderr and "edited" in result.stderr
    trail = json.loads(run_cli("audit", *pack, "show", "1").stdout)
    assert trail[0]["node"] == "control_gate" and trail[-1]["node"] == "record"


def test_outbox_pii_and_prune_commands(pack_copy: Path, run_cli: Any, tmp_path: Path) -> None:
    pack = ["--pack", str(pack_copy)]
    # A run that paused for a review keeps its checkpoints (one that never paused leaves none to prune).
    run_id = json.loads(run_cli("run", *pack, "I was charged twice on my invoice",
                                "--requester", "jo@example.com").stdout)["run_id"]
    assert run_cli("review", *pack, "approve", run_id, "--reviewer", "ana").code == 0

    def checkpoints() -> int:
        with sqlite3.connect(tmp_path / "home" / "checkpoints.db") as db:
            return int(db.execute("SELECT count(*) FROM checkpoints WHERE thread_id = ?", (run_id,)).fetchone()[0])

    assert checkpoints() > 0
    rows = json.loads(run_cli("outbox", *pack, "list").stdout)
    assert rows and {r["status"] for r in rows} == {"delivered"}
    assert json.loads(run_cli("outbox", *pack, "redrive").stdout)["requeued"] == 0
    assert json.loads(run_cli("pii", *pack, "erase", "--requester", "jo@example.com").stdout) == {"erased": 1}
    assert run_cli("audit", *pack, "verify").code == 0
    pruned = json.loads(run_cli("prune", *pack, "--older-than-days", "0").stdout)
    assert pruned["pruned_runs"] == 1 and checkpoints() == 0
    assert json.loads(run_cli("recover", *pack).stdout)["runs_finished"] == []
