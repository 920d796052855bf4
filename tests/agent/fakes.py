"""Fakes for the run context's Protocols, so each node can be tested alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from agent.context import DirectActions, FixedControl, MemoryAudit, TriageContext
from agent.models.classifier import Prediction
from agent.models.encoder import Vector
from agent.pack import Pack
from agent.state import AuditEvent, Mode, RetrievedArticle


class FakeEncoder:
    name = "fake"
    dim = 4

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: list[str]) -> Vector:
        self.calls += 1
        return np.tile(np.array([0.5, 0.5, 0.5, 0.5], dtype=np.float32), (len(texts), 1))


@dataclass
class FakeClassifier:
    prediction: Prediction

    def predict(self, text: str, vector: Vector) -> Prediction:
        return self.prediction


@dataclass
class FakeRetriever:
    articles: list[RetrievedArticle] = field(default_factory=list)
    asked: list[str | None] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def search(self, vector: Vector, text: str, category: str | None, k: int = 3) -> list[RetrievedArticle]:
        self.asked.append(category)
        self.texts.append(text)
        return [a for a in self.articles][:k]


@dataclass
class RecordingTicketing:
    writes: list[tuple[str, str, Any]] = field(default_factory=list)

    def set_fields(self, ticket_id: str, fields: Mapping[str, str | list[str]], *, idempotency_key: str,
                   baseline: Mapping[str, Any] | None = None) -> None:
        self.writes.append(("fields", ticket_id, dict(fields)))

    def add_note(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        self.writes.append(("note", ticket_id, body))

    def add_reply(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        self.writes.append(("reply", ticket_id, body))


@dataclass
class SequenceControl:
    """Answers the modes in order (then repeats the last): a mode switched mid-run."""

    modes: list[Mode]
    calls: int = 0

    def mode(self, scope: str = "global") -> Mode:
        mode = self.modes[min(self.calls, len(self.modes) - 1)]
        self.calls += 1
        return mode


def prediction(label: str = "password_reset", p: float = 0.9, oos: bool = False) -> Prediction:
    return Prediction(label=label, probability=p, alternatives=[(label, p), ("billing", round(1 - p, 4))],
                      oos_score=0.9 if oos else 0.1, out_of_scope=oos)


def runtime(pack: Pack, **overrides: Any) -> Runtime[TriageContext]:
    parts: dict[str, Any] = {
        "pack": pack, "encoder": FakeEncoder(), "classifier": FakeClassifier(prediction()),
        "retriever": FakeRetriever(), "actions": DirectActions(RecordingTicketing()), "audit": MemoryAudit(),
        "control": FixedControl("auto"), "hold_for_review": False,
    }
    if "ticketing" in overrides:
        overrides["actions"] = DirectActions(overrides.pop("ticketing"))
    parts.update(overrides)
    return Runtime(context=TriageContext(**parts))


def events_of(audit: MemoryAudit, run_id: str) -> Sequence[AuditEvent]:
    return audit.runs[run_id]
