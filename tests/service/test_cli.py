"""The command-line contract (DESIGN.md), driven as users and other tools drive it: in a subprocess."""

from __future__ import annotations

import json
import os
import platform
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import TINY_YAML, PackFactory

RUN_KEYS = {"category", "confidence", "alternatives", "out_of_scope", "priority", "queue", "decision", "reasons",
            "draft", "citations", "guard", "run_id", "latency_ms"}
REPORT_KEYS = {"n", "skipped", "unknown_labels", "accuracy", "macro_f1", "per_category", "automated_n",
               "automation_rate", "escalation_rate", "auto_precision", "oos_n", "oos_recall", "attack_n",
               "attack_tpr", "attack_fpr", "attack_contained", "expected_action_accuracy", "grounding",
               "latency_ms"}


@pytest.fixture
def pack_copy(tiny_pack: Path, tmp_path: Path) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(tiny_pack, target)
    return target


def test_train_writes_only_arrays_and_json(make_pack: PackFactory, run_cli: Any) -> None:
    root = make_pack()
    result = run_cli("train", "--pack", str(root))
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["examples"] > 0
    files = list((root / ".model").iterdir())
    assert {f.suffix for f in files} <= {".json", ".npz", ".npy", ""}
    for f in files:
        if f.suffix in (".npz", ".npy"):
            np.load(f, allow_pickle=False)  # raises if anything needs unpickling


def test_run_prints_every_contract_key(pack_copy: Path, run_cli: Any) -> None:
    result = run_cli("run", "--pack", str(pack_copy), "I forgot my password")
    assert result.code == 0, result.stderr
    decision = json.loads(result.stdout)
    assert decision.keys() >= RUN_KEYS
    assert decision["category"] == "password_reset"
    assert decision["alternatives"][0]["category"] == "password_reset"


def test_run_reads_a_file_and_reports_missing_files(pack_copy: Path, run_cli: Any, tmp_path: Path) -> None:
    ticket = tmp_path / "ticket.txt"
    ticket.write_text("where can I download my invoice")
    result = run_cli("run", "--pack", str(pack_copy), "--file", str(ticket))
    assert result.code == 0 and json.loads(result.stdout)["category"] == "billing"
    result = run_cli("run", "--pack", str(pack_copy), "--file", str(tmp_path / "missing.txt"))
    assert result.code == 2 and "missing.txt" in result.stderr and "Traceback" not in result.stderr


def test_invalid_or_untrained_pack_is_a_clear_error(make_pack: PackFactory, run_cli: Any) -> None:
    bad = make_pack(name="bad", yaml_text="name: x\ncategories:\n  - name: 7\n")
    result = run_cli("train", "--pack", str(bad))
    assert result.code == 2 and "pack.yaml: line 3, categories[0].name: must be a string" in result.stderr
    assert "Traceback" not in result.stderr
    untrained = make_pack(name="untrained")
    result = run_cli("run", "--pack", str(untrained), "hello")
    assert result.code == 2 and "not trained yet" in result.stderr and "triage train" in result.stderr


