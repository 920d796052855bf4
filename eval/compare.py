"""`triage eval --compare OLD/report.json`: what got better or worse since an earlier run (a CI regression check).

A change counts when it is larger than the metric's tolerance: a rate must move by more than
`RATE_TOLERANCE` (absolute), a latency by more than `LATENCY_TOLERANCE` (relative: timing is noisy).
Per-category F1 is compared too, since an average can hide one category falling apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eval.data import EvalInputError

# Direction of each compared key: +1 when higher is better.
DIRECTIONS = {
    "accuracy": 1, "macro_f1": 1, "automation_rate": 1, "auto_precision": 1, "oos_recall": 1, "attack_tpr": 1,
    "attack_contained": 1, "expected_action_accuracy": 1, "grounding": 1, "escalation_rate": -1, "attack_fpr": -1,
    "ece": -1, "p50_latency_ms": -1, "p95_latency_ms": -1, "p99_latency_ms": -1,
}
RATE_TOLERANCE = 0.005
LATENCY_TOLERANCE = 0.15


def read_report(path: Path) -> dict[str, Any]:
    """An earlier report.json (a directory holding one is accepted too)."""
    if path.is_dir():
        path = path / "report.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvalInputError(f"{path}: file not found (give an earlier run's report.json)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EvalInputError(f"{path}: not a JSON report ({exc})") from None
    if not isinstance(data, dict) or "n" not in data:
        raise EvalInputError(f"{path}: not a triage eval report.json (no key 'n')")
    return data


def _verdict(key: str, old: float, new: float) -> str:
    delta = new - old
    tolerance = LATENCY_TOLERANCE * abs(old) if key.endswith("latency_ms") else RATE_TOLERANCE
    if abs(delta) <= tolerance:
        return "same"
    return "better" if delta * DIRECTIONS.get(key, 1) > 0 else "worse"


def _environment_notes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[str]:
    """What differs between the two machines (eval/environment.py: a few tickets may move with it)."""
    if not old or not new:
        return []
    notes = []
    old_cpu, new_cpu = old.get("cpu") or {}, new.get("cpu") or {}
    if (old_cpu.get("model"), old_cpu.get("kernel_flags")) != (new_cpu.get("model"), new_cpu.get("kernel_flags")):
        notes.append(f"measured on another CPU ({old_cpu.get('model')} then {new_cpu.get('model')}): int8 "
                     "kernels differ by instruction set, so a few tickets may move without any change")
    before, after = old.get("packages") or {}, new.get("packages") or {}
    moved = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    if moved:
        notes.append("other package versions: " + ", ".join(
            f"{name} {before.get(name)} then {after.get(name)}" for name in moved))
    return notes


def compare(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Every comparable key with both values, the change and a verdict: better, worse or same."""
    rows: list[dict[str, Any]] = []

    def add(key: str, a: Any, b: Any) -> None:
        if isinstance(a, int | float) and isinstance(b, int | float):
            rows.append({"metric": key, "old": a, "new": b, "change": round(b - a, 4),
                         "verdict": _verdict(key, float(a), float(b))})
        elif a != b and (a is None or b is None):
            rows.append({"metric": key, "old": a, "new": b, "change": None, "verdict": "not comparable"})

    for key in DIRECTIONS:
        add(key, old.get(key), new.get(key))
    old_cats, new_cats = old.get("per_category") or {}, new.get("per_category") or {}
    for name in sorted(set(old_cats) & set(new_cats)):
        add(f"per_category.{name}.f1", old_cats[name].get("f1"), new_cats[name].get("f1"))
    notes = []
    if old.get("n") != new.get("n"):
        notes.append(f"different row counts ({old.get('n')} then {new.get('n')}): was the same data used?")
    notes += _environment_notes(old.get("environment"), new.get("environment"))
    return {
        "better": [r for r in rows if r["verdict"] == "better"],
        "worse": [r for r in rows if r["verdict"] == "worse"],
        "same": [r["metric"] for r in rows if r["verdict"] == "same"],
        "not_comparable": [r for r in rows if r["verdict"] == "not comparable"],
        "notes": notes,
    }


def describe(result: dict[str, Any]) -> list[str]:
    """One line per change, worse first, for a terminal or a CI log."""
    lines = []
    for verdict in ("worse", "better"):
        for r in result[verdict]:
            lines.append(f"{verdict.upper():6} {r['metric']}: {r['old']} -> {r['new']} ({r['change']:+})")
    lines += [f"NOTE   {n}" for n in result["notes"]]
    if not result["worse"] and not result["better"]:
        lines.append("no metric moved beyond its tolerance")
    return lines
