"""Each node alone, with fakes for everything it reaches through the run context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from agent.context import FixedControl, MemoryAudit
from agent.models.classifier import Prediction
from agent.nodes.act import act
from agent.nodes.check_output import check_output
from agent.nodes.classify import classify
from agent.nodes.control_gate import control_gate
from agent.nodes.decide import decide
from agent.nodes.draft import draft
from agent.nodes.guard_input import guard_input
from agent.nodes.record import record
from agent.nodes.retrieve import retrieve
from agent.pack import Pack, load_pack
from agent.state import (
    AuditEvent,
    Classification,
    Decision,
    Draft,
    ProposedAction,
    RetrievedArticle,
    TriageState,
)
from tests.agent.fakes import (
    FakeClassifier,
    FakeEncoder,
    FakeRetriever,
    RecordingTicketing,
    prediction,
    runtime,
)
from tests.conftest import PackFactory


@pytest.fixture
def pack(make_pack: PackFactory) -> Pack:
    return load_pack(make_pack())


@pytest.fixture
def state(make_ticket: Callable[..., Any]) -> TriageState:
    return TriageState(ticket=make_ticket("I forgot my password, urgent please"), run_id="r1", mode="auto")


def classified(category: str | None = "password_reset", confidence: float = 0.9) -> Classification:
    return Classification(category=category, confidence=confidence, alternatives=[(category or "billing", 0.9)],
                          out_of_scope=category is None, oos_score=0.1, priority="normal",
                          queue="identity" if category else None)


def test_control_gate_reads_the_mode_and_off_leaves_the_ticket(pack: Pack, state: TriageState) -> None:
    update = control_gate(state, runtime(pack, control=FixedControl("shadow")))
    assert update["mode"] == "shadow" and "decision" not in update
    update = control_gate(state, runtime(pack, control=FixedControl("off")))
    assert update["decision"].reasons == ["agent_off"] and update["status"] == "left_for_humans"


def test_guard_input_cleans_flags_and_embeds_once(pack: Pack, make_ticket: Callable[..., Any]) -> None:
    encoder = FakeEncoder()
    s = TriageState(ticket=make_ticket("x" * 30_000 + "\n> quoted"), run_id="r", mode="auto")
    update = guard_input(s, runtime(pack, encoder=encoder))
    assert update["guard_flags"] == ["oversize"]
    assert len(update["clean_text"]) <= 1500 and len(update["vector"]) == 4
    assert encoder.calls == 1


def test_classify_sets_priority_queue_and_out_of_scope(pack: Pack, state: TriageState) -> None:
    update = classify(state, runtime(pack))
    result = update["classification"]
    assert (result.category, result.queue, result.priority) == ("password_reset", "identity", "urgent")
    assert result.alternatives[0] == ("password_reset", 0.9)
    update = classify(state, runtime(pack, classifier=FakeClassifier(prediction(oos=True))))
    assert update["classification"].category is None and update["classification"].out_of_scope


@dataclass
class RecordingClassifier:
    texts: list[str] = field(default_factory=list)

    def predict(self, text: str, vector: Any) -> Prediction:
        self.texts.append(text)
        return prediction()


def test_a_ticket_with_a_second_request_is_classified_by_its_first(pack: Pack,
                                                                    make_ticket: Callable[..., Any]) -> None:
    first = "I forgot my password and the reset email never came."
    text = f"{first} Also, is there a dark mode for the mobile app?"
    s = TriageState(ticket=make_ticket(text), run_id="r", mode="auto", clean_text=text, vector=[0.5] * 4)
    classifier, encoder = RecordingClassifier(), FakeEncoder()
    update = classify(s, runtime(pack, classifier=classifier, encoder=encoder))
    assert classifier.texts == [first] and encoder.calls == 1
    assert update["events"][0].data["main_request_chars"] == len(first)
    assert update["request_text"] == first and len(update["request_vector"]) == 4
    s.request_text, s.request_vector = update["request_text"], update["request_vector"]
    s.classification = classified()
    retriever = FakeRetriever()
    retrieve(s, runtime(pack, retriever=retriever))
    assert retriever.texts == [first]  # the reply answers the main request too
    single = TriageState(ticket=make_ticket(first), run_id="r", mode="auto", clean_text=first, vector=[0.5] * 4)
    update = classify(single, runtime(pack, classifier=classifier, encoder=encoder))
    assert classifier.texts[-1] == first and encoder.calls == 1  # one request: the shared vector serves
    assert "request_text" not in update


def test_retrieve_searches_the_predicted_category(pack: Pack, state: TriageState) -> None:
    retriever = FakeRetriever([RetrievedArticle(id="KB-PW-1", title="t", score=0.8)])
    state.classification = classified()
    update = retrieve(state, runtime(pack, retriever=retriever))
    assert retriever.asked == ["password_reset"] and update["articles"][0].id == "KB-PW-1"


def test_draft_uses_the_best_article_and_cites_it(pack: Pack, state: TriageState) -> None:
    state.classification = classified()
    state.articles = [RetrievedArticle(id="KB-PW-1", title="Reset", score=0.8)]
    result = draft(state, runtime(pack))["draft"]
    assert result.citations == ["KB-PW-1"] and "https://help.example.com/reset" in result.text


def test_draft_skips_weak_articles_and_never_categories(pack: Pack, state: TriageState) -> None:
    state.classification = classified()
    state.articles = [RetrievedArticle(id="KB-PW-1", title="Reset", score=0.05)]
    assert draft(state, runtime(pack))["draft"] is None
    state.classification = classified("security")
    state.articles = [RetrievedArticle(id="KB-SEC-1", title="Phish", score=0.9)]
    assert draft(state, runtime(pack))["draft"] is None


def test_check_output_flags_unretrieved_citations(pack: Pack, state: TriageState) -> None:
    state.draft = Draft(text="see https://help.example.com/x", citations=["KB-BILL-1"])
    state.articles = [RetrievedArticle(id="KB-PW-1", title="Reset", score=0.8)]
    assert check_output(state, runtime(pack))["output_flags"] == ["citation_not_retrieved"]


def test_decide_records_threshold_and_reasons(pack: Pack, state: TriageState) -> None:
    state.classification = classified(confidence=0.2)
    update = decide(state, runtime(pack))
    assert update["decision"].decision == "escalate" and update["decision"].needs_approval
    assert update["events"][0].data["threshold"] == pack.threshold("password_reset")


def reply_decision() -> Decision:
    return Decision(decision="auto_reply", reasons=["confident"], action=ProposedAction(
        kind="reply", queue="identity", priority="normal", category="password_reset", reply="Hello", note="why"))


def test_act_writes_fields_note_and_reply(pack: Pack, state: TriageState) -> None:
    ticketing = RecordingTicketing()
    state.decision = reply_decision()
    update = act(state, runtime(pack, ticketing=ticketing))
    assert [w[0] for w in ticketing.writes] == ["fields", "note", "reply"]
    assert update["actions"][0].executed and update["status"] == "done"


def test_act_writes_nothing_in_shadow_or_when_switched_off(pack: Pack, state: TriageState) -> None:
    for mode in ("shadow", "off"):
        ticketing = RecordingTicketing()
        state.decision = reply_decision()
        update = act(state, runtime(pack, ticketing=ticketing, control=FixedControl(mode)))  # type: ignore[arg-type]
        assert ticketing.writes == [] and not update["actions"][0].executed


def test_act_refuses_actions_outside_the_allow_list(pack: Pack, state: TriageState) -> None:
    ticketing = RecordingTicketing()
    state.decision = Decision(decision="auto_route", reasons=["confident"],
                              action=ProposedAction(kind="route", queue="wire-transfers", category="password_reset"))
    update = act(state, runtime(pack, ticketing=ticketing))
    assert "queue 'wire-transfers'" in update["actions"][0].detail and not update["actions"][0].executed
    # Only the hand-off reaches the helpdesk: the human queue and a note saying what was refused.
    assert [w[0] for w in ticketing.writes] == ["fields", "note"]
    assert ticketing.writes[0][2]["queue"] == pack.policy.human_queue and "wire-transfers" in ticketing.writes[1][2]
    assert update["status"] == "left_for_humans" and "action_not_allowed" in update["decision"].reasons


def test_record_persists_every_event_once(pack: Pack, state: TriageState) -> None:
    audit = MemoryAudit()
    state.events = [AuditEvent(node="control_gate", kind="started")]
    state.decision = reply_decision()
    rt = runtime(pack, audit=audit)
    record(state, rt)
    record(state, rt)  # a re-run replaces, never duplicates
    assert [e.node for e in audit.runs["r1"]] == ["control_gate", "record"]
