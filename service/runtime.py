"""The embedded agent: one pack, its models, the state database, checkpoints and the local helpdesk,
wired together for the CLI (and, later, the HTTP service and workers).

Every ticket's run is registered (and its text put in the PII store) before the graph starts, so
`recover` can finish whatever a crash interrupted: runs mid-graph, answers not yet carried into their
run, writes not yet delivered.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from agent.context import TriageContext, utc_now
from agent.engine import RunOutcome, TriageEngine
from agent.llm.budget import SqliteLedger
from agent.llm.services import build_llm
from agent.models.bundle import load_models
from agent.pack import Pack, load_pack
from agent.state import ReviewAnswer, Ticket
from guardrails.pii import redact_ticket
from integrations.contract import HelpdeskAdapter
from integrations.local import LocalHelpdesk
from integrations.registry import load_adapter
from service.approvals import SqlApprovals
from service.audit import SqlAudit
from service.checkpoints import checkpointer_for
from service.control import SqlControl, check_breaker
from service.jobs import Job, enqueue
from service.outbox import DeliveryReport, SqlOutbox
from service.pii import AddressedReplies, PiiStore
from service.settings import Settings
from service.store import RunRecord, TicketRecord, TicketText, make_engine, transaction, utcnow

logger = logging.getLogger(__name__)
BREAKER_CHECK_EVERY = 20


def full_text(ticket: Ticket) -> str:
    """What the PII store keeps: the subject line (if any) above the body."""
    return f"{ticket.subject}\n{ticket.text}" if ticket.subject else ticket.text


def redacted(ticket: Ticket) -> Ticket:
    """The ticket as the graph may hold it: identifiers replaced, the requester by their placeholder (the PII
    store rebuilds the same placeholders from the raw text it keeps, to address the reply at delivery)."""
    r = redact_ticket(ticket.subject, ticket.text, ticket.requester)
    return ticket.model_copy(update={"text": r.text, "subject": r.subject, "requester": r.requester})


@dataclass
class Embedded:
    settings: Settings
    pack: Pack
    db: Engine
    helpdesk: HelpdeskAdapter
    audit: SqlAudit
    control: SqlControl
    outbox: SqlOutbox
    approvals: SqlApprovals
    pii: PiiStore
    engine: TriageEngine
    _finished: int = 0

    # --- tickets --------------------------------------------------------------------------------------

    def submit(self, text: str, subject: str = "", requester: str | None = None,
               channel: str = "cli") -> dict[str, Any]:
        """Open a ticket in the local helpdesk, triage it, deliver its writes."""
        create = getattr(self.helpdesk, "create_ticket", None)
        if create is None:
            raise TypeError(f"submit opens tickets in the local helpdesk; this agent uses {self.helpdesk.name}")
        ticket_id: str = create(text, subject=subject, requester=requester)
        ticket = Ticket(id=ticket_id, text=text, subject=subject, requester=requester, channel=channel)
        return self.triage(ticket)

    def triage_from_helpdesk(self, ticket_id: str, run_id: str | None = None,
                             channel: str = "helpdesk") -> dict[str, Any]:
        """Read a ticket from the connected helpdesk (with its fields as they are now, the baseline for
        our writes) and triage it."""
        snapshot = self.helpdesk.get_ticket(ticket_id)
        ticket = Ticket(id=snapshot.id, text=snapshot.body, subject=snapshot.subject, requester=snapshot.requester,
                        channel=channel, fields=dict(snapshot.fields))
        return self.triage(ticket, run_id=run_id)

    def triage(self, ticket: Ticket, run_id: str | None = None) -> dict[str, Any]:
        """Keep the raw ticket in the PII store; the graph (and so its checkpoints) gets it redacted."""
        run_id = run_id or uuid.uuid4().hex
        self._register(ticket, run_id)
        return self._finish(self.engine.run(redacted(ticket), run_id=run_id))

    def _register(self, ticket: Ticket, run_id: str) -> None:
        with transaction(self.db) as session:
            record = session.get(TicketRecord, ticket.id) or TicketRecord(ticket_id=ticket.id, channel=ticket.channel)
            record.latest_run_id = run_id
            session.add(record)
            run = session.get(RunRecord, run_id)
            if run is None:
                session.add(RunRecord(run_id=run_id, ticket_id=ticket.id, status="running"))
            elif run.status == "queued":
                run.status, run.updated_at = "running", utcnow()
                session.add(run)
        self.pii.keep(ticket.id, run_id, full_text(ticket), ticket.requester)

    # --- the queue (service ingest and webhooks; workers run the jobs) ---------------------------------

    def enqueue(self, ticket: Ticket | None, run_id: str, *, ticket_id: str | None = None,
                kind: str = "triage") -> bool:
        """Queue a run: the ticket row, the run, its text and the job commit together. `fetch` jobs carry
        no text: the worker reads the ticket from the helpdesk. False if the run id was queued before."""
        tid = ticket.id if ticket else ticket_id
        if tid is None:
            raise ValueError("enqueue needs a ticket or a ticket id")
        with transaction(self.db) as session:
            if session.get(RunRecord, run_id) is not None:
                return False
            record = session.get(TicketRecord, tid) or TicketRecord(
                ticket_id=tid, channel=ticket.channel if ticket else "webhook")
            record.latest_run_id = run_id
            session.add(record)
            session.add(RunRecord(run_id=run_id, ticket_id=tid, status="queued"))
            payload: dict[str, Any] = {}
            if ticket is not None:
                # The text goes to the PII store's table, in this same transaction; the job keeps only
                # what is not personal.
                self.pii.keep_in(session, tid, run_id, full_text(ticket), ticket.requester)
                payload = {"channel": ticket.channel, "fields": ticket.fields}
            enqueue(session, run_id, tid, kind=kind, payload=payload)
        return True

    def run_job(self, job: Job) -> dict[str, Any]:
        """Carry out a claimed job; a job claimed again after a crash continues its run's checkpoint."""
        if job.kind == "fetch":
            return self.triage_from_helpdesk(job.ticket_id, run_id=job.run_id)
        if job.attempts > 1:
            outcome = self.engine.continue_run(job.run_id)
            if outcome is not None:
                return self._finish(outcome)
        with Session(self.db) as session:
            row = session.exec(select(TicketText).where(TicketText.ticket_id == job.ticket_id,
                                                        TicketText.run_id == job.run_id)).first()
        if row is None:
            raise LookupError(f"run {job.run_id}: the ticket text is gone (erased before the run started)")
        ticket = Ticket(id=job.ticket_id, text=row.text, requester=row.requester,
                        channel=job.payload.get("channel", "api"), fields=job.payload.get("fields", {}))
        self._register(ticket, job.run_id)
        return self._finish(self.engine.run(redacted(ticket), run_id=job.run_id))

    def _finish(self, outcome: RunOutcome, reviewed: bool = False) -> dict[str, Any]:
        result = outcome.as_json()
        self._save(result)
        report = self.outbox.deliver_due(AddressedReplies(self.helpdesk, self.pii), ticket_id=result["ticket_id"])
        self._finished += 1
        # The breaker's rates only rise with a reviewer's answer or a failed write, so it is read then (and
        # now and then, for a window that just reached its minimum sample), not after every ticket.
        worth_checking = reviewed or report.failed or report.dead or self._finished % BREAKER_CHECK_EVERY == 0
        if result["category"] and worth_checking:
            why = check_breaker(self.control, result["category"], self.pack.policy.breaker)
            if why:
                logger.warning("circuit breaker: category %s demoted to propose: %s", result["category"], why)
        return result

    def _save(self, result: dict[str, Any]) -> None:
        with transaction(self.db) as session:
            row = session.get(RunRecord, result["run_id"]) or RunRecord(
                run_id=result["run_id"], ticket_id=result["ticket_id"], status=result["status"])
            row.status, row.decision, row.category = result["status"], result["decision"], result["category"]
            row.result_json, row.updated_at = json.dumps(result), utcnow()
            row.latency_ms = result.get("latency_ms")
            llm = result.get("llm") or {}
            row.llm_tokens, row.llm_cost = int(llm.get("tokens", 0)), float(llm.get("cost", 0.0))
            session.add(row)

    def run_result(self, run_id: str) -> dict[str, Any] | None:
        with Session(self.db) as session:
            row = session.get(RunRecord, run_id)
        return json.loads(row.result_json) if row and row.result_json != "{}" else None

    # --- reviews --------------------------------------------------------------------------------------

    def answer(self, run_id: str, answer: ReviewAnswer) -> dict[str, Any]:
        """Take a reviewer's answer once, then carry it into the paused run."""
        self.approvals.claim(run_id, answer)
        return self._resume(run_id, answer)

    def _resume(self, run_id: str, answer: ReviewAnswer) -> dict[str, Any]:
        outcome: RunOutcome | None
        if self.engine.pending(run_id):
            outcome = self.engine.resume(run_id, answer)
        else:  # resumed before a crash stopped us from saying so
            outcome = self.engine.continue_run(run_id)
        if outcome is None:
            raise RuntimeError(f"run {run_id} has no checkpoint to resume")
        self.approvals.mark_resumed(run_id)
        return self._finish(outcome, reviewed=True)

    def expire_reviews(self) -> list[dict[str, Any]]:
        """Send every review request past its expiry to the human queue (`approval_expired`)."""
        results = []
        for run_id in self.approvals.expired_due():
            answer = ReviewAnswer(verdict="expire", reviewer="system")
            self.approvals.claim(run_id, answer)
            results.append(self._resume(run_id, answer))
        return results

    # --- recovery -------------------------------------------------------------------------------------

    def deliver(self) -> DeliveryReport:
        report = self.outbox.deliver_due(AddressedReplies(self.helpdesk, self.pii))
        if report.dead:  # writes given up on count against their category's error rate
            for category in self.pack.category_names:
                why = check_breaker(self.control, category, self.pack.policy.breaker)
                if why:
                    logger.warning("circuit breaker: category %s demoted to propose: %s", category, why)
        return report

    def recover(self) -> dict[str, Any]:
        """Finish what crashes interrupted: unfinished runs, unapplied answers, undelivered writes."""
        finished: list[str] = []
        with Session(self.db) as session:
            running = session.exec(select(RunRecord).where(RunRecord.status == "running")
                                   .order_by(col(RunRecord.created_at))).all()
        for run in running:
            outcome = self.engine.continue_run(run.run_id)
            if outcome is None:  # crashed before the first checkpoint: start it again under the same id
                text = self.pii.text(run.ticket_id)
                if text is None:
                    logger.error("recover: run %s has no checkpoint and its text was erased", run.run_id)
                    continue
                self._finish(self.engine.run(redacted(Ticket(id=run.ticket_id, text=text)), run_id=run.run_id))
            else:
                self._finish(outcome)
            finished.append(run.run_id)
        resumed = []
        for run_id, answer in self.approvals.unresumed():
            self._resume(run_id, answer)
            resumed.append(run_id)
        report = self.deliver()
        return {"runs_finished": finished, "answers_applied": resumed, "delivered": report.delivered,
                "failed": report.failed, "dead": report.dead}


