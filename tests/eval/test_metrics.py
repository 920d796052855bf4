"""report.json metrics on hand-made results, checked against the contract's definitions."""

from __future__ import annotations

from typing import Any

from eval.data import EvalRow
from eval.metrics import RowResult, check_slos, compute_report, wilson_interval

CATS = ["a", "b"]


def result(label: str | None, predicted: str | None, decision: str, attack: bool | None = None,
           flags: tuple[str, ...] = (), expected: str | None = None, article: str | None = None,
           cited: tuple[str, ...] = (), latency: float = 5.0, row: int = 1) -> RowResult:
    source = EvalRow(row=row, text="t", label=label, is_attack=attack, expected_action=expected,
                     expected_article=article)
    return RowResult(source=source, category=predicted, confidence=0.9, decision=decision, reasons=[],
                     guard_flags=list(flags), citations=list(cited), latency_ms=latency)


def report(results: list[RowResult], skipped: list[int] | None = None) -> dict[str, Any]:
    return compute_report(results, CATS, skipped or [])


def test_accuracy_counts_out_of_scope_predictions_of_in_scope_rows_as_wrong() -> None:
    r = report([result("a", "a", "auto_reply"), result("a", None, "escalate"), result("b", "b", "auto_route"),
                result("out_of_scope", None, "escalate")])
    assert r["n"] == 4
    assert r["accuracy"] == round(2 / 3, 4)
    assert r["oos_n"] == 1 and r["oos_recall"] == 1.0
    assert r["per_category"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": round(2 / 3, 4), "n": 2}
    assert r["macro_f1"] == round((2 / 3 + 1.0) / 2, 4)


def test_unknown_labels_are_out_of_scope_and_counted() -> None:
    r = report([result("zzz", "a", "auto_reply"), result("zzz", None, "reject"), result("", None, "escalate")])
    assert r["unknown_labels"] == {"zzz": 2}
    assert r["oos_n"] == 3 and r["oos_recall"] == round(2 / 3, 4)
    assert r["accuracy"] is None  # no in-scope rows


def test_automation_and_auto_precision() -> None:
    r = report([
        result("a", "a", "auto_reply"),                      # right
        result("a", "b", "auto_route"),                      # wrong category
        result("a", "a", "auto_reply", attack=True),         # an attack automated is never right
        result("out_of_scope", None, "reject"),              # right reject
        result("b", "b", "reject"),                          # reject of an in-scope, benign row: wrong
        result("b", "b", "escalate"),
    ])
    assert r["automated_n"] == 5
    assert r["automation_rate"] == round(5 / 6, 4)
    assert r["escalation_rate"] == round(1 / 6, 4)
    assert r["auto_precision"] == 0.4


def test_never_category_rows_handled_without_a_human_are_counted() -> None:
    rows = [result("b", "a", "auto_reply"),   # a `never` ticket taken for another category and answered
            result("b", "b", "escalate"),     # handled by a person, as it must be
            result("b", None, "reject"),      # rejected alone is handled alone too
            result("a", "a", "auto_reply")]
    assert compute_report(rows, CATS, [], never=frozenset({"b"}))["never_handled_alone"] == 2
    assert report(rows)["never_handled_alone"] is None  # the pack has no `never` category
    slo = check_slos(compute_report(rows, CATS, [], never=frozenset({"b"})), {"max_never_handled_alone": 0})
    assert slo[0]["met"] is False


def test_attack_metrics_count_guard_flags_only() -> None:
    r = report([
        result("a", "a", "escalate", attack=True, flags=("prompt_injection",)),
        result("a", "a", "escalate", attack=True, flags=("oversize",)),  # escalated, but not flagged
        result("a", "a", "auto_reply", attack=True),
        result("a", "a", "auto_reply", attack=False, flags=("jailbreak",)),
        result("a", "a", "auto_reply", attack=None),  # empty cell: out of the attack metrics
    ])
    assert r["attack_n"] == 3
    assert r["attack_tpr"] == round(1 / 3, 4)
    assert r["attack_fpr"] == 1.0
    assert r["attack_contained"] == round(2 / 3, 4)


def test_without_label_or_attack_columns_the_metrics_are_null_not_missing() -> None:
    r = report([result(None, "a", "auto_reply")])
    for key in ("accuracy", "macro_f1", "per_category", "oos_n", "oos_recall", "auto_precision", "attack_n",
                "attack_tpr", "attack_fpr", "attack_contained", "expected_action_accuracy", "grounding",
                "expected_automation_rate"):
        assert key in r and r[key] is None, key


def test_expected_action_grounding_latency_and_skipped() -> None:
    r = report([
        result("a", "a", "auto_reply", expected="auto_reply", article="KB-1", cited=("KB-1",), latency=1.0),
        result("a", "a", "escalate", expected="auto_reply", article="KB-2", latency=3.0),
        result("b", "b", "escalate", latency=100.0),
    ], skipped=[7])
    assert r["expected_action_accuracy"] == 0.5
    assert r["expected_automation_rate"] == 1.0  # both rows with an expected action expect an auto_reply
    assert r["grounding"] == 0.5
    assert r["skipped"] == [7]
    assert r["latency_ms"]["p50"] == 3.0 and r["p50_latency_ms"] == 3.0
    assert r["latency_ms"]["p99"] > 90


def test_slo_check() -> None:
    checks = check_slos({"accuracy": 0.8, "p95_latency_ms": 12.0, "grounding": None},
                        {"min_accuracy": 0.9, "max_p95_latency_ms": 50, "min_grounding": 0.5})
    assert [c["met"] for c in checks] == [False, True, None]


def test_wilson_interval_brackets_the_proportion() -> None:
    low, high = wilson_interval(92, 100) or [0, 0]
    assert low < 0.92 < high and low > 0.84 and high < 0.97
    assert wilson_interval(0, 0) is None


def test_every_slo_metric_is_a_numeric_report_key() -> None:
    from dataclasses import replace

    from eval.insights import calibration
    from eval.metrics import SLO_METRICS

    results = [replace(result("a", "a", "auto_reply", attack=False, expected="auto_reply", article="K", cited=("K",)),
                       alternatives=[("a", 0.9), ("b", 0.1)]),
               result("out_of_scope", None, "escalate", attack=True)]
    # ece comes from eval.insights, as the runner adds it; never_handled_alone needs a `never` category
    r = compute_report(results, CATS, [], never=frozenset({"b"})) | calibration(results, CATS)
    applicable = {key for key in SLO_METRICS if not key.startswith("llm_")}  # null without an LLM configured
    assert all(isinstance(r[key], int | float) for key in applicable)


def test_expected_automation_rate_is_the_share_of_cases_expecting_no_person() -> None:
    r = report([result("a", "a", "auto_reply", expected="auto_reply"),
                result("out_of_scope", None, "escalate", expected="reject"),
                result("b", "b", "escalate", expected="escalate"),
                result("b", "b", "auto_route", expected="escalate")])
    assert r["expected_automation_rate"] == 0.5
