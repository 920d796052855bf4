"""How the LLM is switched on: settings from the environment, nothing imported without them, and
`triage eval` reporting the LLM's share, tokens and cost against the local test server."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent.llm.settings import llm_settings_from_env
from service.settings import Settings
from tests.conftest import ROOT
from tests.llm.server import FakeOpenAI, first_allowed_category


def test_without_llm_settings_the_llm_client_is_never_imported() -> None:
    code = ("import sys\n"
            "import agent.graph, agent.context, agent.nodes.classify, agent.nodes.draft, eval.runner, service.runtime\n"
            "from service.settings import Settings\n"
            "assert Settings().llm is None\n"
            "assert eval.runner.configured_llm() is None\n"
            "print(sorted(m for m in sys.modules if m.startswith(('langchain_openai', 'openai'))))\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_settings_come_from_the_environment_with_the_key_as_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_LLM__MODEL", "llama3.1:8b")
    monkeypatch.setenv("TRIAGE_LLM__BASE_URL", "http://localhost:11434/v1/")
    monkeypatch.setenv("TRIAGE_LLM__API_KEY", "sk-live-secret")
    monkeypatch.setenv("TRIAGE_LLM__DAILY_TOKEN_BUDGET", "50000")
    settings = Settings().llm
    assert settings is not None and settings == llm_settings_from_env()
    assert settings.base_url == "http://localhost:11434/v1" and settings.daily_token_budget == 50_000
    assert "sk-live-secret" not in repr(Settings())
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "sk-live-secret"


@pytest.mark.parametrize(("name", "value", "problem"), [
    ("TRIAGE_LLM__BASE_URL", "localhost:11434", "must start with http"),
    ("TRIAGE_LLM__MAX_SHARE", "1.5", "less than or equal to 1"),
    ("TRIAGE_LLM__MAX_ATTEMPTS", "0", "greater than or equal to 1"),
])
def test_bad_llm_settings_are_refused_with_the_field_named(monkeypatch: pytest.MonkeyPatch, name: str,
                                                           value: str, problem: str) -> None:
    monkeypatch.setenv("TRIAGE_LLM__MODEL", "gpt-4o-mini")
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=problem) as caught:
        Settings()
    assert name.removeprefix("TRIAGE_LLM__").lower() in str(caught.value)


def _eval_file(path: Path) -> Path:
    rows = [("I forgot my password", "password_reset"), ("the invoice amount is wrong", "billing"),
            ("someone logged into my account from another country", "security"),
            ("my password expired and I cannot log in", "password_reset"),
            ("what is the weather tomorrow", "out_of_scope")]
    path.write_text("".join(json.dumps({"text": t, "label": label}) + "\n" for t, label in rows))
    return path


def test_triage_eval_reports_llm_share_tokens_and_cost(tiny_pack: Path, tmp_path: Path, server: FakeOpenAI,
                                                       run_cli: Callable[..., Any]) -> None:
    server.responder = first_allowed_category  # 200 + 20 tokens per call
    env = {"TRIAGE_LLM__MODEL": "test-model", "TRIAGE_LLM__BASE_URL": server.base_url,
           "TRIAGE_LLM__API_KEY": "sk-test", "TRIAGE_LLM__ASK_BELOW": "1", "TRIAGE_LLM__MAX_SHARE": "1",
           "TRIAGE_LLM__PRICE_PER_1K_INPUT": "0.5", "TRIAGE_LLM__PRICE_PER_1K_OUTPUT": "1.5"}
    out = tmp_path / "out"
    result = run_cli("eval", "--pack", str(tiny_pack), "--data", str(_eval_file(tmp_path / "e.jsonl")),
                     "--out", str(out), "--quiet", env=env)
    assert result.code in (0, 1), result.stderr
    report = json.loads((out / "report.json").read_text())
    calls = [e for line in (out / "audit.jsonl").read_text().splitlines()
             for e in json.loads(line)["events"] if e["kind"] == "llm_call"]
    asked = len(calls)  # every row the guard did not stop (the warm-up ticket's call is not a row)
    assert asked >= 3 and len(server.chat_requests()) in (asked, asked + 1)
    assert report["llm_share"] == pytest.approx(asked / 5)
    assert report["llm_tokens_per_ticket"] == pytest.approx(220 * asked / 5)
    assert report["llm_cost_per_ticket"] == pytest.approx(0.13 * asked / 5)
    assert all(c["data"]["prompt_version"].startswith("classify-") for c in calls)


def test_triage_eval_without_an_llm_reports_null_llm_keys(tiny_pack: Path, tmp_path: Path,
                                                          run_cli: Callable[..., Any]) -> None:
    out = tmp_path / "out"
    result = run_cli("eval", "--pack", str(tiny_pack), "--data", str(_eval_file(tmp_path / "e.jsonl")),
                     "--out", str(out), "--quiet")
    assert result.code in (0, 1), result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["llm_share"] is None and report["llm_tokens_per_ticket"] is None
    assert report["llm_cost_per_ticket"] is None


def test_the_service_keeps_the_budget_under_triage_home_across_restarts(
        tiny_pack: Path, server: FakeOpenAI, run_cli: Callable[..., Any]) -> None:
    server.responder = first_allowed_category  # 220 tokens: more than the whole budget below
    env = {"TRIAGE_LLM__MODEL": "test-model", "TRIAGE_LLM__BASE_URL": server.base_url,
           "TRIAGE_LLM__ASK_BELOW": "1", "TRIAGE_LLM__MAX_SHARE": "1", "TRIAGE_LLM__DAILY_TOKEN_BUDGET": "200"}
    first = run_cli("run", "--pack", str(tiny_pack), "my password expired and I cannot log in", env=env)
    assert first.code == 0, first.stderr
    second = run_cli("run", "--pack", str(tiny_pack), "please reset my password", env=env)  # a new process
    assert second.code == 0, second.stderr
    assert len(server.chat_requests()) == 1  # the second process found the day's budget spent
    assert json.loads(second.stdout)["decision"] in {"auto_reply", "auto_route", "escalate"}


def test_the_service_shows_llm_tokens_cost_and_status(tiny_pack: Path, tmp_path: Path, server: FakeOpenAI,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from service.runtime import open_embedded
    from service.settings import Settings
    from tests.service.api_server import serve

    server.responder = first_allowed_category  # 200 + 20 tokens per call
    for name, value in {"MODEL": "test-model", "BASE_URL": server.base_url, "API_KEY": "sk-test", "ASK_BELOW": "1",
                        "MAX_SHARE": "1", "PRICE_PER_1K_INPUT": "0.5", "PRICE_PER_1K_OUTPUT": "1.5"}.items():
        monkeypatch.setenv(f"TRIAGE_LLM__{name}", value)
    settings = Settings(home=tmp_path / "home", pack=tiny_pack)
    with serve(settings, open_embedded(settings, tiny_pack)) as api, api.client("admin") as http:
        decided = http.post("/v1/tickets", json={"text": "my password expired and I cannot log in"}).json()
        metrics = http.get("/metrics").text
        card = http.get("/v1/agent").json()
    assert decided["llm"] == {"calls": 1, "tokens": 220, "cost": pytest.approx(0.13)}
    assert "triage_llm_tickets_total 1.0" in metrics and "triage_llm_tokens_total 220.0" in metrics
    assert "triage_llm_cost_total 0.13" in metrics and "triage_llm_enabled 1.0" in metrics
    assert card["llm"]["model"] == "test-model" and card["llm"]["enabled"] is True
