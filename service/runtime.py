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
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, update
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
from service.audit import HeldTrail, SqlAudit
from service.checkpoints import checkpointer_for
from service.control import SqlControl, check_breaker
from service.jobs import Job, JobQueue, enqueue, finish_in
from service.outbox import DeliveryReport, SqlOutbox
from service.pii import AddressedReplies, PiiStore
from service.settings import Settings
from service.store import RUNS, TICKETS, RunRecord, make_engine, transaction, utcnow

logger = logging.getLogger(__name__)
BREAKER_CHECK_EVERY = 20


def redacted(ticket: Ticket) -> Ticket:
    """The ticket as the graph may hold it: identifiers replaced, the requester by their placeholder (the PII
    store rebuilds the same placeholders from the raw text it keeps, to address the reply at delivery)."""
    r = redact_ticket(ticket.subject, ticket.text, ticket.requester)
    return ticket.model_copy(update={"text": r.text, "subject": r.subject, "requester": r.requester})


def _new_run(session: Session, run_id: str, ticket_id: str, status: str) -> None:
    now = utcnow()
    session.execute(insert(RUNS).values(run_id=run_id, ticket_id=ticket_id, status=status, result_json="{}",
                                        llm_tokens=0, llm_cost=0.0, created_at=now, updated_at=now))


