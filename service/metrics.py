"""Prometheus metrics, read from the state database at scrape time.

The database is the one place every API replica and worker process writes to, so counting there gives
the same numbers whichever process is scraped (in-process counters would each see only their share).
The scrape costs a few aggregate queries over indexed columns.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, case, func
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from service.store import ApprovalRecord, BreakerRecord, JobRecord, OutboxRecord, RunRecord

LATENCY_BUCKETS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)


class TriageCollector(Collector):
    def __init__(self, engine: Engine, mode_of: Any, llm_status: Any = None) -> None:
        self.engine = engine
        self.mode_of = mode_of
        self.llm_status = llm_status
        """Callable returning the LLM's status (None when no LLM is configured)."""

    def collect(self) -> Iterator[Any]:
        with Session(self.engine) as session:
            decisions = session.exec(select(RunRecord.decision, func.count()).where(
                col(RunRecord.decision).is_not(None)).group_by(col(RunRecord.decision))).all()
            errors = session.exec(select(func.count()).where(col(RunRecord.error).is_not(None))).one()
            # One pass over the runs: a cumulative count per bucket, then the count and the sum.
            buckets = session.execute(sql_select(*[
                func.sum(case((col(RunRecord.latency_ms) <= b, 1), else_=0)) for b in LATENCY_BUCKETS_MS
            ], func.count(col(RunRecord.latency_ms)), func.sum(col(RunRecord.latency_ms)))).one()
            answered = session.exec(select(ApprovalRecord.verdict, func.count()).where(
                col(ApprovalRecord.verdict).is_not(None)).group_by(col(ApprovalRecord.verdict))).all()
            jobs = session.exec(select(JobRecord.status, func.count()).group_by(col(JobRecord.status))).all()
            outbox = session.exec(select(OutboxRecord.status, func.count()).group_by(col(OutboxRecord.status))).all()
            pending_reviews = session.exec(select(func.count()).where(ApprovalRecord.status == "pending")).one()
            breakers = session.exec(select(BreakerRecord.category)).all()
            llm_runs, llm_tokens, llm_cost = session.execute(sql_select(
                func.sum(case((col(RunRecord.llm_tokens) > 0, 1), else_=0)), func.sum(col(RunRecord.llm_tokens)),
                func.sum(col(RunRecord.llm_cost)))).one()

        by_decision = CounterMetricFamily("triage_tickets", "Runs decided, by decision", labels=["decision"])
        total = 0
        for decision, n in decisions:
            by_decision.add_metric([str(decision)], int(n))
            total += int(n)
        yield by_decision
        escalated = sum(int(n) for d, n in decisions if d == "escalate")
        yield GaugeMetricFamily("triage_escalation_rate", "Share of decided runs that went to a human",
                                value=escalated / total if total else 0.0)
        *cumulative, count, total_ms = buckets
        histogram = HistogramMetricFamily("triage_latency_seconds", "Graph run latency per ticket")
        histogram.add_metric([], [(str(b / 1000), float(c or 0)) for b, c in zip(LATENCY_BUCKETS_MS, cumulative,
                                                                                  strict=True)]
                             + [("+Inf", float(count or 0))], sum_value=float(total_ms or 0) / 1000)
        yield histogram
        verdicts = {str(v): int(n) for v, n in answered}
        human = sum(n for v, n in verdicts.items() if v != "expire")
        overrides = sum(n for v, n in verdicts.items() if v in ("edit", "reject", "reroute"))
        yield GaugeMetricFamily("triage_human_override_rate",
                                "Share of reviewer answers that changed or refused the agent's action",
                                value=overrides / human if human else 0.0)
        yield CounterMetricFamily("triage_run_errors", "Runs that failed with an error", value=int(errors))
        depth = GaugeMetricFamily("triage_queue_depth", "Queued triage jobs by status", labels=["status"])
        for status in ("queued", "running", "failed"):
            depth.add_metric([status], float(dict(jobs).get(status, 0)))
        yield depth
        statuses = {str(s): int(n) for s, n in outbox}
        yield GaugeMetricFamily("triage_outbox_backlog", "Helpdesk writes waiting for delivery",
                                value=statuses.get("pending", 0))
        yield GaugeMetricFamily("triage_outbox_dead_letters", "Helpdesk writes given up on (re-drivable)",
                                value=statuses.get("dead", 0))
        yield GaugeMetricFamily("triage_reviews_pending", "Escalations waiting for a reviewer",
                                value=int(pending_reviews))
        tripped = GaugeMetricFamily("triage_breaker_tripped", "Categories demoted by the circuit breaker",
                                    labels=["category"])
        for category in breakers:
            tripped.add_metric([category], 1.0)
        yield tripped
        yield CounterMetricFamily("triage_llm_tickets", "Runs that asked the LLM", value=int(llm_runs or 0))
        yield CounterMetricFamily("triage_llm_tokens", "LLM tokens used by runs", value=int(llm_tokens or 0))
        yield CounterMetricFamily("triage_llm_cost", "LLM cost of runs, at the configured prices",
                                  value=float(llm_cost or 0.0))
        if self.llm_status is not None:
            status = self.llm_status()
            yield GaugeMetricFamily("triage_llm_enabled", "1 while the LLM may be asked (0: off, e.g. budget spent)",
                                    value=1.0 if status["enabled"] else 0.0)
            yield GaugeMetricFamily("triage_llm_tokens_today", "LLM tokens used today (UTC), all processes",
                                    value=float(status["tokens_today"]))
            yield GaugeMetricFamily("triage_llm_share", "Share of recent tickets that reached the LLM",
                                    value=float(status["recent_share"]))
        mode = GaugeMetricFamily("triage_mode", "The global mode (1 for the active one)", labels=["mode"])
        current = self.mode_of()
        for name in ("off", "shadow", "propose", "auto"):
            mode.add_metric([name], 1.0 if name == current else 0.0)
        yield mode
