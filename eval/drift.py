"""Drift: is live traffic still the traffic the eval set measured?

Two signals, each compared between the live runs (the state database) and the eval run's
predictions.jsonl: the category mix (out_of_scope included) and the classifier's confidence. Each is
summarised by the population stability index (PSI = sum (live - eval) * ln(live / eval) over bins),
with the usual reading: below 0.1 stable, 0.1 to 0.25 worth watching, above 0.25 drifted. A confidence
drop alone is the earliest sign that the eval numbers no longer describe production.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from eval.data import EvalInputError
from service.store import RunRecord, as_utc

CONFIDENCE_BINS = [0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0001]
WATCH, DRIFTED = 0.1, 0.25
MIN_LIVE = 30
"""Fewer live runs than this give no verdict: the index of a handful of tickets is noise."""
_EPS = 1e-4  # keeps an empty bin from making the index infinite


def psi(live: list[float], reference: list[float]) -> float:
    """Population stability index of two distributions over the same bins (shares, each summing to 1)."""
    total = 0.0
    for a, b in zip(live, reference, strict=True):
        a, b = max(a, _EPS), max(b, _EPS)
        total += (a - b) * math.log(a / b)
    return round(total, 4)


def verdict(value: float) -> str:
    return "drifted" if value > DRIFTED else ("watch" if value > WATCH else "stable")


def read_predictions(eval_out: Path) -> list[dict[str, Any]]:
    """The eval run's rows (predictions.jsonl from `triage eval --out`)."""
    path = eval_out / "predictions.jsonl" if eval_out.is_dir() else eval_out
    if not path.exists():
        raise EvalInputError(f"{path}: not found (pass the --out directory of a `triage eval` run: its "
                             "predictions.jsonl is the reference)")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalInputError(f"{path}: line {number}: not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict) or "confidence" not in row or "category" not in row:
            raise EvalInputError(f"{path}: line {number}: needs 'category' and 'confidence' (a predictions.jsonl)")
        rows.append(row)
    return rows


def live_runs(engine: Engine, since: datetime | None = None) -> list[dict[str, Any]]:
    """Finished runs that classified their ticket (a run with the agent switched off has no confidence)."""
    with Session(engine) as session:
        records = session.exec(select(RunRecord).where(col(RunRecord.decision).is_not(None))).all()
    out = []
    for record in records:
        if since is not None and as_utc(record.created_at) < since:
            continue
        result = json.loads(record.result_json or "{}")
        if result.get("confidence") is not None:
            out.append({"category": result.get("category"), "confidence": float(result["confidence"]),
                        "decision": result.get("decision")})
    return out


def _shares(values: list[str], keys: list[str]) -> list[float]:
    counts = Counter(values)
    return [counts[k] / len(values) for k in keys] if values else [0.0] * len(keys)


def drift_report(live: list[dict[str, Any]], reference: list[dict[str, Any]]) -> dict[str, Any]:
    """Category-mix and confidence drift between live runs and the eval set's predictions."""
    def category(row: dict[str, Any]) -> str:
        return str(row.get("category") or "out_of_scope")

    names = sorted({category(r) for r in live} | {category(r) for r in reference})
    live_mix = _shares([category(r) for r in live], names)
    eval_mix = _shares([category(r) for r in reference], names)
    live_conf = np.array([r["confidence"] for r in live], dtype=float)
    eval_conf = np.array([r["confidence"] for r in reference], dtype=float)

    def binned(values: np.ndarray) -> list[float]:
        counts, _ = np.histogram(values, bins=CONFIDENCE_BINS)
        return [float(c) / len(values) for c in counts] if len(values) else [0.0] * (len(CONFIDENCE_BINS) - 1)

    mix_psi = psi(live_mix, eval_mix) if live and reference else None
    conf_psi = psi(binned(live_conf), binned(eval_conf)) if live and reference else None
    by_change = sorted(zip(names, live_mix, eval_mix, strict=True), key=lambda t: -abs(t[1] - t[2]))
    shifts = [{"category": n, "live": round(a, 4), "eval": round(b, 4), "change": round(a - b, 4)}
              for n, a, b in by_change]

    def automated(rows: list[dict[str, Any]]) -> float | None:
        return round(sum(1 for r in rows if r.get("decision") in ("auto_reply", "auto_route", "reject"))
                     / len(rows), 4) if rows else None

    worst = max((v for v in (mix_psi, conf_psi) if v is not None), default=None)
    enough = len(live) >= MIN_LIVE and bool(reference)
    return {
        "live_n": len(live),
        "eval_n": len(reference),
        "verdict": verdict(worst) if worst is not None and enough else f"not enough data (need {MIN_LIVE} live runs)",
        "category_mix": {"psi": mix_psi, "verdict": verdict(mix_psi) if mix_psi is not None else None,
                         "largest_shifts": shifts[:8]},
        "confidence": {
            "psi": conf_psi, "verdict": verdict(conf_psi) if conf_psi is not None else None,
            "live_mean": round(float(live_conf.mean()), 4) if len(live_conf) else None,
            "eval_mean": round(float(eval_conf.mean()), 4) if len(eval_conf) else None,
            "live_below_0_5": round(float((live_conf < 0.5).mean()), 4) if len(live_conf) else None,
            "eval_below_0_5": round(float((eval_conf < 0.5).mean()), 4) if len(eval_conf) else None,
        },
        "automation_rate": {"live": automated(live), "eval": automated(reference)},
    }
