"""The decision policy: one pure function from what the nodes found to what the agent will do.

Two kinds of escalation exist. A hand-off sends the ticket to the human queue with an internal note and
needs nobody's approval (out of scope, `never` categories, guard or output flags). An approval escalation
prepares the full action and waits for a reviewer (low confidence, `propose` autonomy or mode, no owner).
"""

from __future__ import annotations

from agent.pack import Pack
from agent.state import ActionKind, Classification, Decision, Draft, Mode, ProposedAction

# What each reason code means, in the words the internal note uses (the codes stay in the audit).
REASON_TEXT = {
    "confident": "confidence cleared the category's threshold and its autonomy lets the agent act alone",
    "low_confidence": "confidence is below the category's threshold",
    "autonomy_propose": "the category's autonomy is propose: a person approves every action",
    "autonomy_never": "the category's autonomy is never: only people handle it",
    "possible_never_category": "a category that only people handle is a plausible alternative",
    "near_never_category": "most of the known tickets closest to it belong to a category only people handle",
    "no_owner": "the pack names no accountable owner, so the agent never acts alone",
    "mode_propose": "the agent is in propose mode",
    "mode_off": "the agent is switched off for this ticket",
    "out_of_scope": "the ticket is outside what this agent handles",
    "no_kb_answer": "no knowledge-base article answers it, so fields only, no reply",
    "prompt_injection": "the text carries instructions aimed at the agent",
    "jailbreak": "the text tries to talk the agent out of its rules",
    "language_unsupported": "the ticket is in a language this agent does not serve",
}


def _mostly_never(pack: Pack, neighbours: list[tuple[str, float]]) -> bool:
    """More than half of the nearest training tickets belong to `never` categories."""
    never = sum(1 for label, _ in neighbours if pack.has_category(label) and pack.category(label).autonomy == "never")
    return never * 2 > len(neighbours) > 0


def _note(pack: Pack, cls: Classification, reasons: list[str], articles: list[str]) -> str:
    """The internal "why" note on the ticket: what the agent saw, which rule fired, and why it did or
    did not act alone."""
    top = ", ".join(f"{label} {p:.2f}" for label, p in cls.alternatives)
    used = ", ".join(articles) if articles else "none"
    threshold = f" (threshold {pack.threshold(cls.category):.2f})" if cls.category else ""
    why = "; ".join(REASON_TEXT.get(r, r.replace("_", " ")) for r in reasons)
    return (
        f"Triage agent: category {cls.category or 'out of scope'}, confidence {cls.confidence:.2f}{threshold}; "
        f"top alternatives: {top}; out-of-scope score {cls.oos_score:.2f}; priority {cls.priority}; "
        f"KB articles used: {used}. Rule: {', '.join(reasons)}: {why}."
    )


def decide_action(
    pack: Pack,
    mode: Mode,
    cls: Classification,
    draft: Draft | None,
    guard_flags: list[str],
    output_flags: list[str],
    article_ids: list[str],
) -> Decision:
    """Combine classification, guard and output flags with autonomy and mode into one decision."""
    policy = pack.policy
    tags = ["triage-agent"]

    def handoff(reasons: list[str]) -> Decision:
        action = ProposedAction(kind="handoff", queue=policy.human_queue, priority=cls.priority,
                                category=cls.category, tags=tags, note=_note(pack, cls, reasons, article_ids))
        return Decision(decision="escalate", reasons=reasons, action=action)

    def reject(reasons: list[str]) -> Decision:
        action = ProposedAction(kind="reject", queue=policy.human_queue, tags=[*tags, "rejected"],
                                note=_note(pack, cls, reasons, article_ids))
        return Decision(decision="reject", reasons=reasons, action=action)

    if mode == "off":  # switched off for this category or action: humans take the ticket as it is
        return Decision(decision="escalate", reasons=["mode_off"], action=ProposedAction(kind="none"))
    flag_actions = {
        flag: policy.other_languages if flag == "language_unsupported" else policy.guard.get(flag, "escalate")
        for flag in guard_flags
    }
    if "empty_text" in guard_flags:
        return handoff(["empty_text"])
    if any(a == "reject" for a in flag_actions.values()):
        return reject([f for f, a in flag_actions.items() if a == "reject"])
    stop = [f for f, a in flag_actions.items() if a == "escalate"]
    if cls.out_of_scope or cls.category is None:
        if not stop and policy.out_of_scope == "reject":
            return reject(["out_of_scope"])
        return handoff([*stop, "out_of_scope"])
    category = pack.category(cls.category)
    if category.autonomy == "never":
        stop.append("autonomy_never")
    elif any(pack.has_category(label) and pack.category(label).autonomy == "never"
             and p >= policy.never_alternative_probability for label, p in cls.alternatives):
        stop.append("possible_never_category")
    elif policy.never_by_neighbours and _mostly_never(pack, cls.neighbours):
        stop.append("near_never_category")
    stop += output_flags
    if stop:
        return handoff(stop)

    kind: ActionKind = "reply" if draft is not None else "route"
    approval: list[str] = []
    if cls.confidence < pack.threshold(cls.category):
        approval.append("low_confidence")
    if category.autonomy == "propose":
        approval.append("autonomy_propose")
    if pack.manifest.owner is None:
        approval.append("no_owner")
    if mode == "propose":
        approval.append("mode_propose")
    reasons = approval or ["confident"]
    if draft is None:
        reasons.append("no_kb_answer")
    action = ProposedAction(
        kind=kind, queue=category.target_queue, priority=cls.priority, category=cls.category, tags=tags,
        reply=draft.text if draft else None, note=_note(pack, cls, reasons, article_ids),
    )
    if approval:
        return Decision(decision="escalate", reasons=reasons, needs_approval=True, action=action)
    return Decision(decision="auto_reply" if draft else "auto_route", reasons=reasons, action=action)
