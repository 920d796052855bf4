"""The job queue: queued tickets are each run exactly once by concurrent workers, and none is lost."""

from __future__ import annotations

import time

import pytest
from sqlmodel import Session, select

from agent.state import Ticket
from service.intake import Intake
from service.jobs import JobQueue
from service.runtime import Embedded
from service.store import JobRecord, RunRecord
from service.workers import DeliveryBatch, WorkerPool, run_one

pytestmark = pytest.mark.parametrize("state_url", ["sqlite", "postgresql"], indirect=True)

TEXTS = ["I forgot my password", "please reset my password", "I was charged twice", "phishing email received"]


def test_three_workers_run_every_queued_ticket_exactly_once(app: Embedded) -> None:
    tickets = [app.helpdesk.create_ticket(TEXTS[i % 4]) for i in range(12)]  # type: ignore[attr-defined]
    for i, ticket_id in enumerate(tickets):
        assert app.enqueue(Ticket(id=ticket_id, text=TEXTS[i % 4]), run_id=f"run-{i}")
    assert not app.enqueue(Ticket(id=tickets[0], text=TEXTS[0]), run_id="run-0")  # the same run twice: no-op
    pool = WorkerPool(Intake(app), threads=3, idle_sleep_s=0.01)
    pool.start()
    deadline = time.monotonic() + 120
    while JobQueue(app.db).depth().get("done", 0) < len(tickets):
        assert time.monotonic() < deadline, JobQueue(app.db).depth()
        time.sleep(0.05)
    pool.stop()
    with Session(app.db) as session:
        jobs = session.exec(select(JobRecord)).all()
        runs = session.exec(select(RunRecord)).all()
    assert len(jobs) == len(tickets) and {j.attempts for j in jobs} == {1}
    assert len({j.worker for j in jobs}) >= 1 and all(r.decision for r in runs) and len(runs) == len(tickets)
    waiting = {r.ticket_id for r in runs if r.status == "awaiting_review"}  # billing: a person approves first
    assert waiting and len(waiting) < len(tickets)
    for ticket_id in tickets:  # one note per decided ticket: nobody ran a ticket twice
        notes = [c for c in app.helpdesk.get_ticket(ticket_id).comments if not c.public]
        assert len(notes) == (0 if ticket_id in waiting else 1)


def test_a_job_whose_worker_died_is_taken_again_and_continues(app: Embedded) -> None:
    ticket_id = app.helpdesk.create_ticket(TEXTS[0])  # type: ignore[attr-defined]
    app.enqueue(Ticket(id=ticket_id, text=TEXTS[0]), run_id="run-x")
    queue = JobQueue(app.db)
    first = queue.claim("worker-that-dies")
    assert first is not None and queue.claim("other") is None  # leased: nobody else takes it
    with Session(app.db) as session:  # the lease runs out
        row = session.exec(select(JobRecord)).one()
        row.claimed_at = row.claimed_at.replace(year=2000) if row.claimed_at else None
        session.add(row)
        session.commit()
    again = queue.claim("survivor")
    assert again is not None and again.run_id == "run-x" and again.attempts == 2
    app.run_job(again)
    queue.finish(again)
    assert app.run_result("run-x") is not None
    assert sum(not c.public for c in app.helpdesk.get_ticket(ticket_id).comments) == 1


def test_a_worker_delivers_a_batch_of_runs_and_a_crash_before_it_loses_no_write(app: Embedded) -> None:
    tickets = [app.helpdesk.create_ticket(TEXTS[i % 2]) for i in range(5)]  # type: ignore[attr-defined]
    for i, ticket_id in enumerate(tickets):
        app.enqueue(Ticket(id=ticket_id, text=TEXTS[i % 2]), run_id=f"batch-{i}")
    intake, queue = Intake(app), JobQueue(app.db)
    batch = DeliveryBatch(intake, max_runs=100, max_wait_s=3600)
    for _ in tickets:  # the worker dies after its runs, before it delivers the batch
        assert run_one(intake, queue, "worker-that-dies", batch)

    def notes(ticket_id: str) -> int:
        return sum(not c.public for c in app.helpdesk.get_ticket(ticket_id).comments)

    assert [notes(t) for t in tickets] == [0] * 5  # decided, the writes still waiting in the outbox
    assert app.recover()["delivered"] > 0
    batch.flush()  # the dead worker's batch, had it flushed late: nothing is sent twice
    assert app.recover()["delivered"] == 0
    assert [notes(t) for t in tickets] == [1] * 5
