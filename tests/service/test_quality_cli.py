"""The quality commands through the real CLI: calibrate, pack new, model rollback, feedback, shadow, drift,
and `eval --compare`."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from agent.pack import load_manifest


@pytest.fixture
def pack_copy(tiny_pack: Path, tmp_path: Path) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(tiny_pack, target)
    return target


def _json(stdout: str) -> Any:
    return json.loads(stdout)


# --- calibrate --------------------------------------------------------------------------------------------


def test_calibrate_writes_thresholds_it_can_justify(pack_copy: Path, run_cli: Any) -> None:
    yaml_before = (pack_copy / "pack.yaml").read_text()
    result = run_cli("calibrate", "--pack", str(pack_copy), "--folds", "3", "--target-precision", "0.6")
    assert result.code == 0, result.stderr
    summary = _json(result.stdout)
    # Only password_reset is `auto` in the tiny pack; propose and never categories are left alone, with why.
    assert set(summary["thresholds"]) == {"password_reset"}
    assert "autonomy propose" in summary["not_calibrated"]["billing"]
    assert "fold 3/3" in result.stderr  # progress on stderr
    manifest = load_manifest(pack_copy / "pack.yaml")
    assert dict(manifest.policy.thresholds) == {"password_reset": summary["thresholds"]["password_reset"]}
    text = (pack_copy / "pack.yaml").read_text()
    assert "# triage calibrate" in text and "automation" in text
    # Everything else in the file is untouched.
    assert [line for line in text.splitlines() if "calibrate" not in line and "password_reset: 0" not in line
            and line.strip() != "thresholds:"] == [line for line in yaml_before.splitlines()]
    # Thresholds are policy: the trained model still matches the pack, no retraining is asked for.
    run = run_cli("run", "--pack", str(pack_copy), "I forgot my password")
    assert run.code == 0 and "changed since it was trained" not in run.stderr


def test_calibrate_demotes_a_category_that_cannot_meet_the_target(pack_copy: Path, run_cli: Any) -> None:
    result = run_cli("calibrate", "--pack", str(pack_copy), "--folds", "3", "--target-precision", "0.99")
    assert result.code == 0, result.stderr
    summary = _json(result.stdout)
    assert summary["stays_propose"] == ["password_reset"]
    assert "needs at least" in result.stderr and "automated held-out tickets" in result.stderr
    assert load_manifest(pack_copy / "pack.yaml").categories[0].autonomy == "propose"
    # A later, easier target gives the category its autonomy back.
    result = run_cli("calibrate", "--pack", str(pack_copy), "--folds", "3", "--target-precision", "0.6")
    assert result.code == 0 and _json(result.stdout)["autonomy_changes"] == {"password_reset": "auto"}
    assert load_manifest(pack_copy / "pack.yaml").categories[0].autonomy == "auto"


def test_calibrate_dry_run_and_bad_input(pack_copy: Path, run_cli: Any) -> None:
    before = (pack_copy / "pack.yaml").read_text()
    result = run_cli("calibrate", "--pack", str(pack_copy), "--folds", "2", "--target-precision", "0.6", "--dry-run")
    assert result.code == 0 and _json(result.stdout)["written"] is False
    assert (pack_copy / "pack.yaml").read_text() == before
    result = run_cli("calibrate", "--pack", str(pack_copy), "--target-precision", "1.5")
    assert result.code == 2 and "--target-precision 1.5" in result.stderr and "Traceback" not in result.stderr
    result = run_cli("calibrate", "--pack", str(pack_copy), "--folds", "20")
    assert result.code == 2 and "too few for 20 folds" in result.stderr


# --- pack new, model versions -----------------------------------------------------------------------------


def test_pack_new_scaffolds_a_pack_that_trains_and_evaluates(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("pack", "new", "claims", "--dir", str(tmp_path), "--categories", "windscreen,injury")
    assert result.code == 0, result.stderr
    root = tmp_path / "claims"
    assert "README.md" in _json(result.stdout)["files"] and "triage train" in (root / "README.md").read_text()
    assert [c.name for c in load_manifest(root / "pack.yaml").categories] == ["windscreen", "injury"]
    assert run_cli("train", "--pack", str(root)).code == 0
    result = run_cli("eval", "--pack", str(root), "--data", str(root / "eval.jsonl"), "--out", str(tmp_path / "o"),
                     "--quiet")
    assert result.code in (0, 1) and (tmp_path / "o" / "report.json").exists()
    again = run_cli("pack", "new", "claims", "--dir", str(tmp_path))
    assert again.code == 2 and "already exists" in again.stderr
    bad = run_cli("pack", "new", "x", "--dir", str(tmp_path), "--categories", "ok,out_of_scope")
    assert bad.code == 2 and "'out_of_scope'" in bad.stderr


def test_training_keeps_the_previous_model_for_rollback(pack_copy: Path, run_cli: Any) -> None:
    assert run_cli("model", "--pack", str(pack_copy), "rollback").code == 2  # the fixture trained once
    assert run_cli("train", "--pack", str(pack_copy)).code == 0
    versions = _json(run_cli("model", "--pack", str(pack_copy), "versions").stdout)
    assert versions["current"]["model_version"] == 2 and versions["previous"]["model_version"] == 1
    assert versions["current"]["data_hash"] == versions["previous"]["data_hash"]
    result = run_cli("model", "--pack", str(pack_copy), "rollback")
    assert result.code == 0 and _json(result.stdout)["current"]["model_version"] == 1
    decision = _json(run_cli("run", "--pack", str(pack_copy), "I forgot my password").stdout)
    assert decision["category"] == "password_reset"  # the rolled-back model serves
    assert run_cli("train", "--pack", str(pack_copy)).code == 0
    assert _json(run_cli("model", "--pack", str(pack_copy), "versions").stdout)["current"]["model_version"] == 3


# --- feedback, shadow, drift ------------------------------------------------------------------------------


def _review_three_tickets(pack: Path, run_cli: Any) -> None:
    """Three billing tickets (a `propose` category): one approved, one rerouted, one rejected."""
    runs = []
    for text in ("where can I download my invoice", "the invoice amount is wrong, my card 4111 1111 1111 1111",
                 "I was charged twice this month"):
        decision = _json(run_cli("run", "--pack", str(pack), text).stdout)
        assert decision["status"] == "awaiting_review"
        runs.append(decision["run_id"])
    assert run_cli("review", "--pack", str(pack), "approve", runs[0], "--reviewer", "ana").code == 0
    assert run_cli("review", "--pack", str(pack), "reroute", runs[1], "--reviewer", "ana",
                   "--category", "security").code == 0
    assert run_cli("review", "--pack", str(pack), "reject", runs[2], "--reviewer", "bo").code == 0


def test_feedback_export_turns_reviews_into_redacted_examples(pack_copy: Path, run_cli: Any, tmp_path: Path) -> None:
    _review_three_tickets(pack_copy, run_cli)
    out = tmp_path / "feedback.csv"
    result = run_cli("feedback", "export", "--pack", str(pack_copy), "--out", str(out), "--append")
    assert result.code == 0, result.stderr
    summary = _json(result.stdout)
    assert summary["exported"] == 2 and summary["corrections"] == 1
    assert summary["left_out"]["rejected_no_category"] == 1
    rows = list(csv.DictReader(out.open()))
    assert {(r["label"], r["verdict"]) for r in rows} == {("billing", "approve"), ("security", "reroute")}
    assert not any("4111" in r["text"] for r in rows)  # the card number never leaves the PII store
    examples = (pack_copy / "examples.csv").read_text()
    assert "the invoice amount is wrong" in examples and examples.count("where can I download my invoice") == 1
    assert "triage train" in result.stderr
    # Exporting again adds nothing new to the pack.
    again = run_cli("feedback", "export", "--pack", str(pack_copy), "--out", str(out), "--append")
    assert _json(again.stdout)["appended_to_pack"] == 0


def test_shadow_replay_reports_agreement_and_missed_escalations(pack_copy: Path, run_cli: Any,
                                                                tmp_path: Path) -> None:
    data = tmp_path / "outcomes.csv"
    with data.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label", "expected_action"])
        writer.writerow(["I forgot my password and need a reset", "password_reset", ""])
        # A person had to take this one although it reads like a password reset: a missed escalation.
        writer.writerow(["please reset my password", "password_reset", "escalate"])
        writer.writerow(["where can I download my invoice", "billing", ""])
    result = run_cli("shadow", "--pack", str(pack_copy), "--data", str(data), "--out", str(tmp_path / "s"), "--quiet")
    assert result.code == 0, result.stderr
    report = _json(result.stdout)
    assert report["n"] == 3 and report["agreement"] == 1.0
    assert report["missed_escalations_n"] == 1
    detail = json.loads((tmp_path / "s" / "shadow.json").read_text())
    assert detail["missed_escalations"][0]["text"] == "please reset my password"
    assert "1 missed escalations" in result.stderr
    missing = run_cli("shadow", "--pack", str(pack_copy), "--out", str(tmp_path / "s"))
    assert missing.code == 2 and "--data FILE" in missing.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("body,label\nhello,billing\n")
    result = run_cli("shadow", "--pack", str(pack_copy), "--data", str(bad), "--out", str(tmp_path / "s"))
    assert result.code == 2 and "bad.csv" in result.stderr and "no text column 'text'" in result.stderr


def test_shadow_replays_reviewed_tickets_from_the_database(pack_copy: Path, run_cli: Any, tmp_path: Path) -> None:
    _review_three_tickets(pack_copy, run_cli)
    result = run_cli("shadow", "--pack", str(pack_copy), "--from-reviews", "--out", str(tmp_path / "s"), "--quiet")
    assert result.code == 0, result.stderr
    report = _json(result.stdout)
    assert report["n"] == 3 and report["labelled_n"] == 2  # the rejected one has no human category
    assert {"human": "security", "agent": "billing", "n": 1} in report["top_disagreements"]
    rows = list(csv.DictReader((tmp_path / "s" / "feedback.csv").open()))
    assert [r["label"] for r in rows] == ["security"]


def test_drift_compares_live_runs_with_an_eval_run(pack_copy: Path, run_cli: Any, tmp_path: Path) -> None:
    data = tmp_path / "eval.csv"
    with data.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for text in ("I forgot my password", "where can I download my invoice", "my account was hacked"):
            writer.writerow([text, ""])
    assert run_cli("eval", "--pack", str(pack_copy), "--data", str(data), "--out", str(tmp_path / "e"),
                   "--quiet").code in (0, 1)
    result = run_cli("drift", "--eval-out", str(tmp_path / "e"))
    assert result.code == 0 and _json(result.stdout)["live_n"] == 0
    assert "not enough data" in _json(result.stdout)["verdict"]
    run_cli("run", "--pack", str(pack_copy), "I forgot my password")
    report = _json(run_cli("drift", "--eval-out", str(tmp_path / "e")).stdout)
    assert report["live_n"] == 1 and report["category_mix"]["largest_shifts"][0]["category"] in (
        "password_reset", "billing", "security")
    missing = run_cli("drift", "--eval-out", str(tmp_path / "nowhere"))
    assert missing.code == 2 and "predictions.jsonl" in missing.stderr


# --- eval --compare and the report --------------------------------------------------------------------------


def test_eval_compare_names_regressions(pack_copy: Path, run_cli: Any, tmp_path: Path) -> None:
    data = tmp_path / "eval.csv"
    with data.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows([("I forgot my password", "password_reset"), ("where is my invoice", "billing"),
                          ("I clicked a phishing link", "security"),
                          ("please reset my password", "billing")])  # labelled wrong on purpose: a mistake
    first = run_cli("eval", "--pack", str(pack_copy), "--data", str(data), "--out", str(tmp_path / "a"), "--quiet")
    assert first.code == 0, first.stderr
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    assert report["accuracy_ci95"] and report["automation_rate_ci95"] and "ece" in report
    assert report["latency_by_length"]["< 40 tokens"]["n"] == 4
    html = (tmp_path / "a" / "report.html").read_text()
    assert "Top confusions" in html and "Worst mistakes" in html and "95% interval" in html
    trails = [json.loads(line) for line in (tmp_path / "a" / "audit.jsonl").read_text().splitlines()]
    assert [t["row"] for t in trails] == [1, 2, 3, 4] and trails[0]["events"][0]["node"] == "control_gate"
    links = re.findall(r"href='(audit/row-\d+\.json)'", html)  # each worst mistake links to its trail
    assert "audit/row-4.json" in links
    for link in links:
        assert json.loads((tmp_path / "a" / link).read_text())[-1]["node"] == "record"
    # An older run that looked better: the comparison names what got worse, and CI can fail on it.
    report["accuracy"] = 1.5
    (tmp_path / "a" / "report.json").write_text(json.dumps(report))
    result = run_cli("eval", "--pack", str(pack_copy), "--data", str(data), "--out", str(tmp_path / "b"), "--quiet",
                     "--compare", str(tmp_path / "a" / "report.json"), "--fail-on-regression")
    assert result.code == 1 and "WORSE  accuracy" in result.stderr and "REGRESSION" in result.stderr
    assert json.loads((tmp_path / "b" / "compare.json").read_text())["worse"][0]["metric"] == "accuracy"
    result = run_cli("eval", "--pack", str(pack_copy), "--data", str(data), "--out", str(tmp_path / "c"), "--quiet",
                     "--compare", str(tmp_path / "missing.json"))
    assert result.code == 2 and "missing.json: file not found" in result.stderr