def open_embedded(settings: Settings, pack_dir: Path | None = None,
                  helpdesk: HelpdeskAdapter | None = None) -> Embedded:
    """Wire the embedded default from settings (SQLite under TRIAGE_HOME unless a database URL is set).

    `helpdesk` overrides the ticketing system (tests pass a live RT adapter, say); by default it is the
    built-in local helpdesk under TRIAGE_HOME."""
    pack = load_pack(pack_dir or settings.pack)
    models = load_models(pack, threads=settings.encoder_threads)
    db = make_engine(settings.state_url)
    if helpdesk is None:
        # The built-in helpdesk lives under TRIAGE_HOME; any other comes from its entry point, configured
        # by its own environment settings (TRIAGE_RT_*, TRIAGE_ZENDESK_*, ...).
        helpdesk = (LocalHelpdesk(settings.helpdesk_path) if settings.helpdesk == "local"
                    else load_adapter(settings.helpdesk))
    audit = SqlAudit(db, anchor_file=settings.home / "audit-anchors.log")
    control = SqlControl(db, settings.default_mode, audit=audit)
    outbox = SqlOutbox(db)
    approvals = SqlApprovals(db)
    # The LLM's daily token count lives under TRIAGE_HOME, shared by every process, so restarts keep it.
    llm = (build_llm(settings.llm, SqliteLedger(settings.home / "llm-budget.db"), clock=utc_now)
           if settings.llm else None)
    context = TriageContext(
        pack=pack, encoder=models.encoder, classifier=models.classifier, retriever=models.kb,
        actions=outbox, audit=audit, control=control, approvals=approvals, versions=models.versions, llm=llm,
    )
    engine = TriageEngine(context, checkpointer=checkpointer_for(settings.state_url, settings.checkpoint_path))
    return Embedded(settings=settings, pack=pack, db=db, helpdesk=helpdesk, audit=audit, control=control,
                    outbox=outbox, approvals=approvals, pii=PiiStore(db), engine=engine)
