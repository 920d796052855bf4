"""The client against the local test server: every failure the endpoint can throw at it, the one retry
layer, usage accounting and the token budget."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from agent.llm.budget import SqliteLedger
from agent.llm.errors import LlmBadAnswer, LlmRefused, LlmSwitchedOff, LlmUnavailable
from agent.llm.services import LlmServices
from tests.llm.conftest import Sleeps
from tests.llm.server import FakeOpenAI, answer, error, refusal, slow, text, tool_call

MESSAGES = [("system", "Sort the ticket."), ("user", "<ticket>I forgot my password</ticket>")]
GOOD = {"category": "password_reset", "confidence": 0.9}


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str
    confidence: float


def test_a_valid_answer_is_parsed_with_the_tokens_the_endpoint_reported(
        server: FakeOpenAI, make_llm: Callable[..., LlmServices]) -> None:
    server.queue(answer(GOOD, prompt_tokens=300, completion_tokens=40))
    got = make_llm().client.ask(MESSAGES, Choice)
    assert got.value == Choice(**GOOD) and got.attempts == 1
    assert (got.usage.input_tokens, got.usage.output_tokens) == (300, 40)
    sent = server.chat_requests()[0]
    assert sent["model"] == "test-model" and sent["temperature"] == 0
    assert sent["response_format"]["type"] == "json_schema" and sent["response_format"]["json_schema"]["strict"]
    assert sent["response_format"]["json_schema"]["schema"]["additionalProperties"] is False


def test_function_calling_servers_are_understood_too(server: FakeOpenAI,
                                                     make_llm: Callable[..., LlmServices]) -> None:
    server.queue(tool_call("Choice", GOOD, 90, 12))
    got = make_llm(structured_output="function_calling").client.ask(MESSAGES, Choice)
    assert got.value == Choice(**GOOD) and got.usage.total == 102
    sent = server.chat_requests()[0]
    assert sent["tools"][0]["function"]["name"] == "Choice" and "response_format" not in sent


def test_a_timeout_is_retried_and_the_second_answer_used(
        server: FakeOpenAI, make_llm: Callable[..., LlmServices], sleeps: Sleeps) -> None:
    server.queue(slow(1.0), answer(GOOD))
    got = make_llm().client.ask(MESSAGES, Choice)
    assert got.value.category == "password_reset" and got.attempts == 2
    assert len(server.chat_requests()) == 2 and len(sleeps.waits) == 1


def test_429_waits_what_retry_after_asks(server: FakeOpenAI, make_llm: Callable[..., LlmServices],
                                         sleeps: Sleeps) -> None:
    server.queue(error(429, retry_after=2), answer(GOOD))
    got = make_llm().client.ask(MESSAGES, Choice)
    assert got.attempts == 2 and sleeps.waits == [2.0]


def test_429_asking_for_longer_than_we_wait_gives_up_at_once(
        server: FakeOpenAI, make_llm: Callable[..., LlmServices], sleeps: Sleeps) -> None:
    server.queue(error(429, retry_after=120), answer(GOOD))
    with pytest.raises(LlmUnavailable, match="429"):
        make_llm(max_retry_wait_s=5).client.ask(MESSAGES, Choice)
    assert len(server.chat_requests()) == 1 and sleeps.waits == [] and server.pending == 1


def test_5xx_is_retried_exactly_max_attempts_times_in_one_layer(
        server: FakeOpenAI, make_llm: Callable[..., LlmServices], sleeps: Sleeps) -> None:
    # If ChatOpenAI's own retries were on as well, the server would see 3 x 3 requests.
    server.queue(error(503), error(500), error(502), answer(GOOD))
    with pytest.raises(LlmUnavailable, match="HTTP 502") as caught:
        make_llm(max_attempts=3).client.ask(MESSAGES, Choice)
    assert len(server.chat_requests()) == 3 and caught.value.attempts == 3
    assert len(sleeps.waits) == 2 and all(w <= 5 for w in sleeps.waits)


def test_an_auth_error_is_not_retried(server: FakeOpenAI, make_llm: Callable[..., LlmServices]) -> None:
    server.queue(error(401, message="invalid api key"), answer(GOOD))
    with pytest.raises(LlmUnavailable, match="HTTP 401"):
        make_llm().client.ask(MESSAGES, Choice)
    assert len(server.chat_requests()) == 1


def test_malformed_json_is_retried_and_its_tokens_still_count(
        server: FakeOpenAI, make_llm: Callable[..., LlmServices]) -> None:
    server.queue(text("Sure! The category is password_reset.", 100, 10), answer(GOOD, 100, 10))
    llm = make_llm()
    got = llm.client.ask(MESSAGES, Choice)
    assert got.attempts == 2 and got.usage.total == 220
    assert llm.client.budget.spent(llm.clock()) == 220


@pytest.mark.parametrize("bad", [
    {"category": "password_reset"},  # a field missing
    {"category": "password_reset", "confidence": 0.9, "action": "close_account"},  # an action we never offered
    {"category": ["password_reset"], "confidence": "high"},  # wrong types
])
def test_schema_violations_end_in_a_bad_answer_after_bounded_attempts(
        server: FakeOpenAI, make_llm: Callable[..., LlmServices], bad: dict[str, Any]) -> None:
    server.queue(answer(bad), answer(bad))
    with pytest.raises(LlmBadAnswer, match="schema") as caught:
        make_llm(max_attempts=2).client.ask(MESSAGES, Choice)
    assert caught.value.attempts == 2 and caught.value.usage.total == 300


def test_a_refusal_is_not_retried(server: FakeOpenAI, make_llm: Callable[..., LlmServices]) -> None:
    server.queue(refusal("I cannot help with that request."), answer(GOOD))
    with pytest.raises(LlmRefused, match="cannot help") as caught:
        make_llm().client.ask(MESSAGES, Choice)
    assert len(server.chat_requests()) == 1 and caught.value.usage.total == 108


def test_the_spent_budget_switches_the_llm_off_and_survives_a_restart(
        server: FakeOpenAI, make_llm: Callable[..., LlmServices], tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "llm-budget.db"
    llm = make_llm(ledger=SqliteLedger(path), daily_token_budget=250)
    server.queue(answer(GOOD, 120, 30), answer(GOOD, 120, 30))
    llm.client.ask(MESSAGES, Choice)
    llm.client.ask(MESSAGES, Choice)  # 300 tokens now: over the budget
    assert llm.status()["enabled"] is False and "budget" in llm.status()["reason"]

    restarted = make_llm(ledger=SqliteLedger(path), daily_token_budget=250)
    server.queue(answer(GOOD))
    with caplog.at_level("WARNING"), pytest.raises(LlmSwitchedOff):
        restarted.client.ask(MESSAGES, Choice)
    assert len(server.chat_requests()) == 2 and server.pending == 1
    assert "daily token budget" in caplog.text
    assert restarted.status()["tokens_today"] == 300


def test_the_key_is_a_secret(llm_settings: Callable[..., Any]) -> None:
    settings = llm_settings()
    assert "sk-test-key" not in repr(settings) and "sk-test-key" not in str(settings.model_dump())
