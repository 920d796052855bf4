"""Running an eval: every row through the full graph, isolated from live modes, databases and helpdesks."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from agent.context import FixedControl, MemoryAudit, NullActions, TriageContext, utc_now
from agent.engine import TriageEngine
from agent.llm.budget import MemoryLedger
from agent.llm.services import LlmServices, build_llm
from agent.llm.settings import llm_settings_from_env
from agent.llm.usage import ticket_usage
from agent.models.bundle import TrainedModels
from agent.nodes.retrieve import retrieval_query
from agent.pack import Pack
from agent.state import AuditEvent, Ticket, TriageState
from eval.data import EvalRow
from eval.environment import environment
from eval.insights import add_insights
from eval.metrics import RowResult, check_slos, compute_report
from eval.progress import Progress

logger = logging.getLogger(__name__)


def eval_engine(pack: Pack, models: TrainedModels,
                checkpointer: BaseCheckpointSaver[Any] | None = None, audit: MemoryAudit | None = None,
                llm: LlmServices | None = None) -> TriageEngine:
    """The pack's policy and autonomy in `auto` mode, writing nowhere; escalations wait for a reviewer
    only when a checkpointer is given (benchmarks measure that path too)."""
    context = TriageContext(
        pack=pack, encoder=models.encoder, classifier=models.ticket_classifier, retriever=models.kb,
        actions=NullActions(), audit=audit or MemoryAudit(), control=FixedControl("auto"),
        hold_for_review=checkpointer is not None, versions=models.versions, llm=llm,
    )
    return TriageEngine(context, checkpointer=checkpointer)


def run_rows(engine: TriageEngine, rows: list[EvalRow], show_progress: bool = True) -> list[RowResult]:
    """Triage each row one at a time (latency is per ticket, warm)."""
    if rows:  # warm-up: first-call costs (lazy imports, allocator) are not a ticket's latency
        engine.run(Ticket(id="warmup", text=rows[0].text), run_id="warmup")
    progress = Progress(len(rows), "eval") if show_progress else None
    results: list[RowResult] = []
    for row in rows:
        outcome = engine.run(Ticket(id=f"row-{row.row}", text=row.text), run_id=f"row-{row.row}")
        state = outcome.state
        cls, decision = state.classification, state.decision
        assert cls is not None and decision is not None
        results.append(RowResult(
            source=row, category=cls.category, confidence=cls.confidence, decision=decision.decision,
            reasons=decision.reasons, guard_flags=state.guard_flags,
            citations=state.draft.citations if state.draft else [], latency_ms=outcome.latency_ms,
            alternatives=cls.alternatives, article_at_label=_article_at_label(engine, row, state),
            **_llm_use(engine, state.events),
        ))
        if progress:
            progress.advance()
    if progress:
        progress.close()
    return results


def _article_at_label(engine: TriageEngine, row: EvalRow, state: TriageState) -> str | None:
    """The first article for the ticket's own words (as retrieve searched them) within its labelled category."""
    if not row.expected_article or not row.label or not engine.context.pack.has_category(row.label):
        return None
    text, vector = retrieval_query(state)
    if not text or not vector.size:
        return None
    found = engine.context.retriever.search(vector, text, row.label, k=1)
    return found[0].id if found else None


def _llm_use(engine: TriageEngine, events: list[AuditEvent]) -> dict[str, Any]:
    """The row's LLM calls, tokens and cost (nothing when no LLM is configured: the report keys stay null)."""
    if engine.context.llm is None:
        return {}
    usage = ticket_usage(events)
    return {"llm_calls": usage.calls, "llm_tokens": usage.tokens, "llm_cost": usage.cost}


def configured_llm() -> LlmServices | None:
    """The LLM of TRIAGE_LLM__*, if set, with a budget of its own in memory (an eval never spends the
    service's daily tokens, nor is stopped by them)."""
    settings = llm_settings_from_env()
    return build_llm(settings, MemoryLedger(), clock=utc_now) if settings else None


def write_outputs(out: Path, report: dict[str, Any], results: list[RowResult],
                  trails: dict[str, list[AuditEvent]] | None = None, lengths: list[int] | None = None) -> None:
    """report.json, one line per row (predictions.jsonl), the audit trails (audit.jsonl) and report.html."""
    from eval.html import write_html  # matplotlib is imported only when a report is written

    out.mkdir(parents=True, exist_ok=True)
    if trails is not None:
        write_trails(out, results, trails)
    (out / "report.json").write_text(json.dumps(report, indent=1, sort_keys=False) + "\n")
    with (out / "predictions.jsonl").open("w") as f:
        for r in results:
            f.write(json.dumps({
                "row": r.source.row, "label": r.source.label, "category": r.category,
                "confidence": r.confidence, "decision": r.decision, "reasons": r.reasons,
                "expected_action": r.source.expected_action, "expected_article": r.source.expected_article,
                "citations": r.citations, "article_at_label": r.article_at_label, "guard": r.guard_flags,
                "latency_ms": round(r.latency_ms, 3),
            }) + "\n")
    write_html(out / "report.html", report, results, lengths)


def write_trails(out: Path, results: list[RowResult], trails: dict[str, list[AuditEvent]]) -> None:
    """Every row's audit trail in audit.jsonl; the report's worst mistakes also as audit/row-N.json (its links)."""
    from eval.html import worst_mistakes

    linked = {r.source.row for r in worst_mistakes(results)}
    folder = out / "audit"
    folder.mkdir(exist_ok=True)
    with (out / "audit.jsonl").open("w") as f:
        for r in results:
            events = [e.model_dump(mode="json") for e in trails.get(f"row-{r.source.row}", [])]
            f.write(json.dumps({"row": r.source.row, "events": events}) + "\n")
            if r.source.row in linked:
                (folder / f"row-{r.source.row}.json").write_text(json.dumps(events, indent=1) + "\n")


def evaluate(pack: Pack, models: TrainedModels, rows: list[EvalRow], out: Path,
             show_progress: bool = True) -> dict[str, Any]:
    """Run, measure, check SLOs, write everything under `out`; returns the report."""
    usable = [r for r in rows if r.text]
    skipped = [r.row for r in rows if not r.text]
    audit = MemoryAudit()
    results = run_rows(eval_engine(pack, models, audit=audit, llm=configured_llm()), usable, show_progress)
    never = frozenset(c.name for c in pack.manifest.categories if c.autonomy == "never")
    report = compute_report(results, pack.category_names, skipped, never=never)
    lengths = add_insights(report, results, pack.category_names)
    report["slo"] = check_slos(report, dict(pack.manifest.slo))
    report["pack"] = {"name": pack.name, "version": pack.manifest.version, **models.versions}
    report["environment"] = environment()
    write_outputs(out, report, results, audit.runs, lengths)
    return report
