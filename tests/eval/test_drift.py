"""Drift between live runs and an eval run: the population stability index and its reading."""

from __future__ import annotations

from eval.drift import MIN_LIVE, drift_report, psi


def runs(n: int, category: str | None, confidence: float, decision: str = "auto_reply") -> list[dict[str, object]]:
    return [{"category": category, "confidence": confidence, "decision": decision}] * n


def test_identical_traffic_is_stable() -> None:
    reference = runs(50, "a", 0.95) + runs(50, "b", 0.85)
    report = drift_report(reference[:], reference)
    assert report["verdict"] == "stable" and report["category_mix"]["psi"] == 0.0


def test_a_new_kind_of_ticket_and_falling_confidence_are_drift() -> None:
    reference = runs(50, "a", 0.95) + runs(50, "b", 0.9)
    live = runs(20, "a", 0.95) + runs(60, None, 0.4, "escalate")
    report = drift_report(live, reference)
    assert report["verdict"] == "drifted"
    assert report["category_mix"]["largest_shifts"][0]["category"] == "out_of_scope"
    assert report["confidence"]["live_below_0_5"] == 0.75 and report["confidence"]["eval_below_0_5"] == 0.0
    assert report["automation_rate"] == {"live": 0.25, "eval": 1.0}


def test_too_few_live_runs_give_no_verdict() -> None:
    report = drift_report(runs(MIN_LIVE - 1, "c", 0.2), runs(100, "a", 0.95))
    assert report["verdict"].startswith("not enough data")
    assert report["category_mix"]["psi"] is not None  # the numbers are still shown


def test_psi_grows_with_the_shift() -> None:
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert 0 < psi([0.6, 0.4], [0.5, 0.5]) < psi([0.9, 0.1], [0.5, 0.5])
