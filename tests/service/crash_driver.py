"""A process that triages or answers one ticket and kills itself (SIGKILL) at a chosen point.

Used by test_crashes.py:  python -m tests.service.crash_driver HOME PACK PHASE [KILL_AT]
PHASE: submit (triage TEXT), queue (queue TEXT as a ticket whose queue field is "inbox", then run the worker),
answer (approve the ticket's pending review), finish (recover, approve what still waits, report).
KILL_AT: before:<node>, after:<node>, after:claim, after:write (a helpdesk write landed, its outbox row
not yet marked delivered).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import agent.graph as graph
from agent.state import ReviewAnswer, Ticket
from service import approvals, outbox
from service.intake import Intake
from service.runtime import open_embedded
from service.settings import Settings
from service.workers import WorkerPool

NODES = ["control_gate", "guard_input", "classify", "retrieve", "draft", "check_output", "decide", "escalate",
         "act", "record"]


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(kill_at: str) -> None:
    when, _, where = kill_at.partition(":")
    if where in NODES:
        node = getattr(graph, where)

        def wrapped(state: Any, runtime: Any) -> Any:
            if when == "before":
                die()
            result = node(state, runtime)
            die()
            return result

        setattr(graph, where, wrapped)
    elif where == "claim":
        claim = approvals.SqlApprovals.claim

        def claim_then_die(self: Any, run_id: str, answer: ReviewAnswer) -> None:
            claim(self, run_id, answer)
            die()

        approvals.SqlApprovals.claim = claim_then_die  # type: ignore[method-assign]
    elif where == "write":
        outbox.SqlOutbox._delivered = lambda self, row_id: die()  # type: ignore[method-assign]


def main() -> None:
    home, pack, phase = sys.argv[1:4]
    if len(sys.argv) > 4:
        arm(sys.argv[4])
    app = open_embedded(Settings(home=Path(home)), Path(pack))
    if phase == "submit":
        app.submit(os.environ["CRASH_TICKET"])
    elif phase == "queue":
        text = os.environ["CRASH_TICKET"]
        ticket_id = app.helpdesk.create_ticket(text)  # type: ignore[attr-defined]
        app.helpdesk.set_fields(ticket_id, {"queue": "inbox"}, idempotency_key="arrived-in-inbox")
        app.enqueue(Ticket(id=ticket_id, text=text, fields={"queue": "inbox"}), run_id="queued-run")
        WorkerPool(Intake(app)).drain()
    elif phase == "answer":
        for request in app.approvals.pending():
            app.answer(request["run_id"], ReviewAnswer(verdict="approve", reviewer="ana", digest=request["digest"]))
    else:
        recovered = app.recover()
        for request in app.approvals.pending():
            app.answer(request["run_id"], ReviewAnswer(verdict="approve", reviewer="ana", digest=request["digest"]))
        ticket = app.helpdesk.get_ticket("1")
        print(json.dumps({
            "recovered": recovered,
            "runs": [r["status"] for r in [app.run_result(rid) for rid in _runs(app)] if r],
            "comments": [(c.public, c.body[:40]) for c in ticket.comments],
            "fields": ticket.fields,
            "outbox": sorted({r["status"] for r in app.outbox.list()}),
            "audit_problems": [str(p) for p in app.audit.verify()[1]],
        }))


def _runs(app: Any) -> list[str]:
    from sqlmodel import Session, select

    from service.store import RunRecord

    with Session(app.db) as session:
        return list(session.exec(select(RunRecord.run_id)).all())


if __name__ == "__main__":
    main()
