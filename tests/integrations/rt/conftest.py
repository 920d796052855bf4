"""Fixtures for the live Request Tracker tests: the RT that scripts/live/rt.sh installed and started.

The script writes the base URL and two auth tokens (the agent's user and a person's, root) into an env
file; without it, or when RT does not answer, the tests skip (fail under TRIAGE_REQUIRE_LIVE=1). Tickets
persist between runs, so every test opens its own and never counts tickets it did not make.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrations.rt import RequestTrackerAdapter, RTSettings
from tests.conftest import require_live

ENV_FILE = Path(os.environ.get("TRIAGE_RT_ENV_FILE", "/var/lib/triage-rt/env"))

# The default pack's queues onto the queues rt.sh creates (a real deployment writes the same map).
DEFAULT_PACK_QUEUES = {
    "billing": "Billing", "accounts": "Accounts", "retention": "Retention", "support-general": "General",
    "privacy": "Privacy", "legal": "Legal", "security": "Security", "engineering-triage": "Engineering",
    "incident": "Incidents", "integrations": "Integrations", "product-feedback": "Product Feedback",
    "mobile": "Mobile", "support-triage": "Support Triage",
}


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip().removeprefix("'").removesuffix("'")
    return values


@pytest.fixture(scope="session")
def rt_env() -> dict[str, str]:
    """The live RT's URL and tokens; skips (or fails under TRIAGE_REQUIRE_LIVE=1) when RT is absent."""
    try:
        env = read_env_file(ENV_FILE)
    except OSError as exc:  # absent, or root's and we are not root
        require_live("Request Tracker", f"cannot read {ENV_FILE} ({exc.strerror}): start RT with "
                     "`sudo scripts/live/rt.sh`, or point TRIAGE_RT_ENV_FILE at a readable copy")
    try:
        answer = httpx.get(f"{env['TRIAGE_RT_BASE_URL']}/REST/2.0/rt", timeout=5,
                           headers={"Authorization": f"token {env['TRIAGE_RT_TOKEN']}"})
    except (httpx.HTTPError, KeyError) as exc:
        require_live("Request Tracker", f"not answering ({ENV_FILE}): {exc!r}; start it with scripts/live/rt.sh")
    if answer.status_code != 200:
        require_live("Request Tracker", f"REST2 answered HTTP {answer.status_code} with the token from {ENV_FILE}")
    return env


def rt_settings(env: dict[str, str], **overrides: Any) -> RTSettings:
    values: dict[str, Any] = {"base_url": env["TRIAGE_RT_BASE_URL"], "token": env["TRIAGE_RT_TOKEN"],
                              "agent_user": env.get("TRIAGE_RT_AGENT_USER", "triage-agent"),
                              "queues": DEFAULT_PACK_QUEUES,
                              "webhook_secrets": json.loads(env.get("TRIAGE_RT_WEBHOOK_SECRETS", "[]"))}
    return RTSettings(**{**values, **overrides})


@pytest.fixture
def rt(rt_env: dict[str, str]) -> Iterator[RequestTrackerAdapter]:
    """The adapter under test, acting as RT's triage-agent user."""
    with RequestTrackerAdapter(rt_settings(rt_env)) as adapter:
        yield adapter


@dataclass
class RTPerson:
    """A person working in RT (root's token), talking to REST2 directly, not through the adapter."""

    http: httpx.Client

    def create_ticket(self, body: str, subject: str = "", queue: str = "General",
                      requester: str = "jo@example.com", **custom_fields: Any) -> str:
        payload = {"Queue": queue, "Subject": subject or body[:60], "Content": body, "ContentType": "text/plain",
                   "Requestor": requester, "CustomFields": custom_fields}
        answer = self.http.post("/ticket", json=payload)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    def update(self, ticket_id: str, **changes: Any) -> list[str]:
        answer = self.http.put(f"/ticket/{ticket_id}", json=changes)
        assert answer.status_code == 200, answer.text
        return list(answer.json())

    def comment(self, ticket_id: str, body: str, *, public: bool) -> None:
        kind = "correspond" if public else "comment"
        answer = self.http.post(f"/ticket/{ticket_id}/{kind}", json={"Content": body, "ContentType": "text/plain"})
        assert answer.status_code == 201, answer.text

    def ticket(self, ticket_id: str) -> dict[str, Any]:
        answer = self.http.get(f"/ticket/{ticket_id}")
        assert answer.status_code == 200, answer.text
        data: dict[str, Any] = answer.json()
        data["QueueName"] = self.http.get(f"/queue/{data['Queue']['id']}").json()["Name"]
        data["CF"] = {cf["name"]: cf["values"] for cf in data["CustomFields"]}
        return data

    def history(self, ticket_id: str) -> list[dict[str, Any]]:
        """Every transaction: Type, Creator (a user name), Field, values and, for messages, the text."""
        items = self.http.get(f"/ticket/{ticket_id}/history", params={
            "fields": "Type,Creator,Field,OldValue,NewValue", "per_page": 100}).json()["items"]
        parts = self.http.get(f"/ticket/{ticket_id}/attachments", params={
            "fields": "TransactionId,ContentType,Content", "per_page": 100}).json()["items"]
        text = {p["TransactionId"]: p["Content"] for p in parts if p["ContentType"] == "text/plain"}
        for item in items:
            item["Creator"] = item["Creator"]["id"]
            item["Text"] = text.get(item["id"])
        return items

    def messages_by(self, ticket_id: str, user: str) -> list[tuple[str, str]]:
        """(Comment|Correspond, text) of the messages `user` wrote on the ticket."""
        return [(t["Type"], t["Text"]) for t in self.history(ticket_id)
                if t["Creator"] == user and t["Type"] in ("Comment", "Correspond")]


@pytest.fixture
def person(rt_env: dict[str, str]) -> Iterator[RTPerson]:
    with httpx.Client(base_url=f"{rt_env['TRIAGE_RT_BASE_URL']}/REST/2.0", timeout=30,
                      headers={"Authorization": f"token {rt_env['TRIAGE_RT_HUMAN_TOKEN']}"}) as http:
        yield RTPerson(http)


@pytest.fixture
def marker() -> Callable[[str], str]:
    """Unique subjects, so a test finds its own tickets among those earlier runs left behind."""
    run = uuid.uuid4().hex[:10]
    return lambda text="": f"[t-{run}] {text}".strip()
