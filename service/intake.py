"""Intake: how a ticket or a message gets from the API or a webhook to a run (or deliberately to none).

Shared by the HTTP routes and the workers. It applies the conversation rules (service.conversation),
deduplicates webhook deliveries and API retries, and queues or runs the triage.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from agent.events import event
from agent.state import ActionOp, Ticket
from integrations.contract import WebhookEvent
from service.conversation import TicketHistory, is_auto_reply, plan_message
from service.runtime import Embedded
from service.store import ApprovalRecord, RunRecord, WebhookDelivery, transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Incoming:
    """A ticket or message as it arrives, before any decision."""

    text: str
    subject: str = ""
    requester: str | None = None
    ticket_id: str | None = None
    channel: str = "api"
    fields: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    event: str = "message"
    """message | reopened | human_edit"""


@dataclass(frozen=True)
class Outcome:
    kind: Literal["decided", "queued", "ignored", "handed_to_humans", "recorded"]
    ticket_id: str
    run_id: str | None = None
    reason: str = ""
    result: dict[str, Any] | None = None
    duplicate: bool = False


AGENT_AUTHORS = {"triage-agent"}
"""Comment authors that are the agent itself (the local helpdesk's and the RT adapter's agent user)."""


def run_id_for(idempotency_key: str | None, scope: str) -> str:
    """A caller's retry (same Idempotency-Key) maps to the same run; otherwise a fresh id."""
    if not idempotency_key:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{scope}\x00{idempotency_key}".encode()).hexdigest()[:32]


