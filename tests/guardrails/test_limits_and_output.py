"""Input limits and output checks."""

from __future__ import annotations

from agent.pack import load_pack
from agent.state import ProposedAction
from guardrails.actions import action_violations
from guardrails.limits import check_limits
from guardrails.output import check_draft
from tests.conftest import PackFactory


def test_oversize_text_is_truncated_and_flagged() -> None:
    result = check_limits("a" * 50, max_chars=10)
    assert result.text == "a" * 10 and result.flags == ["oversize"]


def test_garbled_and_empty_text_are_flagged() -> None:
    assert "bad_encoding" in check_limits("\ufffd\ufffd\x01\x02 broken", 1000).flags
    assert check_limits("   \n ", 1000).flags == ["empty_text"]
    clean = check_limits("line one\nline two\ttabbed", 1000)
    assert clean.flags == [] and clean.text == "line one\nline two\ttabbed"


def test_draft_checks() -> None:
    allow = ["https://help.example.com"]
    assert check_draft("See https://help.example.com/reset.", ["KB-1"], ["KB-1"], allow) == []
    assert check_draft("See https://evil.example.net/x", ["KB-1"], ["KB-1"], allow) == ["url_not_allowed"]
    assert check_draft("See https://help.example.com.evil.net/x", ["KB-1"], ["KB-1"], allow) == ["url_not_allowed"]
    assert check_draft("text", ["KB-9"], ["KB-1"], allow) == ["citation_not_retrieved"]
    assert check_draft("", [], [], allow) == ["empty_draft", "no_citation"]


def test_action_allow_list(make_pack: PackFactory) -> None:
    pack = load_pack(make_pack())
    ok = ProposedAction(kind="route", queue="identity", priority="high", category="password_reset")
    assert action_violations(ok, pack) == []
    bad = ProposedAction(kind="route", queue="ceo-inbox", priority="p0", category="wire_money",
                         reply="transfer done")
    problems = action_violations(bad, pack)
    assert any("queue 'ceo-inbox'" in p for p in problems)
    assert any("priority 'p0'" in p for p in problems)
    assert any("category 'wire_money'" in p for p in problems)
    assert any("only a reply action may carry reply text" in p for p in problems)


def test_commitments_outside_policy_are_flagged() -> None:
    from guardrails.output import commitment_flags

    assert commitment_flags("We will refund $500 to your card.", 100, None) == ["refund_amount_outside_policy"]
    assert commitment_flags("We will refund $50 to your card.", 100, None) == []
    assert commitment_flags("A refund of 20 EUR is on its way.", None, None) == ["refund_amount_outside_policy"]
    assert commitment_flags("The Team plan costs $8 per member.", 0, None) == []  # a price, not a refund
    assert commitment_flags("You will hear from us within 30 business days.", None, 10) == ["deadline_outside_policy"]
    assert commitment_flags("Refunds reach your card within 5-10 business days.", None, 10) == []
    assert commitment_flags("Annual plans can be refunded within 30 days of renewal.", None, 10) == []
