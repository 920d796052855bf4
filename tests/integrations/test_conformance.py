"""The conformance suite (conformance.py) for the local helpdesk and the four vendor adapters.

The vendors run against in-memory fakes of their APIs (vendor_fakes.py) through httpx.MockTransport.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from integrations.local import LocalHelpdesk
from integrations.webhooks import sign_standard
from tests.integrations.conformance import AdapterConformance
from tests.integrations.vendor_fakes import FreshdeskHarness, JiraHarness, ServiceNowHarness, ZendeskHarness


class LocalHarness:
    """The built-in helpdesk: real SQLite in a temporary folder, Standard Webhooks, no rate limits."""

    SECRET = "whsec_" + base64.b64encode(b"local-webhook-secret-32-bytes!!!").decode()
    missing_ticket_id = "999999"
    webhook_auth_headers = ("webhook-signature",)
    signs_body = True
    signs_time = True

    def __init__(self, path: Path) -> None:
        self.adapter = self.desk = LocalHelpdesk(path, [self.SECRET])
        self.waits: list[float] = []

    def create_ticket(self, subject: str, body: str, requester: str) -> str:
        return self.desk.create_ticket(body, subject=subject, requester=requester)

    def human_edit(self, ticket_id: str, fields: Mapping[str, Any]) -> None:
        self.desk.set_human_fields(ticket_id, fields)

    def signed_webhook(self, ticket_id: str, event_id: str, age_s: float = 0.0) -> tuple[dict[str, str], bytes]:
        stamp = int(time.time() - age_s)  # the local verifier reads the real clock
        body = json.dumps({"type": "ticket.created", "ticket_id": ticket_id}).encode()
        return {"webhook-id": event_id, "webhook-timestamp": str(stamp),
                "webhook-signature": sign_standard(self.SECRET, event_id, stamp, body)}, body

    def rate_limit_next(self, retry_after_s: float) -> bool:
        return False


class TestLocalHelpdesk(AdapterConformance):
    @pytest.fixture
    def harness(self, tmp_path: Path) -> LocalHarness:
        return LocalHarness(tmp_path / "helpdesk.db")


class TestZendesk(AdapterConformance):
    @pytest.fixture
    def harness(self) -> ZendeskHarness:
        return ZendeskHarness()


class TestJiraServiceManagement(AdapterConformance):
    @pytest.fixture
    def harness(self) -> JiraHarness:
        return JiraHarness()


class TestServiceNow(AdapterConformance):
    @pytest.fixture
    def harness(self) -> ServiceNowHarness:
        return ServiceNowHarness()


class TestFreshdesk(AdapterConformance):
    @pytest.fixture
    def harness(self) -> FreshdeskHarness:
        return FreshdeskHarness()
