"""The decision policy: one pure function from what the nodes found to what the agent will do.

Two kinds of escalation exist. A hand-off sends the ticket to the human queue with an internal note and
needs nobody's approval (out of scope, `never` categories, guard or output flags). An approval escalation
prepares the full action and waits for a reviewer (low confidence, `propose` autonomy or mode, no owner).
"""

from __future__ import annotations

from agent.pack import Pack
from agent.state import ActionKind, Classification, Decision, Draft, Mode, ProposedAction


def _note(cls: Classification, reasons: list[str], articles: list[str]) -> str:
    top = ", ".join(f"{label} {p:.2f}" for label, p in cls.alternatives)
    used = ", ".join(articles) if articles else "none"
    return (
        f"Triage agent: category {cls.category or 'out of scope'} (confidence {cls.confidence:.2f}; "
        f"top: {top}; out-of-scope score {cls.oos_score:.2f}); priority {cls.priority}; "
        f"KB articles: {used}; reasons: {', '.join(reasons)}."
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
                                category=cls.category, tags=tags, note=_note(cls, reasons, article_ids))
        return Decision(decision="escalate", reasons=reasons, action=action)

    def reject(reasons: list[str]) -> Decision:
        action = ProposedAction(kind="reject", queue=policy.human_queue, tags=[*tags, "rejected"],
                                note=_note(cls, reasons, article_ids))
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
        reply=draft.text if draft else None, note=_note(cls, reasons, article_ids),
    )
    if approval:
        return Decision(decision="escalate", reasons=reasons, needs_approval=True, action=action)
    return Decision(decision="auto_reply" if draft else "auto_route", reasons=reasons, action=action)
