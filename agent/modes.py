"""Modes by scope: global, per category and per action kind; the most restrictive one applies.

Scopes are strings: `global`, `category:<name>`, `action:<kind>` (kinds: reply, route, handoff, reject).
"""

from __future__ import annotations

from agent.context import ControlReader
from agent.state import Mode

# off leaves the ticket alone; shadow decides but writes nothing; propose needs a human; auto acts.
_RESTRICTIVENESS: dict[Mode, int] = {"auto": 0, "propose": 1, "shadow": 2, "off": 3}


def most_restrictive(*modes: Mode) -> Mode:
    return max(modes, key=_RESTRICTIVENESS.__getitem__)


def category_scope(category: str) -> str:
    return f"category:{category}"


def action_scope(kind: str) -> str:
    return f"action:{kind}"


def effective_mode(control: ControlReader, category: str | None, action_kind: str | None = None) -> Mode:
    """Read every scope that applies, now (never cached), and keep the most restrictive."""
    modes: list[Mode] = [control.mode("global")]
    if category is not None:
        modes.append(control.mode(category_scope(category)))
    if action_kind is not None:
        modes.append(control.mode(action_scope(action_kind)))
    return most_restrictive(*modes)
