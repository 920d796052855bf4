"""Tickets: ingest (now or queued), read a ticket's runs and decision, its audit trail, one run."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from sqlmodel import Session, col, select

from service.api.auth import IngestKey, ReviewerKey
from service.api.errors import ApiError
from service.api.schemas import (
    AuditEventOut,
    AuditOut,
    ConversationOut,
    DecisionOut,
    ErrorOut,
    QueuedOut,
    RunOut,
    TicketIn,
    TicketOut,
)
from service.intake import Incoming, Intake
from service.store import RunRecord, TicketRecord

router = APIRouter(prefix="/v1", tags=["tickets"], responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut},
                                                              422: {"model": ErrorOut}, 429: {"model": ErrorOut}})
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def _intake(request: Request) -> Intake:
    intake: Intake = request.app.state.intake
    return intake


@router.post("/tickets", status_code=200, response_model=DecisionOut | QueuedOut | ConversationOut,
             responses={202: {"model": QueuedOut}, 404: {"model": ErrorOut}})
def ingest_ticket(body: TicketIn, request: Request, principal: IngestKey,
                  mode: Annotated[Literal["sync", "queued"], Query()] = "sync",
                  idempotency_key: IdempotencyKey = None) -> Any:
    """Triage a ticket now (200 with the decision) or queue it (202 with a run id to poll).

    An auto-reply is never answered, and a customer writing again after the agent answered goes to a
    person: those come back as `handled` without a run. Repeating a request with the same
    Idempotency-Key returns the first request's run instead of starting another."""
    incoming = Incoming(text=body.text, subject=body.subject, requester=body.requester, ticket_id=body.ticket_id,
                        channel=body.channel, fields=dict(body.fields), headers=dict(body.headers))
    intake = _intake(request)
    if body.ticket_id is not None and getattr(intake.runtime.helpdesk, "create_ticket", None) is not None:
        _local_ticket_must_exist(intake, body.ticket_id)
    try:
        outcome = intake.ingest(incoming, queued=mode == "queued", idempotency_key=idempotency_key,
                                principal=principal.key_id)
    except LookupError as exc:
        raise ApiError(422, "invalid_request", str(exc), fields=[{"field": "body.ticket_id", "problem": str(exc)}]) \
            from None
    if outcome.kind == "decided":
        return outcome.result
    if outcome.kind == "queued":
        queued = QueuedOut(run_id=outcome.run_id or "", ticket_id=outcome.ticket_id, status="queued",
                           duplicate=outcome.duplicate,
                           links={"run": f"/v1/runs/{outcome.run_id}", "ticket": f"/v1/tickets/{outcome.ticket_id}"})
        # The hot path of queued ingest: encoded here, since FastAPI would check the model again against
        # the three-way response union (about a tenth of the request's CPU); the schema is the same.
        return Response(queued.model_dump_json(), status_code=202, media_type="application/json")
    return ConversationOut(ticket_id=outcome.ticket_id, handled=outcome.kind, reason=outcome.reason,
                           run_id=outcome.run_id)


def _local_ticket_must_exist(intake: Intake, ticket_id: str) -> None:
    """The local helpdesk only writes to tickets it has: a made-up id is the caller's mistake (404)."""
    from integrations.contract import NotFound

    try:
        intake.runtime.helpdesk.get_ticket(ticket_id)
    except NotFound:
        raise ApiError(404, "not_found", f"no ticket {ticket_id} in the local helpdesk; leave ticket_id out to "
                                         "open a new one") from None


def _run_view(run: RunRecord) -> RunOut:
    result = json.loads(run.result_json) if run.result_json not in ("", "{}") else None
    if result is not None and "alternatives" not in result:  # a hand-off without a graph run
        result = None
    return RunOut(run_id=run.run_id, ticket_id=run.ticket_id, status=run.status, decision=run.decision,
                  category=run.category, latency_ms=run.latency_ms, error=run.error, result=result)


@router.get("/tickets/{ticket_id}", response_model=TicketOut, responses={404: {"model": ErrorOut}})
def read_ticket(ticket_id: str, request: Request, _: IngestKey) -> TicketOut:
    """A ticket's runs, newest last, each with its decision."""
    intake = _intake(request)
    with Session(intake.runtime.db) as session:
        ticket = session.get(TicketRecord, ticket_id)
        runs = session.exec(select(RunRecord).where(RunRecord.ticket_id == ticket_id)
                            .order_by(col(RunRecord.created_at))).all()
    if ticket is None and not runs:
        raise ApiError(404, "not_found", f"the agent has not seen ticket {ticket_id}")
    return TicketOut(ticket_id=ticket_id, channel=ticket.channel if ticket else "helpdesk",
                     latest_run_id=ticket.latest_run_id if ticket else runs[-1].run_id,
                     runs=[_run_view(r) for r in runs])


@router.get("/tickets/{ticket_id}/audit", response_model=AuditOut, responses={404: {"model": ErrorOut}})
def read_audit(ticket_id: str, request: Request, _: ReviewerKey) -> AuditOut:
    """The ticket's audit trail in chain order (redacted text only). A ticket the agent has seen but not
    triaged yet (queued, or its run still going) has an empty trail; only an unknown ticket is 404."""
    runtime = _intake(request).runtime
    events = runtime.audit.trail(ticket_id)
    if not events:
        with Session(runtime.db) as session:
            known = session.get(TicketRecord, ticket_id) is not None
        if not known:
            raise ApiError(404, "not_found", f"the agent has not seen ticket {ticket_id}")
    return AuditOut(ticket_id=ticket_id, events=[AuditEventOut.model_validate(e) for e in events])


@router.get("/runs/{run_id}", response_model=RunOut, responses={404: {"model": ErrorOut}})
def read_run(run_id: str, request: Request, _: IngestKey) -> RunOut:
    """One run: `queued`, `running`, then its decision."""
    with Session(_intake(request).runtime.db) as session:
        run = session.get(RunRecord, run_id)
    if run is None:
        raise ApiError(404, "not_found", f"no run {run_id}")
    return _run_view(run)
