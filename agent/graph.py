"""The triage graph: one screen of wiring (see DESIGN.md for the picture)."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agent import routing
from agent.context import TriageContext
from agent.nodes.act import act
from agent.nodes.check_output import check_output
from agent.nodes.classify import classify
from agent.nodes.control_gate import control_gate
from agent.nodes.decide import decide
from agent.nodes.draft import draft
from agent.nodes.escalate import escalate
from agent.nodes.guard_input import guard_input
from agent.nodes.record import record
from agent.nodes.retrieve import retrieve
from agent.state import TriageInput, TriageState


def build_graph(checkpointer: BaseCheckpointSaver[Any] | None = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Wire the nodes; pass a checkpointer wherever escalations must wait for a reviewer."""
    g = StateGraph(TriageState, context_schema=TriageContext, input_schema=TriageInput)
    for name, node in [
        ("control_gate", control_gate), ("guard_input", guard_input), ("classify", classify),
        ("retrieve", retrieve), ("draft", draft), ("check_output", check_output), ("decide", decide),
        ("escalate", escalate), ("act", act), ("record", record),
    ]:
        g.add_node(name, node)
    g.add_edge(START, "control_gate")
    g.add_conditional_edges("control_gate", routing.after_gate)
    g.add_edge("guard_input", "classify")
    g.add_edge("classify", "retrieve")
    g.add_edge("retrieve", "draft")
    g.add_edge("draft", "check_output")
    g.add_edge("check_output", "decide")
    g.add_conditional_edges("decide", routing.after_decide)
    g.add_conditional_edges("escalate", routing.after_escalate)
    g.add_edge("act", "record")
    g.add_edge("record", END)
    return g.compile(checkpointer=checkpointer)