class Intake:
    def __init__(self, runtime: Embedded) -> None:
        self.runtime = runtime

    # --- what the agent did so far ---------------------------------------------------------------------

    def history(self, ticket_id: str) -> TicketHistory:
        with Session(self.runtime.db) as session:
            runs = session.exec(select(RunRecord).where(RunRecord.ticket_id == ticket_id)
                                .order_by(col(RunRecord.created_at))).all()
            pending = session.exec(select(ApprovalRecord.run_id).where(
                ApprovalRecord.ticket_id == ticket_id, ApprovalRecord.status == "pending")).first()
        last = runs[-1] if runs else None
        return TicketHistory(runs=len(runs), last_decision=last.decision if last else None,
                             last_status=last.status if last else None, review_pending=pending is not None)

    # --- tickets from the API ---------------------------------------------------------------------------

    def ingest(self, incoming: Incoming, *, queued: bool, idempotency_key: str | None = None,
               principal: str = "api") -> Outcome:
        """Apply the conversation rules, then triage now (sync) or queue it for a worker."""
        ticket_id = incoming.ticket_id
        if ticket_id is None:
            create = getattr(self.runtime.helpdesk, "create_ticket", None)
            if create is None:
                raise LookupError(f"ticket_id is required: the helpdesk is {self.runtime.helpdesk.name}")
            run_id = run_id_for(idempotency_key, principal)
            if idempotency_key and self._known_run(run_id):
                return self._repeat(run_id)
            ticket_id = str(create(incoming.text, subject=incoming.subject, requester=incoming.requester))
            history = TicketHistory()  # opened just now: nothing was done on it yet
        else:
            run_id = run_id_for(idempotency_key, f"{principal}:{ticket_id}")
            if idempotency_key and self._known_run(run_id):
                return self._repeat(run_id)
            history = self.history(ticket_id)
        decision = plan_message(history,
                                auto_reply=is_auto_reply(incoming.headers, incoming.subject, incoming.text),
                                event=incoming.event)
        if decision.plan == "ignore":
            self._note_in_audit(ticket_id, "ignored", decision.reason)
            return Outcome("ignored", ticket_id, reason=decision.reason)
        if decision.plan == "record":
            self._note_in_audit(ticket_id, "recorded", decision.reason)
            return Outcome("recorded", ticket_id, reason=decision.reason)
        if decision.plan == "handoff":
            self.hand_to_humans(ticket_id, decision.reason, history)
            return Outcome("handed_to_humans", ticket_id, reason=decision.reason)
        ticket = Ticket(id=ticket_id, text=incoming.text, subject=incoming.subject, requester=incoming.requester,
                        channel=incoming.channel, fields=dict(incoming.fields))
        if queued:
            created = self.runtime.enqueue(ticket, run_id)
            return Outcome("queued", ticket_id, run_id=run_id, reason=decision.reason, duplicate=not created)
        result = self.runtime.triage(ticket, run_id=run_id)
        return Outcome("decided", ticket_id, run_id=run_id, reason=decision.reason, result=result)

    def _known_run(self, run_id: str) -> bool:
        with Session(self.runtime.db) as session:
            return session.get(RunRecord, run_id) is not None

    def _repeat(self, run_id: str) -> Outcome:
        with Session(self.runtime.db) as session:
            run = session.get(RunRecord, run_id)
        assert run is not None
        result = json.loads(run.result_json) if run.result_json != "{}" else None
        kind: Literal["decided", "queued"] = "decided" if result else "queued"
        return Outcome(kind, run.ticket_id, run_id=run_id, result=result, duplicate=True)

    # --- webhooks ---------------------------------------------------------------------------------------

    def take_delivery(self, event_: WebhookEvent) -> tuple[bool, str | None]:
        """Record a verified delivery once: (True, None) the first time; (False, its run id) after."""
        try:
            with transaction(self.runtime.db) as session:
                session.add(WebhookDelivery(system=event_.system, event_id=event_.event_id,
                                            ticket_id=event_.ticket_id))
        except IntegrityError:
            with Session(self.runtime.db) as session:
                first = session.exec(select(WebhookDelivery.run_id).where(
                    WebhookDelivery.system == event_.system, WebhookDelivery.event_id == event_.event_id)).first()
            return False, first
        return True, None

    def link_delivery(self, event_: WebhookEvent, outcome: Outcome) -> None:
        """Remember which run (if any) the delivery started, for the answer to a redelivery."""
        with transaction(self.runtime.db) as session:
            row = session.exec(select(WebhookDelivery).where(WebhookDelivery.system == event_.system,
                                                             WebhookDelivery.event_id == event_.event_id)).first()
            if row is not None:
                row.run_id, row.ticket_id = outcome.run_id, outcome.ticket_id
                session.add(row)

    def from_helpdesk_event(self, event_: WebhookEvent) -> Outcome:
        """A verified event about a ticket in the connected helpdesk: queue a job that reads the ticket
        (the webhook body is only a notification; the helpdesk's API is the source of truth)."""
        if event_.ticket_id is None:
            self._note_in_audit("-", "ignored", f"{event_.system} event {event_.kind} names no ticket")
            return Outcome("ignored", "-", reason="no_ticket_in_event")
        history = self.history(event_.ticket_id)
        kind = {"created": "message", "comment": "message", "reopened": "reopened"}.get(event_.kind)
        if kind is None:  # "updated": a person's edit, or the requester writing again? The ticket tells.
            kind = self._what_changed(event_.ticket_id)
        decision = plan_message(history, auto_reply=None, event=kind)
        if decision.plan == "record":
            self._note_in_audit(event_.ticket_id, "recorded", decision.reason)
            return Outcome("recorded", event_.ticket_id, reason=decision.reason)
        if decision.plan == "handoff":
            self.hand_to_humans(event_.ticket_id, decision.reason, history)
            return Outcome("handed_to_humans", event_.ticket_id, reason=decision.reason)
        run_id = run_id_for(event_.event_id, f"webhook:{event_.system}")
        self.runtime.enqueue(None, run_id, ticket_id=event_.ticket_id, kind="fetch")
        return Outcome("queued", event_.ticket_id, run_id=run_id, reason=decision.reason)

    def _what_changed(self, ticket_id: str) -> str:
        """`message` when the newest comment is a public one not written by the agent (the requester wrote
        again), else `human_edit` (fields, assignment, an internal note by a colleague)."""
        try:
            snapshot = self.runtime.helpdesk.get_ticket(ticket_id)
        except Exception as exc:  # unreadable now: treat as an edit, the next event will tell more
            logger.warning("could not read ticket %s to classify an update: %s", ticket_id, type(exc).__name__)
            return "human_edit"
        newest = snapshot.comments[-1] if snapshot.comments else None
        if newest is not None and newest.public and (newest.author or "") not in AGENT_AUTHORS:
            return "message"
        return "human_edit"

    # --- side paths -------------------------------------------------------------------------------------

    def hand_to_humans(self, ticket_id: str, reason: str, history: TicketHistory) -> None:
        """Route the ticket to the human queue with a note saying why; no reply. Through the outbox, like
        every write, under keys derived from the ticket and reason (a repeat writes nothing twice)."""
        pack = self.runtime.pack
        key = f"handoff:{ticket_id}:{reason}:{history.runs}"
        note = (f"Triage agent: {reason.replace('_', ' ')}. The agent answered this ticket before; "
                f"a person takes it from here (the agent does not answer twice in a row).")
        ops = [ActionOp(op="set_fields", payload={"fields": {"queue": pack.policy.human_queue}},
                        idempotency_key=f"{key}:fields"),
               ActionOp(op="add_note", payload={"body": note}, idempotency_key=f"{key}:note")]
        run_id = hashlib.sha256(key.encode()).hexdigest()[:32]
        self.runtime.outbox.submit(run_id, ticket_id, ops, {"decision": "escalate", "reasons": [reason],
                                                           "status": "left_for_humans"})
        with transaction(self.runtime.db) as session:
            run = session.get(RunRecord, run_id)
            if run is not None:
                run.status, run.decision = "left_for_humans", "escalate"
                run.result_json = json.dumps({"run_id": run_id, "ticket_id": ticket_id, "decision": "escalate",
                                              "reasons": [reason], "status": "left_for_humans"})
                session.add(run)
        self.runtime.audit.write(run_id, ticket_id, event("intake", "handed_to_humans", reason=reason))
        self.runtime.deliver()

    def _note_in_audit(self, ticket_id: str, kind: str, reason: str) -> None:
        self.runtime.audit.write(f"intake-{uuid.uuid4().hex}", ticket_id, event("intake", kind, reason=reason))


def headers_of(raw: Mapping[str, str]) -> dict[str, str]:
    return {str(k): str(v) for k, v in raw.items()}
