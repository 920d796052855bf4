"""The report keys beyond the contract: intervals, ECE, top confusions, grounding misses, latency by length."""

from __future__ import annotations

from eval.data import EvalRow
from eval.insights import (
    calibration,
    grounding_breakdown,
    latency_by_length,
    rate_intervals,
    token_lengths,
    top_confusions,
)
from eval.metrics import RowResult

CATS = ["a", "b"]


def row(label: str | None, predicted: str | None, confidence: float = 0.9, decision: str = "auto_reply",
        latency: float = 5.0, text: str = "t", expected_article: str | None = None, cited: list[str] | None = None,
        at_label: str | None = None) -> RowResult:
    top = predicted or "a"
    return RowResult(source=EvalRow(row=1, text=text, label=label, is_attack=None, expected_action=None,
                                    expected_article=expected_article),
                     category=predicted, confidence=confidence, decision=decision, reasons=[], guard_flags=[],
                     citations=cited or [], latency_ms=latency, alternatives=[(top, confidence)],
                     article_at_label=at_label)


def test_ece_is_zero_when_confidence_matches_accuracy_and_large_when_overconfident() -> None:
    honest = [row("a", "a", 0.75)] * 3 + [row("a", "b", 0.75)]  # 75% confident, 75% right
    assert calibration(honest, CATS)["ece"] == 0.0
    overconfident = [row("a", "a", 0.99), row("a", "b", 0.99)]
    result = calibration(overconfident, CATS)
    assert abs(result["ece"] - 0.49) < 1e-6 and result["calibration_bins"][0]["n"] == 2


def test_out_of_scope_rows_are_left_out_of_calibration() -> None:
    assert calibration([row("out_of_scope", None, 0.95)], CATS) == {"ece": None, "calibration_bins": []}


def test_confusions_are_counted_and_ordered() -> None:
    results = [row("a", "b")] * 3 + [row("b", None)] + [row("a", "a")]
    assert top_confusions(results) == [{"label": "a", "predicted": "b", "n": 3},
                                       {"label": "b", "predicted": "out_of_scope", "n": 1}]


def test_intervals_are_null_where_the_rate_is() -> None:
    intervals = rate_intervals([row("a", "a"), row("a", "a", decision="escalate")], CATS)
    low, high = intervals["automation_rate_ci95"]
    assert low < 0.5 < high
    assert intervals["attack_tpr_ci95"] is None and intervals["oos_recall_ci95"] is None


def test_latency_is_grouped_by_token_length() -> None:
    short, long = "reset my password", " ".join(["word"] * 300)
    lengths = token_lengths([short, long])
    assert lengths[0] < 40 <= 256 <= lengths[1]
    groups = latency_by_length([row("a", "a", latency=4.0), row("a", "a", latency=40.0)], lengths)
    assert groups["< 40 tokens"] == {"n": 1, "p50": 4.0, "p95": 4.0, "p99": 4.0}
    assert groups[">= 256"]["p50"] == 40.0 and "40-119" not in groups


def grounded(label: str, predicted: str | None, cited: list[str], at_label: str) -> RowResult:
    return row(label, predicted, expected_article="KB-1", cited=cited, at_label=at_label)


def test_grounding_misses_are_split_by_cause_and_retrieval_alone_is_measured() -> None:
    results = [grounded("a", "a", ["KB-1"], "KB-1"),  # grounded
               grounded("a", "b", ["KB-9"], "KB-1"),  # wrong category, retrieval would have found it
               grounded("a", None, [], "KB-1"),  # taken for out of scope
               grounded("a", "a", [], "KB-1"),  # right category, nothing drafted
               grounded("a", "a", ["KB-2"], "KB-2")]  # a sibling article ranked first
    breakdown = grounding_breakdown(results)
    assert breakdown == {"n": 5, "misses": {"wrong_category": 2, "no_draft": 1, "other_article": 1},
                         "at_label": 0.8}
    assert grounding_breakdown([row("a", "a")]) is None  # no row expects an article
