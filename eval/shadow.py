"""Shadow replay: run past tickets through the agent and hold its decisions against what people did.

Each row carries the human outcome: `label`, the category a person finally gave it (out_of_scope or
empty for none), and optionally `expected_action` = escalate when a person had to take it over. The
replay answers three questions before the agent is given autonomy:
- agreement: how often its category matches the person's;
- missed escalations: tickets a person had to handle (escalate outcome, a `never` or `propose` category,
  out of scope) that the agent would have answered or routed alone. This is the number to drive to 0;
- what it would have automated: how many tickets, per category, and how many of those it got right.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from agent.pack import Pack
from eval.metrics import RowResult, wilson_interval

ACTED_ALONE = ("auto_reply", "auto_route")


def needed_a_person(r: RowResult, pack: Pack) -> bool:
    """The human outcome says first-line automation was not enough for this ticket."""
    label = r.source.label
    if r.source.expected_action == "escalate":
        return True
    if label is None:
        return False
    if not pack.has_category(label):
        return True  # out of scope: nothing the pack may answer
    return pack.category(label).autonomy != "auto"


def _row(r: RowResult) -> dict[str, Any]:
    return {"row": r.source.row, "text": r.source.text[:200], "human": r.source.label,
            "agent_category": r.category, "confidence": r.confidence, "decision": r.decision, "reasons": r.reasons}


def shadow_report(results: list[RowResult], pack: Pack) -> dict[str, Any]:
    """Agreement, missed escalations and would-be automation of a replay."""
    labelled = [r for r in results if r.source.label]
    agree = sum(1 for r in labelled if (r.category or "out_of_scope") == r.source.label)
    alone = [r for r in results if r.decision in ACTED_ALONE]
    alone_labelled = [r for r in alone if r.source.label]
    alone_right = sum(1 for r in alone_labelled if r.category == r.source.label and not needed_a_person(r, pack))
    missed = [r for r in alone if needed_a_person(r, pack)]
    needing = sum(1 for r in results if needed_a_person(r, pack))
    per_category: dict[str, dict[str, int]] = {}
    for r in alone:
        entry = per_category.setdefault(r.category or "out_of_scope", {"automated": 0, "right": 0, "labelled": 0})
        entry["automated"] += 1
        if r.source.label:
            entry["labelled"] += 1
            entry["right"] += int(r.category == r.source.label and not needed_a_person(r, pack))
    disagreements = [r for r in labelled if (r.category or "out_of_scope") != r.source.label]
    return {
        "n": len(results),
        "labelled_n": len(labelled),
        "agreement": round(agree / len(labelled), 4) if labelled else None,
        "agreement_ci95": wilson_interval(agree, len(labelled)),
        "would_automate_n": len(alone),
        "would_automate_rate": round(len(alone) / len(results), 4) if results else None,
        "would_automate_precision": round(alone_right / len(alone_labelled), 4) if alone_labelled else None,
        "would_automate_precision_ci95": wilson_interval(alone_right, len(alone_labelled)),
        "needed_a_person_n": needing,
        "missed_escalations_n": len(missed),
        "missed_escalations": [_row(r) for r in sorted(missed, key=lambda r: -r.confidence)],
        "decisions": dict(Counter(r.decision for r in results)),
        "would_automate_by_category": dict(sorted(per_category.items())),
        "top_disagreements": [
            {"human": h, "agent": a, "n": n}
            for (h, a), n in Counter((r.source.label, r.category or "out_of_scope") for r in disagreements)
            .most_common(10)
        ],
    }


def disagreement_examples(results: list[RowResult], pack: Pack) -> list[dict[str, str]]:
    """Tickets where the person's category differs from the agent's: the most useful new training rows."""
    from guardrails.pii import redact

    return [
        {"text": redact(r.source.text).text, "label": str(r.source.label), "source": "shadow",
         "ticket_id": "", "run_id": f"row-{r.source.row}", "verdict": "disagreement", "reviewer": "",
         "answered_at": ""}
        for r in results
        if r.source.label and (r.source.label == "out_of_scope" or pack.has_category(r.source.label))
        and (r.category or "out_of_scope") != r.source.label
    ]
