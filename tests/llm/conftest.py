"""Fixtures for the LLM tests: the local OpenAI-compatible test server, settings pointing at it, and a
graph on the tiny pack whose LLM is that server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from agent.context import DirectActions, FixedControl, MemoryAudit, TriageContext
from agent.engine import TriageEngine
from agent.llm.budget import MemoryLedger, TokenLedger
from agent.llm.services import LlmServices, build_llm
from agent.llm.settings import LlmSettings
from agent.models.bundle import TrainedModels, load_models
from agent.pack import Pack, load_pack
from agent.state import AuditEvent
from integrations.local import LocalHelpdesk
from tests.agent.fakes import FakeClassifier, prediction
from tests.llm.server import FakeOpenAI

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().start()
    yield fake
    fake.stop()


@dataclass
class Sleeps:
    """Records the waits between attempts instead of sleeping (tests assert them without timing)."""

    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def llm_settings(server: FakeOpenAI) -> Callable[..., LlmSettings]:
    def make(**overrides: Any) -> LlmSettings:
        values: dict[str, Any] = {
            "model": "test-model", "base_url": server.base_url, "api_key": SecretStr("sk-test-key"),
            "timeout_s": 0.3, "max_attempts": 3, "max_retry_wait_s": 5, "price_per_1k_input": 0.5,
            "price_per_1k_output": 1.5, "daily_token_budget": 100_000, "max_share": 1.0, "share_window": 10,
            **overrides,
        }
        return LlmSettings(**values)

    return make


@pytest.fixture
def make_llm(llm_settings: Callable[..., LlmSettings], sleeps: Sleeps) -> Callable[..., LlmServices]:
    def make(ledger: TokenLedger | None = None, **overrides: Any) -> LlmServices:
        return build_llm(llm_settings(**overrides), ledger or MemoryLedger(), clock=lambda: NOW, sleep=sleeps)

    return make


@dataclass
class World:
    engine: TriageEngine
    desk: LocalHelpdesk
    audit: MemoryAudit
    llm: LlmServices

    def triage(self, text: str) -> dict[str, Any]:
        from agent.state import Ticket

        ticket_id = self.desk.create_ticket(text)
        return self.engine.run(Ticket(id=ticket_id, text=text)).as_json()

    def events(self, result: dict[str, Any], kind: str | None = None) -> list[AuditEvent]:
        return [e for e in self.audit.runs[result["run_id"]] if kind is None or e.kind == kind]


@pytest.fixture(scope="session")
def tiny_models(tiny_pack: Path) -> tuple[Pack, TrainedModels]:
    pack = load_pack(tiny_pack)
    return pack, load_models(pack)


@pytest.fixture
def world(tiny_models: tuple[Pack, TrainedModels], tmp_path: Path,
          make_llm: Callable[..., LlmServices]) -> Callable[..., World]:
    """The whole graph on the tiny pack (real encoder, retriever and helpdesk) with the test server as its
    LLM. `confidence` replaces the local classifier by one that answers password_reset with it."""
    pack, models = tiny_models

    def build(confidence: float | None = None, label: str = "password_reset", oos: bool = False,
              llm: LlmServices | None = None, **settings: Any) -> World:
        desk, audit = LocalHelpdesk(tmp_path / "desk.db"), MemoryAudit()
        services = llm or make_llm(**settings)
        classifier = models.classifier if confidence is None else FakeClassifier(prediction(label, confidence, oos))
        context = TriageContext(pack=pack, encoder=models.encoder, classifier=classifier, retriever=models.kb,
                                actions=DirectActions(desk), audit=audit, control=FixedControl("auto"),
                                hold_for_review=False, versions=models.versions, llm=services)
        return World(TriageEngine(context), desk, audit, services)

    return build
