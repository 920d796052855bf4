"""What to do with a message on a ticket, given what the agent already did on it.

- An auto-reply (out-of-office, vacation notice, bounce, mailing-list bulk) is never answered: answering
  robots is how mail loops start. Mail headers decide first (RFC 3834 Auto-Submitted, Precedence,
  X-Autoreply and friends), then a few unmistakable subject and opening lines.
- A new ticket is triaged.
- A customer writing again after the agent answered alone means the answer did not solve it: a person
  takes over (the agent never answers twice in a row, which also stops loops with a robot that slipped
  past the checks). After an escalation the ticket already belongs to humans: the message is recorded.
- While a review is pending the message is recorded; the reviewer sees it on the ticket.
- A ticket a human edited (fields, assignee) is not re-triaged; the agent's queued writes leave the fields
  the human changed alone (integrations.contract.fields_safe_to_write).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Plan = Literal["triage", "ignore", "handoff", "record"]

_BULK = ("bulk", "junk", "list", "auto_reply")
# Header name -> the values that mark a robot's message ("*" = any non-empty value but "no").
_AUTO_HEADERS: dict[str, tuple[str, ...]] = {
    "auto-submitted": ("*",),
    "x-autoreply": ("*",),
    "x-autorespond": ("*",),
    "x-auto-response-suppress": ("all", "oof", "autoreply"),
    "precedence": _BULK,
    "x-precedence": _BULK,
}


def _marks_robot(name: str, value: str) -> bool:
    wanted = _AUTO_HEADERS.get(name.lower())
    value = value.strip().lower()
    if wanted is None or not value:
        return False
    return value != "no" if wanted == ("*",) else value in wanted
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:automatic reply|auto(?:matic)?[- ]?reply|auto[- ]?response|out of (?:the )?office|"
    r"away from (?:the )?office|on vacation|abwesenheitsnotiz|automatische antwort|réponse automatique|"
    r"respuesta automática|risposta automatica|undeliverable|delivery status notification|"
    r"mail delivery (?:failed|failure))\b", re.IGNORECASE)
_AUTO_OPENING = re.compile(
    r"^\W*(?:(?:hello|hi|dear [^,\n]{0,40})[,!]?\s+)?(?:thank you for your (?:e-?mail|message)[.,!]?\s+)?"
    r"(?:i am|i'm|i will be)\s+(?:currently\s+)?(?:out of (?:the )?office|away|on (?:annual |parental )?leave|"
    r"on vacation|on holiday)\b|^\W*this is an automat(?:ic|ed) (?:reply|response|message)\b",
    re.IGNORECASE)


def is_auto_reply(headers: Mapping[str, str], subject: str, text: str) -> str | None:
    """Why this message is a robot's (the header or phrase), or None for a person's message."""
    for name, value in headers.items():
        if _marks_robot(name, value):
            return f"header {name}: {value.strip()[:40]}"
    if _AUTO_SUBJECT.search(subject or ""):
        return "subject says it is an automatic reply"
    if _AUTO_OPENING.search((text or "")[:300]):
        return "the message opens as an out-of-office reply"
    return None


@dataclass(frozen=True)
class TicketHistory:
    """What the agent did on the ticket so far (from its runs)."""

    runs: int = 0
    last_decision: str | None = None
    last_status: str | None = None
    review_pending: bool = False


@dataclass(frozen=True)
class Decision:
    plan: Plan
    reason: str


def plan_message(history: TicketHistory, *, auto_reply: str | None, event: str = "message") -> Decision:
    """Decide what a new message (or edit) on a ticket leads to."""
    if auto_reply:
        return Decision("ignore", f"auto_reply ({auto_reply})")
    if event == "human_edit":
        return Decision("record", "human_edit")
    if history.runs == 0:
        return Decision("triage", "new_ticket")
    if history.review_pending:
        return Decision("record", "follow_up_while_review_pending")
    if history.last_decision in ("auto_reply",):
        return Decision("handoff", "customer_follow_up_after_agent_reply" if event != "reopened"
                        else "reopened_after_agent_reply")
    if history.last_decision == "escalate" or history.last_status == "left_for_humans":
        return Decision("record", "follow_up_on_ticket_with_humans")
    return Decision("triage", "follow_up" if event != "reopened" else "reopened")
