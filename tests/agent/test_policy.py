"""The decision table: autonomy, thresholds, modes, owners, flags and out-of-scope handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.pack import Pack, load_pack
from agent.policy import decide_action
from agent.state import Classification, Draft
from tests.conftest import TINY_YAML, PackFactory


@pytest.fixture
def pack(make_pack: PackFactory) -> Pack:
    return load_pack(make_pack())


def cls(category: str | None, confidence: float = 0.9, oos: bool = False) -> Classification:
    return Classification(category=category, confidence=confidence, alternatives=[(category or "billing", confidence)],
                          out_of_scope=oos, oos_score=0.9 if oos else 0.1, priority="normal",
                          queue=None if category is None else "identity")


DRAFT = Draft(text="Hello, see KB-PW-1", citations=["KB-PW-1"])


def test_confident_auto_category_with_a_draft_replies(pack: Pack) -> None:
    d = decide_action(pack, "auto", cls("password_reset"), DRAFT, [], [], ["KB-PW-1"])
    assert (d.decision, d.reasons, d.needs_approval) == ("auto_reply", ["confident"], False)
    assert d.action.kind == "reply" and d.action.queue == "identity" and d.action.reply == DRAFT.text


def test_without_a_kb_answer_it_routes(pack: Pack) -> None:
    d = decide_action(pack, "auto", cls("password_reset"), None, [], [], [])
    assert d.decision == "auto_route" and "no_kb_answer" in d.reasons and d.action.reply is None


def test_low_confidence_needs_approval(pack: Pack) -> None:
    d = decide_action(pack, "auto", cls("password_reset", 0.2), DRAFT, [], [], [])
    assert d.decision == "escalate" and d.needs_approval and d.reasons[0] == "low_confidence"
    assert d.action.kind == "reply"  # the full action is prepared for the reviewer


def test_propose_autonomy_and_propose_mode(pack: Pack) -> None:
    d = decide_action(pack, "auto", cls("billing"), DRAFT, [], [], [])
    assert d.decision == "escalate" and "autonomy_propose" in d.reasons and d.needs_approval
    d = decide_action(pack, "propose", cls("password_reset"), DRAFT, [], [], [])
    assert d.decision == "escalate" and d.reasons == ["mode_propose"] and d.needs_approval


def test_never_autonomy_hands_off_without_a_customer_reply(pack: Pack) -> None:
    d = decide_action(pack, "auto", cls("security", 0.99), None, [], [], [])
    assert d.decision == "escalate" and d.reasons == ["autonomy_never"] and not d.needs_approval
    assert d.action.kind == "handoff" and d.action.queue == pack.policy.human_queue and d.action.reply is None
    assert "security" in d.action.note  # the internal analysis note


def test_out_of_scope_follows_the_pack_policy(make_pack: PackFactory) -> None:
    escalating = load_pack(make_pack())
    d = decide_action(escalating, "auto", cls(None, oos=True), None, [], [], [])
    assert d.decision == "escalate" and d.reasons == ["out_of_scope"]
    rejecting = load_pack(make_pack(name="rej", yaml_text=TINY_YAML + "  out_of_scope: reject\n"))
    d = decide_action(rejecting, "auto", cls(None, oos=True), None, [], [], [])
    assert d.decision == "reject" and d.action.kind == "reject"


def test_pack_without_owner_never_acts_alone(make_pack: PackFactory) -> None:
    text = TINY_YAML.replace('owner: {name: "Test Owner", email: "owner@example.com"}\n', "")
    pack = load_pack(make_pack(yaml_text=text))
    d = decide_action(pack, "auto", cls("password_reset"), DRAFT, [], [], [])
    assert d.decision == "escalate" and "no_owner" in d.reasons


def test_guard_and_output_flags(pack: Pack, tmp_path: Path) -> None:
    d = decide_action(pack, "auto", cls("password_reset"), DRAFT, ["oversize"], [], [])
    assert d.decision == "escalate" and "oversize" in d.reasons and d.action.kind == "handoff"
    d = decide_action(pack, "auto", cls("password_reset"), DRAFT, [], ["url_not_allowed"], [])
    assert d.decision == "escalate" and d.reasons == ["url_not_allowed"]
    d = decide_action(pack, "auto", cls("password_reset"), DRAFT, ["empty_text"], [], [])
    assert d.reasons == ["empty_text"]


def test_guard_flag_actions_come_from_the_pack(make_pack: PackFactory) -> None:
    text = TINY_YAML + "  guard: {oversize: continue, bad_encoding: reject}\n"
    pack = load_pack(make_pack(yaml_text=text))
    assert decide_action(pack, "auto", cls("password_reset"), DRAFT, ["oversize"], [], []).decision == "auto_reply"
    assert decide_action(pack, "auto", cls("password_reset"), DRAFT, ["bad_encoding"], [], []).decision == "reject"


def test_category_threshold_overrides_default(make_pack: PackFactory) -> None:
    text = TINY_YAML.replace("  default_threshold: 0.4\n",
                             "  default_threshold: 0.4\n  thresholds: {password_reset: 0.95}\n")
    pack = load_pack(make_pack(yaml_text=text))
    assert decide_action(pack, "auto", cls("password_reset", 0.9), DRAFT, [], [], []).decision == "escalate"
    assert decide_action(pack, "auto", cls("password_reset", 0.96), DRAFT, [], [], []).decision == "auto_reply"


def test_a_possible_never_category_goes_to_a_human(pack: Pack) -> None:
    doubtful = Classification(category="password_reset", confidence=0.8,
                              alternatives=[("password_reset", 0.8), ("security", 0.15), ("billing", 0.05)],
                              out_of_scope=False, oos_score=0.1, priority="normal", queue="identity")
    d = decide_action(pack, "auto", doubtful, DRAFT, [], [], ["KB-PW-1"])
    assert d.decision == "escalate" and d.reasons == ["possible_never_category"] and d.action.reply is None
    sure = doubtful.model_copy(update={"alternatives": [("password_reset", 0.97), ("security", 0.02)]})
    assert decide_action(pack, "auto", sure, DRAFT, [], [], []).decision == "auto_reply"


def test_the_why_note_says_what_was_seen_which_rule_fired_and_why(pack: Pack) -> None:
    seen = Classification(category="billing", confidence=0.31, alternatives=[("billing", 0.31), ("security", 0.05)],
                          out_of_scope=False, oos_score=0.2, priority="normal", queue="finance")
    note = decide_action(pack, "auto", seen, DRAFT, [], [], ["KB-BILL-2"]).action.note
    assert "category billing, confidence 0.31 (threshold 0.40)" in note
    assert "top alternatives: billing 0.31, security 0.05" in note and "KB articles used: KB-BILL-2" in note
    assert "low_confidence" in note and "below the category's threshold" in note
    assert "autonomy is propose" in note


def test_a_ticket_nearest_to_never_category_tickets_goes_to_a_human(pack: Pack, make_pack: PackFactory) -> None:
    # The model says password reset, confidently; but two of the three closest known tickets are security
    # reports, a category only people handle.
    near_security = cls("password_reset").model_copy(update={
        "neighbours": [("security", 0.71), ("password_reset", 0.69), ("security", 0.66)]})
    d = decide_action(pack, "auto", near_security, DRAFT, [], [], ["KB-PW-1"])
    assert d.decision == "escalate" and d.reasons == ["near_never_category"] and d.action.reply is None
    assert "most of the known tickets closest to it" in (d.action.note or "")
    one_of_three = near_security.model_copy(update={
        "neighbours": [("password_reset", 0.71), ("security", 0.69), ("password_reset", 0.66)]})
    assert decide_action(pack, "auto", one_of_three, DRAFT, [], [], []).decision == "auto_reply"
    switched_off = load_pack(make_pack(yaml_text=TINY_YAML + "  never_by_neighbours: false\n"))
    assert decide_action(switched_off, "auto", near_security, DRAFT, [], [], []).decision == "auto_reply"
