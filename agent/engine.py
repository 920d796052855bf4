"""Running tickets through the graph: start a run, resume it with a reviewer's answer, read its outcome."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command, Durability

from agent.context import TriageContext
from agent.graph import build_graph
from agent.result import decision_json
from agent.state import ReviewAnswer, Ticket, TriageInput, TriageState


@dataclass(frozen=True)
class RunOutcome:
    state: TriageState
    latency_ms: float

    def as_json(self) -> dict[str, Any]:
        return decision_json(self.state, self.latency_ms)


class TriageEngine:
    """A compiled graph bound to one run context (one pack, one set of adapters).

    With a checkpointer, a run's state is saved when it stops: at a review (`interrupt()`) or at its end
    (LangGraph's "exit" durability, docs/decisions/0008). A run killed in between has no checkpoint and
    is started again from its ticket under the same run id; every node's writes are idempotent (outbox
    keys, audit ids, one approval request per run), so the second pass writes nothing twice. "sync"
    (a checkpoint after every step) is there for callers that want to continue mid-run instead; it cost
    about 15% more CPU per ticket and a thread hand-off per step.
    """

    def __init__(self, context: TriageContext, checkpointer: BaseCheckpointSaver[Any] | None = None,
                 durability: Durability = "exit") -> None:
        if context.hold_for_review and checkpointer is None:
            raise ValueError("holding escalations for review needs a checkpointer")
        self.context = context
        self.graph = build_graph(checkpointer)
        self._durable = checkpointer is not None
        self.durability = durability

    def _config(self, run_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": run_id}}

    def _state(self, values: dict[str, Any]) -> TriageState:
        fields = TriageState.__dataclass_fields__
        return TriageState(**{k: v for k, v in values.items() if k in fields})

    def run(self, ticket: Ticket, run_id: str | None = None) -> RunOutcome:
        """Triage one ticket; an approval escalation returns with status `awaiting_review`."""
        run_id = run_id or uuid.uuid4().hex
        started = time.perf_counter()
        values = self.graph.invoke(
            TriageInput(ticket=ticket, run_id=run_id), self._config(run_id), context=self.context,
            durability=self.durability if self._durable else None,
        )
        return self._outcome(run_id, values, started)

    def resume(self, run_id: str, answer: ReviewAnswer) -> RunOutcome:
        """Continue a paused run with the reviewer's answer (a run killed on the way resumes again from
        the review: the answer is stored before, see service.approvals)."""
        started = time.perf_counter()
        command: Command[Any] = Command(resume=answer.model_dump())
        values = self.graph.invoke(command, self._config(run_id), context=self.context, durability=self.durability)
        return self._outcome(run_id, values, started)

    def continue_run(self, run_id: str) -> RunOutcome | None:
        """Finish a run that a crash interrupted, from its last checkpoint (None if it has none)."""
        snapshot = self.graph.get_state(self._config(run_id))
        if not snapshot.values:
            return None
        started = time.perf_counter()
        if snapshot.interrupts or not snapshot.next:  # paused at a review, or finished
            return self._outcome(run_id, snapshot.values, started)
        values = self.graph.invoke(None, self._config(run_id), context=self.context, durability=self.durability)
        return self._outcome(run_id, values, started)

    def pending(self, run_id: str) -> bool:
        """Whether the run is paused at a review."""
        snapshot = self.graph.get_state(self._config(run_id))
        return bool(snapshot.interrupts)

    def _outcome(self, run_id: str, values: dict[str, Any], started: float) -> RunOutcome:
        """The run's state. Every path ends in `record`, which sets a final status, so a run whose status
        is still `running` stopped at a review (no need to read its checkpoint back to ask)."""
        state = self._state(values)
        if self._durable and state.status == "running":
            state.status = "awaiting_review"
        return RunOutcome(state=state, latency_ms=(time.perf_counter() - started) * 1000)
