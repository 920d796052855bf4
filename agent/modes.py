"""Modes by scope: global, per category and per action kind; the most restrictive one applies.

Scopes are strings: `global`, `category:<name>`, `action:<kind>` (kinds: reply, route, handoff, reject).
Modes are read when a decision needs them, never cached; what one decision needs is read at once (one
query on the state database), so a mode change applies from the next decision on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from agent.context import ControlReader
from agent.state import Mode

# off leaves the ticket alone; shadow decides but writes nothing; propose needs a human; auto acts.
_RESTRICTIVENESS: dict[Mode, int] = {"auto": 0, "propose": 1, "shadow": 2, "off": 3}
ACTION_KINDS = ("reply", "route", "handoff", "reject")


def most_restrictive(*modes: Mode) -> Mode:
    return max(modes, key=_RESTRICTIVENESS.__getitem__)


def category_scope(category: str) -> str:
    return f"category:{category}"


def action_scope(kind: str) -> str:
    return f"action:{kind}"


def read_modes(control: ControlReader, scopes: Iterable[str]) -> Mapping[str, Mode]:
    """The modes of several scopes, read now. A reader that answers many scopes at once (the service's
    `SqlControl.modes_of`: one query) is asked once; any other reader scope by scope."""
    wanted = list(dict.fromkeys(scopes))
    many = getattr(control, "modes_of", None)
    if many is not None:
        found: Mapping[str, Mode] = many(wanted)
        return found
    return {scope: control.mode(scope) for scope in wanted}


def scopes_for(category: str | None, action_kind: str | None = None) -> list[str]:
    """The scopes that apply to a decision about a ticket of `category` taking an action of `action_kind`."""
    scopes = ["global"]
    if category is not None:
        scopes.append(category_scope(category))
    if action_kind is not None and action_kind != "none":
        scopes.append(action_scope(action_kind))
    return scopes


def mode_from(modes: Mapping[str, Mode], category: str | None, action_kind: str | None = None) -> Mode:
    """The most restrictive of the already-read `modes` that apply (see `scopes_for`)."""
    return most_restrictive(*(modes[scope] for scope in scopes_for(category, action_kind)))


def effective_mode(control: ControlReader, category: str | None, action_kind: str | None = None) -> Mode:
    """Read every scope that applies, now (never cached), and keep the most restrictive."""
    return mode_from(read_modes(control, scopes_for(category, action_kind)), category, action_kind)