def write_csv(path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> Path:
    import csv

    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_eval_writes_the_full_report_and_follows_the_rules(pack_copy: Path, run_cli: Any, tmp_path: Path) -> None:
    data = write_csv(tmp_path / "data.csv", [
        ("I forgot my password", "password_reset", "0"),
        ("", "billing", "0"),
        ("I was charged twice", "billing", ""),
        ("what's the weather", "out_of_scope", "1"),
        ("hello there", "mystery", "no"),
    ], ("body", "gold", "attack"))
    # One row also names the article that answers it (a fourth column, under the default article column name).
    rows = data.read_text().splitlines()
    data.write_text("\n".join([rows[0] + ",expected_article", rows[1] + ",KB-PW-1", *rows[2:]]) + "\n")
    out = tmp_path / "out"
    result = run_cli("eval", "--pack", str(pack_copy), "--data", str(data), "--out", str(out),
                     "--text-col", "body", "--label-col", "gold", "--attack-col", "attack")
    assert result.code == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report.keys() >= REPORT_KEYS
    assert report["n"] == 4 and report["skipped"] == [2]
    assert report["unknown_labels"] == {"mystery": 1} and "mystery" in result.stderr
    assert report["oos_n"] == 2 and report["attack_n"] == 1
    assert set(report["latency_ms"]) == {"p50", "p95", "p99"}
    # Why grounded rows missed, and what retrieval finds given the labelled category.
    assert report["grounding"] == 1.0 and report["grounding_breakdown"] == {
        "n": 1, "misses": {"wrong_category": 0, "no_draft": 0, "other_article": 0}, "at_label": 1.0}
    first = json.loads((out / "predictions.jsonl").read_text().splitlines()[0])
    assert first["article_at_label"] == "KB-PW-1"
    page = (out / "report.html").read_text()
    assert page.count("<img") >= 3 and "first article given the labelled category" in page
    # Where it ran: numbers move a little between CPUs and package versions, so the report says which.
    env = report["environment"]
    assert env["python"] == platform.python_version() and env["packages"]["onnxruntime"]
    assert env["cpu"]["cores"] == os.cpu_count()
    assert f"Python {env['python']}" in page and f"onnxruntime {env['packages']['onnxruntime']}" in page


def test_eval_without_optional_columns_reports_nulls(pack_copy: Path, run_cli: Any, tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "I forgot my password"}\n{"text": "invoice please"}\n')
    result = run_cli("eval", "--pack", str(pack_copy), "--data", str(data), "--out", str(tmp_path / "o"))
    assert result.code == 0, result.stderr
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report.keys() >= REPORT_KEYS
    assert report["accuracy"] is None and report["attack_tpr"] is None and report["n"] == 2


def test_eval_exit_1_names_the_missed_slo(make_pack: PackFactory, run_cli: Any, tmp_path: Path) -> None:
    strict = TINY_YAML + "slo: {min_accuracy: 0.99, max_p95_latency_ms: 100000}\n"
    root = make_pack(name="strict", yaml_text=strict)
    assert run_cli("train", "--pack", str(root)).code == 0
    data = write_csv(tmp_path / "d.csv", [("I forgot my password", "billing")], ("text", "label"))
    result = run_cli("eval", "--pack", str(root), "--data", str(data), "--out", str(tmp_path / "o"))
    assert result.code == 1 and "min_accuracy" in result.stderr
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert [s["met"] for s in report["slo"]] == [False, True]


def test_a_missed_latency_slo_can_be_reported_without_failing(make_pack: PackFactory, run_cli: Any,
                                                               tmp_path: Path) -> None:
    # No machine triages in a microsecond: the latency SLO is missed, the quality one met.
    root = make_pack(name="fast", yaml_text=TINY_YAML + "slo: {min_accuracy: 0.5, max_p95_latency_ms: 0.001}\n")
    assert run_cli("train", "--pack", str(root)).code == 0
    data = write_csv(tmp_path / "d.csv", [("I forgot my password", "password_reset")], ("text", "label"))
    enforced = run_cli("eval", "--pack", str(root), "--data", str(data), "--out", str(tmp_path / "a"))
    assert enforced.code == 1 and "SLO MISSED max_p95_latency_ms" in enforced.stderr
    reported = run_cli("eval", "--pack", str(root), "--data", str(data), "--out", str(tmp_path / "b"),
                       "--latency-slos", "report")
    assert reported.code == 0, reported.stderr
    assert "max_p95_latency_ms not met here" in reported.stderr and "SLO MISSED" not in reported.stderr
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert [s["met"] for s in report["slo"]] == [True, False]  # the report still records the miss


def test_every_missed_slo_can_be_reported_without_failing_for_a_dev_set(make_pack: PackFactory, run_cli: Any,
                                                                        tmp_path: Path) -> None:
    # A pack's SLOs hold its eval set; on a dev set the misses are worth reading, not a failed run.
    root = make_pack(name="dev", yaml_text=TINY_YAML + "slo: {min_accuracy: 1.0, max_p95_latency_ms: 0.001}\n")
    assert run_cli("train", "--pack", str(root)).code == 0
    data = write_csv(tmp_path / "d.csv", [("I forgot my password", "billing")], ("text", "label"))  # mislabelled
    reported = run_cli("eval", "--pack", str(root), "--data", str(data), "--out", str(tmp_path / "o"),
                       "--slos", "report")
    assert reported.code == 0, reported.stderr
    assert "min_accuracy not met here" in reported.stderr and "SLO MISSED" not in reported.stderr
    assert [s["met"] for s in json.loads((tmp_path / "o" / "report.json").read_text())["slo"]] == [False, False]


@pytest.mark.parametrize("args, content, message", [
    (["--label-col", "gold"], "text,label\nx,billing\n", "no column 'gold'"),
    (["--attack-col", "is_attack"], "text,is_attack\nx,perhaps\n", "row 1, column 'is_attack'"),
    (["--text-col", "body"], "text,label\nx,billing\n", "no text column 'body'"),
])
def test_eval_exit_2_names_file_row_and_column(pack_copy: Path, run_cli: Any, tmp_path: Path,
                                               args: list[str], content: str, message: str) -> None:
    data = tmp_path / "d.csv"
    data.write_text(content)
    result = run_cli("eval", "--pack", str(pack_copy), "--data", str(data), "--out", str(tmp_path / "o"), *args)
    assert result.code == 2 and message in result.stderr and str(data) in result.stderr
    assert "Traceback" not in result.stderr


def test_eval_writes_nothing_outside_out(pack_copy: Path, run_cli: Any, tmp_path: Path) -> None:
    data = write_csv(tmp_path / "d.csv", [("I forgot my password", "password_reset")], ("text", "label"))
    before = sorted(p.relative_to(pack_copy) for p in pack_copy.rglob("*"))
    result = run_cli("eval", "--pack", str(pack_copy), "--data", str(data), "--out", str(tmp_path / "o"))
    assert result.code == 0
    assert not (tmp_path / "home").exists()  # no state database, helpdesk or checkpoints
    assert sorted(p.relative_to(pack_copy) for p in pack_copy.rglob("*")) == before


def test_eval_refuses_an_slo_on_an_unknown_metric(make_pack: PackFactory, run_cli: Any, tmp_path: Path) -> None:
    root = make_pack(name="odd", yaml_text=TINY_YAML + "slo: {min_happiness: 0.9}\n")
    assert run_cli("train", "--pack", str(root)).code == 0
    data = write_csv(tmp_path / "d.csv", [("I forgot my password", "password_reset")], ("text", "label"))
    result = run_cli("eval", "--pack", str(root), "--data", str(data), "--out", str(tmp_path / "o"))
    assert result.code == 2 and "slo.min_happiness: 'happiness' is not a report.json key" in result.stderr
