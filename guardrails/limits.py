"""Size and encoding limits on incoming ticket text."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

REPLACEMENT_CHAR = "\ufffd"
# More than this share of undecodable or control characters means the text is not human-written.
_BAD_SHARE = 0.05


@dataclass(frozen=True)
class LimitResult:
    text: str
    """The text after truncation and removal of control characters."""
    flags: list[str] = field(default_factory=list)


def check_limits(text: str, max_chars: int) -> LimitResult:
    """Truncate oversize text, strip control characters, and flag empty, oversize or garbled input."""
    flags: list[str] = []
    if len(text) > max_chars:
        flags.append("oversize")
        text = text[:max_chars]
    bad = sum(
        1 for ch in text
        if ch == REPLACEMENT_CHAR or (unicodedata.category(ch) == "Cc" and ch not in "\n\r\t")
    )
    if text and bad / len(text) > _BAD_SHARE:
        flags.append("bad_encoding")
    cleaned = "".join(ch for ch in text if not (unicodedata.category(ch) == "Cc" and ch not in "\n\r\t"))
    cleaned = cleaned.replace(REPLACEMENT_CHAR, "")
    if not cleaned.strip():
        flags.append("empty_text")
    return LimitResult(text=cleaned, flags=flags)
