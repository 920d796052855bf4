"""The action allow-list: the guarantee that does not depend on detecting anything.

Whatever a ticket or a model says, the agent can only perform the kinds of action below, with field
values the pack declares (its queues, categories and priorities), and a reply may only link to the
pack's allow-listed URLs and promise what its commitments allow. This runs in `act`, right before any
external write, on whatever action reached it: a decision tampered with after the output checks (or a
reviewer's edit) is held to the same lines. The checks here are exact rules, never detectors.
"""

from __future__ import annotations

from agent.pack import Pack
from agent.state import ProposedAction
from guardrails.output import commitment_flags, links_outside

ALLOWED_KINDS = {"reply", "route", "handoff", "reject", "none"}
MAX_REPLY_CHARS = 10_000
MAX_TAGS = 10


def action_violations(action: ProposedAction, pack: Pack) -> list[str]:
    """Why the action may not run (empty when it may)."""
    problems: list[str] = []
    if action.kind not in ALLOWED_KINDS:
        problems.append(f"action kind '{action.kind}' is not allowed")
    if action.queue is not None and action.queue not in pack.queues:
        problems.append(f"queue '{action.queue}' is not a queue of the pack")
    if action.category is not None and not pack.has_category(action.category):
        problems.append(f"category '{action.category}' is not a category of the pack")
    if action.priority is not None and action.priority not in pack.policy.priorities.values:
        problems.append(f"priority '{action.priority}' is not one of {pack.policy.priorities.values}")
    if action.kind == "reply" and not (action.reply or "").strip():
        problems.append("a reply action needs reply text")
    if action.kind != "reply" and action.reply:
        problems.append("only a reply action may carry reply text")
    if action.reply and len(action.reply) > MAX_REPLY_CHARS:
        problems.append(f"reply longer than {MAX_REPLY_CHARS} characters")
    if len(action.tags) > MAX_TAGS:
        problems.append(f"more than {MAX_TAGS} tags")
    if action.reply:
        problems += [f"reply links to {url}, outside the pack's url_allowlist"
                     for url in links_outside(action.reply, pack.policy.url_allowlist)]
        limits = pack.policy.commitments
        problems += [f"reply makes a commitment outside the pack's policy ({flag})"
                     for flag in commitment_flags(action.reply, limits.max_refund_amount, limits.max_promised_days)]
    return problems
