"""The feedback loop: reviewers' answers become labelled examples and replayable outcomes.

A reviewer who approves or edits a proposal confirms its category; one who reroutes names the right
one; one who rejects says a person had to take the ticket (no category). Texts come from the PII store
and are exported redacted (what the model is trained on anyway), so a feedback file can be committed
into a pack without carrying anyone's address or card number.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from eval.data import EvalRow
from guardrails.pii import redact
from service.store import ApprovalRecord, TicketText, as_utc

FEEDBACK_COLUMNS = ["text", "label", "source", "ticket_id", "run_id", "verdict", "reviewer", "answered_at"]


@dataclass(frozen=True)
class Outcome:
    """A ticket and what a person finally did with it."""

    ticket_id: str
    run_id: str
    text: str | None
    """Raw text from the PII store; None once erased or purged."""
    agent_category: str | None
    human_category: str | None
    """The category the reviewer confirmed or chose; None when they rejected the proposal."""
    verdict: str
    reviewer: str | None
    answered_at: datetime | None


def reviewed_outcomes(engine: Engine, since: datetime | None = None) -> list[Outcome]:
    """Every answered review (expired ones have no human outcome), oldest first."""
    with Session(engine) as session:
        query = select(ApprovalRecord).where(ApprovalRecord.status == "answered")
        rows = session.exec(query.order_by(col(ApprovalRecord.answered_at))).all()
        texts = {(t.ticket_id, t.run_id): t.text for t in session.exec(select(TicketText)).all()}
    outcomes = []
    for row in rows:
        if since is not None and row.answered_at is not None and as_utc(row.answered_at) < since:
            continue
        answer: dict[str, Any] = json.loads(row.answer_json or "{}")
        proposed = json.loads(row.payload_json).get("action", {}).get("category") or row.category
        human = {"approve": proposed, "edit": proposed, "reroute": answer.get("category")}.get(row.verdict or "")
        outcomes.append(Outcome(
            ticket_id=row.ticket_id, run_id=row.run_id, text=texts.get((row.ticket_id, row.run_id)),
            agent_category=proposed, human_category=human, verdict=row.verdict or "", reviewer=row.answered_by,
            answered_at=as_utc(row.answered_at) if row.answered_at else None,
        ))
    return outcomes


def labelled_examples(outcomes: list[Outcome], categories: set[str]) -> tuple[list[dict[str, str]], dict[str, int]]:
    """Rows for examples.csv (redacted text, the human's category) and counts of what was left out, and why."""
    rows: list[dict[str, str]] = []
    left_out = {"rejected_no_category": 0, "text_erased": 0, "category_not_in_pack": 0}
    for o in outcomes:
        if o.human_category is None:
            left_out["rejected_no_category"] += 1
        elif o.text is None:
            left_out["text_erased"] += 1
        elif o.human_category not in categories:
            left_out["category_not_in_pack"] += 1
        else:
            rows.append({
                "text": redact(o.text).text, "label": o.human_category,
                "source": "correction" if o.verdict == "reroute" else "confirmation", "ticket_id": o.ticket_id,
                "run_id": o.run_id, "verdict": o.verdict, "reviewer": o.reviewer or "",
                "answered_at": o.answered_at.isoformat() if o.answered_at else "",
            })
    return rows, left_out


def replay_rows(outcomes: list[Outcome]) -> list[EvalRow]:
    """Reviewed tickets as eval rows for a shadow replay: a rejected proposal means a person had to act."""
    rows = []
    for number, o in enumerate((o for o in outcomes if o.text), start=1):
        assert o.text is not None
        rows.append(EvalRow(row=number, text=o.text, label=o.human_category,
                            is_attack=None, expected_action="escalate" if o.verdict == "reject" else None,
                            expected_article=None))
    return rows


def write_feedback(path: Path, rows: list[dict[str, str]]) -> None:
    """A CSV in examples.csv's shape (text,label first; the extra columns say where each row came from)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FEEDBACK_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def append_to_examples(examples_csv: Path, rows: list[dict[str, str]]) -> int:
    """Add rows whose text the pack does not already have; returns how many were added."""
    with examples_csv.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or ["text", "label"])
        known = {(r.get("text") or "").strip() for r in reader}
    fresh, seen = [], set(known)
    for row in rows:
        text = row["text"].strip()
        if text and text not in seen:
            seen.add(text)
            fresh.append(row)
    if fresh:
        needs_newline = examples_csv.read_bytes()[-1:] not in (b"\n", b"")
        with examples_csv.open("a", newline="", encoding="utf-8") as f:
            if needs_newline:
                f.write("\n")
            writer = csv.DictWriter(f, fieldnames=header, extrasaction="ignore", restval="")
            writer.writerows(fresh)
    return len(fresh)
