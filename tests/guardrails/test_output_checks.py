"""Output checks: someone else's PII, placeholders the customer would see, prompt leaks; each escalates."""

from __future__ import annotations

from agent.nodes.check_output import check_output
from agent.pack import load_pack
from agent.policy import decide_action
from agent.state import Classification, Draft, ProposedAction, RetrievedArticle, Ticket, TriageState
from guardrails.actions import action_violations
from guardrails.output import check_draft, leaks_prompt
from tests.agent.fakes import runtime
from tests.conftest import TINY_KB, TINY_YAML, PackFactory

SYSTEM_PROMPT = ("You write the first reply to a customer support ticket. Use only the facts in the knowledge-base "
                 "articles below; do not promise refunds, amounts or deadlines they do not state.")


def without_injection(flags: list[str]) -> list[str]:
    """The flags of these checks; the injection detector's own flag is tested in test_injection.py."""
    return [f for f in flags if f != "draft_injection"]


def flags(text: str, **kw: object) -> list[str]:
    return without_injection(check_draft(text, ["KB-1"], ["KB-1"], ["https://help.example.com"],
                                         **kw))  # type: ignore[arg-type]


def test_someone_elses_pii_in_a_draft_is_flagged() -> None:
    assert flags("We sent the export to leak@evil.example.") == ["draft_pii"]
    assert flags("Your colleague's number +44 20 7946 0958 is on file.") == ["draft_pii"]
    assert flags("The card 4111 1111 1111 1111 was refunded.") == ["draft_pii"]
    assert flags("Transfer to DE89 3704 0044 0532 0130 00.") == ["draft_pii"]


def test_the_requesters_own_values_and_the_packs_published_contacts_pass() -> None:
    assert flags("We sent the reset link to [EMAIL_1].", requester="[EMAIL_1]") == []
    assert flags("We sent the reset link to jo@acme.example.", requester="jo@acme.example") == []
    article = "For anything urgent, write to support@help.example.com or call +1 555 0142."
    assert flags("Write to support@help.example.com.", known_values=[article]) == []
    assert flags("Write to support@help.example.com.") == ["draft_pii"]


def test_placeholders_other_than_the_requesters_are_flagged() -> None:
    assert flags("We added [EMAIL_2] as an admin.", requester="[EMAIL_1]") == ["draft_placeholder"]
    assert flags("Hello [REQUESTER], done.", requester="[REQUESTER]") == []
    assert flags("Hello [EMAIL_1].") == ["draft_placeholder"]  # no requester known: nobody's to fill in


def test_the_canary_or_the_system_prompt_in_a_draft_is_a_leak() -> None:
    canary = "CANARY-1f2e3d4c"
    assert flags("Sure! My token is canary-1F2E3D4C.", canary=canary) == ["prompt_leak"]
    repeated = "My instructions: use only the facts in the knowledge-base articles below; do not promise refunds."
    assert flags(repeated, system_prompt=SYSTEM_PROMPT) == ["prompt_leak"]
    assert flags("Please reply to this ticket if the articles below do not help.", canary=canary,
                 system_prompt=SYSTEM_PROMPT) == []
    assert not leaks_prompt("anything", None, None)


def _state(text: str, requester: str | None) -> TriageState:
    return TriageState(ticket=Ticket(id="T-1", text="...", requester=requester), run_id="r-1",
                       articles=[RetrievedArticle(id="KB-HELP", title="Contact us", score=0.9)],
                       draft=Draft(text=text, citations=["KB-HELP"]))


def test_the_node_allows_retrieved_contacts_and_the_requester_and_the_policy_escalates(
        make_pack: PackFactory) -> None:
    kb = {**TINY_KB, "kb-help.md": ("KB-HELP", "Contact us", ["password_reset"],
                                    "Write to support@help.example.com for anything urgent.")}
    pack = load_pack(make_pack(kb=kb))
    ok = check_output(_state("Write to support@help.example.com, [EMAIL_1].", "[EMAIL_1]"), runtime(pack))
    assert without_injection(ok["output_flags"]) == []
    bad = check_output(_state("I forwarded your data to [EMAIL_2] and bo@rival.example.", "[EMAIL_1]"), runtime(pack))
    assert without_injection(bad["output_flags"]) == ["draft_pii", "draft_placeholder"]
    assert bad["events"][0].data["flags"] == bad["output_flags"]  # in the audit trail
    cls = Classification(category="password_reset", confidence=0.99, alternatives=[("password_reset", 0.99)],
                         out_of_scope=False, oos_score=0.0, priority="normal", queue="identity")
    decision = decide_action(pack, "auto", cls, Draft(text="x", citations=["KB-HELP"]), [],
                             ["draft_pii", "draft_placeholder"], ["KB-HELP"])
    assert decision.decision == "escalate" and decision.reasons == ["draft_pii", "draft_placeholder"]
    assert decision.action.kind == "handoff" and decision.action.reply is None


def test_act_holds_any_reply_to_the_allowlist_and_the_commitments(make_pack: PackFactory) -> None:
    pack = load_pack(make_pack(yaml_text=TINY_YAML + "  commitments: {max_refund_amount: 50}\n"))
    base = ProposedAction(kind="reply", queue="identity", category="password_reset", reply="See the article.")
    assert action_violations(base, pack) == []
    off_list = base.model_copy(update={"reply": "Download it at https://evil.example/dump."})
    assert action_violations(off_list, pack) == [
        "reply links to https://evil.example/dump., outside the pack's url_allowlist"]
    refund = base.model_copy(update={"reply": "We refunded 5,000 EUR to your card."})
    assert action_violations(refund, pack) == [
        "reply makes a commitment outside the pack's policy (refund_amount_outside_policy)"]
    small = base.model_copy(update={"reply": "We refunded 20 EUR to your card."})
    assert action_violations(small, pack) == []
