"""The LLM as the graph sees it: one client, the share gate, the canary, built once per process."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.llm.budget import DailyBudget, TokenLedger
from agent.llm.client import LlmClient
from agent.llm.errors import LlmError
from agent.llm.settings import LlmSettings
from agent.llm.usage import CALL_EVENT, Usage
from agent.state import AuditEvent


@dataclass
class ShareGate:
    """Caps the share of recent tickets sent to the LLM to classify: at most `max_share` of the last
    `window` tickets (counted as if the window were full, so a fresh process may ask from the start)."""

    max_share: float
    window: int
    _recent: deque[bool] = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._recent = deque(maxlen=self.window)

    def admit(self) -> bool:
        """Count one ticket; True when it may be sent to the LLM."""
        with self._lock:
            asked_before = sum(self._recent) - (self._recent[0] if len(self._recent) == self.window else 0)
            allowed = (asked_before + 1) / self.window <= self.max_share
            self._recent.append(allowed)
            return allowed

    def skip(self) -> None:
        """Count one ticket the local path decided alone."""
        with self._lock:
            self._recent.append(False)

    @property
    def share(self) -> float:
        with self._lock:
            return sum(self._recent) / len(self._recent) if self._recent else 0.0


@dataclass
class LlmServices:
    settings: LlmSettings
    client: LlmClient
    share_gate: ShareGate
    canary: str = field(repr=False)
    """Never shown: a log line with it would hand it to whoever reads logs."""
    clock: Callable[[], datetime]

    def call_event(self, node: str, purpose: str, prompt_version: str, usage: Usage, attempts: int,
                   outcome: str, **detail: Any) -> AuditEvent:
        """The audit record of one call: tokens, cost and the prompt version, whatever the outcome."""
        return AuditEvent(node=node, kind=CALL_EVENT, data={
            "purpose": purpose, "outcome": outcome, "model": self.settings.model, "prompt_version": prompt_version,
            "attempts": attempts, "input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
            "cost": round(self.settings.cost(usage.input_tokens, usage.output_tokens), 8), **detail,
        })

    def failure_event(self, node: str, purpose: str, prompt_version: str, error: LlmError) -> AuditEvent:
        return self.call_event(node, purpose, prompt_version, error.usage, error.attempts, error.outcome,
                               detail=str(error)[:300])

    def status(self) -> dict[str, Any]:
        """What an operator needs to know: is the LLM on, and if not, why."""
        now = self.clock()
        budget = self.client.budget
        spent = budget.spent(now)
        return {
            "model": self.settings.model, "base_url": self.settings.base_url,
            "enabled": spent < budget.limit,
            "reason": None if spent < budget.limit else "the daily token budget is spent (until 00:00 UTC)",
            "tokens_today": spent, "daily_token_budget": budget.limit, "recent_share": round(self.share_gate.share, 4),
        }


def build_llm(settings: LlmSettings, ledger: TokenLedger, clock: Callable[[], datetime],
              sleep: Callable[[float], None] = time.sleep) -> LlmServices:
    """Build the client (this is where langchain_openai is first imported) and its companions."""
    budget = DailyBudget(limit=settings.daily_token_budget, ledger=ledger)
    return LlmServices(
        settings=settings, client=LlmClient(settings, budget, clock, sleep=sleep),
        share_gate=ShareGate(settings.max_share, settings.share_window),
        # A fresh canary per process: nothing outside this process can know it, so seeing it in an
        # answer can only mean the model repeated its instructions.
        canary="CANARY-" + secrets.token_hex(8), clock=clock,
    )
