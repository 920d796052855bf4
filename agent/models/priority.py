"""Ticket priority from the pack's rules: a category default, raised or lowered by phrases in the text."""

from __future__ import annotations

from agent.pack import Pack


def assess_priority(pack: Pack, text: str, category: str | None) -> str:
    """The highest priority among matching rules, else the category's default, else the pack default."""
    priorities = pack.policy.priorities
    rank = {value: i for i, value in enumerate(priorities.values)}
    lowered = text.lower()
    matched = [rule.set for rule in priorities.rules if any(p.lower() in lowered for p in rule.if_any)]
    if matched:
        return max(matched, key=rank.__getitem__)
    if category is not None and pack.has_category(category):
        return pack.category(category).priority or priorities.default
    return priorities.default
