"""Shadow replay metrics: agreement, missed escalations, what would have been automated."""

from __future__ import annotations

from typing import Any

from agent.pack import load_pack
from eval.data import EvalRow
from eval.metrics import RowResult
from eval.shadow import disagreement_examples, shadow_report


def row(n: int, human: str | None, agent: str | None, decision: str, expected: str | None = None) -> RowResult:
    return RowResult(source=EvalRow(row=n, text=f"ticket {n} jo@example.com", label=human, is_attack=None,
                                    expected_action=expected, expected_article=None),
                     category=agent, confidence=0.9, decision=decision, reasons=[], guard_flags=[], citations=[],
                     latency_ms=1.0)


def test_missed_escalations_are_tickets_a_person_had_to_take(make_pack: Any) -> None:
    pack = load_pack(make_pack())  # password_reset auto, billing propose, security never
    results = [
        row(1, "password_reset", "password_reset", "auto_reply"),  # right, automated
        row(2, "security", "password_reset", "auto_reply"),  # a never category answered alone: missed
        row(3, "password_reset", "password_reset", "auto_reply", expected="escalate"),  # person took over: missed
        row(4, "billing", "billing", "escalate"),  # propose category, escalated: fine
        row(5, "out_of_scope", None, "escalate"),
    ]
    report = shadow_report(results, pack)
    assert report["missed_escalations_n"] == 2
    assert {m["row"] for m in report["missed_escalations"]} == {2, 3}
    assert report["agreement"] == 0.8 and report["would_automate_n"] == 3
    assert report["would_automate_precision"] == round(1 / 3, 4)
    assert report["would_automate_by_category"]["password_reset"] == {"automated": 3, "right": 1, "labelled": 3}


def test_disagreements_become_redacted_examples(make_pack: Any) -> None:
    pack = load_pack(make_pack())
    rows = disagreement_examples([row(1, "security", "password_reset", "auto_reply"),
                                  row(2, "billing", "billing", "escalate"),
                                  row(3, "not_a_category", "billing", "escalate")], pack)
    assert [(r["label"], r["run_id"]) for r in rows] == [("security", "row-1")]
    assert "jo@example.com" not in rows[0]["text"]
