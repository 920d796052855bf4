"""`eval --compare`: which metrics got better or worse, and which moves are noise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.compare import compare, describe, read_report
from eval.data import EvalInputError


def base() -> dict[str, object]:
    return {"n": 100, "accuracy": 0.9, "auto_precision": 0.95, "escalation_rate": 0.4, "p95_latency_ms": 30.0,
            "ece": 0.04, "per_category": {"a": {"f1": 0.9}, "b": {"f1": 0.8}}}


def test_direction_matters_and_small_moves_are_the_same() -> None:
    new = base() | {"accuracy": 0.92, "escalation_rate": 0.45, "auto_precision": 0.952, "p95_latency_ms": 33.0,
                    "per_category": {"a": {"f1": 0.9}, "b": {"f1": 0.7}}}
    result = compare(base(), new)
    assert [r["metric"] for r in result["better"]] == ["accuracy"]
    # More escalation is worse; category b fell although the average rose.
    assert {r["metric"] for r in result["worse"]} == {"escalation_rate", "per_category.b.f1"}
    assert "auto_precision" in result["same"] and "p95_latency_ms" in result["same"]  # within tolerance
    lines = describe(result)
    assert lines[0].startswith("WORSE") and any("accuracy: 0.9 -> 0.92" in line for line in lines)


def test_a_metric_that_became_null_is_reported_and_row_counts_are_checked() -> None:
    result = compare(base(), base() | {"auto_precision": None, "n": 90})
    assert result["not_comparable"][0]["metric"] == "auto_precision"
    assert "different row counts" in result["notes"][0]
    assert describe(compare(base(), base())) == ["no metric moved beyond its tolerance"]


def test_a_report_from_another_machine_or_other_packages_says_so() -> None:
    here = {"cpu": {"model": "AMD EPYC", "kernel_flags": ["avx2", "avx512_vnni"]},
            "packages": {"onnxruntime": "1.32.0", "numpy": "2.4.6"}}
    there = {"cpu": {"model": "Intel Xeon", "kernel_flags": ["avx2"]},
             "packages": {"onnxruntime": "1.31.0", "numpy": "2.4.6"}}
    notes = compare(base() | {"environment": here}, base() | {"environment": there})["notes"]
    assert any("another CPU (AMD EPYC then Intel Xeon)" in note for note in notes)
    assert "other package versions: onnxruntime 1.32.0 then 1.31.0" in notes
    assert compare(base() | {"environment": here}, base() | {"environment": here})["notes"] == []
    assert compare(base(), base() | {"environment": here})["notes"] == []  # an older report has none


def test_reading_a_report_names_the_problem(tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text(json.dumps(base()))
    assert read_report(tmp_path)["n"] == 100  # a directory holding report.json is accepted
    (tmp_path / "other.json").write_text('{"hello": 1}')
    with pytest.raises(EvalInputError, match="not a triage eval report"):
        read_report(tmp_path / "other.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(EvalInputError, match=r"broken\.json: not a JSON report"):
        read_report(tmp_path / "broken.json")
