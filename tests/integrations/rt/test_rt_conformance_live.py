"""The conformance suite every adapter passes (tests/integrations/conformance.py), run against the live
RT: the same contract the vendor fakes are held to, here with a real system behind it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from integrations.rt import RequestTrackerAdapter
from integrations.webhooks import sign_standard
from tests.integrations.conformance import AdapterConformance
from tests.integrations.rt.conftest import RTPerson, rt_settings

CONFORMANCE_QUEUES = {"finance": "Finance", "identity": "Identity"}  # queues rt.sh creates


class LiveRTHarness:
    """RT as rt.sh set it up: a person opens and edits tickets with root's token; the webhook is signed
    the way our Scrip signs it (Standard Webhooks); RT itself never rate-limits."""

    missing_ticket_id = "99999999"
    webhook_auth_headers = ("webhook-signature",)
    signs_body = True
    signs_time = True

    def __init__(self, adapter: RequestTrackerAdapter, person: RTPerson) -> None:
        self.adapter = adapter
        self.person = person
        self.waits: list[float] = []

    def create_ticket(self, subject: str, body: str, requester: str) -> str:
        return self.person.create_ticket(body, subject=subject, requester=requester)

    def human_edit(self, ticket_id: str, fields: Mapping[str, Any]) -> None:
        settings = self.adapter.settings
        changes: dict[str, Any] = {}
        for name, value in fields.items():
            if name == "queue":
                changes["Queue"] = settings.queues[value]
            elif name == "priority":
                changes["Priority"] = settings.priorities[value]
            else:
                changes.setdefault("CustomFields", {})[settings.category_field if name == "category" else name] = value
        self.person.update(ticket_id, **changes)

    def signed_webhook(self, ticket_id: str, event_id: str, age_s: float = 0.0) -> tuple[dict[str, str], bytes]:
        secret = self.adapter.settings.webhook_secrets[0].get_secret_value()
        stamp = int(time.time() - age_s)
        body = json.dumps({"type": "ticket.created", "ticket_id": ticket_id, "transaction_id": "1"}).encode()
        return {"webhook-id": event_id, "webhook-timestamp": str(stamp),
                "webhook-signature": sign_standard(secret, event_id, stamp, body)}, body

    def rate_limit_next(self, retry_after_s: float) -> bool:
        return False


class TestLiveRequestTracker(AdapterConformance):
    @pytest.fixture
    def harness(self, rt_env: dict[str, str], person: RTPerson) -> Iterator[LiveRTHarness]:
        if not rt_env.get("TRIAGE_RT_WEBHOOK_SECRETS"):
            pytest.fail("the RT env file has no TRIAGE_RT_WEBHOOK_SECRETS: re-run scripts/live/rt.sh")
        with RequestTrackerAdapter(rt_settings(rt_env, queues=CONFORMANCE_QUEUES)) as adapter:
            yield LiveRTHarness(adapter, person)