def _as_queued(ticket: Ticket, job: Job) -> Ticket:
    """The job's channel and fields win over the PII store's (rows kept before migration 0004 have none)."""
    return ticket.model_copy(update={"channel": job.payload.get("channel", ticket.channel),
                                     "fields": job.payload.get("fields", ticket.fields)})


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
    trail: HeldTrail
    """The graph's audit sink: runs' trails wait here and commit with their outcomes (`_save`)."""
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

    def triage_from_helpdesk(self, ticket_id: str, run_id: str | None = None, channel: str = "helpdesk",
                             job: Job | None = None, deliver: bool = True) -> dict[str, Any]:
        """Read a ticket from the connected helpdesk (with its fields as they are now, the baseline for
        our writes) and triage it."""
        snapshot = self.helpdesk.get_ticket(ticket_id)
        ticket = Ticket(id=snapshot.id, text=snapshot.body, subject=snapshot.subject, requester=snapshot.requester,
                        channel=channel, fields=dict(snapshot.fields))
        return self.triage(ticket, run_id=run_id, job=job, deliver=deliver)

    def triage(self, ticket: Ticket, run_id: str | None = None, job: Job | None = None,
               deliver: bool = True) -> dict[str, Any]:
        """Keep the raw ticket in the PII store; the graph (and so its checkpoints) gets it redacted."""
        run_id = run_id or uuid.uuid4().hex
        self._register(ticket, run_id)
        return self._finish(self.engine.run(redacted(ticket), run_id=run_id), job=job, deliver=deliver)

    def _register(self, ticket: Ticket, run_id: str) -> None:
        """The ticket row, the run (`running`) and its text, in one transaction."""
        with transaction(self.db) as session:
            self._note_ticket(session, ticket.id, ticket.channel, run_id)
            started = session.execute(update(RUNS).where(RUNS.c.run_id == run_id, RUNS.c.status == "queued")
                                      .values(status="running", updated_at=utcnow()))
            if not getattr(started, "rowcount", 0) and session.get(RunRecord, run_id) is None:
                _new_run(session, run_id, ticket.id, "running")
            self.pii.keep_in(session, ticket, run_id)

    @staticmethod
    def _note_ticket(session: Session, ticket_id: str, channel: str, run_id: str) -> None:
        """The ticket's row points at its newest run (created the first time the agent sees the ticket)."""
        known = session.execute(update(TICKETS).where(TICKETS.c.ticket_id == ticket_id).values(latest_run_id=run_id))
        if not getattr(known, "rowcount", 0):
            session.execute(insert(TICKETS).values(ticket_id=ticket_id, channel=channel, latest_run_id=run_id,
                                                   created_at=utcnow()))

    # --- the queue (service ingest and webhooks; workers run the jobs) ---------------------------------

    def enqueue(self, ticket: Ticket | None, run_id: str, *, ticket_id: str | None = None,
                kind: str = "triage") -> bool:
        """Queue a run: the ticket row, the run, its text and the job commit together. `fetch` jobs carry
        no text: the worker reads the ticket from the helpdesk. False if the run id was queued before."""
        tid = ticket.id if ticket else ticket_id
        if tid is None:
            raise ValueError("enqueue needs a ticket or a ticket id")
        with transaction(self.db) as session:
            if session.execute(select(RUNS.c.run_id).where(RUNS.c.run_id == run_id)).first() is not None:
                return False
            self._note_ticket(session, tid, ticket.channel if ticket else "webhook", run_id)
            _new_run(session, run_id, tid, "queued")
            payload: dict[str, Any] = {}
            if ticket is not None:
                # The text goes to the PII store's table, in this same transaction; the job keeps only
                # what is not personal.
                self.pii.keep_in(session, ticket, run_id)
                payload = {"channel": ticket.channel, "fields": ticket.fields}
            enqueue(session, run_id, tid, kind=kind, payload=payload)
        return True

    def claim_job(self, queue: JobQueue, worker: str) -> Job | None:
        """Claim the next job; in the same transaction its run becomes `running` and a triage job's text is
        read (enqueue already registered the ticket and kept the text: nothing else to write)."""
        return queue.claim(worker, also=self._start_claimed)

    def _start_claimed(self, session: Session, job: Job) -> Job:
        session.execute(update(RUNS).where(RUNS.c.run_id == job.run_id, RUNS.c.status == "queued")
                        .values(status="running", updated_at=utcnow()))
        if job.kind != "triage":
            return job
        ticket = self.pii.ticket(job.ticket_id, job.run_id, session)  # None if erased: run_job says so
        return replace(job, ticket=_as_queued(ticket, job) if ticket else None)

    def run_job(self, job: Job, deliver: bool = True) -> dict[str, Any]:
        """Carry out a claimed job, and mark it done with the run's outcome; a job claimed again after a
        crash continues its run's checkpoint. With `deliver=False` the run's helpdesk writes stay queued
        in the outbox for the caller to deliver (`deliver_for`), as a worker does for a batch of runs."""
        if job.kind == "fetch":
            return self.triage_from_helpdesk(job.ticket_id, run_id=job.run_id, job=job, deliver=deliver)
        if job.attempts > 1:
            outcome = self.engine.continue_run(job.run_id)
            if outcome is not None:
                return self._finish(outcome, job=job, deliver=deliver)
        ticket = job.ticket
        if ticket is None:  # erased, or claimed without claim_job: read it (or say it is gone) and register
            ticket = self._queued_ticket(job)
            self._register(ticket, job.run_id)
        return self._finish(self.engine.run(redacted(ticket), run_id=job.run_id), job=job, deliver=deliver)

    def _queued_ticket(self, job: Job) -> Ticket:
        ticket = self.pii.ticket(job.ticket_id, job.run_id)
        if ticket is None:
            raise LookupError(f"run {job.run_id}: the ticket text is gone (erased before the run started)")
        return _as_queued(ticket, job)

    def _finish(self, outcome: RunOutcome, reviewed: bool = False, job: Job | None = None,
                deliver: bool = True) -> dict[str, Any]:
        result = outcome.as_json()
        self._save(outcome, result, job)
        failed = False
        if deliver:
            report = self.outbox.deliver_due(AddressedReplies(self.helpdesk, self.pii), ticket_id=result["ticket_id"])
            failed = bool(report.failed or report.dead)
        self._finished += 1
        # The breaker's rates only rise with a reviewer's answer or a failed write, so it is read then (and
        # now and then, for a window that just reached its minimum sample), not after every ticket.
        worth_checking = reviewed or failed or self._finished % BREAKER_CHECK_EVERY == 0
        if result["category"] and worth_checking:
            self._check_breaker(result["category"])
        return result

    def _check_breaker(self, category: str) -> None:
        why = check_breaker(self.control, category, self.pack.policy.breaker)
        if why:
            logger.warning("circuit breaker: category %s demoted to propose: %s", category, why)

    def deliver_for(self, tickets: Collection[str], categories: Collection[str] = ()) -> DeliveryReport:
        """Deliver the due writes of these tickets in one pass (a worker's batch of finished runs); a failed
        write checks the breaker of the batch's categories, as `_finish` does for one run."""
        report = self.outbox.deliver_due(AddressedReplies(self.helpdesk, self.pii), tickets=tickets)
        if report.failed or report.dead:
            for category in sorted(set(categories)):
                self._check_breaker(category)
        return report

    def _save(self, outcome: RunOutcome, result: dict[str, Any], job: Job | None = None) -> None:
        """The run's outcome, its audit trail and the end of the job that ran it, in one transaction.

        The trail is the one the graph handed to its sink in this process (record's, or escalate's at a
        review); a run read back from its checkpoint (finished or paused by an earlier process) has none
        held, and its final state's events are the trail (entries already on the chain are skipped)."""
        held = self.trail.take(result["run_id"])
        ticket_id, events = held if held is not None else (result["ticket_id"], outcome.state.events)
        llm = result.get("llm") or {}
        values = {"status": result["status"], "decision": result["decision"], "category": result["category"],
                  "result_json": json.dumps(result), "updated_at": utcnow(), "latency_ms": result.get("latency_ms"),
                  "llm_tokens": int(llm.get("tokens", 0)), "llm_cost": float(llm.get("cost", 0.0))}
        with transaction(self.db) as session:
            saved = session.execute(update(RUNS).where(RUNS.c.run_id == result["run_id"]).values(values))
            if not getattr(saved, "rowcount", 0):  # a run registered by nothing (a recovery of an older layout)
                session.add(RunRecord(run_id=result["run_id"], ticket_id=result["ticket_id"], **values))
            if job is not None:
                finish_in(session, job)
            # Last: on PostgreSQL the chain's lock is then held only for the appends and the commit.
            self.audit.write_in(session, result["run_id"], ticket_id, events)

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
                self._check_breaker(category)
        return report

    def recover(self) -> dict[str, Any]:
        """Finish what crashes interrupted: unfinished runs, unapplied answers, undelivered writes."""
        finished: list[str] = []
        with Session(self.db) as session:
            running = session.exec(select(RunRecord).where(RunRecord.status == "running")
                                   .order_by(col(RunRecord.created_at))).all()
        for run in running:
            outcome = self.engine.continue_run(run.run_id)
            if outcome is None:  # killed before its first checkpoint: start it again from the same ticket
                ticket = self.pii.ticket(run.ticket_id, run.run_id)
                if ticket is None:
                    logger.error("recover: run %s has no checkpoint and its text was erased", run.run_id)
                    continue
                outcome = self.engine.run(redacted(ticket), run_id=run.run_id)
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
    trail = HeldTrail(audit)
    control = SqlControl(db, settings.default_mode, audit=audit)
    outbox = SqlOutbox(db)
    approvals = SqlApprovals(db)
    # The LLM's daily token count lives under TRIAGE_HOME, shared by every process, so restarts keep it.
    llm = (build_llm(settings.llm, SqliteLedger(settings.home / "llm-budget.db"), clock=utc_now)
           if settings.llm else None)
    context = TriageContext(
        pack=pack, encoder=models.encoder, classifier=models.ticket_classifier, retriever=models.kb,
        actions=outbox, audit=trail, control=control, approvals=approvals, versions=models.versions, llm=llm,
    )
    engine = TriageEngine(context, checkpointer=checkpointer_for(settings.state_url, settings.checkpoint_path))
    return Embedded(settings=settings, pack=pack, db=db, helpdesk=helpdesk, audit=audit, control=control,
                    outbox=outbox, approvals=approvals, pii=PiiStore(db), engine=engine,
                    trail=trail)
