"""ServiceNow adapter against the fake Table API: journal entries, impact x urgency, failures, webhooks."""

from __future__ import annotations

import json

import httpx
import pytest

from integrations.contract import (
    Conflict,
    MalformedResponse,
    NotFound,
    Unauthorized,
    Unavailable,
    WebhookRejected,
)
from integrations.registry import load_adapter
from integrations.servicenow import ServiceNowAdapter
from tests.integrations.vendor_fakes import SN_GROUPS, ServiceNowHarness


@pytest.fixture
def sn() -> ServiceNowHarness:
    return ServiceNowHarness()


def new_incident(sn: ServiceNowHarness) -> str:
    return sn.create_ticket("Laptop broken", "Screen flickers", "jo@example.com")


def patches(sn: ServiceNowHarness) -> list[dict[str, object]]:
    return [json.loads(r.content) for r in sn.servicenow.writes("PATCH")]


def test_fields_and_a_work_note_go_out_in_one_patch(sn: ServiceNowHarness) -> None:
    sys_id = new_incident(sn)
    sn.adapter.write(sys_id, idempotency_key="run1:route", fields={"queue": "finance", "priority": "high"},
                     comment="why: hardware")
    (patch,) = patches(sn)
    assert {k: v for k, v in patch.items() if k != "work_notes"} == {
        "assignment_group": SN_GROUPS["finance"], "impact": "1", "urgency": "2"}
    assert str(patch["work_notes"]).startswith("why: hardware")
    assert "comments" not in patch  # customer-visible only for replies


def test_priority_is_written_as_impact_and_urgency_and_read_from_the_computed_priority(
        sn: ServiceNowHarness) -> None:
    sys_id = new_incident(sn)
    for wanted in ("urgent", "high", "normal", "low"):
        sn.adapter.set_fields(sys_id, {"priority": wanted}, idempotency_key=f"k-{wanted}")
        assert sn.adapter.get_ticket(sys_id).fields["priority"] == wanted


def test_a_reply_is_an_additional_comment(sn: ServiceNowHarness) -> None:
    sys_id = new_incident(sn)
    sn.adapter.add_reply(sys_id, "We are sending a new screen.", idempotency_key="k")
    assert list(patches(sn)[0]) == ["comments"]
    (comment,) = sn.adapter.get_ticket(sys_id).comments
    assert (comment.public, comment.body) == (True, "We are sending a new screen.")


def test_an_incident_number_works_as_the_ticket_id(sn: ServiceNowHarness) -> None:
    sys_id = new_incident(sn)
    number = sn.servicenow.records[sys_id]["number"]
    assert sn.adapter.get_ticket(number).id == sys_id
    with pytest.raises(NotFound, match="INC9999999"):
        sn.adapter.get_ticket("INC9999999")


def test_a_429_with_a_unix_reset_waits_until_then(sn: ServiceNowHarness) -> None:
    sys_id = new_incident(sn)
    sn.servicenow.fail_next(429, headers={"X-RateLimit-Reset": str(int(sn.clock.time()) + 12)},
                            body=b'{"error": {"message": "Rate limit exceeded"}, "status": "failure"}')
    assert sn.adapter.get_ticket(sys_id).subject == "Laptop broken"
    assert sn.waits == [pytest.approx(12.0)]


def test_the_reset_header_on_a_normal_answer_asks_for_no_wait(sn: ServiceNowHarness) -> None:
    headers = {"X-RateLimit-Limit": "5000", "X-RateLimit-Reset": str(int(sn.clock.time()) + 3000)}
    assert sn.adapter.wait_seconds(200, headers) is None
    assert sn.adapter.wait_seconds(429, headers) == pytest.approx(3000.0)


def test_a_journal_patch_is_not_resent_but_a_fields_patch_is(sn: ServiceNowHarness) -> None:
    sys_id = new_incident(sn)
    sn.servicenow.fail_next(502, method="PATCH")
    with pytest.raises(Unavailable):
        sn.adapter.add_note(sys_id, "why", idempotency_key="k1")
    assert len(patches(sn)) == 1
    sn.servicenow.fail_next(502, method="PATCH")
    sn.adapter.set_fields(sys_id, {"queue": "identity"}, idempotency_key="k2")
    assert len(patches(sn)) == 3
    assert sn.adapter.get_ticket(sys_id).fields["queue"] == "identity"


def test_a_journal_entry_whose_answer_was_lost_is_not_written_again(sn: ServiceNowHarness) -> None:
    sys_id = new_incident(sn)
    sn.servicenow.fail_next(error=httpx.ReadTimeout, method="PATCH", after_applying=True)
    with pytest.raises(Unavailable):
        sn.adapter.add_note(sys_id, "why", idempotency_key="run1:note")
    sn.adapter.add_note(sys_id, "why", idempotency_key="run1:note")
    assert [c.body for c in sn.adapter.get_ticket(sys_id).comments] == ["why"]


@pytest.mark.parametrize(("status", "error"), [(401, Unauthorized), (403, Unauthorized), (409, Conflict)])
def test_status_codes(sn: ServiceNowHarness, status: int, error: type[Exception]) -> None:
    sys_id = new_incident(sn)
    sn.servicenow.fail_next(status, method="PATCH")
    with pytest.raises(error):
        sn.adapter.set_fields(sys_id, {"queue": "finance"}, idempotency_key="k")


def test_timeouts_on_reads_are_retried(sn: ServiceNowHarness) -> None:
    sys_id = new_incident(sn)
    sn.servicenow.fail_next(error=httpx.ReadTimeout, method="GET", times=2)
    assert sn.adapter.get_ticket(sys_id).body == "Screen flickers"


def test_a_result_that_is_not_a_record_is_malformed(sn: ServiceNowHarness) -> None:
    sys_id = new_incident(sn)
    sn.servicenow.fail_next(200, method="GET", body=b'{"result": "oops"}')
    with pytest.raises(MalformedResponse):
        sn.adapter.get_ticket(sys_id)


def test_token_only_webhooks_when_no_hmac_secret_is_set() -> None:
    sn = ServiceNowHarness(webhook_hmac_secret=None)
    sys_id = new_incident(sn)
    headers, body = sn.signed_webhook(sys_id, "e-1")
    del headers["X-Signature"]
    assert sn.adapter.verify_webhook(headers, body).ticket_id == sys_id
    with pytest.raises(WebhookRejected):
        sn.adapter.verify_webhook({"X-Triage-Token": "guess"}, body)


def test_settings_come_from_the_environment_with_json_mappings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_SERVICENOW_BASE_URL", "https://acme.service-now.com/")
    monkeypatch.setenv("TRIAGE_SERVICENOW_USERNAME", "triage.agent")
    monkeypatch.setenv("TRIAGE_SERVICENOW_PASSWORD", "s3cret")
    monkeypatch.setenv("TRIAGE_SERVICENOW_GROUP_IDS", json.dumps({"finance": "a" * 32}))
    monkeypatch.setenv("TRIAGE_SERVICENOW_PRIORITY_MAP", json.dumps({"urgent": [1, 1], "normal": [3, 3]}))
    adapter = load_adapter("servicenow")
    assert isinstance(adapter, ServiceNowAdapter)
    assert adapter.settings.base_url == "https://acme.service-now.com"
    assert adapter.settings.priority_map == {"urgent": (1, 1), "normal": (3, 3)}
    assert "s3cret" not in repr(adapter.settings)
