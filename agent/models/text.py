"""Cleaning ticket text before it is embedded or classified.

Emails arrive with quoted history, signatures and disclaimers. They cost encoder time (cost grows with
length) and pull the classifier towards whatever the earlier message was about, so the model sees only
the newest message body, capped in length.
"""

from __future__ import annotations

import re
import unicodedata

# Lines that start the quoted part of a reply; everything from there on is history.
_QUOTE_HEADERS = re.compile(
    r"^\s*(?:"
    r"On .{3,200}wrote:\s*$"
    r"|-{2,}\s*Original Message\s*-{2,}"
    r"|-{2,}\s*Forwarded message\s*-{2,}"
    r"|From:\s.+"  # Outlook-style header block ("From: ... Sent: ...")
    r"|Am .{3,200}schrieb.*:\s*$"
    r"|Le .{3,200}a écrit\s*:\s*$"
    r"|El .{3,200}escribió\s*:\s*$"
    r")",
    re.IGNORECASE,
)
_SIGNATURE_DELIMITER = re.compile(r"^\s*--\s*$")
_MOBILE_FOOTER = re.compile(r"^\s*Sent from my \w+", re.IGNORECASE)
# A sign-off line only counts when it ends the message (a short tail follows it).
_SIGN_OFF = re.compile(
    r"^\s*(?:best|kind|warm)?\s*(?:regards|thanks|thank you|cheers|many thanks|thx|sincerely|best)"
    r"[\s,.!]*$",
    re.IGNORECASE,
)
_SIGN_OFF_TAIL_LINES = 5
_WHITESPACE = re.compile(r"\s+")

DEFAULT_MAX_CHARS = 1500


def strip_quoted_history(text: str) -> str:
    """Drop quoted lines ("> ...") and everything after a reply header."""
    kept: list[str] = []
    for line in text.splitlines():
        if _QUOTE_HEADERS.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept)


def strip_signature(text: str) -> str:
    """Drop a signature block: after '-- ', a mobile footer, or a sign-off near the end."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if _SIGNATURE_DELIMITER.match(line) or _MOBILE_FOOTER.match(line):
            return "\n".join(lines[:i])
    for i, line in enumerate(lines):
        if i > 0 and _SIGN_OFF.match(line) and len(lines) - i <= _SIGN_OFF_TAIL_LINES:
            return "\n".join(lines[:i])
    return text


def normalize(text: str) -> str:
    """NFKC-normalise, drop control and format characters, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return _WHITESPACE.sub(" ", text).strip()


def clean_ticket(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The newest message body of a ticket, normalised and capped: what the models see."""
    body = strip_signature(strip_quoted_history(text))
    cleaned = normalize(body)
    if not cleaned:
        # A ticket that is all quote or signature still says something; fall back to the whole text.
        cleaned = normalize(text)
    return cleaned[:max_chars]
